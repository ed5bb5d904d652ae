#!/bin/sh
# xensim's wire protocol under a storm of random and malformed messages
# (tests/fuzz/wire_storm.c), on a host injecting faults (--faults at rate
# 0.1, seeded like the storm): every request the protocol answers gets a
# well-formed reply, only messages shorter than a header may cost the
# connection, the host keeps serving (PHYSINFO probes, `xensim list`), and
# in a sanitizer build its log holds no report.  The server's dispatch is
# static, so the socket is the way in.
#
#   FUZZ_WIRE_SECONDS (default 20), FUZZ_WIRE_SEED (default: random, printed)
# Exit 0 pass, 1 fail.
set -u
. "$(dirname "$0")/common.sh"
STORM="$O/tests/fuzz_wire_storm"
need_built "$XENSIM" "$STORM"
up() { [ -S "$XENSIM_SOCKET" ] && "$XENSIM" list >/dev/null 2>&1; }

secs=${FUZZ_WIRE_SECONDS:-20}
seed=${FUZZ_WIRE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "fuzz_wire: seed $seed, $secs s (FUZZ_WIRE_SEED=$seed reproduces the storm)"

# with fault injection on, so the storm also runs the fault paths (a fault
# is an error reply like any other; the probes use the CLI's exemption-free
# connections and must still be answered)
"$XENSIM" start -F --mem 256 --dom0-mem 32 --faults "$seed:0.1" --pidfile "$T/pid" >"$T/host.out" 2>"$T/sim.log" &
SIM_PID=$!
wait_for 10 up || fail "host did not come up"
# two small guests for the storm's domids to hit
cat >"$T/g.cfg" <<CFG
name = "fuzzguest"
memory = 8
sim_profile = "zero=0.5,unique=0.5"
mem_sharing = "on"
CFG
"$XENSIM" create "$T/g.cfg" >"$T/c.out" 2>&1 || fail "create: $(cat "$T/c.out")"
"$XENSIM" create "$T/g.cfg" name=fuzzguest2 >"$T/c.out" 2>&1 || fail "create: $(cat "$T/c.out")"

"$STORM" "$XENSIM_SOCKET" "$secs" "$seed" >"$T/storm.out" 2>&1
rc=$?
cat "$T/storm.out"
[ $rc = 0 ] || fail "storm (seed $seed) broke a rule, see above"
kill -0 "$(cat "$T/pid")" 2>/dev/null || fail "host died during the storm"
"$XENSIM" list >"$T/list" 2>&1 || fail "xensim list after the storm: $(cat "$T/list")"
"$XENSIM" stop >/dev/null 2>&1 || fail "xensim stop after the storm"
wait_for 10 test ! -e "$XENSIM_SOCKET" || fail "host did not stop"
grep -qE "Sanitizer|runtime error" "$T/sim.log" && fail "sanitizer report in the host log"
echo "fuzz_wire: ok"
exit 0
