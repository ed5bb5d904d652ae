#!/bin/sh
# The host process: -F foreground with a pid file, SIGTERM stops it cleanly
# (socket and pid file removed), a second host on the same socket is
# refused, a stale socket file is replaced, LD_LIBRARY_PATH pointing at the
# drop-in libraries does not break xensim.  Exit 0 pass, else fail.
set -u
. "$(dirname "$0")/common.sh"
need_built "$XENSIM"
up() { [ -S "$XENSIM_SOCKET" ] && "$XENSIM" list >/dev/null 2>&1; }

# a stale socket file (nobody listening) is replaced
: >"$XENSIM_SOCKET"
"$XENSIM" start -F --mem 256 --dom0-mem 32 --pidfile "$T/pid" >"$T/fg.out" 2>"$T/sim.log" &
SIM_PID=$!
wait_for 10 up || fail "foreground host did not come up"
grep -q "listening on $XENSIM_SOCKET" "$T/fg.out" || fail "-F does not say where it listens"
[ "$(cat "$T/pid")" = "$SIM_PID" ] || fail "pid file $(cat "$T/pid") is not the host's pid $SIM_PID"

# a second host on the same socket is refused, the first keeps running
"$XENSIM" start --socket "$XENSIM_SOCKET" >"$T/second" 2>&1 && fail "second host started"
grep -q "already listening" "$T/second" || fail "message: $(cat "$T/second")"
"$XENSIM" list >/dev/null || fail "first host died"

# LD_LIBRARY_PATH at the drop-in libraries (as tests set it for the daemon)
if [ -d "$O/simlib" ]; then
	LD_LIBRARY_PATH="$O/simlib" "$XENSIM" list >/dev/null 2>"$T/ld" || fail "with LD_LIBRARY_PATH: $(cat "$T/ld")"
fi

# SIGTERM: clean stop
kill -TERM "$(cat "$T/pid")"
wait_for 10 test ! -e "$XENSIM_SOCKET" || fail "socket still there after SIGTERM"
wait_for 10 test ! -e "$T/pid" || fail "pid file still there after SIGTERM"
grep -q "host stopped" "$T/sim.log" || fail "no clean stop in the log"
echo "xensim_lifecycle: ok"
exit 0
