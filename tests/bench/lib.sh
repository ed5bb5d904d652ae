# shellcheck shell=bash
# lib.sh - shared set-up of the tests/bench/*.bench.sh benchmarks (sourced).
#
# Every benchmark gets its own directory, its own xensim host and its own
# xenshared config (control socket and pidfile in that directory), and
# reaches the daemon only through its control socket (`xenshared -C
# stats`) and /proc/<pid> (CPU time, RSS), the host only through xensim's
# command line.  Results are JSON lines: emit() prints one on stdout and
# appends it to $BENCH_OUT (run-all.sh collects them).
#
# Times that matter are CPU times of the daemon process (utime+stime from
# /proc/<pid>/stat), never wall times alone: the machine is shared and
# noisy, and every rate is reported next to a baseline measured in the
# same run.

: "${O:?O must name the build folder}"
XSD="$O/bin/xenshared"
XENSIM="$O/bin/xensim"
SIMLIB="$O/simlib"
IDEAL="$O/bin/shr-ideal"
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel 2>/dev/null ||
	(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd))
CORPUS="$ROOT/../shared/corpus"
BENCH_OUT=${BENCH_OUT:-/dev/null}
CLK_TCK=$(getconf CLK_TCK)

note() { echo "  $*" >&2; }
die() {
	echo "bench: $*" >&2
	[ -n "${T:-}" ] && [ -f "$T/daemon.err" ] && tail -5 "$T/daemon.err" | sed 's/^/  daemon: /' >&2
	exit 1
}

for f in "$XSD" "$XENSIM" "$IDEAL"; do [ -x "$f" ] || die "$f not built (make O=... all)"; done
[ -e "$SIMLIB/libxenctrl.so.4.17" ] || die "xensim's drop-in libraries not built in $SIMLIB"
command -v jq >/dev/null || die "jq not installed"

T=$(mktemp -d /tmp/xenshare-bench.XXXXXX)
export XENSIM_SOCKET="$T/sim.sock"
# the daemon's host lock file (hostlock.h) in this test's directory, not /run
export RUNTIME_DIRECTORY="$T/run"
CONF="$T/xenshared.conf"

