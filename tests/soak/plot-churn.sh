#!/bin/sh
# plot-churn.sh JSONL SVG: the curves of a churn soak (tests/soak/churn.sh's
# "sample" lines) as one SVG of three panels over the lifecycle events:
# savings as a fraction of the reachable and of the byte-exact ideal, the
# daemon's RSS, and the two leak gauges (foreign mappings, nominated-unshared
# frames).  The last sample of a run is the one taken a full pass after its
# last event, at the same event count.  Needs gnuplot and jq.
set -eu
[ $# = 2 ] || { echo "usage: $0 CHURN.jsonl OUT.svg" >&2; exit 2; }
in=$1 out=$2
[ -s "$in" ] || { echo "$0: $in: no such file or empty" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "$0: gnuplot not installed" >&2; exit 1; }
dat=$(mktemp /tmp/plot-churn.XXXXXX)
fin=$(mktemp /tmp/plot-churn.XXXXXX)
trap 'rm -f "$dat" "$fin"' EXIT
# columns: events, ratio, ratio_exact, RSS MiB, foreign mappings,
# nominated-unshared (a missing field is NaN: gnuplot leaves it out)
cols='[.events, .ratio, .ratio_exact, .rss_kib / 1024, .foreign_mappings, .nominated_unshared]
	| map(. // "NaN") | @tsv'
# the curve: every sample but the last; the last, a pass after the last
# event, is drawn on its own
jq -rs "[.[] | select(.event == \"sample\")] | .[:-1][] | $cols" "$in" >"$dat"
jq -rs "[.[] | select(.event == \"sample\")] | .[-1:][] | $cols" "$in" >"$fin"
[ -s "$dat" ] || { echo "$0: fewer than two sample lines in $in" >&2; exit 1; }
res=$(jq -r 'select(.event == "result") |
	"seed \(.seed), \(.events) events, \(.shares) share attempts, final \(.final_ratio) of the reachable ideal, \(if .pass then "pass" else "FAIL" end)"' "$in")
gnuplot <<GP
set terminal svg size 900,900 dynamic font "sans,11"
set output "$out"
set multiplot layout 3,1 title "churn soak: ${res:-(no result line)}"
set datafile separator "\t"
set grid
set key below
set xlabel "lifecycle events"
set ylabel "saved / ideal"
set yrange [0:1.1]
plot "$dat" using 1:2 with linespoints lc 1 pt 7 title "of the reachable ideal (byte-exact - volatile)", \
     "$dat" using 1:3 with linespoints lc 2 pt 5 title "of the byte-exact ideal", \
     "$fin" using 1:2 with points lc 1 pt 6 ps 2 title "reachable, a full pass after the last event", \
     "$fin" using 1:3 with points lc 2 pt 4 ps 2 title "byte-exact, a full pass after the last event"
set autoscale y
set yrange [0:*]
set ylabel "daemon RSS (MiB)"
plot "$dat" using 1:4 with linespoints lc 1 pt 7 title "VmRSS", \
     "$fin" using 1:4 with points lc 1 pt 6 ps 2 title "a full pass after the last event"
set ylabel "frames"
set logscale y
set yrange [1:*]
plot "$dat" using 1:(\$5 > 0 ? \$5 : 1) with linespoints lc 1 pt 7 title "foreign mappings", \
     "$dat" using 1:(\$6 > 0 ? \$6 : 1) with linespoints lc 2 pt 5 title "nominated-unshared frames", \
     "$fin" using 1:(\$5 > 0 ? \$5 : 1) with points lc 1 pt 6 ps 2 notitle, \
     "$fin" using 1:(\$6 > 0 ? \$6 : 1) with points lc 2 pt 4 ps 2 notitle
unset multiplot
GP
echo "plot: $out"
