#!/bin/sh
# xensim through its command line only: a host with the four shipped example
# guests (shrunk to 128 MiB for speed), list/--json, pause/unpause, the
# guest-side xenstore permissions of the opt-in nodes, dom0 ballooning,
# destroy releasing frames, verify after the vCPUs wrote for a while, and
# argument errors.  Exit 0 pass, 77 skip, else fail.
set -u
. "$(dirname "$0")/common.sh"
need_built "$XENSIM"
ex="$TOP/tools/xensim/examples"
# dom_json NAME: the line of `xensim list --json` for domain NAME
dom_json() { "$XENSIM" list --json | grep "\"name\": \"$1\""; }

"$XENSIM" start --mem 1024 --dom0-mem 128 --pidfile "$T/pid" >"$T/start.out" || fail "start"
grep -q "listening on $XENSIM_SOCKET" "$T/start.out" || fail "start does not say where it listens: $(cat "$T/start.out")"
[ -S "$XENSIM_SOCKET" ] || fail "no socket at $XENSIM_SOCKET"
[ "$(stat -c %a "$XENSIM_SOCKET")" = 600 ] || fail "socket mode is $(stat -c %a "$XENSIM_SOCKET"), not 600"

for i in 1 2 3 4; do
	"$XENSIM" create "$ex/guest$i.cfg" memory=128 maxmem=128 sim_working_set=2048 \
		>"$T/create$i.out" 2>&1 || fail "create guest$i: $(cat "$T/create$i.out")"
done

# the other shipped examples parse and start (shrunk), groups reach xenstore
for f in web db pv passthrough; do
	"$XENSIM" create "$ex/$f.cfg" memory=16 >"$T/c.out" 2>&1 || fail "create $f.cfg: $(cat "$T/c.out")"
