#!/bin/sh
# A real Linux RAM image from ../shared/corpus (zstd, 256 MiB) becomes a
# guest's memory: create succeeds, the HVM guest has the image's 65536 pages
# but the 32 of its VGA window, and verify finds every page as loaded.  Skips (77) when the corpus is not
# checked out beside the repository.
set -u
: "${O:?O must name the build folder}"
X="$O/bin/xensim"
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null || (cd "$(dirname "$0")/../.." && pwd))
img="$root/../shared/corpus/idle.raw.zst"
[ -r "$img" ] || { echo "no corpus at $img: skipped"; exit 77; }
[ -x "$X" ] || { echo "no $X"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim_corpus.XXXXXX")
export XENSIM_SOCKET="$T/host.sock"
trap '"$X" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$X" start --mem 1024 --dom0-mem 64 >/dev/null || fail "start"
"$X" create "$root/tools/xensim/examples/corpus-idle.cfg" "sim_image=$img" >"$T/out" 2>&1 || \
	fail "create: $(cat "$T/out")"
# an HVM guest: 65536 pages less the VGA window (the image's VGA RAM is not RAM)
"$X" list --json | grep '"name": "idle"' | grep -q '"tot_pages": 65504' || \
	fail "idle guest: $("$X" list --json)"
# the image is 256 MiB: one page less of guest memory must be refused
"$X" create "$root/tools/xensim/examples/corpus-idle.cfg" "sim_image=$img" name=small \
	memory=255 >"$T/out" 2>&1 && fail "a 256 MiB image fit a 255 MiB guest"
grep -q "larger than the guest" "$T/out" || fail "message: $(cat "$T/out")"
"$X" verify >"$T/v" || fail "verify: $(cat "$T/v")"
echo "xensim_corpus: ok"
exit 0
