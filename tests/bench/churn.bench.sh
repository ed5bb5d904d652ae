#!/bin/bash
# churn.bench.sh - 5-10% of the pages rewritten constantly.
#
# Four 256 MiB guests with the convergence benchmark's OS-image mix; 7.5%
# of each guest's pages are rewritten at BENCH_CHURN_RATE pages per second
# per guest (default 2500: every one about every 2 s).  Two workloads:
#   random  the guests' vCPUs write fresh random content over their working
#           set (sim_working_set): a rewritten page is unique, never
#           mergeable again (xensim's writer model);
#   dup     bench-churn-writer rewrites gfns 0 .. ws-1 of every guest through
#           writable foreign mappings with content that depends only on the
#           gfn, the same in every guest: each write breaks the share and the
#           page is mergeable again at once, the worst case for a
#           deduplicator (a guest that keeps re-initialising a buffer).
# The daemon runs with pass_target = 10 (cpu_cap at its default), so the
# window sees several passes.  After two full passes, it is sampled
# for BENCH_CHURN_S seconds (default 30): unshares it observed per minute
# (each one a copy-on-write fault the guest paid), pages saved (the
# hypervisor's freed count, averaged over the window), pages it marked
# volatile, its CPU.  The ideal of the content at the end (shr-ideal) is
# the reference for the savings.
#
# Two runs: the daemon's volatility handling on (the default) and off
# (volatility_backoff = off: every page offered for merging at every pass).
set -u
. "$(dirname "$0")/lib.sh"

MIB=${BENCH_CHURN_MIB:-256}
RATE=${BENCH_CHURN_RATE:-2500}
WINDOW=${BENCH_CHURN_S:-30}
PROFILE="os=0.5,zero=0.15,dup=0.1,unique=0.25"
N=$((MIB * 256))
WS=$((N * 75 / 1000))

# run WORKLOAD VOL: one churn run with volatility_backoff = VOL
run() {
	local work=$1 vol=$2 u0 u1 v0 v1 ids="" ideal mism avg_saved min_saved max_saved t cpu wpid=
	note "churn: $work writes, volatility_backoff = $vol"
	sim_start $((4 * MIB + 1024))
	for i in 1 2 3 4; do
		if [ "$work" = random ]; then
			guest "c$i" "$MIB" 'mem_sharing = "on"' "sim_profile = \"$PROFILE\"" "sim_seed = $i" \
				"sim_write_rate = $RATE" "sim_working_set = $WS"
		else
			guest "c$i" "$MIB" 'mem_sharing = "on"' "sim_profile = \"$PROFILE\"" "sim_seed = $i"
		fi
		ids="$ids $(domid_of "c$i")"
	done
	xsd_conf "volatility_backoff = $vol" "pass_target = 10"
	xsd_start
	rm -f "$T/writer.json"
	if [ "$work" = dup ]; then
		# shellcheck disable=SC2086
		LD_LIBRARY_PATH="$SIMLIB" "$O/bin/bench-churn-writer" --rate $((4 * RATE)) \
			--seconds $((WINDOW + 200)) --pages "$WS" $ids > "$T/writer.json" 2>"$T/writer.err" &
		wpid=$!
	fi
	# two full passes first: every working-set page has then been rewritten
	# (every ~2 s) and its first unshare observed, so the window sees the
	# steady state, not the breaking of the shares made at start-up
	trace "$T/churn-warm.trace" 180 $((8 * N)) || note "churn: two passes not done in 180 s"
	read -r u0 v0 <<<"$(stats | jq -r '[.counters.unshares, .counters.pages_volatile] | @tsv')"
	trace "$T/churn.trace" "$WINDOW" 999999999999 || true
	read -r u1 v1 <<<"$(stats | jq -r '[.counters.unshares, .counters.pages_volatile] | @tsv')"
	if [ -n "$wpid" ]; then
		kill "$wpid" 2>/dev/null
		wait "$wpid" 2>/dev/null
		[ -s "$T/writer.err" ] && note "writer: $(head -3 "$T/writer.err")"
	fi
	# shellcheck disable=SC2086
	ideal=$(ideal_of $ids) || die "shr-ideal"
	xsd_stop
	"$XENSIM" verify --json > "$T/verify.json" 2>&1
	mism=$(jq -r '.mismatches // "unknown"' "$T/verify.json" 2>/dev/null || echo unknown)
	sim_stop
	read -r avg_saved min_saved max_saved <<<"$(awk '{ s += $3; n++; if (!n0 || $3 < mn) mn = $3; if ($3 > mx) mx = $3; n0 = 1 }
		END { printf "%.0f %d %d\n", n ? s / n : 0, mn, mx }' "$T/churn.trace")"
	read -r t cpu _ <<<"$(tail -n 1 "$T/churn.trace")"
	emit "$(jq -n --arg work "$work" --arg vol "$vol" --argjson mib "$MIB" --argjson rate "$RATE" --argjson ws "$WS" \
		--argjson n "$N" --argjson t "$t" --argjson cpu "$cpu" --argjson u0 "$u0" --argjson u1 "$u1" \
		--argjson vol_pages "$v1" --argjson ideal "$ideal" --argjson avg "$avg_saved" \
		--argjson mn "$min_saved" --argjson mx "$max_saved" --arg mism "$mism" \
		--argjson wr "$(cat "$T/writer.json" 2>/dev/null || echo null)" '
		{bench: "churn", run: ($work + "_volatility_" + $vol), workload: $work,
		 volatility_backoff: $vol, guests: 4, guest_mib: $mib,
		 working_set_pages_per_guest: $ws, working_set_fraction: ($ws / $n),
		 writes_per_s_per_guest: $rate, window_s: $t,
		 unshares: ($u1 - $u0), unshares_per_min: (($u1 - $u0) * 60 / $t),
		 writes_per_min: (if $work == "dup" and $wr != null
				  then $wr.pages_written * 60 / $wr.seconds else $rate * 4 * 60 end),
		 pages_volatile: $vol_pages, saved_avg: $avg, saved_min: $mn, saved_max: $mx,
		 ideal_stable_pages: $ideal, saved_fraction_of_stable_ideal: ($avg / $ideal),
		 daemon_cpu_s: $cpu, daemon_cpu_percent: ($cpu * 100 / $t), verify_mismatches: $mism}')"
}

for r in ${BENCH_CHURN_RUNS:-random:on random:off dup:on dup:off}; do
	run "${r%%:*}" "${r#*:}"
done
