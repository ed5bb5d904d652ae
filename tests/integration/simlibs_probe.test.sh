#!/bin/sh
# A program built only against Debian's Xen headers (simlibs_probe.c) runs
# against a xensim host through the drop-in libraries: the ENOSYS stubs of
# all four libraries fail cleanly, a 256-page foreign mapping holds frame
# references (nominate gives E2BIG until unmap, as on Xen), xenstore reads
# the nodes xensim wrote for a guest, and a watch on @introduceDomain fires
# when `xensim create` runs.
set -u
. "$(dirname "$0")/common.sh"
P="$O/tests/simlibs_probe"
need_built "$XENSIM" "$SIMLIB" "$P"
probe() { LD_LIBRARY_PATH="$O/simlib" "$P" "$@"; }

# no host: a clean error, like the real libraries without /dev/xen
if probe stubs >"$T/out" 2>&1; then fail "probe worked without a host"; fi
grep -q "Could not obtain handle" "$T/out" || fail "no-host message: $(cat "$T/out")"

"$XENSIM" start --mem 512 --dom0-mem 64 --pidfile "$T/pid" >"$T/start.out" ||
	fail "start: $(cat "$T/start.out")"
printf 'name = "g1"\ntype = "pvh"\nmemory = 16\nsim_profile = "os=0.5,zero=0.2,dup=0,unique=0.3"\n' >"$T/g.cfg"
"$XENSIM" create "$T/g.cfg" >/dev/null 2>&1 || fail "create g1"
id=$("$XENSIM" list --json | grep -o '"name": "g1", "domid": [0-9]*' | grep -o '[0-9]*$')
[ -n "$id" ] || fail "no id for g1"

probe stubs >"$T/out" 2>&1 || fail "stubs: $(cat "$T/out")"
probe map-nominate "$id" 16 >"$T/out" 2>&1 || fail "map-nominate: $(cat "$T/out")"
grep -q "^handle = " "$T/out" || fail "map-nominate printed no handle: $(cat "$T/out")"
probe xs-info "$id" >"$T/out" 2>&1 || fail "xs-info: $(cat "$T/out")"
grep -q "^name = g1$" "$T/out" || fail "xs-info: $(cat "$T/out")"

# the watch fires when a domain is created
probe watch-introduce 20 >"$T/watch" 2>&1 &
wpid=$!
kill_at_exit $wpid
i=0
until grep -q ready "$T/watch" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "watcher not ready: $(cat "$T/watch")"
	kill -0 "$wpid" 2>/dev/null || fail "watcher died: $(cat "$T/watch")"
	sleep 0.1
done
"$XENSIM" create "$T/g.cfg" name=g2 >/dev/null 2>&1 || fail "create g2"
wait "$wpid" || fail "watch-introduce: $(cat "$T/watch")"
wpid=
grep -q introduced "$T/watch" || fail "watch: $(cat "$T/watch")"

# the server dropped every reference the probes held: g1 still verifies
"$XENSIM" verify >"$T/out" 2>&1 || fail "verify: $(cat "$T/out")"
echo "simlibs probe: stubs, mappings, xenstore and watches behave"
exit 0
