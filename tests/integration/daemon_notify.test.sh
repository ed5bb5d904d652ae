#!/bin/sh
# daemon_notify: under systemd (Type=notify) the daemon says READY=1 only
# once it serves its socket, keeps a STATUS= line, brackets a reload with
# RELOADING=1 / READY=1 (also a failed one: the old config keeps running),
# and says STOPPING=1 on SIGTERM.  A stand-in listener plays systemd.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
LISTEN="$O/tests/daemon_notify_listen"
need_built "$XSD" "$XENSIM" "$SIMLIB" "$LISTEN"

sim_start --mem 256 --dom0-mem 64
guest n1 1 mem_sharing=on
write_conf </dev/null

"$LISTEN" "$T/notify.sock" >> "$T/notify.log" &  # append: the test truncates it
lpid=$!
kill_at_exit $lpid
sleep 0.2
NOTIFY_SOCKET="$T/notify.sock" xsd_start || fail "daemon did not start"
has() { grep -q "$1" "$T/notify.log"; }
wait_for 5 has 'READY=1' || fail "no READY=1"
grep -q 'STATUS=watching 1 domains' "$T/notify.log" || fail "no STATUS with READY"
wait_for 10 has 'STATUS=1 domains, ' || fail "no periodic STATUS"

: > "$T/notify.log"
kill -HUP "$(xsd_pid)"
wait_for 5 has 'READY=1' || fail "no READY=1 after a reload"
head -1 "$T/notify.log" | grep -q 'RELOADING=1' || fail "reload not announced with RELOADING=1 first"

: > "$T/notify.log"
echo "cpu_cap = 0" >> "$CONF"
kill -HUP "$(xsd_pid)"
wait_for 5 has 'READY=1' || fail "a failed reload left the daemon in RELOADING"
ctl ping | jtrue '.ok == true' || fail "daemon gone after a failed reload"

kill -TERM "$(xsd_pid)"
wait "$XSD_PID" || fail "SIGTERM: non-zero exit"
has 'STOPPING=1' || fail "no STOPPING=1"
pass daemon_notify
