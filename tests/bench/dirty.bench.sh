#!/bin/bash
# dirty.bench.sh - a settled host: what the daemon costs when its guests
# write little, scanning from the dirty log (scan_mode = dirty) against
# full passes (scan_mode = full), side by side in one run.
#
# Host: BENCH_DIRTY_DOMS guests (default 16) of BENCH_DIRTY_MIB (4096)
# with xensim's generated memory and the convergence benchmark's OS-image
# mix, on the patched hypervisor, cpu_cap 100, pass target BENCH_DIRTY_PASS
# (default 3 s).  After the first passes, bench-churn-writer rewrites 0.1%
# of all guest pages per second, telling the hypervisor through
# XEN_DMOP_modified_memory as a device model does (--mark-dirty), in two
# ways, one after the other on the same host:
#  - "mergeable": content new at every round and the same in every guest
#    (--fresh): every write breaks a share and the page can be merged again
#    once the daemon has looked at it.  After the writer stops, the time
#    until the savings stop moving is the freshness: how long newly
#    mergeable content waits (at most BENCH_DIRTY_SETTLE_MAX_S, default
#    120 s; null beyond);
#  - "unique": content no other page has (--unique), going round the pages
#    written in 10 s (once before the window): nothing can be merged, so
#    the daemon's CPU is what finding the writes costs.
# Each is measured over BENCH_DIRTY_S seconds (default 30) after a warm-up
# of two pass targets: the daemon's CPU seconds (utime + stime), pages it
# looked at, the savings.
#
# The same freshness: full passes are measured at the pass target and
# again at the one that gives them the dirty-log mode's freshness (the
# pass target scaled by the ratio of the two freshnesses measured at it,
# at least 1 s); the target compares the dirty-log mode's CPU with the
# latter.
#
# Then the same write rate (pages per second, absolute) on hosts of
# BENCH_DIRTY_SIZES guests (default "4 16 64", i.e. 16, 64 and 256 GiB),
# dirty mode and unique writes only: the daemon's CPU per second should
# not grow with the memory it holds.
set -u
. "$(dirname "$0")/lib.sh"

DOMS=${BENCH_DIRTY_DOMS:-16}
MIB=${BENCH_DIRTY_MIB:-4096}
PT=${BENCH_DIRTY_PASS:-3}
WINDOW=${BENCH_DIRTY_S:-30}
SETTLE_MAX=${BENCH_DIRTY_SETTLE_MAX_S:-120}
SIZES=${BENCH_DIRTY_SIZES:-"4 16 64"}
UNIQUE_ROUND_S=10
PROFILE="os=0.5,zero=0.15,dup=0.1,unique=0.25"
N=$((MIB * 256))
RATE=$((DOMS * N / 1000))               # 0.1% of the first host's pages per second
WRITER="$O/bin/bench-churn-writer"
[ -x "$WRITER" ] || die "$WRITER not built (make bench-tools)"
WPID=

# host_up NDOM MODE: a host of NDOM guests, the daemon at MODE, two passes
# done (and, in dirty mode, every domain scanned from its log).
host_up() {
	local ndom=$1 mode=$2 i
	sim_start $((ndom * (MIB + 2) + 1024)) --patched
	IDS=
	for i in $(seq "$ndom"); do
		guest "g$i" "$MIB" 'mem_sharing = "on"' "sim_generated = \"$PROFILE\"" "sim_seed = $i"
		IDS="$IDS $(domid_of "g$i")"
	done
	xsd_conf "pass_target = $PT" "cpu_cap = 100" "reserve = 0" "protocol = batched" \
		"scan_mode = $mode" "sweep_period = 3600"
	xsd_start
	# the first pass is full; in dirty mode the second takes each log at
	# its domain's turn and looks at every page once more
	wait_stats 1800 '.daemon.full_scans >= 2' || die "$mode: no two passes in 1800 s"
	if [ "$mode" = dirty ]; then
		wait_stats 120 "[.domains[] | select(.logdirty)] | length == $ndom" ||
			die "dirty: not every domain scanned from its log: $(stats | jq -c '[.domains[] | .full_why] | unique')"
	fi
}
host_down() {
	[ -n "$WPID" ] && { kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; }
	WPID=
	xsd_stop
	sim_stop
}
saved() { stats | jq -r .host.sharing_freed_pages; }
scanned() { stats | jq -r .counters.pages_scanned; }

