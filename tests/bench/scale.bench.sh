#!/bin/bash
# scale.bench.sh - 64 domains, 256 GiB of guest memory on
# a machine with a tenth of that.
#
# The guests use xensim's generated memory (xl.cfg sim_generated, the
# hypervisor model's generated frames: only a 64-bit key per page is
# stored, the bytes exist only while a page is mapped), with the OS-image
# mix of the convergence benchmark (os=0.5 shared by all guests, zero=0.15,
# dup=0.10, unique=0.25).  The ideal savings follow in closed form from the
# layout (tools/xensim/genmem.c); with KSM's cap of 256 sharers per frame
# (the daemon's default max_sharers) the zero pages need one frame per 256,
# which the "capped" ideal accounts for.
#
# The daemon runs on the patched hypervisor with the batched op at
# unlimited rate (pass_target 1 s, cpu_cap 100%) for at most
# BENCH_SCALE_MAX_S seconds (default 240, to keep make bench under 15
# minutes) or one full pass.  Reported: load time, daemon
# RSS and index bytes per page, xensim's RSS, pass time (measured, or
# extrapolated from the pages scanned when the time limit cut the pass: the
# JSON says which), savings against the ideal.
set -u
. "$(dirname "$0")/lib.sh"

DOMS=${BENCH_SCALE_DOMS:-64}
MIB=${BENCH_SCALE_MIB:-4096}
MAX_S=${BENCH_SCALE_MAX_S:-240}
PROFILE="os=0.5,zero=0.15,dup=0.1,unique=0.25"
N=$((MIB * 256))
TOTAL=$((DOMS * N))

# closed-form ideal (sim_profile_count()'s rounding, genmem.c's keys)
read -r ideal ideal_capped <<<"$(awk -v n="$N" -v g="$DOMS" 'BEGIN {
	os = int(0.5 * n + 0.5); zero = int(0.15 * n + 0.5); dup = int(0.1 * n + 0.5)
	if (os > n) os = n; if (zero > n - os) zero = n - os; if (dup > n - os - zero) dup = n - os - zero
	uniq = n - os - zero - dup; nd = int(dup / 4); if (nd < 1) nd = 1
	distinct = os + (zero > 0) + g * nd + g * uniq
	zf = int((g * zero + 255) / 256)           # frames the zero pages need at 256 sharers
	printf "%d %d\n", g * n - distinct, g * n - distinct - (zf - 1) }')"

note "scale: $DOMS domains x $MIB MiB = $((TOTAL / 262144)) GiB ($TOTAL pages), ideal $ideal pages"
t0=$(date +%s.%N)
sim_start $((DOMS * (MIB + 2) + 1024)) --patched
spid=$(cat "$T/sim.pid")
for i in $(seq "$DOMS"); do
	guest "s$i" "$MIB" "sim_generated = \"$PROFILE\"" "sim_seed = $i"
	names="${names:-} s$i"
done
load_s=$(calc "$(date +%s.%N) - $t0")
sim_rss=$(rss_kb "$spid" VmRSS)
note "scale: loaded in $load_s s, xensim VmRSS $((sim_rss / 1024)) MiB"
free_kb=$(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)

xsd_conf "pass_target = 1" "cpu_cap = 100" "reserve = 0" "protocol = batched"
# RSS before: the daemon with no domain opted in; then restarted after the
# opt-in (as in convergence.bench.sh), so the pass counts from its start.
xsd_start
sleep 1
rss0=$(rss_kb "$DPID" VmRSS) anon0=$(rss_kb "$DPID" RssAnon)
xsd_stop
# shellcheck disable=SC2086
opt_in $names
xsd_start
scpu0=$(cpu_s "$spid")
trace "$T/scale.trace" "$MAX_S" "$TOTAL" || note "scale: pass cut at $MAX_S s"
rss1=$(rss_kb "$DPID" VmRSS) anon1=$(rss_kb "$DPID" RssAnon)
sim_rss1=$(rss_kb "$spid" VmRSS) sim_shmem1=$(rss_kb "$spid" RssShmem)
scpu=$(calc "$(cpu_s "$spid") - $scpu0")
stats > "$T/final.json"
xsd_stop
vstart=$(date +%s)
"$XENSIM" verify --json > "$T/verify.json" 2>&1
mism=$(jq -r '.mismatches // "unknown"' "$T/verify.json" 2>/dev/null || echo unknown)
verify_s=$(( $(date +%s) - vstart ))
sim_stop
cp "$T/scale.trace" "$O/bench/scale.trace" 2>/dev/null

read -r t cpu freed hc maps _ scanned indexed ibytes _ <<<"$(tail -n 1 "$T/scale.trace")"
emit "$(jq -n --argjson doms "$DOMS" --argjson mib "$MIB" --argjson total "$TOTAL" \
	--argjson ideal "$ideal" --argjson capped "$ideal_capped" --argjson load "$load_s" \
	--argjson simrss "$sim_rss" --argjson simrss1 "$sim_rss1" --argjson simshm "$sim_shmem1" \
	--argjson rss0 "$rss0" --argjson rss1 "$rss1" --argjson anon0 "$anon0" --argjson anon1 "$anon1" \
	--argjson t "$t" --argjson cpu "$cpu" --argjson freed "$freed" --argjson scanned "$scanned" \
	--argjson indexed "$indexed" --argjson ibytes "$ibytes" --argjson hc "$hc" --argjson maps "$maps" \
	--argjson maxs "$MAX_S" --arg mism "$mism" --argjson verify_s "$verify_s" \
	--argjson avail "$free_kb" --argjson scpu "$scpu" --slurpfile fin "$T/final.json" '
	($scanned >= $total) as $done |
	{bench: "scale", domains: $doms, guest_mib: $mib, guest_gib: ($total / 262144),
	 pages: $total, machine_mem_available_kb_at_start: $avail,
	 load_s: $load, xensim_vmrss_kb_after_load: $simrss,
	 xensim_vmrss_kb: $simrss1, xensim_rssshmem_kb: $simshm,
	 daemon_vmrss_kb: $rss1, daemon_vmrss_kb_before: $rss0,
	 daemon_rssanon_kb: $anon1, daemon_rssanon_kb_before: $anon0,
	 daemon_rss_bytes_per_page: (if $indexed > 0 then ($anon1 - $anon0) * 1024 / $indexed else null end),
	 daemon_rss_bytes_per_scanned_page: (if $scanned > 0 then ($anon1 - $anon0) * 1024 / ([$scanned, $total] | min) else null end),
	 index_bytes: $ibytes, pages_indexed: $indexed,
	 index_bytes_per_page: (if $indexed > 0 then $ibytes / $indexed else null end),
	 pages_scanned: $scanned, pass_complete: $done,
	 first_pass_s: (if $done then $t else null end),
	 pass_s_extrapolated: (if $done or $scanned == 0 then null else $t * $total / $scanned end),
	 s: $t, time_limit_s: $maxs, daemon_cpu_s: $cpu,
	 us_cpu_per_scanned_page: (if $scanned > 0 then $cpu * 1e6 / $scanned else null end),
	 xensim_cpu_s: $scpu,
	 xensim_us_cpu_per_scanned_page: (if $scanned > 0 then $scpu * 1e6 / $scanned else null end),
	 saved: $freed, ideal_pages: $ideal, ideal_pages_capped_256: $capped,
	 fraction_of_ideal: ($freed / $ideal), fraction_of_capped_ideal: ($freed / $capped),
	 hypercalls: $hc, mappings: $maps, protocol: $fin[0].daemon.protocol,
	 verify_mismatches: $mism, verify_s: $verify_s}')"
