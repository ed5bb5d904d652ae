#!/bin/sh
# xenshare-estimate on the real guest images of ../shared/corpus: the zero,
# distinct and within-guest duplicate counts must equal the corpus README's
# byte-for-byte counts exactly (raw and .zst input give the same answer),
# the savings must add up, groups must never be merged, the guests that
# fit on a given host must be the count worked out from those numbers, and
# bad inputs must fail with the file named and a non-zero exit.
set -u
: "${O:?O must name the build folder}"
bin=$O/bin/xenshare-estimate
[ -x "$bin" ] || { echo "skip: $bin not built (libshare missing?)"; exit 77; }
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
corpus=$top/../shared/corpus
[ -r "$corpus/idle.raw.zst" ] && [ -r "$corpus/pagecache.raw.zst" ] ||
	{ echo "skip: corpus not found at $corpus"; exit 77; }
work=$O/stat-estimate-test
rm -rf "$work" && mkdir -p "$work" || exit 1
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# one image decompressed into the build folder, the other read as .zst
zstd -q -d "$corpus/idle.raw.zst" -o "$work/idle.raw" || fail "zstd -d"
TMPDIR=$work "$bin" --json "$work/idle.raw" "$corpus/pagecache.raw.zst" >"$work/one.json" \
	2>"$work/err" || fail "estimate exited $?: $(cat "$work/err")"

check() { # jq-expression expected what
	got=$(jq -r "$1" "$work/$4") || fail "jq $1"
	[ "$got" = "$2" ] || fail "$3: expected $2, got $got"
}
# README: idle 65536 pages, 42840 zero, 16323 distinct non-zero, 6373 duplicates
check '.guests[0].pages' 65536 "idle pages" one.json
check '.guests[0].zero_pages' 42840 "idle zero pages" one.json
check '.guests[0].distinct_nonzero' 16323 "idle distinct" one.json
check '.guests[0].dup_within' 6373 "idle duplicates" one.json
# README: pagecache 65536 pages, 6261 zero, 56762 distinct, 2513 duplicates
check '.guests[1].pages' 65536 "pagecache pages" one.json
check '.guests[1].zero_pages' 6261 "pagecache zero pages" one.json
check '.guests[1].distinct_nonzero' 56762 "pagecache distinct" one.json
check '.guests[1].dup_within' 2513 "pagecache duplicates" one.json
# one group: zero saves 42840+6261-1; within 6373+2513; the parts add up
check '.groups[0].saved_zero.pages' 49100 "zero savings" one.json
check '.groups[0].saved_within.pages' 8886 "within savings" one.json
check '(.total.zero.pages + .total.within.pages + .total.across.pages) == .total.saved.pages' \
	true "savings add up" one.json
check '.groups[0].saved.pages == .groups[0].pages - .groups[0].distinct_nonzero - 1' \
	true "saved = pages - distinct contents" one.json
check '.total.fp_collisions' 0 "fingerprint collisions" one.json
across=$(jq -r '.total.across.pages' "$work/one.json")
[ "$across" -gt 0 ] || fail "two Debian kernels share nothing across guests?"

# how many guests like these fit on a 2 GiB host (no reserve, no burst),
# the two images in turn.  Without sharing 524288 / 65536 = 8.  With it,
# idle needs 65536 to start and then holds only its 16324 contents (16323
# distinct + the zero page); pagecache holds 56762 - 4558 (already in
# idle: the across savings) = 52204.  Free after each guest: 507964,
# 455760, 439436, 387232, 370908, 318704, 302380, 250176, 233852, 181648,
# 165324, 113120, 96796, 44592 (the 14th), and idle's 65536 do not fit: 14.
"$bin" -q --json --host-mem 2G --reserve 0 --burst 0 "$work/idle.raw" "$corpus/pagecache.raw.zst" \
	>"$work/fit.json" 2>"$work/err" || fail "--host-mem exited $?: $(cat "$work/err")"
check '.guests[0].new_contents' 16324 "idle's new contents" fit.json
check '.guests[1].new_contents' 52204 "pagecache's new contents" fit.json
check '.admission.without_sharing' 8 "guests without sharing" fit.json
check '.admission.guests' 14 "guests with sharing" fit.json
# against a burst of every shared page, sharing buys nothing
"$bin" -q --json --host-mem 2G --reserve 0 --burst 100 "$work/idle.raw" "$corpus/pagecache.raw.zst" \
	>"$work/fit100.json" 2>"$work/err" || fail "--burst 100 exited $?: $(cat "$work/err")"
