#!/bin/sh
# xenshare-stat with the real daemon on a scripted xensim host: once
# xenshared has settled, xenshare-stat exits 0, its hypervisor numbers equal
# xensim's own counters, the daemon's totals agree with them (no notes),
# the per-domain policy is the one the xl.cfg keys set, and Prometheus shows
# the same; after `kill -9` of the daemon the shares stay, xenshare-stat
# exits 1 with the daemon refused and still shows the hypervisor's numbers.
set -u
. "$(dirname "$0")/stat_common.sh"
xsd=$O/bin/xenshared
need "$xsd"

start_host 1024
guest_cfg web1 on tenant-a 1
guest_cfg web2 on tenant-a 2
guest_cfg db zero tenant-b 3
mkdir -p "$work/run"
sock=$work/run/control.sock
cat >"$work/xenshared.conf" <<CONF
control_socket = $sock
pidfile = $work/run/xenshared.pid
pass_target = 2
cpu_cap = 100
reserve = 0
CONF
LD_LIBRARY_PATH=$simlib "$xsd" -d -f "$work/xenshared.conf" 2>"$work/daemon.err" &
daemon_pid=$!
trap 'kill -9 $daemon_pid 2>/dev/null; cleanup' EXIT

# wait (at most 90 s) for the daemon to answer and settle
settled=
for _ in $(seq 180); do
	if stat --json -s "$sock" >"$work/s.json" 2>/dev/null &&
	   [ "$(jq '.daemon.settled and .daemon.full_scans >= 2' "$work/s.json")" = true ]; then
		settled=1
		break
	fi
	kill -0 $daemon_pid 2>/dev/null || fail "daemon died: $(tail -5 "$work/daemon.err")"
	sleep 0.5
done
[ -n "$settled" ] || fail "daemon did not settle in 90 s: $(jq -c .daemon "$work/s.json" 2>/dev/null)"

stat --json -s "$sock" >"$work/s.json" 2>"$work/err"; rc=$?
[ $rc = 0 ] || fail "exit $rc with the daemon up: $(cat "$work/err")"
"$xensim" info --json >"$work/info.json" || fail "xensim info"
for k in sharing_freed_pages sharing_used_frames; do
	a=$(jq ".hypervisor.$k" "$work/s.json") b=$(jq ".$k" "$work/info.json")
	[ "$a" = "$b" ] || fail "$k: xenshare-stat $a, xensim $b"
done
a=$(jq -c '[.domains[] | {domid, name, shr_pages}]' "$work/s.json")
b=$(jq -c '[.domains[] | {domid, name, shr_pages}]' "$work/info.json")
[ "$a" = "$b" ] || fail "domains: xenshare-stat $a, xensim $b"
saved=$(jq '.totals.saved_pages' "$work/s.json")
[ "$saved" -gt 0 ] || fail "the daemon saved nothing"
[ "$(jq '.daemon.counters.pages_sharing' "$work/s.json")" = "$saved" ] ||
	fail "daemon's pages_sharing $(jq '.daemon.counters.pages_sharing' "$work/s.json") != hypervisor's $saved"
[ "$(jq -c '.notes' "$work/s.json")" = '[]' ] || fail "unexpected notes: $(jq -c .notes "$work/s.json")"
[ "$(jq -r '.domains[] | select(.name=="db") | .mode + "/" + .group + "/" + (.in_daemon|tostring)' "$work/s.json")" = zero/tenant-b/true ] ||
	fail "db's policy: $(jq -c '.domains[] | select(.name=="db")' "$work/s.json")"
dsum=$(jq '[.domains[] | .pages_sharing // 0] | add' "$work/s.json")
echo "   settled: $saved pages saved (daemon's per-domain sum $dsum), $(jq .totals.used_frames "$work/s.json") frames, ratio $(jq .totals.sharing_ratio "$work/s.json")"

stat -s "$sock" >"$work/table" 2>&1 || fail "table: exit $?"
grep -q "^Saved: .*($saved pages, from the hypervisor)" "$work/table" || fail "table: saved line"
grep -q '^Daemon:  CPU .* settled: yes' "$work/table" || fail "table: daemon line"
stat --prometheus -s "$sock" >"$work/p.prom" || fail "prometheus: exit $?"
grep -q "^xenshare_saved_pages $saved\$" "$work/p.prom" || fail "prometheus: saved pages"
grep -q "^xenshare_daemon_saved_pages $saved\$" "$work/p.prom" || fail "prometheus: daemon saved pages"

# the daemon dies: shares stay, xenshare-stat says so and exits 1
kill -9 $daemon_pid
wait $daemon_pid 2>/dev/null
stat --json -s "$sock" >"$work/d.json" 2>"$work/err"; rc=$?
[ $rc = 1 ] || fail "dead daemon: exit $rc, expected 1"
state=$(jq -r .daemon.state "$work/d.json")
[ "$state" = refused ] || [ "$state" = absent ] || fail "dead daemon: state $state"
grep -q "xenshared is not running\|is xenshared running" "$work/err" || fail "dead daemon: message $(cat "$work/err")"
"$xensim" info --json >"$work/info.json" || fail "xensim info"
[ "$(jq .hypervisor.sharing_freed_pages "$work/d.json")" = "$(jq .sharing_freed_pages "$work/info.json")" ] ||
	fail "dead daemon: hypervisor numbers differ from xensim's"
[ "$(jq .totals.saved_pages "$work/d.json")" -gt 0 ] || fail "shares lost with the daemon"
"$xensim" verify >/dev/null 2>&1 || fail "xensim verify: a guest page differs from what the guest wrote"
echo "stat_daemon: ok"
