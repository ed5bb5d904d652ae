#!/bin/sh
# plot-churn.sh JSONL SVG: the curves of a churn soak (tests/soak/churn.sh's
# JSON lines) as one SVG of three panels over the lifecycle events: savings
# as a fraction of the byte-exact and of the reachable ideal, the daemon's
# RSS, and the two leak gauges (foreign mappings, nominated-unshared
# frames).  Each panel has two curves: right after the events ("sample"
# lines: the daemon still catching up) and a full pass later ("settled"
# lines).  Needs gnuplot and jq.
set -eu
[ $# = 2 ] || { echo "usage: $0 CHURN.jsonl OUT.svg" >&2; exit 2; }
in=$1 out=$2
[ -s "$in" ] || { echo "$0: $in: no such file or empty" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "$0: gnuplot not installed" >&2; exit 1; }
dat=$(mktemp /tmp/plot-churn.XXXXXX)
set_=$(mktemp /tmp/plot-churn.XXXXXX)
trap 'rm -f "$dat" "$set_"' EXIT
# columns: events, ratio, ratio_exact, RSS MiB, foreign mappings,
# nominated-unshared (a missing field is NaN: gnuplot leaves it out)
cols='[.events, .ratio, .ratio_exact, .rss_kib / 1024, .foreign_mappings, .nominated_unshared]
	| map(. // "NaN") | @tsv'
jq -r "select(.event == \"sample\") | $cols" "$in" >"$dat"
jq -r "select(.event == \"settled\") | $cols" "$in" >"$set_"
[ -s "$dat" ] || [ -s "$set_" ] || { echo "$0: no sample lines in $in" >&2; exit 1; }
res=$(jq -r 'select(.event == "result") |
	"seed \(.seed), \(.events) events, \(.shares) share attempts; at the end \(.final_ratio_exact // "?") of the byte-exact ideal, \(if .pass then "pass" else "FAIL" end)"' "$in")
gnuplot <<GP
set terminal svg size 1000,900 dynamic font "sans,11"
set output "$out"
set multiplot layout 3,1 title "churn soak: ${res:-(no result line)}"
set datafile separator "\t"
set grid
set key outside right top
set lmargin 12
set rmargin 36
set xlabel "lifecycle events"
set ylabel "saved / ideal"
set yrange [0:1.1]
plot "$set_" using 1:3 with linespoints lc 2 pt 5 title "byte-exact, a pass later", \
     "$set_" using 1:2 with linespoints lc 3 pt 4 dt 2 title "reachable, a pass later", \
     "$dat" using 1:3 with linespoints lc 1 pt 7 title "byte-exact, right after"
set yrange [0:*]
set ylabel "daemon RSS (MiB)"
plot "$set_" using 1:4 with linespoints lc 2 pt 5 title "VmRSS, a pass later", \
     "$dat" using 1:4 with linespoints lc 1 pt 7 title "VmRSS, right after"
set ylabel "frames"
set logscale y
set yrange [1:*]
plot "$set_" using 1:(\$6 > 0 ? \$6 : 1) with linespoints lc 2 pt 5 title "nominated-unshared, a pass later", \
     "$dat" using 1:(\$6 > 0 ? \$6 : 1) with linespoints lc 1 pt 7 title "nominated-unshared, right after", \
     "$set_" using 1:(\$5 > 0 ? \$5 : 1) with linespoints lc 4 pt 4 title "foreign mappings, a pass later", \
     "$dat" using 1:(\$5 > 0 ? \$5 : 1) with linespoints lc 3 pt 6 title "foreign mappings, right after"
unset multiplot
GP
echo "plot: $out"
