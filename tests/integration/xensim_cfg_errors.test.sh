#!/bin/sh
# Bad input to `xensim create` -- a corrupted xl.cfg, bad values, a missing,
# truncated or garbage memory image, a FIFO or device as a memory file, an
# ELF that is not a core as sim_core, a guest too big for the host -- gives
# exit 1 (at once) and a message naming the file and the problem; the host
# stays up and no half-built domain is left behind.  Exit 0 pass, else fail.
set -u
. "$(dirname "$0")/common.sh"
need_built "$XENSIM"

# expect_error FILE NEEDLE [key=value...]: create fails with exit 1 and NEEDLE in the message
expect_error() {
	f=$1 needle=$2
	shift 2
	"$XENSIM" create "$f" "$@" >"$T/out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "create $f $*: exit $rc, expected 1 ($(cat "$T/out"))"
	grep -q -- "$needle" "$T/out" || fail "create $f $*: message lacks '$needle': $(cat "$T/out")"
}

"$XENSIM" start --mem 512 --dom0-mem 64 >/dev/null || fail "start"

good="$T/good.cfg"
printf 'name = "g"\ntype = "pvh"\nmemory = 16\n' >"$good"

# a corrupted file: libxlutil's syntax error with file and line
cp "$TOP/tools/xensim/examples/guest1.cfg" "$T/corrupt.cfg"
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

# A FIFO (or any file that is not a regular file) as a memory file: refused
# at once, naming key and path, and the host still answers.  The host serves
# everyone from one thread; opening a FIFO for reading would wait for a
# writer forever, so `timeout` turns such a hang into a failure here.
mkfifo "$T/fifo"
# expect_fast FILE NEEDLE [key=value...]: expect_error within 10 seconds
expect_fast() {
	f=$1 needle=$2
	shift 2
	timeout 10 "$XENSIM" create "$f" "$@" >"$T/out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "create $f $*: exit $rc, expected 1 at once ($(cat "$T/out"))"
	grep -q -- "$needle" "$T/out" || fail "create $f $*: message lacks '$needle': $(cat "$T/out")"
}
expect_fast "$good" "sim_image = \"$T/fifo\": a FIFO, not a regular file" "sim_image=$T/fifo"
expect_fast "$good" "sim_core = \"$T/fifo\": a FIFO, not a regular file" "sim_core=$T/fifo"
expect_fast "$good" 'sim_image = "/dev/null": a character device' 'sim_image=/dev/null'
expect_fast "$good" "a directory, not a regular file" "sim_core=$T"
timeout 10 "$XENSIM" list >/dev/null || fail "the host does not answer after a FIFO as sim_image"

# An ELF that is not a core (an object file given the dump-core sections) is
# refused as sim_core, by the same rule xenshare-estimate applies to it.
printf 'int xensim_not_a_core;\n' >"$T/obj.c"
${CC:-cc} -c -o "$T/obj.o" "$T/obj.c" || fail "cannot build an object file"
head -c 8192 /dev/urandom >"$T/pages"
printf '\007\000\000\000\000\000\000\000\002\000\000\000\000\000\000\000' >"$T/pfn"
objcopy --add-section .xen_pages="$T/pages" --add-section .xen_pfn="$T/pfn" "$T/obj.o" "$T/notcore.elf" ||
	fail "objcopy"
expect_error "$good" 'not a core dump' "sim_core=$T/notcore.elf"
if [ -x "$O/bin/xenshare-estimate" ]; then
	"$O/bin/xenshare-estimate" "$T/notcore.elf" >/dev/null 2>"$T/est" && fail "xenshare-estimate accepted the non-core ELF"
	grep -q 'not a core dump' "$T/est" || fail "xenshare-estimate's reason: $(cat "$T/est")"
fi

# too big for the host: the hypervisor's ENOMEM, as a message
expect_error "$good" 'creating domain "g"' 'memory=2048'

# a name clash
"$XENSIM" create "$good" >/dev/null 2>&1 || fail "good config refused"
expect_error "$good" 'already exists'

# nothing half-built was left: only dom0 and g
"$XENSIM" list --json >"$T/list" || fail "host died"
[ "$(grep -c '"domid"' "$T/list")" = 2 ] || fail "leftover domains: $(cat "$T/list")"
"$XENSIM" verify >/dev/null || fail "verify after errors"

# start's own files never block either: a FIFO as pid file or (without a
# reader) as log makes the start fail at once with the path
timeout 10 "$XENSIM" start --socket "$T/other.sock" --mem 64 --pidfile "$T/fifo" >"$T/out" 2>&1
[ $? = 1 ] || fail "start with a FIFO as pid file: $(cat "$T/out")"
grep -q "pid file $T/fifo" "$T/out" || fail "pid file message: $(cat "$T/out")"
timeout 10 "$XENSIM" start --socket "$T/other.sock" --mem 64 --log "$T/fifo" >"$T/out" 2>&1
[ $? = 1 ] || fail "start with a FIFO as log: $(cat "$T/out")"
grep -q "cannot open log $T/fifo.*FIFO nobody reads" "$T/out" || fail "log message: $(cat "$T/out")"
echo "xensim_cfg_errors: ok"
exit 0