done
idw=$("$XENSIM" list --json | grep '"name": "web"' | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
[ "$("$XENSIM" xenstore-read "/local/domain/$idw/memshare/group")" = web ] || fail "web's memshare/group"
for f in web db pv nic; do "$XENSIM" destroy "$f" || fail "destroy $f"; done

# list: text and JSON
"$XENSIM" list >"$T/list" || fail "list"
for n in Domain-0 guest1 guest2 guest3 guest4; do
	grep -q "^$n " "$T/list" || fail "list lacks $n: $(cat "$T/list")"
done
head -1 "$T/list" | grep -q "Name.*ID.*Mem.*VCPUs.*State.*Shared" || fail "list header: $(head -1 "$T/list")"
"$XENSIM" list --json >"$T/list.json" || fail "list --json"
[ "$(grep -c '"domid"' "$T/list.json")" = 5 ] || fail "list --json: expected 5 domains: $(cat "$T/list.json")"
dom_json guest1 | grep -q '"tot_pages": 32768' || fail "guest1 is not 128 MiB: $(dom_json guest1)"
dom_json guest1 | grep -q '"mem_sharing": "on"' || fail "guest1 not opted in: $(dom_json guest1)"

# the opt-in nodes: dom0 owns them, the guest reads them but cannot change them
id1=$(dom_json guest1 | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
[ "$("$XENSIM" xenstore-read "/local/domain/$id1/memshare/enabled")" = on ] || fail "memshare/enabled"
[ "$("$XENSIM" xenstore-read --as "$id1" "/local/domain/$id1/memshare/enabled")" = on ] || \
	fail "guest cannot read its own memshare/enabled"
if "$XENSIM" xenstore-write --as "$id1" "/local/domain/$id1/memshare/enabled" off 2>"$T/err"; then
	fail "a guest could opt itself in/out"
fi
grep -q "Permission denied" "$T/err" || fail "guest write: unexpected error $(cat "$T/err")"
[ "$("$XENSIM" xenstore-read "/local/domain/$id1/memshare/enabled")" = on ] || fail "value changed"
"$XENSIM" xenstore-read --as 99 "/local/domain/$id1/name" >/dev/null 2>&1 && fail "another guest read guest1's name"
"$XENSIM" xenstore-write --as "$id1" "/local/domain/$id1/data/x" 1 || fail "guest cannot write its data/"
"$XENSIM" xenstore-ls "/local/domain/$id1" | grep -q 'enabled = "on"' || fail "xenstore-ls"

# pause: no writes while paused; unpause: writing again
"$XENSIM" pause guest2 || fail "pause"
dom_json guest2 | grep -q '"paused": true' || fail "guest2 not paused: $(dom_json guest2)"
w1=$(dom_json guest2 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')
sleep 1
w2=$(dom_json guest2 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')
[ "$w1" = "$w2" ] || fail "a paused guest wrote ($w1 -> $w2)"
"$XENSIM" unpause guest2 || fail "unpause"
# a loaded machine may be slow to schedule the vCPU thread: allow 20 s
for _ in $(seq 100); do
	w3=$(dom_json guest2 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')
	[ "$w3" -gt "$w2" ] && break
	sleep 0.2
done
[ "$w3" -gt "$w2" ] || fail "unpaused guest does not write ($w2 -> $w3)"
"$XENSIM" unpause guest2 2>/dev/null && fail "unpausing a running domain succeeded"

# destroy by id releases the guest's frames
"$XENSIM" info --json >"$T/i1" || fail "info"
grep -q '"invariant_ok": true' "$T/i1" || fail "sharing invariant: $(cat "$T/i1")"
f1=$(json_num free_frames "$T/i1")
id3=$(dom_json guest3 | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
"$XENSIM" destroy "$id3" || fail "destroy $id3"
"$XENSIM" info --json >"$T/i2"
f2=$(json_num free_frames "$T/i2")
[ $((f2 - f1)) -ge 32768 ] || fail "destroy released $((f2 - f1)) frames, expected >= 32768"
"$XENSIM" list | grep -q "^guest3 " && fail "guest3 still listed"
"$XENSIM" xenstore-read "/local/domain/$id3/name" >/dev/null 2>&1 && fail "guest3's xenstore nodes remain"

# dom0's balloon: a lower memory/target gives frames back
"$XENSIM" xenstore-write /local/domain/0/memory/target $((64 * 1024)) || fail "write dom0 target"
"$XENSIM" info --json >"$T/i3"
f3=$(json_num free_frames "$T/i3")
[ $((f3 - f2)) -ge 16384 ] || fail "dom0 balloon released $((f3 - f2)) frames, expected 16384"

# a guest's balloon too: guest4 down to 96 MiB
id4=$(dom_json guest4 | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
"$XENSIM" xenstore-write "/local/domain/$id4/memory/target" $((96 * 1024)) || fail "write guest4 target"
dom_json guest4 | grep -q '"tot_pages": 24576' || fail "guest4 did not balloon: $(dom_json guest4)"
"$XENSIM" xenstore-write --as "$id4" "/local/domain/$id4/memory/target" 1024 2>/dev/null && \
	fail "a guest could write its own memory/target"

# the vCPUs have been writing for a few seconds: every page is what its guest wrote
sleep 2
"$XENSIM" verify >"$T/verify" || fail "verify: $(cat "$T/verify")"
grep -q "verify: 0 mismatches" "$T/verify" || fail "verify output: $(cat "$T/verify")"
"$XENSIM" verify --json | grep -q '"mismatches": 0' || fail "verify --json"
[ "$(dom_json guest1 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')" -gt 100 ] || \
	fail "guest1 wrote too little: $(dom_json guest1)"

# bad arguments: exit 2 with a message; unknown domains: exit 1
for args in "" "bogus" "list extra" "destroy" "start --mem lots" "pause a b" \
	    "list --as 3" "xenstore-chmod /x z9" "create"; do
	# shellcheck disable=SC2086
	"$XENSIM" $args >/dev/null 2>"$T/err"
	rc=$?
	[ "$rc" = 2 ] || fail "'xensim $args' exited $rc, expected 2"
	[ -s "$T/err" ] || fail "'xensim $args' printed no message"
done
"$XENSIM" destroy nosuchguest 2>"$T/err"
[ $? = 1 ] || fail "destroy of an unknown domain did not exit 1"
grep -q nosuchguest "$T/err" || fail "message does not name the domain: $(cat "$T/err")"
"$XENSIM" --help | grep -q "xenstore-write" || fail "--help"

pid=$(cat "$T/pid")
"$XENSIM" stop || fail "stop"
[ -e "$XENSIM_SOCKET" ] && fail "socket left behind after stop"
# the host has exited (and, in a sanitizer build, reported nothing)
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "host pid $pid still alive after stop"
	sleep 0.1
done
grep -qE "Sanitizer|runtime error" "$XENSIM_SOCKET.log" && fail "sanitizer report in the host log"
"$XENSIM" list >/dev/null 2>&1 && fail "list succeeded after stop"
echo "xensim_cli: ok"
exit 0
