#!/bin/sh
# daemon_version: every place that shows the release shows the one in the
# file VERSION at the top of the source tree: xenshared -V, the control
# socket's ping and stats answers, the xenstore mirror's version node,
# xenshare-stat -V (and the version of its table and JSON), xenshare-estimate
# -V and the man pages' footers.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"
version=$(cat "$(dirname "$0")/../../VERSION") || fail "no VERSION file"
[ -n "$version" ] || fail "VERSION is empty"
note "VERSION: $version"

[ "$("$XSD" --version)" = "xenshared $version" ] || fail "xenshared -V: $("$XSD" --version)"
[ "$("$O/bin/xenshare-stat" --version)" = "xenshare-stat $version" ] ||
	fail "xenshare-stat -V: $("$O/bin/xenshare-stat" --version)"
if [ -x "$O/bin/xenshare-estimate" ]; then
	[ "$("$O/bin/xenshare-estimate" --version)" = "xenshare-estimate $version" ] ||
		fail "xenshare-estimate -V: $("$O/bin/xenshare-estimate" --version)"
fi
# pod2man --release: the footer of every page (.TH's fourth argument)
n=0
for page in "$O"/man/man*/*.[158]; do
	[ -e "$page" ] || continue
	grep -q "^\.TH .* \"xenshare $version\" " "$page" || fail "$page: footer is not 'xenshare $version'"
	n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n man pages in $O/man"

sim_start --mem 256 --dom0-mem 64
write_conf </dev/null
xsd_start || fail "daemon did not start"
ctl ping | jtrue ".version == \"$version\"" || fail "ping: $(ctl ping)"
stats_true ".version == \"$version\"" || fail "stats: version is not $version"
mirrored() { [ "$("$XENSIM" xenstore-read /local/domain/0/xenshared/version 2>/dev/null)" = "$version" ]; }
wait_for 10 mirrored || fail "mirror's version node: $("$XENSIM" xenstore-read /local/domain/0/xenshared/version 2>&1)"
LD_LIBRARY_PATH="$SIMLIB" "$O/bin/xenshare-stat" --json -s "$T/run/control.sock" >"$T/stat.json" 2>"$T/stat.err"
[ $? -le 3 ] || fail "xenshare-stat --json: $(cat "$T/stat.err")"
jtrue ".version == \"$version\" and .daemon.version == \"$version\"" <"$T/stat.json" ||
	fail "xenshare-stat --json: $(head -c 300 "$T/stat.json")"
LD_LIBRARY_PATH="$SIMLIB" "$O/bin/xenshare-stat" -s "$T/run/control.sock" 2>/dev/null |
	head -n 1 | grep -q "^xenshare-stat $version " || fail "xenshare-stat's table does not name $version"
pass daemon_version
