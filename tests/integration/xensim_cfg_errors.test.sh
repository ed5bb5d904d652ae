#!/bin/sh
# Bad input to `xensim create` -- a corrupted xl.cfg, bad values, a missing,
# truncated or garbage memory image, a guest too big for the host -- gives
# exit 1 and a message naming the file and the problem; the host stays up
# and no half-built domain is left behind.  Exit 0 pass, else fail.
set -u
: "${O:?O must name the build folder}"
X="$O/bin/xensim"
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$X" ] || { echo "no $X"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim_cfg.XXXXXX")
export XENSIM_SOCKET="$T/host.sock"
trap '"$X" stop >/dev/null 2>&1; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_error FILE NEEDLE [key=value...]: create fails with exit 1 and NEEDLE in the message
expect_error() {
	f=$1 needle=$2
	shift 2
	"$X" create "$f" "$@" >"$T/out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "create $f $*: exit $rc, expected 1 ($(cat "$T/out"))"
	grep -q -- "$needle" "$T/out" || fail "create $f $*: message lacks '$needle': $(cat "$T/out")"
}

"$X" start --mem 512 --dom0-mem 64 >/dev/null || fail "start"

good="$T/good.cfg"
printf 'name = "g"\ntype = "pvh"\nmemory = 16\n' >"$good"

# a corrupted file: libxlutil's syntax error with file and line
cp "$root/tools/xensim/examples/guest1.cfg" "$T/corrupt.cfg"
sed -i 's/^memory = 512$/memory = = 512 "/' "$T/corrupt.cfg"
expect_error "$T/corrupt.cfg" "corrupt.cfg:[0-9]*: config parsing error"
head -c 3000 /dev/urandom >"$T/random.cfg"
expect_error "$T/random.cfg" "random.cfg"
expect_error "$T/nonexistent.cfg" "cannot read config file"

# values
expect_error "$good" 'Invalid domain type' 'type="xen"'
expect_error "$good" 'mem_sharing "maybe"' 'mem_sharing="maybe"'
expect_error "$good" 'unknown simulation key "sim_imagee"' 'sim_imagee=/x'
expect_error "$good" 'add up to' 'sim_profile="os=0.5"'
expect_error "$good" 'maxmem' 'maxmem=8'
expect_error "$good" 'Domain name must be specified' 'name=""'

# memory images
expect_error "$good" 'cannot open image' "sim_image=$T/missing.raw"
head -c 10000 /dev/zero >"$T/trunc.raw"
expect_error "$good" 'not a whole number of 4 KiB pages' "sim_image=$T/trunc.raw"
head -c 65536 /dev/urandom >"$T/garbage.zst"
expect_error "$good" 'not zstd' "sim_image=$T/garbage.zst"
head -c 65536 /dev/urandom | zstd -q -c >"$T/rand.zst"
head -c 2000 "$T/rand.zst" >"$T/cut.zst"
expect_error "$good" 'truncated zstd stream' "sim_image=$T/cut.zst"
head -c $((32 * 1024 * 1024)) /dev/zero >"$T/big.raw"
expect_error "$good" 'the guest only 4096' "sim_image=$T/big.raw"
expect_error "$good" 'not an ELF core' "sim_core=$T/trunc.raw"

# too big for the host: the hypervisor's ENOMEM, as a message
expect_error "$good" 'creating domain "g"' 'memory=2048'

# a name clash
"$X" create "$good" >/dev/null 2>&1 || fail "good config refused"
expect_error "$good" 'already exists'

# nothing half-built was left: only dom0 and g
"$X" list --json >"$T/list" || fail "host died"
[ "$(grep -c '"domid"' "$T/list")" = 2 ] || fail "leftover domains: $(cat "$T/list")"
"$X" verify >/dev/null || fail "verify after errors"
echo "xensim_cfg_errors: ok"
exit 0
