#!/bin/sh
# The host process: -F foreground with a pid file, SIGTERM stops it cleanly
# (socket and pid file removed), a second host on the same socket is
# refused, a stale socket file is replaced, LD_LIBRARY_PATH pointing at the
# drop-in libraries does not break xensim.  Exit 0 pass, else fail.
set -u
: "${O:?O must name the build folder}"
X="$O/bin/xensim"
[ -x "$X" ] || { echo "no $X"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/xensim_life.XXXXXX")
S="$T/host.sock"
export XENSIM_SOCKET="$S"
trap '"$X" stop >/dev/null 2>&1; [ -f "$T/pid" ] && kill "$(cat "$T/pid")" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; cat "$T/fg.log" 2>/dev/null | tail -5; exit 1; }
wait_for() { i=0; while ! eval "$1"; do i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1; done; }

# a stale socket file (nobody listening) is replaced
: >"$S"
"$X" start -F --mem 256 --dom0-mem 32 --pidfile "$T/pid" >"$T/fg.out" 2>"$T/fg.log" &
wait_for '[ -S "$S" ] && "$X" list >/dev/null 2>&1' || fail "foreground host did not come up"
grep -q "listening on $S" "$T/fg.out" || fail "-F does not say where it listens"
[ "$(cat "$T/pid")" = $! ] || fail "pid file $(cat "$T/pid") is not the host's pid $!"

# a second host on the same socket is refused, the first keeps running
"$X" start --socket "$S" >"$T/second" 2>&1 && fail "second host started"
grep -q "already listening" "$T/second" || fail "message: $(cat "$T/second")"
"$X" list >/dev/null || fail "first host died"

# LD_LIBRARY_PATH at the drop-in libraries (as tests set it for the daemon)
if [ -d "$O/simlib" ]; then
	LD_LIBRARY_PATH="$O/simlib" "$X" list >/dev/null 2>"$T/ld" || fail "with LD_LIBRARY_PATH: $(cat "$T/ld")"
fi

# SIGTERM: clean stop
kill -TERM "$(cat "$T/pid")"
wait_for '[ ! -e "$S" ]' || fail "socket still there after SIGTERM"
wait_for '[ ! -e "$T/pid" ]' || fail "pid file still there after SIGTERM"
grep -q "host stopped" "$T/fg.log" || fail "no clean stop in the log"
echo "xensim_lifecycle: ok"
exit 0
