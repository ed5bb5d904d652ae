#!/bin/sh
# xenshare-estimate on the real guest images of ../shared/corpus: the zero,
# distinct and within-guest duplicate counts must equal the corpus README's
# byte-for-byte counts exactly (raw and .zst input give the same answer),
# the savings must add up, groups must never be merged, the guests that
# fit on a given host must be the count worked out from those numbers, and
# bad inputs must fail with the file named and a non-zero exit.
set -u
. "$(dirname "$0")/common.sh"
bin=$O/bin/xenshare-estimate
need_tool jq
need_tool zstd
need_built "$bin"
need_corpus idle pagecache

# one image decompressed into the test directory, the other read as .zst
zstd -q -d "$CORPUS/idle.raw.zst" -o "$T/idle.raw" || fail "zstd -d"
TMPDIR=$T "$bin" --json "$T/idle.raw" "$CORPUS/pagecache.raw.zst" >"$T/one.json" \
	2>"$T/err" || fail "estimate exited $?: $(cat "$T/err")"

check() { # jq-expression expected what
	got=$(jq -r "$1" "$T/$4") || fail "jq $1"
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
across=$(jq -r '.total.across.pages' "$T/one.json")
[ "$across" -gt 0 ] || fail "two Debian kernels share nothing across guests?"

# how many guests like these fit on a 2 GiB host (no reserve, no burst),
# the two images in turn.  Without sharing 524288 / 65536 = 8.  With it,
# idle needs 65536 to start and then holds only its 16324 contents (16323
# distinct + the zero page); pagecache holds 56762 - 4558 (already in
# idle: the across savings) = 52204.  Free after each guest: 507964,
# 455760, 439436, 387232, 370908, 318704, 302380, 250176, 233852, 181648,
# 165324, 113120, 96796, 44592 (the 14th), and idle's 65536 do not fit: 14.
"$bin" -q --json --host-mem 2G --reserve 0 --burst 0 "$T/idle.raw" "$CORPUS/pagecache.raw.zst" \
	>"$T/fit.json" 2>"$T/err" || fail "--host-mem exited $?: $(cat "$T/err")"
check '.guests[0].new_contents' 16324 "idle's new contents" fit.json
check '.guests[1].new_contents' 52204 "pagecache's new contents" fit.json
check '.admission.without_sharing' 8 "guests without sharing" fit.json
check '.admission.guests' 14 "guests with sharing" fit.json
# against a burst of every shared page, sharing buys nothing
"$bin" -q --json --host-mem 2G --reserve 0 --burst 100 "$T/idle.raw" "$CORPUS/pagecache.raw.zst" \
	>"$T/fit100.json" 2>"$T/err" || fail "--burst 100 exited $?: $(cat "$T/err")"
check '.admission.guests == .admission.without_sharing' true "--burst 100" fit100.json
# the defaults (the daemon's reserve, a 50% burst) in words
"$bin" -q --host-mem 2G "$T/idle.raw" "$CORPUS/pagecache.raw.zst" >"$T/fit.txt" 2>&1 ||
	fail "--host-mem text exited $?"
grep -q "^On a host of 2.0 GiB, [0-9]* guests like these images fit with sharing vs 7 without\$" \
	"$T/fit.txt" || fail "admission line: $(grep 'On a host' "$T/fit.txt")"
grep -q "reserve of 64.0 MiB\$" "$T/fit.txt" || fail "the daemon's default reserve not used"
# the question without its host, or out of range, is a usage error
for bad in "--burst 50" "--host-mem 2G --burst 101" "--host-mem 2G --burst x" "--host-mem 0" \
	   "--host-mem 2X" "--host-mem 2G --reserve -1M"; do
	# shellcheck disable=SC2086
	"$bin" $bad "$T/idle.raw" >/dev/null 2>"$T/err"; rc=$?
	[ $rc = 2 ] || fail "$bad: exit $rc, expected 2"
	[ -s "$T/err" ] || fail "$bad: no message"
done

# two groups: nothing across, zero pages counted per group
"$bin" --json "$T/idle.raw:a" "$CORPUS/pagecache.raw.zst:b" >"$T/two.json" 2>"$T/err" ||
	fail "estimate with groups exited $?: $(cat "$T/err")"
check '.groups | length' 2 "group count" two.json
check '.total.across.pages' 0 "across groups" two.json
check '.total.zero.pages' 49099 "zero savings per group" two.json

# the same image twice in one group: every non-zero distinct page is shared across
"$bin" --json "$T/idle.raw" "$T/idle.raw" >"$T/twice.json" 2>/dev/null || fail "twice"
check '.total.across.pages' 16323 "identical guests" twice.json

# the text report says the same
"$bin" "$T/idle.raw" >"$T/text" 2>&1 || fail "text report"
grep -q "42840" "$T/text" || fail "text report lacks the zero count"

# --progress draws a bar on stderr that ends at 100%; without it, nothing on a non-tty
"$bin" --progress "$T/idle.raw" >/dev/null 2>"$T/progress" || fail "--progress exit $?"
tr '\r' '\n' <"$T/progress" | grep -q '100.0%' || fail "--progress: no bar ending at 100%"
"$bin" "$T/idle.raw" >/dev/null 2>"$T/progress" || fail "estimate exit $?"
[ ! -s "$T/progress" ] || fail "progress drawn on a non-terminal: $(head -c 200 "$T/progress")"

# bad inputs: the file is named, the exit is 1; bad usage is 2
head -c 10000 "$T/idle.raw" >"$T/odd.raw"
head -c 1000000 "$CORPUS/idle.raw.zst" >"$T/cut.zst"
printf 'not memory' >"$T/garbage"
for f in odd.raw cut.zst garbage missing; do
	"$bin" "$T/$f" >/dev/null 2>"$T/err"
	rc=$?
	[ $rc = 1 ] || fail "$f: exit $rc, expected 1"
	grep -q "$T/$f" "$T/err" || fail "$f: error does not name the file: $(cat "$T/err")"
done
# a FIFO (or any file that is not a regular one) is refused at once: opening
# it must not wait for a writer
mkfifo "$T/fifo" || fail "mkfifo"
timeout 10 "$bin" "$T/fifo" >/dev/null 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "a FIFO as image: exit $rc, expected 1 (124: it blocked)"
grep -q "not a regular file" "$T/err" || fail "a FIFO as image: $(cat "$T/err")"
"$bin" >/dev/null 2>&1; [ $? = 2 ] || fail "no argument: expected exit 2"
"$bin" --bogus "$T/idle.raw" >/dev/null 2>&1; [ $? = 2 ] || fail "bad option: expected exit 2"
"$bin" "$T/idle.raw:" >/dev/null 2>&1; [ $? = 2 ] || fail "empty group: expected exit 2"
# a group the daemon refuses (default_group, memshare/group) is refused with
# the daemon's own message: both use one validator (settings.c)
"$bin" "$T/idle.raw:a/b" >/dev/null 2>"$T/err"; [ $? = 2 ] || fail "group a/b: expected exit 2"
grep -qF "'a/b' is not a group name (1..63 of A-Z a-z 0-9 . _ -)" "$T/err" ||
	fail "group a/b: not the daemon's message: $(cat "$T/err")"
echo "stat_estimate: ok"
