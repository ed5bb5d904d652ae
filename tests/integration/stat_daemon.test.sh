#!/bin/sh
# xenshare-stat with the real daemon on a scripted xensim host: once
# xenshared has settled, xenshare-stat exits 0, its hypervisor numbers equal
# xensim's own counters, the daemon's totals agree with them (no notes),
# the per-domain policy is the one the xl.cfg keys set, and Prometheus shows
# the same; after `kill -9` of the daemon the shares stay, xenshare-stat
# exits 1 with the daemon refused and still shows the hypervisor's numbers.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_tool python3
need_built "$XST" "$XENSIM" "$SIMLIB" "$XSD"

sim_start --mem 1024
guest web1 1 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=tenant-a
guest web2 2 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=tenant-a
guest db 3 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=zero mem_sharing_group=tenant-b
sock=$T/run/control.sock
write_conf </dev/null
xsd_start || fail "daemon did not start"
daemon_pid=$XSD_PID

# wait (at most 90 s) for the daemon to answer and settle
settled=
for _ in $(seq 180); do
	if xst --json -s "$sock" >"$T/s.json" 2>/dev/null &&
	   [ "$(jq '.daemon.settled and .daemon.full_scans >= 2' "$T/s.json")" = true ]; then
		settled=1
		break
	fi
	kill -0 $daemon_pid 2>/dev/null || fail "daemon died: $(tail -5 "$T/daemon.err")"
	sleep 0.5
done
[ -n "$settled" ] || fail "daemon did not settle in 90 s: $(jq -c .daemon "$T/s.json" 2>/dev/null)"

xst --json -s "$sock" >"$T/s.json" 2>"$T/err"; rc=$?
[ $rc = 0 ] || fail "exit $rc with the daemon up: $(cat "$T/err")"
"$XENSIM" info --json >"$T/info.json" || fail "xensim info"
for k in sharing_freed_pages sharing_used_frames; do
	a=$(jq ".hypervisor.$k" "$T/s.json") b=$(jq ".$k" "$T/info.json")
	[ "$a" = "$b" ] || fail "$k: xenshare-stat $a, xensim $b"
done
a=$(jq -c '[.domains[] | {domid, name, shr_pages}]' "$T/s.json")
b=$(jq -c '[.domains[] | {domid, name, shr_pages}]' "$T/info.json")
[ "$a" = "$b" ] || fail "domains: xenshare-stat $a, xensim $b"
saved=$(jq '.totals.saved_pages' "$T/s.json")
[ "$saved" -gt 0 ] || fail "the daemon saved nothing"
[ "$(jq '.daemon.counters.pages_sharing' "$T/s.json")" = "$saved" ] ||
	fail "daemon's pages_sharing $(jq '.daemon.counters.pages_sharing' "$T/s.json") != hypervisor's $saved"
[ "$(jq -c '.notes' "$T/s.json")" = '[]' ] || fail "unexpected notes: $(jq -c .notes "$T/s.json")"
[ "$(jq -r '.domains[] | select(.name=="db") | .mode + "/" + .group + "/" + (.in_daemon|tostring)' "$T/s.json")" = zero/tenant-b/true ] ||
	fail "db's policy: $(jq -c '.domains[] | select(.name=="db")' "$T/s.json")"
dsum=$(jq '[.domains[] | .pages_sharing // 0] | add' "$T/s.json")
echo "   settled: $saved pages saved (daemon's per-domain sum $dsum), $(jq .totals.used_frames "$T/s.json") frames, ratio $(jq .totals.sharing_ratio "$T/s.json")"

xst -s "$sock" >"$T/table" 2>&1 || fail "table: exit $?"
grep -q "^Saved: .*($saved pages, from the hypervisor)" "$T/table" || fail "table: saved line"
grep -q '^Daemon:  CPU .* settled: yes' "$T/table" || fail "table: daemon line"
xst --prometheus -s "$sock" >"$T/p.prom" || fail "prometheus: exit $?"
grep -q "^xenshare_saved_pages $saved\$" "$T/p.prom" || fail "prometheus: saved pages"
grep -q "^xenshare_daemon_saved_pages $saved\$" "$T/p.prom" || fail "prometheus: daemon saved pages"

# the daemon dies: shares stay, xenshare-stat says so and exits 1
kill -9 $daemon_pid
wait $daemon_pid 2>/dev/null
xst --json -s "$sock" >"$T/d.json" 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "dead daemon: exit $rc, expected 1"
state=$(jq -r .daemon.state "$T/d.json")
[ "$state" = refused ] || [ "$state" = absent ] || fail "dead daemon: state $state"
grep -q "xenshared is not running\|is xenshared running" "$T/err" || fail "dead daemon: message $(cat "$T/err")"
"$XENSIM" info --json >"$T/info.json" || fail "xensim info"
[ "$(jq .hypervisor.sharing_freed_pages "$T/d.json")" = "$(jq .sharing_freed_pages "$T/info.json")" ] ||
	fail "dead daemon: hypervisor numbers differ from xensim's"
[ "$(jq .totals.saved_pages "$T/d.json")" -gt 0 ] || fail "shares lost with the daemon"
"$XENSIM" verify >/dev/null 2>&1 || fail "xensim verify: a guest page differs from what the guest wrote"
pass stat_daemon