# set_pass S: the running daemon's pass target (a reload).
set_pass() {
	sed -i "s/^pass_target = .*/pass_target = $1/" "$CONF"
	"$XSD" -f "$CONF" -C reload >/dev/null || die "reload at pass_target $1"
}

# measure NDOM MODE WRITES (fresh|unique): writer on, warm-up, window; sets
# CPU_PER_S, SCAN_PER_S, SAVED_AVG, WRITTEN_PER_S, and for fresh writes
# SETTLE_S (null for unique ones: nothing to merge)
measure() {
	local ndom=$1 mode=$2 writes=$3 ws c0 c1 s0 s1 t0 t1 sum=0 k=0 last change tstop now pt
	pt=$(sed -n 's/^pass_target = //p' "$CONF")
	# mergeable writes go round a quarter of each guest; unique ones round
	# what is written in UNIQUE_ROUND_S, once before the window, so that
	# the window's writes hit pages the writer made unique (a shared page
	# written is looked at twice: found changed, then found stable)
	ws=$((N / 4)) warm=0
	[ "$writes" = unique ] && ws=$((RATE * UNIQUE_ROUND_S / ndom)) warm=$UNIQUE_ROUND_S
	# shellcheck disable=SC2086
	LD_LIBRARY_PATH="$SIMLIB" "$WRITER" --rate "$RATE" --seconds 100000 --pages "$ws" \
		--"$writes" --mark-dirty $IDS > "$T/writer.json" 2> "$T/writer.err" &
	WPID=$!
	sleep "$(calc "2 * $pt + $warm")"
	kill -0 "$WPID" 2>/dev/null || die "$mode: writer died: $(cat "$T/writer.err")"
	c0=$(cpu_s "$DPID") s0=$(scanned) t0=$(now_s)
	while [ "$k" -lt "$WINDOW" ]; do
		sleep 1
		sum=$((sum + $(saved)))
		k=$((k + 1))
	done
	c1=$(cpu_s "$DPID") s1=$(scanned) t1=$(now_s)
	kill "$WPID"; wait "$WPID" 2>/dev/null; WPID=
	tstop=$(now_s)
	WRITTEN_PER_S=$(jq -r '.pages_written / .seconds' "$T/writer.json")
	CPU_PER_S=$(calc "($c1 - $c0) / ($t1 - $t0)")
	SCAN_PER_S=$(calc "($s1 - $s0) / ($t1 - $t0)")
	SAVED_AVG=$((sum / k))
	SETTLE_S=null
	if [ "$writes" = fresh ]; then
		# freshness: the last change of the savings after the writes stopped
		last=$(saved) change=$tstop
		while :; do
			sleep 0.5
			now=$(now_s)
			s1=$(saved)
			[ "$s1" != "$last" ] && { last=$s1; change=$now; }
			awk -v n="$now" -v c="$change" -v p="$pt" 'BEGIN { exit !(n - c > 3 * p + 3) }' && break
			if awk -v n="$now" -v t="$tstop" -v m="$SETTLE_MAX" 'BEGIN { exit !(n - t > m) }'; then
				change=
				break
			fi
		done
		# no change at all after the stop says nothing about the last
		# writes (merged before it, or after the wait): null, not 0
		[ "$change" = "$tstop" ] && change=
		SETTLE_S=${change:+$(calc "$change - $tstop")}
		SETTLE_S=${SETTLE_S:-null}
	else
		sleep "$(calc "2 * $pt")"    # the last writes looked at before the next case
	fi
	note "$mode, $ndom x $MIB MiB, pass_target $pt, $writes writes: daemon $CPU_PER_S CPU-s/s, $SCAN_PER_S pages looked at/s, writes $WRITTEN_PER_S pages/s, saved $SAVED_AVG, settled ${SETTLE_S} s after the writes"
	emit "$(jq -n --arg mode "$mode" --arg writes "$writes" --argjson doms "$ndom" --argjson mib "$MIB" \
		--argjson pt "$pt" --argjson rate "$WRITTEN_PER_S" --argjson cpu "$CPU_PER_S" \
		--argjson scan "$SCAN_PER_S" --argjson saved "$SAVED_AVG" --argjson settle "$SETTLE_S" \
		--argjson w "$WINDOW" \
		'{bench: "dirty", mode: $mode, writes: $writes, domains: $doms, guest_mib: $mib,
		  pass_target_s: $pt, written_pages_per_s: $rate, window_s: $w,
		  daemon_cpu_s_per_s: $cpu, pages_looked_at_per_s: $scan, saved_avg: $saved,
		  settle_s: $settle}')"
}

