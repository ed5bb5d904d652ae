#!/bin/sh
# xenshare-estimate on the real guest images of ../shared/corpus: the zero,
# distinct and within-guest duplicate counts must equal the corpus README's
# byte-for-byte counts exactly (raw and .zst input give the same answer),
# the savings must add up, groups must never be merged, and bad inputs must
# fail with the file named and a non-zero exit.
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