check '.admission.guests == .admission.without_sharing' true "--burst 100" fit100.json
# the defaults (the daemon's reserve, a 50% burst) in words
"$bin" -q --host-mem 2G "$work/idle.raw" "$corpus/pagecache.raw.zst" >"$work/fit.txt" 2>&1 ||
	fail "--host-mem text exited $?"
grep -q "^On a host of 2.0 GiB, [0-9]* guests like these images fit with sharing vs 7 without\$" \
	"$work/fit.txt" || fail "admission line: $(grep 'On a host' "$work/fit.txt")"
grep -q "reserve of 64.0 MiB\$" "$work/fit.txt" || fail "the daemon's default reserve not used"
# the question without its host, or out of range, is a usage error
for bad in "--burst 50" "--host-mem 2G --burst 101" "--host-mem 2G --burst x" "--host-mem 0" \
	   "--host-mem 2X" "--host-mem 2G --reserve -1M"; do
	# shellcheck disable=SC2086
	"$bin" $bad "$work/idle.raw" >/dev/null 2>"$work/err"; rc=$?
	[ $rc = 2 ] || fail "$bad: exit $rc, expected 2"
	[ -s "$work/err" ] || fail "$bad: no message"
done

# two groups: nothing across, zero pages counted per group
"$bin" --json "$work/idle.raw:a" "$corpus/pagecache.raw.zst:b" >"$work/two.json" 2>"$work/err" ||
	fail "estimate with groups exited $?: $(cat "$work/err")"
check '.groups | length' 2 "group count" two.json
check '.total.across.pages' 0 "across groups" two.json
check '.total.zero.pages' 49099 "zero savings per group" two.json

# the same image twice in one group: every non-zero distinct page is shared across
"$bin" --json "$work/idle.raw" "$work/idle.raw" >"$work/twice.json" 2>/dev/null || fail "twice"
check '.total.across.pages' 16323 "identical guests" twice.json

# the text report says the same
"$bin" "$work/idle.raw" >"$work/text" 2>&1 || fail "text report"
grep -q "42840" "$work/text" || fail "text report lacks the zero count"

# --progress draws a bar on stderr that ends at 100%; without it, nothing on a non-tty
"$bin" --progress "$work/idle.raw" >/dev/null 2>"$work/progress" || fail "--progress exit $?"
tr '\r' '\n' <"$work/progress" | grep -q '100.0%' || fail "--progress: no bar ending at 100%"
"$bin" "$work/idle.raw" >/dev/null 2>"$work/progress" || fail "estimate exit $?"
[ ! -s "$work/progress" ] || fail "progress drawn on a non-terminal: $(head -c 200 "$work/progress")"

# bad inputs: the file is named, the exit is 1; bad usage is 2
head -c 10000 "$work/idle.raw" >"$work/odd.raw"
head -c 1000000 "$corpus/idle.raw.zst" >"$work/cut.zst"
printf 'not memory' >"$work/garbage"
for f in odd.raw cut.zst garbage missing; do
	"$bin" "$work/$f" >/dev/null 2>"$work/err"
	rc=$?
	[ $rc = 1 ] || fail "$f: exit $rc, expected 1"
	grep -q "$work/$f" "$work/err" || fail "$f: error does not name the file: $(cat "$work/err")"
done
# a FIFO (or any file that is not a regular one) is refused at once: opening
# it must not wait for a writer
mkfifo "$work/fifo" || fail "mkfifo"
timeout 10 "$bin" "$work/fifo" >/dev/null 2>"$work/err"
rc=$?
[ $rc = 1 ] || fail "a FIFO as image: exit $rc, expected 1 (124: it blocked)"
grep -q "not a regular file" "$work/err" || fail "a FIFO as image: $(cat "$work/err")"
"$bin" >/dev/null 2>&1; [ $? = 2 ] || fail "no argument: expected exit 2"
"$bin" --bogus "$work/idle.raw" >/dev/null 2>&1; [ $? = 2 ] || fail "bad option: expected exit 2"
"$bin" "$work/idle.raw:" >/dev/null 2>&1; [ $? = 2 ] || fail "empty group: expected exit 2"
# a group the daemon refuses (default_group, memshare/group) is refused with
# the daemon's own message: both use one validator (settings.c)
"$bin" "$work/idle.raw:a/b" >/dev/null 2>"$work/err"; [ $? = 2 ] || fail "group a/b: expected exit 2"
grep -qF "'a/b' is not a group name (1..63 of A-Z a-z 0-9 . _ -)" "$work/err" ||
	fail "group a/b: not the daemon's message: $(cat "$work/err")"
echo "stat_estimate: ok"
