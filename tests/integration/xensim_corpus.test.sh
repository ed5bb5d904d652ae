#!/bin/sh
# A real Linux RAM image from ../shared/corpus (zstd, 256 MiB) becomes a
# guest's memory: create succeeds, the HVM guest has the image's 65536 pages
# but the 32 of its VGA window, and verify finds every page as loaded.
set -u
. "$(dirname "$0")/common.sh"
need_built "$XENSIM"
need_corpus idle
img="$CORPUS/idle.raw.zst"

"$XENSIM" start --mem 1024 --dom0-mem 64 >/dev/null || fail "start"
"$XENSIM" create "$TOP/tools/xensim/examples/corpus-idle.cfg" "sim_image=$img" >"$T/out" 2>&1 || \
	fail "create: $(cat "$T/out")"
# an HVM guest: 65536 pages less the VGA window (the image's VGA RAM is not RAM)
"$XENSIM" list --json | grep '"name": "idle"' | grep -q '"tot_pages": 65504' || \
	fail "idle guest: $("$XENSIM" list --json)"
# the image is 256 MiB: one page less of guest memory must be refused
"$XENSIM" create "$TOP/tools/xensim/examples/corpus-idle.cfg" "sim_image=$img" name=small \
	memory=255 >"$T/out" 2>&1 && fail "a 256 MiB image fit a 255 MiB guest"
grep -q "larger than the guest" "$T/out" || fail "message: $(cat "$T/out")"
"$XENSIM" verify >"$T/v" || fail "verify: $(cat "$T/v")"
echo "xensim_corpus: ok"
exit 0
