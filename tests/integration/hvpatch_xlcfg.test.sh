#!/bin/sh
# hvpatch_xlcfg: the xl.cfg keys of patch 0006 (mem_sharing, mem_sharing_group)
# as the patched xl parses them.  Links hypervisor-patch/harness/xl/xlcfg_probe.c
# with the tree's own tools/xl objects (xl's main renamed away) and checks,
# per config, the xenstore nodes xl hands to libxl or xl's error and exit
# status.  Needs a tree built with `build.sh --tools`: $HVPATCH_TREE, else
# $O/hvpatch/tree, else the e2e's tree ($O/e2e-cache/hvpatch/tree: e2e_qemu
# runs first in the release pass and builds the tools, so CI runs this test
# too); skips (77) when there is none.
# run-all: alone: reads the tools tree that e2e_qemu or hvpatch_build builds before it
set -eu
. "$(dirname "$0")/common.sh"
has_tools() { [ -e "$1/tools/xl/xl_parse.o" ] && [ -e "$1/tools/libs/light/libxenlight.so" ]; }
if [ -n "${HVPATCH_TREE:-}" ]; then
	tree=$HVPATCH_TREE
elif has_tools "$O/hvpatch/tree"; then
	tree=$O/hvpatch/tree
else
	tree=${E2E_CACHE:-$O/e2e-cache}/hvpatch/tree
fi
has_tools "$tree" ||
	skip "no tools build in $tree nor $O/hvpatch/tree (run hypervisor-patch/build.sh --tools, or set HVPATCH_TREE)"
echo "tools tree: $tree"
grep -q mem_sharing_group "$tree/tools/xl/xl_parse.c" ||
	{ echo "FAIL: $tree/tools/xl/xl_parse.c lacks patch 0006"; exit 1; }

tmp=$T
libdirs=$(find "$tree/tools/libs" -name '*.so' -printf '%h\n' | sort -u)
L=
for d in $libdirs; do L="$L -L$d -Wl,-rpath-link,$d"; done
objcopy --redefine-sym main=xl_main "$tree/tools/xl/xl.o" "$tmp/xl_nomain.o"
# shellcheck disable=SC2046,SC2086
if ! gcc -Wall -Werror -D__XEN_TOOLS__ -I"$tree/tools/include" -I"$tree/tools/xl" \
	-I"$tree/tools/libs/light" -I"$tree/tools/libs/util" \
	-o "$tmp/probe" "$TOP/hypervisor-patch/harness/xl/xlcfg_probe.c" "$tmp/xl_nomain.o" \
	$(ls "$tree"/tools/xl/*.o | grep -v '/xl\.o$') $L \
	-lxenlight -lxlutil -lxenctrl -lxentoollog -lxenstore -lyajl -lpthread >"$tmp/cc.log" 2>&1; then
	cat "$tmp/cc.log"; echo "FAIL: could not link the probe"; exit 1
fi
LD_LIBRARY_PATH=$(printf '%s\n' $libdirs | tr '\n' ':')
export LD_LIBRARY_PATH

fail=0
# run NAME EXPECTED_RC EXPECTED_OUTPUT_REGEX ("": any) CFG_LINES...
run() {
	name=$1 want_rc=$2 want=$3
	shift 3
	printf 'name = "t"\nmemory = 128\nkernel = "/k"\n' >"$tmp/cfg"
	for l in "$@"; do printf '%s\n' "$l" >>"$tmp/cfg"; done
	rc=0
	"$tmp/probe" "$tmp/cfg" >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" = "$want_rc" ] && { [ -z "$want" ] || grep -Eq "$want" "$tmp/out"; }; then
		echo "ok: $name"
	else
		echo "FAIL: $name: exit $rc (want $want_rc), output:"; sed 's/^/    /' "$tmp/out"; fail=1
	fi
}
run "on + group -> both nodes" 0 '^xsdata memshare/enabled = on$' \
	'type = "pvh"' 'mem_sharing = "on"' 'mem_sharing_group = "web.1"'
run "group node written" 0 '^xsdata memshare/group = web\.1$' \
	'type = "pvh"' 'mem_sharing = "on"' 'mem_sharing_group = "web.1"'
run "zero" 0 '^xsdata memshare/enabled = zero$' 'type = "pvh"' 'mem_sharing = "zero"'
run "off" 0 '^xsdata memshare/enabled = off$' 'type = "hvm"' 'mem_sharing = "off"'
run "absent key parses" 0 '' 'type = "pvh"'
if grep -q memshare "$tmp/out"; then echo "FAIL: memshare node without the key"; fail=1; else echo "ok: absent key -> no memshare node"; fi
run "bad mode refused" 1 'invalid value "yes" for "mem_sharing"' 'type = "pvh"' 'mem_sharing = "yes"'
run "empty group refused" 1 'must be 1 to 63' 'type = "pvh"' 'mem_sharing_group = ""'
run "64-char group refused" 1 'must be 1 to 63' 'type = "pvh"' \
	"mem_sharing_group = \"$(printf '%064d' 0)\""
run "63-char group accepted" 0 "^xsdata memshare/group = $(printf '%063d' 0)\$" 'type = "pvh"' \
	"mem_sharing_group = \"$(printf '%063d' 0)\""
run "group with a space refused" 1 "invalid character ' '" 'type = "pvh"' 'mem_sharing_group = "a b"'
run "group with a slash refused" 1 "invalid character '/'" 'type = "pvh"' 'mem_sharing_group = "a/b"'
run "PV guest warned" 0 'memory sharing needs an HVM or PVH guest' 'type = "pv"' 'mem_sharing = "on"'
exit $fail
