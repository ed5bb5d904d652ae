#!/bin/bash
# run-all.sh - `make bench`: every tests/bench/*.bench.sh on scripted xensim
# hosts, one JSON line per result on stdout, then a short human summary.
#
# O (exported by the top Makefile) is the absolute build folder.  The JSON
# lines are also kept in $O/bench/results-<UTC date>.jsonl (docs/bench/
# holds the committed run that docs/performance.md describes).
# BENCH_ONLY="images convergence" runs a subset of: images firstpass
# convergence ksm churn dirty scale density.  Progress notes go to
# stderr.  Exit status: 0 when every benchmark ran (targets missed are
# results, not failures), 1 when one could not run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${O:?O must name the build folder}"
export O
mkdir -p "$O/bench"
out="$O/bench/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: > "$out"
export BENCH_OUT="$out"
order="images firstpass convergence ksm churn dirty scale density"
[ -n "${BENCH_ONLY:-}" ] && order=$BENCH_ONLY
failed=
start=$(date +%s)
[ -x "$O/bin/bench-xxh3" ] || { echo "bench: $O/bin/bench-xxh3 not built" >&2; exit 1; }
for b in $order; do
	t0=$(date +%s)
	echo "== bench: $b" >&2
	if ! bash "$here/$b.bench.sh"; then
		failed="$failed $b"
		echo "   FAILED: $b" >&2
	fi
	echo "   $b: $(( $(date +%s) - t0 )) s" >&2
done
total=$(( $(date +%s) - start ))

# Human summary from the JSON lines.
echo
echo "# xenshare benchmarks: $(jq -s length "$out") results in $total s ($out)"
jq -r '
	def f(x): if x == null then "n/a" elif (x|type) == "number" then (x * 1000 | round / 1000 | tostring) else (x|tostring) end;
	def met: if .met == true then "MET" elif .met == false then "NOT MET" else "-" end;
	if .skipped then "# \(.bench)\(if .workload then " " + .workload else "" end): skipped (\(.skipped))"
	elif .bench == "scan_cost" then
		"# scan cost: \(f(.pages_per_cpu_s / 1e6)) M pages/CPU-s, \(f(.ratio * 100))% of raw XXH3 (\(f(.raw_xxh3_pages_per_s / 1e6)) M/s); target 1.2 M and 60%: \(met)"
	elif .bench == "convergence" then
		"# convergence \(.run): 50/90/99% of ideal in \(f(.s_to_50))/\(f(.s_to_90))/\(f(.s_to_99)) s, CPU \(f(.cpu_s_to_50))/\(f(.cpu_s_to_90))/\(f(.cpu_s_to_99)) s; first pass \(f(.first_pass_s)) s reaching \(f(.fraction_of_ideal_after_first_pass * 100))%; \(f(.cpu_us_per_saved_page)) us CPU per saved page; verify mismatches \(.verify_mismatches)"
	elif .bench == "first_pass" then
		"# first pass (pass_target 0, \(.protocol)): 90% of the ideal in \(f(.s_to_90)) s wall (daemon CPU \(f(.cpu_s_to_90)) s, xensim \(f(.xensim_cpu_s_to_90)) s); target \(.target.s_to_90) s: \(met); load \(.loadavg_1m)/\(.loadavg_5m)/\(.loadavg_15m)"
	elif .bench == "ksm_vs_xenshare" then
		"# ksm vs xenshare \(.workload), \(.protocol): xenshared \(f(.xenshared_cpu_s_to_99)) s CPU to 99% of the ideal, ksmd \(f(.ksm.ksmd_cpu_s_to_99_of_final)) s to 99% of its \(.ksm.final_pages_sharing // "n/a") pages: ratio \(f(.ratio)) (with xensim \(f(.ratio_with_xensim))); target <= \(.target): \(met)"
	elif .bench == "hypercalls" then
		"# hypercalls \(.protocol): \(f(.hypercalls_per_merged_page)) hypercalls and \(f(.mappings_per_merged_page)) mappings per merged page (first pass) \(if .target then "target <= \(.target): \(met)" else "" end)"
	elif .bench == "memory_per_page" then
		"# memory \(.run): RssAnon +\(f(.rssanon_bytes_per_page)) B/page, index \(f(.index_bytes_per_page)) B/page over \(.pages_indexed) pages; target 16: \(met)"
	elif .bench == "real_images" then
		"# real image \(.image): saved \(.saved) of \(.ideal_readme) ideal pages (\(f(.fraction_of_ideal * 100))%) \(met)"
	elif .bench == "churn" then
		"# churn \(.run): \(f(.unshares_per_min)) unshares/min at \(f(.writes_per_min)) writes/min, saved \(f(.saved_avg)) pages (\(f(.saved_fraction_of_stable_ideal * 100))% of the ideal at the end), volatile \(.pages_volatile), daemon \(f(.daemon_cpu_percent))% CPU"
	elif .bench == "scale" then
		"# scale: \(.domains) domains, \(f(.guest_gib)) GiB: \(if .pass_complete then "pass \(f(.first_pass_s)) s" else "pass cut at \(f(.s)) s after \(.pages_scanned) pages (extrapolated \(f(.pass_s_extrapolated)) s)" end), saved \(f(.fraction_of_ideal * 100))% of the whole ideal, daemon RSS \(f(.daemon_vmrss_kb / 1024)) MiB (+\(f(.daemon_rss_bytes_per_scanned_page)) B per scanned page, index \(f(.index_bytes_per_page)) B/page), xensim RSS \(f(.xensim_vmrss_kb / 1024)) MiB; verify mismatches \(.verify_mismatches)"
	elif .bench == "density" then
		"# density: \(.fitted_with_sharing) guests of \(.guest_mib) MiB on \(.host_mib) MiB with sharing, \(.fitted_without_sharing) without (ratio \(f(.ratio))); fit \(f(.fit_s)) s, daemon CPU \(f(.daemon_cpu_s)) s"
	elif .bench == "density_storm" then
		"# storm \(.run) (reserve \(.reserve), dom0_balloon \(.dom0_balloon)): \(.guests_paused) of \(.guests) guests waited, longest wait per guest max \(f(.wait_per_guest_max_ms)) ms p99 \(f(.wait_per_guest_p99_ms)) ms; stuck \(.stuck_guests); dom0 gave \(f(.dom0_ballooned_mib)) MiB; crashed \(.crashed), verify mismatches \(.verify_mismatches)"
	else "# \(.bench): \(tostring)" end' "$out"
[ -z "$failed" ] || { echo "# benchmarks that could not run:$failed"; exit 1; }
exit 0
