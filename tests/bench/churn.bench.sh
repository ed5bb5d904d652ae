#!/bin/bash
# churn.bench.sh - issue 7 item 5: 5-10% of the pages rewritten constantly.
#
# Four 256 MiB guests with the convergence benchmark's OS-image mix; each
# guest's vCPU rewrites a working set of 7.5% of its pages (sim_working_set)
# with fresh content at BENCH_CHURN_RATE pages per second (default 2500:
# every working-set page about every 2 s).  The daemon runs at its default
# rate.  After the first full pass, the daemon is sampled for
# BENCH_CHURN_S seconds (default 60): unshares it observed per minute,
# pages saved (the hypervisor's freed count, averaged over the window),
# pages it marked volatile, its CPU.  The ideal of the content at the end
# (shr-ideal) is the reference for the savings: churning pages are unique
# when written, so it is the ideal of the stable part.
#
# "Volatility handling off" cannot be run: the engine has no switch for it
# (libshare/volatility.h is always on); a result line says so.
set -u
. "$(dirname "$0")/lib.sh"

MIB=${BENCH_CHURN_MIB:-256}
RATE=${BENCH_CHURN_RATE:-2500}
WINDOW=${BENCH_CHURN_S:-60}
PROFILE="os=0.5,zero=0.15,dup=0.1,unique=0.25"
N=$((MIB * 256))
WS=$((N * 75 / 1000))

sim_start $((4 * MIB + 1024))
for i in 1 2 3 4; do
	guest "c$i" "$MIB" 'mem_sharing = "on"' "sim_profile = \"$PROFILE\"" "sim_seed = $i" \
		"sim_write_rate = $RATE" "sim_working_set = $WS"
done
xsd_conf
xsd_start
trace "$T/churn-warm.trace" 180 $((4 * N)) || note "churn: first pass not done in 180 s"
read -r u0 v0 <<<"$(stats | jq -r '[.counters.unshares, .counters.pages_volatile] | @tsv')"
trace "$T/churn.trace" "$WINDOW" 999999999999 || true
read -r u1 v1 <<<"$(stats | jq -r '[.counters.unshares, .counters.pages_volatile] | @tsv')"
ids=""
for i in 1 2 3 4; do ids="$ids $(domid_of "c$i")"; done
# shellcheck disable=SC2086
ideal=$(ideal_of $ids) || die "shr-ideal"
xsd_stop
"$XENSIM" verify --json > "$T/verify.json" 2>&1
mism=$(jq -r '.mismatches // "unknown"' "$T/verify.json" 2>/dev/null || echo unknown)
sim_stop
read -r avg_saved min_saved max_saved <<<"$(awk '{ s += $3; n++; if (!n0 || $3 < mn) mn = $3; if ($3 > mx) mx = $3; n0 = 1 }
	END { printf "%.0f %d %d\n", n ? s / n : 0, mn, mx }' "$T/churn.trace")"
read -r t cpu _ <<<"$(tail -n 1 "$T/churn.trace")"
emit "$(jq -n --argjson mib "$MIB" --argjson rate "$RATE" --argjson ws "$WS" --argjson n "$N" \
	--argjson t "$t" --argjson cpu "$cpu" --argjson u0 "$u0" --argjson u1 "$u1" \
	--argjson vol "$v1" --argjson ideal "$ideal" --argjson avg "$avg_saved" \
	--argjson mn "$min_saved" --argjson mx "$max_saved" --arg mism "$mism" '
	{bench: "churn", run: "volatility_on", guests: 4, guest_mib: $mib,
	 working_set_pages_per_guest: $ws, working_set_fraction: ($ws / $n),
	 writes_per_s_per_guest: $rate, window_s: $t,
	 unshares: ($u1 - $u0), unshares_per_min: (($u1 - $u0) * 60 / $t),
	 writes_per_min: ($rate * 4 * 60),
	 pages_volatile: $vol, saved_avg: $avg, saved_min: $mn, saved_max: $mx,
	 ideal_stable_pages: $ideal, saved_fraction_of_stable_ideal: ($avg / $ideal),
	 daemon_cpu_s: $cpu, daemon_cpu_percent: ($cpu * 100 / $t), verify_mismatches: $mism}')"
emit '{"bench":"churn","run":"volatility_off","skipped":"the engine has no switch to turn its volatility handling off (libshare/volatility.h is always on); not measurable without one"}'
