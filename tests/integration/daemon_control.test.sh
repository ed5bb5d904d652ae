#!/bin/sh
# daemon_control: the control socket cannot be taken from the operator.
# With more idle connections than client slots open, some of them holding
# half a command, `xenshared -C ping` still answers at once (the quietest
# connection gives up its slot), and a half line is answered with an error
# and closed after XSD_CONTROL_LINE_S.  A command with leading blanks is
# the command itself.  `xenshared -C` by a user the socket refuses says
# "permission denied" with its own exit status, not "no daemon answers".
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"
need_tool python3

sim_start --mem 256 --dom0-mem 64
write_conf </dev/null
xsd_start || fail "daemon did not start"
SOCK="$T/run/control.sock"

# A stuck monitoring agent: 24 connections (16 slots), every third one
# with half a command sent; it holds them until killed and, when told to,
# reports what each connection received.
python3 - "$SOCK" "$T/hog" <<'PY' &
import os, signal, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
conns = []
for i in range(24):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if i % 3 == 0:
        s.sendall(b"sta")
    conns.append(s)
def report(*_):
    with open(out + ".tmp", "w") as f:
        for i, s in enumerate(conns):
            s.setblocking(False)
            try:
                got = s.recv(4096)
                state = "closed" if got == b"" else "data:" + got.decode(errors="replace").strip()
            except BlockingIOError:
                state = "open"
            except OSError as e:
                state = "closed"
            f.write("%d %s\n" % (i, state))
    os.rename(out + ".tmp", out)
signal.signal(signal.SIGUSR1, report)
open(out + ".ready", "w").close()
while True:
    time.sleep(1)
PY
HOG=$!
kill_at_exit $HOG
wait_for 10 test -e "$T/hog.ready" || fail "the stuck agent did not connect"

# the operator is served at once, several times in a row
for i in 1 2 3; do
	t0=$(date +%s%N)
	ans=$(timeout 10 "$XSD" -f "$CONF" -C ping 2>"$T/ping.err"); rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	note "ping $i with every slot held: exit $rc in $ms ms"
	[ $rc -eq 0 ] && echo "$ans" | jtrue '.ok == true' || { cat "$T/ping.err"; fail "ping $i: '$ans' (exit $rc)"; }
	[ "$ms" -lt 3000 ] || fail "ping $i took $ms ms with every slot held"
done
grep -q "warning: control: all 16 client slots taken; closing fd" "$T/daemon.err" ||
	fail "taking a slot from a quiet client was not logged"

# a half line is answered with an error and closed once XSD_CONTROL_LINE_S
# (10 s) have passed; count it on a connection that kept its slot
sleep 12
kill -USR1 $HOG
wait_for 5 test -e "$T/hog" || fail "the stuck agent did not report"
grep -q 'data:{"error":"command line not finished in time"}' "$T/hog" || { cat "$T/hog"; fail "no half line was timed out"; }
grep -q "left a command unfinished for 10 s; dropping it" "$T/daemon.err" || fail "the half-line timeout was not logged"
ctl ping | jtrue '.ok == true' || fail "the daemon does not answer after the timeouts"
kill $HOG

# leading blanks are not part of the command
ctl "   ping" | jtrue '.ok == true' || fail "'   ping' is not ping"
ans=$(ctl "  nope x")
echo "$ans" | jtrue '.error == "unknown command" and .command == "nope"' || fail "unknown command named as '$(echo "$ans" | jq -r .command)'"

# another user: the socket's directory (0700, root's) refuses the connect
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T"; chmod 644 "$CONF"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$XSD" -f "$CONF" -C ping >"$T/out" 2>"$T/err"; rc=$?
	[ $rc -eq 4 ] || { cat "$T/err"; fail "-C as another user: exit $rc, not 4"; }
	grep -q "xenshared: permission denied on $SOCK" "$T/err" || { cat "$T/err"; fail "-C as another user: no clear refusal"; }
	grep -q "no daemon" "$T/err" && fail "-C as another user says no daemon"
	# a stopped daemon is still "no daemon" (3), for root
	kill -TERM "$(xsd_pid)"
	wait "$XSD_PID"
	ctl ping; [ $? -eq 3 ] || fail "-C with no daemon: exit not 3"
else
	note "(not root, or no setpriv: the permission-denied check is not exercised)"
fi
pass daemon_control
