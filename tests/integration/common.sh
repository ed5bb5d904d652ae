# shellcheck shell=sh
# common.sh - the one helper library of the integration tests (sourced,
# never run: run-all.sh runs only *.test.sh).  Every test starts the same:
#
#	#!/bin/sh
#	# <name>: what the test proves ...
#	set -u
#	. "$(dirname "$0")/common.sh"
#	need_tool jq
#	need_built "$XSD" "$XENSIM" "$SIMLIB"
#
# Sourcing it gives the test its own directory $T, and everything the test
# starts lives there: the xensim host's socket ($XENSIM_SOCKET) and log,
# the daemon's config ($CONF), and its control socket, pidfile and host
# lock ($T/run, the daemon's RUNTIME_DIRECTORY), so tests never touch /run
# or each other.  At exit whatever the test started is stopped, and $T is
# removed unless the test failed or KEEP is set (then its path is printed).
#
# A test reaches the daemon only through its external interfaces: the
# control socket (`xenshared -C`), signals, its exit status and stderr;
# the host only through xensim's command line and the drop-in libraries.
#
# Exit status of a test: 0 pass, 1 fail, 77 skip.  A missing tool or build
# product fails the test (need_tool, need_built); a skip counts only for a
# test that tests/skip-list.txt names (run-all.sh).
#
# tests/soak/soak.sh and tests/bench/lib.sh source this file too: the
# top of the tree is found from the script, two levels below it.

: "${O:?O must name the build folder}"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS="$TOP/../shared/corpus"
XSD="$O/bin/xenshared"
XENSIM="$O/bin/xensim"
XST="$O/bin/xenshare-stat"
IDEAL="$O/bin/shr-ideal"
SIMLIB="$O/simlib"

# ---- messages and requirements -------------------------------------------------

note() { echo "  $*" >&2; }

# fail MESSAGE: the test fails; the last lines of the daemon's and the
# host's logs follow the message, and $T is kept for a look.
fail() {
	echo "FAIL: $*" >&2
	[ -s "$T/daemon.err" ] && tail -20 "$T/daemon.err" | sed 's/^/  daemon: /' >&2
	for _l in "$T/sim.log" "$XENSIM_SOCKET.log"; do
		[ -s "$_l" ] && tail -10 "$_l" | sed 's/^/  xensim: /' >&2
	done
	exit 1
}

# skip REASON: exit 77.  run-all.sh counts it as a skip only when
# tests/skip-list.txt names the test; anywhere else it is a failure.
skip() { echo "SKIP: $*"; exit 77; }