note "dirty: $DOMS x $MIB MiB, $RATE pages/s rewritten (0.1%/s), pass_target $PT s"
host_up "$DOMS" dirty
measure "$DOMS" dirty fresh
settle_dirty=$SETTLE_S
measure "$DOMS" dirty unique
cpu_dirty=$CPU_PER_S scan_dirty=$SCAN_PER_S
host_down

host_up "$DOMS" full
measure "$DOMS" full fresh
settle_full_pt=$SETTLE_S
measure "$DOMS" full unique
cpu_full_pt=$CPU_PER_S
# the pass target at which full passes are as fresh as the dirty log
pt_same=$(awk -v p="$PT" -v d="$settle_dirty" -v f="$settle_full_pt" \
	'BEGIN { if (d == "null" || f == "null" || f <= 0) print p; else { x = p * d / f; printf "%.1f\n", x < 1 ? 1 : x } }')
set_pass "$pt_same"
measure "$DOMS" full fresh
settle_full=$SETTLE_S
measure "$DOMS" full unique
cpu_full=$CPU_PER_S
host_down
emit "$(jq -n --argjson cd "$cpu_dirty" --argjson cf "$cpu_full" --argjson cfp "$cpu_full_pt" \
	--argjson sd "$settle_dirty" --argjson sf "$settle_full" --argjson sfp "$settle_full_pt" \
	--argjson doms "$DOMS" --argjson pt "$PT" --argjson pts "$pt_same" '
	{bench: "dirty_vs_full", domains: $doms, writes: "unique",
	 pass_target_s: $pt, full_pass_target_same_freshness_s: $pts,
	 cpu_dirty: $cd, cpu_full_same_freshness: $cf, cpu_full_same_pass_target: $cfp,
	 cpu_ratio_full_to_dirty: (if $cd > 0 then $cf / $cd else null end),
	 settle_dirty_s: $sd, settle_full_same_freshness_s: $sf, settle_full_same_pass_target_s: $sfp,
	 target: "dirty-log CPU <= 1/20 of full passes at the same freshness; merged within 10 s",
	 met: ($cd > 0 and $cf / $cd >= 20 and $sd != null and $sd <= 10)}')"

# the daemon's CPU against the memory it holds, at one write rate
for ndom in $SIZES; do
	if [ "$ndom" = "$DOMS" ]; then
		c=$cpu_dirty l=$scan_dirty
	else
		host_up "$ndom" dirty
		measure "$ndom" dirty unique
		c=$CPU_PER_S l=$SCAN_PER_S
		host_down
	fi
	# the sweep's share of the looks: every page once per sweep_period
	emit "$(jq -n --argjson doms "$ndom" --argjson mib "$MIB" --argjson rate "$RATE" \
		--argjson cpu "$c" --argjson looked "$l" --argjson n "$N" '
		{bench: "dirty_size", domains: $doms, guest_gib: ($doms * $mib / 1024),
		 writes: "unique", written_pages_per_s: $rate, daemon_cpu_s_per_s: $cpu,
		 pages_looked_at_per_s: $looked, sweep_pages_per_s: ($doms * $n / 3600)}')"
done