bench_cleanup() {
	if [ -f "$T/run/xenshared.pid" ]; then
		pid=$(cat "$T/run/xenshared.pid" 2>/dev/null)
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	fi
	"$XENSIM" stop >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
# an interrupt ends the benchmark (a trap alone would let it run on)
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

# emit JSON: one result line (validated by jq, compacted), with the 1-minute
# load average of the machine when it was taken (timings on a loaded
# 2-core machine are not comparable with an idle one; CPU times are).
emit() {
	line=$(printf '%s\n' "$1" | jq -c --argjson la "$(cut -d' ' -f1 /proc/loadavg)" \
		'. + {loadavg_1m: $la}') || die "bad result JSON: $1"
	printf '%s\n' "$line"
	printf '%s\n' "$line" >> "$BENCH_OUT"
}

# sim_start MIB [xensim start options]
sim_start() {
	mib=$1
	shift
	"$XENSIM" start --mem "$mib" --dom0-mem 64 --pidfile "$T/sim.pid" --log "$T/sim.log" "$@" \
		>/dev/null || die "xensim start --mem $mib $*"
}
sim_stop() {
	"$XENSIM" stop >/dev/null 2>&1
	rm -f "$T/sim.pid"
}

# guest NAME MIB [cfg lines...]: creates a PVH guest, not opted in unless a
# line says mem_sharing = "on".
guest() {
	local name=$1 mib=$2 l
	shift 2
	{
		echo "name = \"$name\""
		echo 'type = "pvh"'
		echo "memory = $mib"
		echo "maxmem = $mib"
		echo 'vcpus = 1'
		for l in "$@"; do echo "$l"; done
	} > "$T/$name.cfg"
	"$XENSIM" create "$T/$name.cfg" >"$T/create.out" 2>&1 || die "create $name: $(cat "$T/create.out")"
}
domid_of() { "$XENSIM" list --json | jq -r ".[] | select(.name == \"$1\") | .domid"; }
# opt_in NAME...: dom0 writes memshare/enabled = on, as the patched xl would.
opt_in() {
	for n in "$@"; do
		"$XENSIM" xenstore-write "/local/domain/$(domid_of "$n")/memshare/enabled" on ||
			die "opt in $n"
	done
}
# ideal DOMID...: byte-exact ideal savings (pages) of those domains, one group.
ideal_of() {
	LD_LIBRARY_PATH="$SIMLIB" "$IDEAL" "$@" | jq -r .ideal
}

# xsd_conf [setting lines...]: a config with the socket/pidfile in $T.
xsd_conf() {
	{
		echo "control_socket = $T/run/control.sock"
		echo "pidfile = $T/run/xenshared.pid"
		echo "xenstore_stats = off"
		for l in "$@"; do echo "$l"; done
	} > "$CONF"
}
xsd_start() {
	mkdir -p "$T/run"
	LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$CONF" 2>>"$T/daemon.err" || die "xenshared did not start"
	DPID=$(cat "$T/run/xenshared.pid") || die "no pidfile"
}
xsd_stop() {
	[ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$DPID" 2>/dev/null
	rm -f "$T/run/xenshared.pid"
	DPID=
}
stats() { "$XSD" -f "$CONF" -C stats; }
# cpu_s PID: user+system CPU seconds of a process.
cpu_s() { awk -v hz="$CLK_TCK" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat"; }
# rss_kb PID FIELD: VmRSS or RssAnon in KiB.
rss_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
now_s() { date +%s.%N; }
# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { printf \"%.6f\n\", $1 }"; }

# wait_stats SECONDS JQ-FILTER: polls the daemon's stats until FILTER is true.
wait_stats() {
	limit=$1 filter=$2 end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		stats 2>/dev/null | jq -e "$filter" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# corpus_raw NAME: the decompressed corpus image (cached in $O/benchdata).
corpus_raw() {
	mkdir -p "$O/benchdata"
	f="$O/benchdata/$1.raw"
	if [ ! -s "$f" ]; then
		zstd -q -d -f "$CORPUS/$1.raw.zst" -o "$f.tmp" && mv "$f.tmp" "$f" ||
			die "cannot decompress $CORPUS/$1.raw.zst"
	fi
	echo "$f"
}

# trace FILE MAX_S MIN_PAGES [STOP_AT_SAVED]: samples the daemon every
# ~0.1 s into FILE, one line "t cpu freed hypercalls mappings full_scans
# pages_scanned pages_indexed index_bytes unshares", t, cpu (the daemon's
# CPU seconds), full_scans and pages_scanned counted from the call; stops
# once pages_scanned >= MIN_PAGES (a full pass is every guest page scanned
# once) and freed >= STOP_AT_SAVED (default 0), or after MAX_S seconds.
trace() {
	local file max min_pages stop_at t0 c0 s t c line fs0 ps0 up
	file=$1 max=$2 min_pages=$3 stop_at=${4:-0}
	# from the daemon's start when it is younger than a second (it was
	# started for this trace), else from now
	t0=$(now_s) c0=$(cpu_s "$DPID")
	read -r fs0 ps0 up <<<"$(stats | jq -r '[.daemon.full_scans, .counters.pages_scanned, .daemon.uptime_s] | @tsv')"
	if awk -v u="$up" 'BEGIN { exit !(u < 1) }'; then
		t0=$(calc "$t0 - $up") c0=0 fs0=0 ps0=0
	fi
	: > "$file"
	while :; do
		s=$(stats 2>/dev/null) || { sleep 0.1; continue; }
		t=$(calc "$(now_s) - $t0")
		c=$(calc "$(cpu_s "$DPID") - $c0")
		line=$(printf '%s\n' "$s" | jq -r '[.host.sharing_freed_pages, .counters.hypercalls,
			.counters.mappings, .daemon.full_scans, .counters.pages_scanned,
			.daemon.pages_indexed, .daemon.index_bytes, .counters.unshares] | @tsv') || continue
		# shellcheck disable=SC2086
		set -- $line
		echo "$t $c $1 $2 $3 $(($4 - fs0)) $(($5 - ps0)) $6 $7 $8" >> "$file"
		if [ $(($5 - ps0)) -ge "$min_pages" ] && [ "$1" -ge "$stop_at" ]; then return 0; fi
		awk -v t="$t" -v m="$max" 'BEGIN { exit !(t >= m) }' && return 1
		sleep 0.1
	done
}
# crossing FILE PAGES: "t cpu" of the first sample with freed >= PAGES, or "null null".
crossing() {
	awk -v p="$2" '$3 >= p { print $1, $2; f = 1; exit } END { if (!f) print "null null" }' "$1"
}
# first_pass FILE PAGES: the first sample with PAGES pages scanned (one full pass).
first_pass() { awk -v p="$2" '$7 >= p { print; exit }' "$1"; }
