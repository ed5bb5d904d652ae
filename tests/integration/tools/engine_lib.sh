# shellcheck shell=sh
# engine_lib.sh - shared set-up of the engine_*.test.sh integration tests
# (sourced; run-all.sh only runs *.test.sh).
#
# Each test gets its own directory, its own xensim host (xensim start -F in
# a child process, socket in that directory) and runs the real daemon
# ($O/bin/xenshared -f CONF -d, in the background) against it with
# LD_LIBRARY_PATH=$O/simlib.  Everything is observed from outside: the
# daemon's control socket (`xenshared -C stats`), xensim's command line
# (info, verify, list) and shr-ideal, which computes the ideal savings
# itself from the guests' pages through libxenforeignmemory.

. "$(dirname "$0")/common.sh"
IDEAL="$O/bin/shr-ideal"

fail() {
	echo "FAIL: $*"
	[ -n "${T:-}" ] && [ -f "$T/daemon.err" ] && sed 's/^/  daemon: /' "$T/daemon.err" | tail -15
	[ -n "${T:-}" ] && [ -f "$T/sim.log" ] && sed 's/^/  xensim: /' "$T/sim.log" | tail -5
	exit 1
}

[ -x "$IDEAL" ] || skip "$IDEAL not built"
[ -e "$SIMLIB/libxenctrl.so.4.17" ] && [ -e "$SIMLIB/libxenforeignmemory.so.1" ] &&
	[ -e "$SIMLIB/libxenevtchn.so.1" ] && [ -e "$SIMLIB/libxenstore.so.4" ] ||
	skip "xensim's drop-in libraries not built in $SIMLIB"

T=$(mktemp -d /tmp/engine-itest.XXXXXX)
export XENSIM_SOCKET="$T/sim.sock"
# the daemon's host lock file (hostlock.h) in this test's directory, not /run
export RUNTIME_DIRECTORY="$T"
CONF="$T/xenshared.conf"
XSD_PID=
SIM_PID=

cleanup() {
	[ -n "$XSD_PID" ] && kill -9 "$XSD_PID" 2>/dev/null
	"$XENSIM" stop >/dev/null 2>&1
	[ -n "$SIM_PID" ] && { sleep 0.2; kill -9 "$SIM_PID" 2>/dev/null; }
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds.

# sim_start [xensim start options]: a host in the foreground of a child.
sim_start() {
	"$XENSIM" start -F --socket "$XENSIM_SOCKET" --log "$T/sim.log" "$@" >/dev/null 2>&1 &
	SIM_PID=$!
	wait_for 20 test -S "$XENSIM_SOCKET" || fail "xensim did not start"
	wait_for 10 "$XENSIM" info >/dev/null 2>&1 || fail "xensim does not answer"
}

# guest NAME MIB PROFILE SEED [key=value...]: a guest of generated contents.
# The "os" pages come from the host's shared libraries (as xensim's own
# examples do), so equal seeds and profiles give equal OS pages.
guest() {
	name=$1 mib=$2 profile=$3 seed=$4
	shift 4
	cat > "$T/$name.cfg" <<CFG
name = "$name"
type = "hvm"
memory = $mib
vcpus = 1
mem_sharing = "on"
sim_profile = "$profile"
sim_os_dir = "/usr/lib/x86_64-linux-gnu"
sim_seed = $seed
CFG
	"$XENSIM" create "$T/$name.cfg" "$@" >>"$T/create.log" 2>&1 || fail "xensim create $name: $(tail -1 "$T/create.log")"
}


# write_conf [lines on stdin]: the test's daemon config (a given setting
# replaces the base line of the same name).
write_conf() {
	cat > "$T/extra.conf"
	{
		for kv in "control_socket = $T/control.sock" "pidfile = $T/xenshared.pid" \
			  "pass_target = 1" "cpu_cap = 100" "reserve = 0" "log_level = notice"; do
			grep -q "^${kv%% =*} *=" "$T/extra.conf" || echo "$kv"
		done
		cat "$T/extra.conf"
	} > "$CONF"
}

# xsd_start: the real daemon in the foreground (-d) of a child process.
xsd_start() {
	LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -d 2>>"$T/daemon.err" &
	XSD_PID=$!
	# answering, not just the socket file (a killed daemon leaves its file)
	wait_for 20 stats_answer || fail "daemon did not start"
}
stats() { LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" -C stats; }
stats_answer() { stats >/dev/null 2>&1; }
# stat FILTER: one value of the daemon's stats (empty if unreachable).
stat() { stats 2>/dev/null | jq -r "$1" 2>/dev/null; }
scans_at_least() { [ "$(stat .daemon.full_scans)" -ge "$1" ] 2>/dev/null; }
# wait_scans N [SECONDS]: until N more full passes than now have completed.
wait_scans() {
	base=$(stat .daemon.full_scans)
	[ -n "$base" ] || fail "stats unreachable"
	wait_for "${2:-120}" scans_at_least $((base + $1)) || fail "no $1 full pass(es) within ${2:-120} s"
}
# ideal DOMID[:GROUP]...: shr-ideal's JSON.
ideal() { LD_LIBRARY_PATH="$SIMLIB" "$IDEAL" "$@"; }
# verify_clean: xensim's oracle check over every guest page.
verify_clean() {
	"$XENSIM" verify > "$T/verify.out" 2>&1 || { cat "$T/verify.out" | head -5; fail "xensim verify found mismatches"; }
	grep -q "0 mismatches" "$T/verify.out" || fail "verify: $(cat "$T/verify.out")"
}
# ratio A B: A / B with 4 decimals (awk: no floating point in sh).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b ? a / b : 0 }'; }
# at_least X Y: X >= Y as decimals.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
# xsd_stop: SIGTERM, then the daemon must exit 0 within 20 s with no
# sanitizer report (VARIANT=san) in its output.
xsd_stop() {
	[ -n "$XSD_PID" ] || return 0
	kill -TERM "$XSD_PID" 2>/dev/null || fail "daemon already gone"
	wait "$XSD_PID"
	rc=$?
	XSD_PID=
	[ "$rc" = 0 ] || fail "daemon exit status $rc after SIGTERM"
	! grep -q -e "runtime error" -e "AddressSanitizer" -e "LeakSanitizer" "$T/daemon.err" ||
		fail "sanitizer report in the daemon's output"
}