# need_tool COMMAND [PACKAGE]: fails unless COMMAND is installed, naming
# the Debian package (default: the command's name) and the list of
# scripts/packages/ that holds it, from which scripts/setup.sh installs.
need_tool() {
	command -v "$1" >/dev/null 2>&1 && return 0
	_pkg=${2:-$1}
	_lists=$(cd "$TOP" && grep -lE "^[[:space:]]*$_pkg([[:space:]]|#|\$)" scripts/packages/*.txt 2>/dev/null |
		tr '\n' ' ')
	[ -n "$_lists" ] ||
		fail "$1 is not installed: Debian package $_pkg, which no list in scripts/packages/ names (add it to one)"
	fail "$1 is not installed: Debian package $_pkg (${_lists% }; scripts/setup.sh installs it)"
}

# need_built PATH...: fails unless each build product exists.
need_built() {
	for _f in "$@"; do
		[ -e "$_f" ] || fail "$_f is not built (make O=$O all)"
	done
}

# need_corpus IMAGE...: fails unless the guest images IMAGE.raw.zst of
# ../shared/corpus (beside the repository) are there.
need_corpus() {
	for _i in "$@"; do
		[ -r "$CORPUS/$_i.raw.zst" ] || fail "no corpus image $CORPUS/$_i.raw.zst (../shared/corpus beside the repository)"
	done
}

# ---- the test's directory, and what is stopped at exit -------------------------

_n=${0##*/}
T=$(mktemp -d "${TMPDIR:-/tmp}/xenshare-itest-${_n%%.*}.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
export XENSIM_SOCKET="$T/sim.sock"
export RUNTIME_DIRECTORY="$T/run"
CONF="$T/xenshared.conf"
XSD_PID=
SIM_PID=
BG_PIDS=

# kill_at_exit PID...: processes the test started in the background, killed
# at exit (the daemon and the host are stopped anyway).
kill_at_exit() { BG_PIDS="$BG_PIDS $*"; }

cleanup() {
	_rc=$?
	set +e    # (a test may run under set -e: nothing here may change its status)
	for _p in $BG_PIDS; do kill "$_p" 2>/dev/null; done
	[ -n "$XSD_PID" ] && kill -9 "$XSD_PID" 2>/dev/null
	_p=$(cat "$T/run/xenshared.pid" 2>/dev/null) && [ -n "$_p" ] && kill -9 "$_p" 2>/dev/null
	[ -x "$XENSIM" ] && "$XENSIM" stop >/dev/null 2>&1
	[ -n "$SIM_PID" ] && { sleep 0.2; kill -9 "$SIM_PID" 2>/dev/null; }
	if [ -n "${KEEP:-}" ] || { [ "$_rc" != 0 ] && [ "$_rc" != 77 ]; }; then
		echo "  (test directory kept: $T)" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- polling ---------------------------------------------------------------------

# wait_for SECONDS CMD...: until CMD succeeds (polled every 0.2 s); 1 on timeout.
wait_for() {
	_limit=$1
	shift
	_i=0
	while [ "$_i" -lt $((_limit * 5)) ]; do
		"$@" && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}
alive() { kill -0 "$1" 2>/dev/null; }
# dead PID: the process is gone or a zombie (a container's init may not reap).
dead() { ! kill -0 "$1" 2>/dev/null || awk '{ exit !($3 == "Z") }' "/proc/$1/stat" 2>/dev/null; }
# jtrue FILTER: stdin is a JSON document on which FILTER is true.  (Plain
# `jq -e` exits 0 on empty input: an unreachable daemon would pass.)
jtrue() {
	_doc=$(cat)
	[ -n "$_doc" ] || return 1
	printf '%s\n' "$_doc" | jq -e "$1" >/dev/null 2>&1
}
# json_num KEY FILE: the first number after "KEY": in a one-line JSON document.
json_num() { grep -o "\"$1\": [0-9]*" "$2" | head -1 | grep -o '[0-9]*$'; }
# ratio A B: A / B with 4 decimals (awk: no floating point in sh).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b ? a / b : 0 }'; }
# at_least X Y: X >= Y as decimals.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# ---- the simulated host ----------------------------------------------------------

# sim_start [xensim start options]: the test's host, in the foreground of a
# child process (SIM_PID), logging to $T/sim.log; returns once it answers.
sim_start() {
	"$XENSIM" start -F --socket "$XENSIM_SOCKET" --log "$T/sim.log" "$@" >/dev/null 2>&1 &
	SIM_PID=$!
	wait_for 20 test -S "$XENSIM_SOCKET" || fail "xensim did not start"
	wait_for 10 "$XENSIM" info >/dev/null 2>&1 || fail "xensim does not answer"
}
# sim_stop: the host stops (a later sim_start starts a new one).
sim_stop() {
	"$XENSIM" stop >/dev/null 2>&1
	[ -n "$SIM_PID" ] && wait "$SIM_PID" 2>/dev/null
	SIM_PID=
	rm -f "$XENSIM_SOCKET"
}

# guest NAME SEED [KEY=VALUE...]: creates a guest from $T/NAME.cfg: 32 MiB
# PVH, one vCPU, OS-like contents of SEED, 20 pages written per second over
# 256 gfns; each KEY=VALUE is given to `xensim create` and replaces the base
# line of that key (memory=64 sim_write_rate=0 ...).
guest() {
	_name=$1 _seed=$2
	shift 2
	cat > "$T/$_name.cfg" <<CFG
name = "$_name"
type = "pvh"
memory = 32
vcpus = 1
sim_profile = "os=0.5,zero=0.2,dup=0.05,unique=0.25"
sim_seed = $_seed
sim_write_rate = 20
sim_working_set = 256
CFG
	"$XENSIM" create "$T/$_name.cfg" "$@" >>"$T/create.log" 2>&1 ||
		fail "xensim create $_name: $(tail -1 "$T/create.log")"
}

# hog MIB: creates "hog", a domain of MIB MiB that only takes memory.
hog() {
	printf 'name = "hog"\ntype = "hvm"\nmemory = %s\nvcpus = 1\n' "$1" > "$T/hog.cfg"
	"$XENSIM" create "$T/hog.cfg" >>"$T/create.log" 2>&1
}
# free_mib: the host's free memory.
free_mib() { "$XENSIM" info --json | jq -r .free_mib; }

domid_of() { "$XENSIM" list --json | jq -r ".[] | select(.name == \"$1\") | .domid"; }
# shr_pages_of NAME: the hypervisor's count of NAME's gfns on shared frames.
shr_pages_of() { "$XENSIM" info --json | jq -r ".domains[] | select(.name == \"$1\") | .shr_pages"; }

# verify_clean: xensim's oracle finds every guest page as it was written.
verify_clean() {
	"$XENSIM" verify > "$T/verify.out" 2>&1 || { head -5 "$T/verify.out" >&2; fail "xensim verify found mismatches"; }
	grep -q "0 mismatches" "$T/verify.out" || fail "verify: $(cat "$T/verify.out")"
}

# frames_across_groups: the shared frames of the host (`xensim frames
# --json`) whose sharers belong to two sharing groups or more, one JSON line
# each: empty output when tenants are isolated at the frame level.  A
# domain's group is its xenstore node /local/domain/<id>/memshare/group; a
# domain without one shows as "(no group node)" (the daemon then applies its
# configured default group, so tests give every guest a group).  Status 2
# when the host does not answer.
frames_across_groups() {
	_fr=$("$XENSIM" frames --json) || return 2
	_groups="{"
	for _id in $(printf '%s\n' "$_fr" | jq -r '[.frames[].gfns[].domid] | unique | .[]'); do
		_g=$("$XENSIM" xenstore-read "/local/domain/$_id/memshare/group" 2>/dev/null) ||
			_g="(no group node)"
		_groups="$_groups\"$_id\": $(printf '%s' "$_g" | jq -Rs .),"
	done
	_groups="${_groups%,}}"
	printf '%s\n' "$_fr" | jq -c --argjson g "$_groups" \
		'.frames[] | select(([.gfns[].domid | tostring | $g[.]] | unique | length) > 1)
		 | .groups = ([.gfns[].domid | tostring | $g[.]] | unique)'
}

# sim_probe ARGS...: simlibs_probe (a program built against Debian's Xen
# headers) through the drop-in libraries.  A sanitizer build of the
# libraries needs its runtimes loaded first.
sim_probe() {
	LD_PRELOAD=$(ldd "$SIMLIB/libxenctrl.so.4.17" | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }') \
		ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
		LD_LIBRARY_PATH="$SIMLIB" "$O/tests/simlibs_probe" "$@"
}
# ideal DOMID[:GROUP]...: shr-ideal's JSON (the byte-exact ideal savings).
ideal() { LD_LIBRARY_PATH="$SIMLIB" "$IDEAL" "$@"; }

# ---- the daemon ----------------------------------------------------------------

# write_conf [LINE...]: the daemon's config $CONF: the base below, with
# the given lines (arguments, or stdin when there are none) added; a given
# setting replaces the base line of the same name.
write_conf() {
	if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cat; fi > "$T/extra.conf"
	{
		for kv in "control_socket = $T/run/control.sock" "pidfile = $T/run/xenshared.pid" \
			  "pass_target = 2" "cpu_cap = 100" "reserve = 0" "xenstore_stats_interval = 1"; do
			grep -q "^${kv%% =*} *=" "$T/extra.conf" || echo "$kv"
		done
		cat "$T/extra.conf"
	} > "$CONF"
}

# The sanitizer reports of a daemon (VARIANT=san) go to files of $T that
# xsd_stop and pass check: a daemonised process has no stderr to print them on.
XSD_ASAN="log_path=$T/asan:${ASAN_OPTIONS:-}"
XSD_UBSAN="log_path=$T/ubsan:print_stacktrace=1:${UBSAN_OPTIONS:-}"
# xsd_env CMD...: CMD with the drop-in libraries and those sanitizer settings.
xsd_env() { LD_LIBRARY_PATH="$SIMLIB" ASAN_OPTIONS="$XSD_ASAN" UBSAN_OPTIONS="$XSD_UBSAN" "$@"; }

# xsd_start [options]: the daemon as systemd starts it (-d), in the
# background (XSD_PID: the daemon itself, not a subshell), every message in
# $T/daemon.err; returns once it answers, 1 if it does not within 20 s.
xsd_start() {
	LD_LIBRARY_PATH="$SIMLIB" ASAN_OPTIONS="$XSD_ASAN" UBSAN_OPTIONS="$XSD_UBSAN" \
		"$XSD" -d -f "$CONF" "$@" 2>>"$T/daemon.err" &
	XSD_PID=$!
	_up() { ctl ping >/dev/null 2>&1; }
	wait_for 20 _up && return 0
	kill -9 "$XSD_PID" 2>/dev/null
	XSD_PID=
	return 1
}
# xsd_start_daemonised [options]: the daemon as an init script starts it:
# it forks and the command returns once it is ready (exit 0) or failed.
xsd_start_daemonised() {
	xsd_env "$XSD" -f "$CONF" "$@" 2>>"$T/daemon.err"
}
xsd_pid() { cat "$T/run/xenshared.pid" 2>/dev/null; }
# xsd_stop: SIGTERM to the daemon of xsd_start, which must exit 0 within
# 20 s with no sanitizer report.
xsd_stop() {
	[ -n "$XSD_PID" ] || return 0
	kill -TERM "$XSD_PID" 2>/dev/null || fail "daemon already gone"
	wait "$XSD_PID"
	_rc=$?
	XSD_PID=
	[ "$_rc" = 0 ] || fail "daemon exit status $_rc after SIGTERM"
	no_sanitizer_report
}
# no_sanitizer_report: fails on a report of ASan or UBSan from any daemon
# of this test (their files, or the daemon's stderr).
no_sanitizer_report() {
	for _f in "$T"/asan.* "$T"/ubsan.*; do
		[ -e "$_f" ] || continue
		cat "$_f" >&2
		fail "sanitizer report from the daemon: $_f"
	done
	! grep -q -e "runtime error" -e "AddressSanitizer" -e "LeakSanitizer" "$T/daemon.err" 2>/dev/null ||
		fail "sanitizer report in the daemon's output"
}
# pass NAME: no sanitizer report from any daemon of this test, then PASS.
pass() {
	no_sanitizer_report
	echo "PASS: $1"
}

ctl() { "$XSD" -f "$CONF" -C "$1" 2>>"$T/ctl.err"; }
stats() { ctl stats; }
# stats_true FILTER: the daemon's stats satisfy FILTER.
stats_true() { stats | jtrue "$1"; }
# stat_value FILTER: one value of the daemon's stats (empty if unreachable).
stat_value() { stats 2>/dev/null | jq -r "$1" 2>/dev/null; }
scans_at_least() { [ "$(stat_value .daemon.full_scans)" -ge "$1" ] 2>/dev/null; }
# wait_scans N [SECONDS]: until N more full passes than now have completed
# (within SECONDS, default 120).
wait_scans() {
	_base=$(stat_value .daemon.full_scans)
	[ -n "$_base" ] || fail "stats unreachable"
	wait_for "${2:-120}" scans_at_least $((_base + $1)) || fail "no $1 full pass(es) within ${2:-120} s"
}

# ---- xenshare-stat -------------------------------------------------------------

# xst ARGS...: xenshare-stat against the test's host.
xst() { LD_LIBRARY_PATH="$SIMLIB" "$XST" "$@"; }

# fake_daemon SOCKET MODE [COUNT]: a stand-in daemon on a Unix socket
# (python3): MODE "silent" accepts and never answers, "garbage" answers a
# line that is not JSON, "file:PATH" answers the first line of PATH to
# every command; with COUNT, a line is appended to that file per command,
# before its answer is sent.
# Returns once the socket exists; stop_fake stops it.
FAKE_PID=
fake_daemon() {
	python3 - "$1" "$2" "${3:-}" <<'PY' &
import os, socket, sys, time
path, mode, count = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
reply = b"this is not json\n"
if mode.startswith("file:"):
    reply = open(mode[5:], "rb").readline()
while True:
    c, _ = s.accept()
    if mode == "silent":
        time.sleep(30)
        continue
    c.recv(4096)
    # counted before the answer: a client that has its answer finds it counted
    if count:
        with open(count, "a") as f:
            f.write("request\n")
    c.sendall(reply)
    c.close()
PY
	FAKE_PID=$!
	kill_at_exit "$FAKE_PID"
	wait_for 5 test -S "$1" || fail "fake daemon did not start"
}
stop_fake() {
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}
