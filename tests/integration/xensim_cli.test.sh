#!/bin/sh
# xensim through its command line only: a host with the four shipped example
# guests (shrunk to 128 MiB for speed), list/--json, pause/unpause, the
# guest-side xenstore permissions of the opt-in nodes, dom0 ballooning,
# destroy releasing frames, verify after the vCPUs wrote for a while, and
# argument errors.  Exit 0 pass, 77 skip, else fail.
set -u
: "${O:?O must name the build folder}"
X="$O/bin/xensim"
root=$(cd "$(dirname "$0")/../.." && pwd)
ex="$root/tools/xensim/examples"
[ -x "$X" ] || { echo "no $X (build it: make O=$O xensim)"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim_cli.XXXXXX")
S="$T/host.sock"
export XENSIM_SOCKET="$S"
stop_host() {
	"$X" stop >/dev/null 2>&1 || { [ -f "$T/pid" ] && kill "$(cat "$T/pid")" 2>/dev/null; }
	rm -rf "$T"
}
trap stop_host EXIT
fail() { echo "FAIL: $*"; [ -f "$S.log" ] && tail -20 "$S.log"; exit 1; }
# json_num KEY FILE: the first number after "KEY": in a one-line JSON document
json_num() { grep -o "\"$1\": [0-9]*" "$2" | head -1 | grep -o '[0-9]*$'; }
# dom_json NAME: the line of `xensim list --json` for domain NAME
dom_json() { "$X" list --json | grep "\"name\": \"$1\""; }

"$X" start --mem 1024 --dom0-mem 128 --pidfile "$T/pid" >"$T/start.out" || fail "start"
grep -q "listening on $S" "$T/start.out" || fail "start does not say where it listens: $(cat "$T/start.out")"
[ -S "$S" ] || fail "no socket at $S"
[ "$(stat -c %a "$S")" = 600 ] || fail "socket mode is $(stat -c %a "$S"), not 600"

for i in 1 2 3 4; do
	"$X" create "$ex/guest$i.cfg" memory=128 maxmem=128 sim_working_set=2048 \
		>"$T/create$i.out" 2>&1 || fail "create guest$i: $(cat "$T/create$i.out")"
done

# the other shipped examples parse and start (shrunk), groups reach xenstore
for f in web db pv passthrough; do
	"$X" create "$ex/$f.cfg" memory=16 >"$T/c.out" 2>&1 || fail "create $f.cfg: $(cat "$T/c.out")"
done
idw=$("$X" list --json | grep '"name": "web"' | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
[ "$("$X" xenstore-read "/local/domain/$idw/memshare/group")" = web ] || fail "web's memshare/group"
for f in web db pv nic; do "$X" destroy "$f" || fail "destroy $f"; done

# list: text and JSON
"$X" list >"$T/list" || fail "list"
for n in Domain-0 guest1 guest2 guest3 guest4; do
	grep -q "^$n " "$T/list" || fail "list lacks $n: $(cat "$T/list")"
done
head -1 "$T/list" | grep -q "Name.*ID.*Mem.*VCPUs.*State.*Shared" || fail "list header: $(head -1 "$T/list")"
"$X" list --json >"$T/list.json" || fail "list --json"
[ "$(grep -c '"domid"' "$T/list.json")" = 5 ] || fail "list --json: expected 5 domains: $(cat "$T/list.json")"
dom_json guest1 | grep -q '"tot_pages": 32768' || fail "guest1 is not 128 MiB: $(dom_json guest1)"
dom_json guest1 | grep -q '"mem_sharing": "on"' || fail "guest1 not opted in: $(dom_json guest1)"

# the opt-in nodes: dom0 owns them, the guest reads them but cannot change them
id1=$(dom_json guest1 | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
[ "$("$X" xenstore-read "/local/domain/$id1/memshare/enabled")" = on ] || fail "memshare/enabled"
[ "$("$X" xenstore-read --as "$id1" "/local/domain/$id1/memshare/enabled")" = on ] || \
	fail "guest cannot read its own memshare/enabled"
if "$X" xenstore-write --as "$id1" "/local/domain/$id1/memshare/enabled" off 2>"$T/err"; then
	fail "a guest could opt itself in/out"
fi
grep -q "Permission denied" "$T/err" || fail "guest write: unexpected error $(cat "$T/err")"
[ "$("$X" xenstore-read "/local/domain/$id1/memshare/enabled")" = on ] || fail "value changed"
"$X" xenstore-read --as 99 "/local/domain/$id1/name" >/dev/null 2>&1 && fail "another guest read guest1's name"
"$X" xenstore-write --as "$id1" "/local/domain/$id1/data/x" 1 || fail "guest cannot write its data/"
"$X" xenstore-ls "/local/domain/$id1" | grep -q 'enabled = "on"' || fail "xenstore-ls"

# pause: no writes while paused; unpause: writing again
"$X" pause guest2 || fail "pause"
dom_json guest2 | grep -q '"paused": true' || fail "guest2 not paused: $(dom_json guest2)"
w1=$(dom_json guest2 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')
sleep 1
w2=$(dom_json guest2 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')
[ "$w1" = "$w2" ] || fail "a paused guest wrote ($w1 -> $w2)"
"$X" unpause guest2 || fail "unpause"
# a loaded machine may be slow to schedule the vCPU thread: allow 20 s
for _ in $(seq 100); do
	w3=$(dom_json guest2 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')
	[ "$w3" -gt "$w2" ] && break
	sleep 0.2
done
[ "$w3" -gt "$w2" ] || fail "unpaused guest does not write ($w2 -> $w3)"
"$X" unpause guest2 2>/dev/null && fail "unpausing a running domain succeeded"

# destroy by id releases the guest's frames
"$X" info --json >"$T/i1" || fail "info"
grep -q '"invariant_ok": true' "$T/i1" || fail "sharing invariant: $(cat "$T/i1")"
f1=$(json_num free_frames "$T/i1")
id3=$(dom_json guest3 | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
"$X" destroy "$id3" || fail "destroy $id3"
"$X" info --json >"$T/i2"
f2=$(json_num free_frames "$T/i2")
[ $((f2 - f1)) -ge 32768 ] || fail "destroy released $((f2 - f1)) frames, expected >= 32768"
"$X" list | grep -q "^guest3 " && fail "guest3 still listed"
"$X" xenstore-read "/local/domain/$id3/name" >/dev/null 2>&1 && fail "guest3's xenstore nodes remain"

# dom0's balloon: a lower memory/target gives frames back
"$X" xenstore-write /local/domain/0/memory/target $((64 * 1024)) || fail "write dom0 target"
"$X" info --json >"$T/i3"
f3=$(json_num free_frames "$T/i3")
[ $((f3 - f2)) -ge 16384 ] || fail "dom0 balloon released $((f3 - f2)) frames, expected 16384"

# a guest's balloon too: guest4 down to 96 MiB
id4=$(dom_json guest4 | grep -o '"domid": [0-9]*' | grep -o '[0-9]*$')
"$X" xenstore-write "/local/domain/$id4/memory/target" $((96 * 1024)) || fail "write guest4 target"
dom_json guest4 | grep -q '"tot_pages": 24576' || fail "guest4 did not balloon: $(dom_json guest4)"
"$X" xenstore-write --as "$id4" "/local/domain/$id4/memory/target" 1024 2>/dev/null && \
	fail "a guest could write its own memory/target"

# the vCPUs have been writing for a few seconds: every page is what its guest wrote
sleep 2
"$X" verify >"$T/verify" || fail "verify: $(cat "$T/verify")"
grep -q "verify: 0 mismatches" "$T/verify" || fail "verify output: $(cat "$T/verify")"
"$X" verify --json | grep -q '"mismatches": 0' || fail "verify --json"
[ "$(dom_json guest1 | grep -o '"writes": [0-9]*' | grep -o '[0-9]*$')" -gt 100 ] || \
	fail "guest1 wrote too little: $(dom_json guest1)"

# bad arguments: exit 2 with a message; unknown domains: exit 1
for args in "" "bogus" "list extra" "destroy" "start --mem lots" "pause a b" \
	    "list --as 3" "xenstore-chmod /x z9" "create"; do
	# shellcheck disable=SC2086
	"$X" $args >/dev/null 2>"$T/err"
	rc=$?
	[ "$rc" = 2 ] || fail "'xensim $args' exited $rc, expected 2"
	[ -s "$T/err" ] || fail "'xensim $args' printed no message"
done
"$X" destroy nosuchguest 2>"$T/err"
[ $? = 1 ] || fail "destroy of an unknown domain did not exit 1"
grep -q nosuchguest "$T/err" || fail "message does not name the domain: $(cat "$T/err")"
"$X" --help | grep -q "xenstore-write" || fail "--help"

pid=$(cat "$T/pid")
"$X" stop || fail "stop"
[ -e "$S" ] && fail "socket left behind after stop"
# the host has exited (and, in a sanitizer build, reported nothing)
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "host pid $pid still alive after stop"
	sleep 0.1
done
grep -qE "Sanitizer|runtime error" "$S.log" && fail "sanitizer report in the host log"
"$X" list >/dev/null 2>&1 && fail "list succeeded after stop"
echo "xensim_cli: ok"
exit 0
