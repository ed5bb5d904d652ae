# shellcheck shell=sh
# daemon_lib.sh - shared set-up of the daemon_*.test.sh integration tests
# (sourced, not run: run-all.sh only runs *.test.sh).
#
# Every test gets its own directory, its own xensim host (socket in that
# directory) and its own xenshared config (control socket and pidfile in
# that directory), so tests never touch /run or each other.  The daemon is
# reached only through its external interfaces: the control socket (via
# `xenshared -C`), signals, its exit status and stderr; the host only
# through xensim's command line.

# (tests/soak/soak.sh, which lives elsewhere, sets INTEGRATION_DIR)
. "${INTEGRATION_DIR:-$(dirname "$0")}/common.sh"

fail() { echo "FAIL: $*"; [ -n "${T:-}" ] && [ -f "$T/daemon.err" ] && sed 's/^/  daemon: /' "$T/daemon.err" | tail -20; exit 1; }

T=$(mktemp -d /tmp/xsd-itest.XXXXXX)
export XENSIM_SOCKET="$T/sim.sock"
# the daemon's host lock file (hostlock.h) in this test's directory, not /run
export RUNTIME_DIRECTORY="$T/run"
CONF="$T/xenshared.conf"

cleanup() {
	if [ -f "$T/run/xenshared.pid" ]; then
		pid=$(cat "$T/run/xenshared.pid" 2>/dev/null)
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	fi
	"$XENSIM" stop >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

# sim_start MIB: a simulated host of MIB MiB.
sim_start() {
	"$XENSIM" start --mem "${1:-1024}" --dom0-mem 64 --pidfile "$T/sim.pid" --log "$T/sim.log" >/dev/null ||
		fail "xensim start"
}

# guest NAME SEED [key=value...]: a small guest with OS-like contents.
guest() {
	name=$1 seed=$2
	shift 2
	cat > "$T/$name.cfg" <<CFG
name = "$name"
type = "pvh"
memory = 32
maxmem = 32
vcpus = 1
sim_profile = "os=0.5,zero=0.2,dup=0.05,unique=0.25"
sim_seed = $seed
sim_write_rate = 20
sim_working_set = 256
CFG
	"$XENSIM" create "$T/$name.cfg" "$@" >/dev/null 2>&1 || fail "xensim create $name"
}


# write_conf [lines on stdin]: the base config, with the given lines added
# (a given setting replaces the base line of the same name).
write_conf() {
	cat > "$T/extra.conf"
	{
		for kv in "control_socket = $T/run/control.sock" "pidfile = $T/run/xenshared.pid" \
			  "pass_target = 2" "cpu_cap = 100" "reserve = 0" "xenstore_stats_interval = 1"; do
			grep -q "^${kv%% =*} *=" "$T/extra.conf" || echo "$kv"
		done
		cat "$T/extra.conf"
	} > "$CONF"
}

# Sanitizer reports of the daemon (VARIANT=san) go to files that pass()
# checks: a daemonised process has no stderr to print them on.
xsd_env() {
	LD_LIBRARY_PATH="$SIMLIB" ASAN_OPTIONS="log_path=$T/asan:${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="log_path=$T/ubsan:print_stacktrace=1:${UBSAN_OPTIONS:-}" "$@"
}

# xsd_start_daemonised [options]: the daemon as an init script starts it:
# it forks and the command returns once it is ready (exit 0) or failed.
xsd_start_daemonised() {
	xsd_env "$XSD" -f "$CONF" "$@" 2>>"$T/daemon.err"
}

# xsd_start [options]: the daemon as systemd starts it (-d), in the
# background, every message in $T/daemon.err; returns once it answers.
xsd_start() {
	xsd_env "$XSD" -d -f "$CONF" "$@" 2>>"$T/daemon.err" &
	XSD_FG_PID=$!
	up() { ctl ping >/dev/null 2>&1; }
	wait_for 20 up && return 0
	kill -0 "$XSD_FG_PID" 2>/dev/null && kill -9 "$XSD_FG_PID"
	return 1
}
xsd_pid() { cat "$T/run/xenshared.pid" 2>/dev/null; }
ctl() { "$XSD" -f "$CONF" -C "$1" 2>>"$T/ctl.err"; }
stats() { ctl stats; }

# wait_for SECONDS CMD...: polls CMD until it succeeds.
scans_at_least() { [ "$(stats | jq -r '.daemon.full_scans')" -ge "$1" ] 2>/dev/null; }
# wait_scans N: until N more full passes than now have completed.
wait_scans() {
	base=$(stats | jq -r '.daemon.full_scans') || fail "stats unreachable"
	wait_for 60 scans_at_least $((base + $1)) || fail "no $1 full pass(es) within 60 s"
}
# jtrue FILTER: stdin is a JSON document on which FILTER is true.  (Plain
# `jq -e` exits 0 on empty input: an unreachable daemon would pass.)
jtrue() {
	doc=$(cat)
	[ -n "$doc" ] || return 1
	printf '%s\n' "$doc" | jq -e "$1" >/dev/null 2>&1
}
# stats_true FILTER: the daemon's stats satisfy FILTER.
stats_true() { stats | jtrue "$1"; }
# dead PID: the process is gone or a zombie (a container's init may not reap).
dead() { ! kill -0 "$1" 2>/dev/null || awk '{ exit !($3 == "Z") }' "/proc/$1/stat" 2>/dev/null; }

# pass NAME: no sanitizer report from any daemon of this test, then PASS.
pass() {
	for f in "$T"/asan.* "$T"/ubsan.*; do
		[ -e "$f" ] || continue
		cat "$f"
		fail "sanitizer report from the daemon: $f"
	done
	echo "PASS: $1"
}
