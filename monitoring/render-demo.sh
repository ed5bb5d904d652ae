#!/bin/sh
# render-demo.sh OUT.svg: the Grafana dashboard's panels drawn from real
# data, without Grafana (Debian 12 does not package it).
#
# A demo host (scripts/demo.sh: xensim, four writing guests, xenshared) runs
# for DEMO_SECONDS.  Meanwhile `xenshare-stat -b --prometheus -o` writes a
# snapshot every second, served over HTTP as a node_exporter textfile would
# be, and a throwaway Prometheus scrapes it every second with the recording
# and alerting rules of monitoring/prometheus/ loaded.  At the end every
# panel's own query (read from monitoring/grafana/xenshare.json, the
# dashboard variables $job, $instance and $group set to "all") is asked of
# that Prometheus over the demo's time range, and gnuplot draws the panels in
# the dashboard's order, in its units: stat panels as their last value in
# the title, time series as curves, one per series.  The image is what the
# dashboard shows of such a run, not a Grafana screenshot: the layout and
# styling are gnuplot's.
#
#   DEMO_SECONDS=150      how long the demo runs (the rate rules need a few
#                         minutes of samples for their 5-minute windows)
#   RENDER_PORT=19180     the metrics file's HTTP port (Prometheus: +1)
#   O=build/release       build folder (demo.sh builds it)
# Needs prometheus, curl, jq, gnuplot and python3.
set -eu
[ $# = 1 ] || { echo "usage: $0 OUT.svg" >&2; exit 2; }
out=$1
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${DEMO_SECONDS:-150}
port=${RENDER_PORT:-19180}
pport=$((port + 1))
O=${O:-build/release}
case "$seconds$port" in *[!0-9]*) echo "$0: DEMO_SECONDS and RENDER_PORT are numbers" >&2; exit 2 ;; esac
for t in prometheus curl jq gnuplot python3; do
	command -v $t >/dev/null || { echo "$0: $t not installed" >&2; exit 1; }
done

w=$(mktemp -d "${TMPDIR:-/tmp}/xenshare-render.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the demo, its work folder under $w (demo.sh takes TMPDIR)
TMPDIR=$w DEMO_SECONDS=$seconds DEMO_EVERY=$seconds O=$O scripts/demo.sh >"$w/demo.log" 2>&1 &
demo=$!
i=0
until dw=$(ls -d "$w"/xenshare-demo.* 2>/dev/null) && [ -S "$dw/control.sock" ]; do
	i=$((i + 1))
	if [ $i -gt 1200 ] || ! kill -0 $demo 2>/dev/null; then
		echo "$0: the demo did not start:" >&2
		tail -n 20 "$w/demo.log" >&2
		exit 1
	fi
	sleep 0.5
done
t0=$(date +%s)

# the exporter side: a snapshot a second, served as /metrics
mkdir "$w/metrics"
XENSIM_SOCKET=$dw/xensim.sock LD_LIBRARY_PATH=$root/$O/simlib \
	"$root/$O/bin/xenshare-stat" -s "$dw/control.sock" -b -d 1 --prometheus \
	-o "$w/metrics/metrics" 2>"$w/stat.err" &
pids="$pids $!"
python3 -m http.server --bind 127.0.0.1 --directory "$w/metrics" "$port" >"$w/http.log" 2>&1 &
pids="$pids $!"

# the fleet side: Prometheus with the shipped rules
cat >"$w/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $root/monitoring/prometheus/xenshare.rules.yml
scrape_configs:
  - job_name: xenshare
    static_configs:
      - targets: ['127.0.0.1:$port']
        labels:
          instance: demo-host
YML
prometheus --config.file="$w/prometheus.yml" --storage.tsdb.path="$w/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$w/prometheus.log" 2>&1 &
pids="$pids $!"
api=http://127.0.0.1:$pport/api/v1

if ! wait $demo; then
	echo "$0: the demo failed:" >&2
	tail -n 20 "$w/demo.log" >&2
	exit 1
fi
t1=$(date +%s)
up=$(curl -sf "$api/query" --data-urlencode 'query=count(xenshare_daemon_up)' | jq -r '.data.result[0].value[1] // "0"')
[ "$up" = 1 ] || { echo "$0: Prometheus has no xenshare_daemon_up from the demo" >&2; tail -n 5 "$w/prometheus.log" "$w/stat.err" >&2; exit 1; }

# every panel's queries, the variables as "all"; one data file per panel
dash=$root/monitoring/grafana/xenshare.json
np=$(jq '.panels | length' "$dash")
gp=$w/plot.gp
stats=
n=0
: >"$gp"
i=0
while [ $i -lt "$np" ]; do
	p=$(jq -c ".panels[$i]" "$dash")
	title=$(echo "$p" | jq -r .title)
	type=$(echo "$p" | jq -r .type)
	unit=$(echo "$p" | jq -r '.fieldConfig.defaults.unit // "short"')
	case $unit in
	bytes) scale=1048576 ylabel=MiB mul=1 ;;
	percentunit) scale=1 ylabel=% mul=100 ;;
	*) scale=1 ylabel='' mul=1 ;;
	esac
	exprs=$(echo "$p" | jq -r '.targets[].expr' | sed 's/\$job/.*/g; s/\$instance/.*/g; s/\$group/.*/g')
	if [ "$type" = stat ]; then
		v=$(echo "$exprs" | head -n 1 | { read -r e; curl -sf "$api/query" --data-urlencode "query=$e" --data-urlencode "time=$t1"; } |
			jq -r ".data.result[0].value[1] // \"none\" | if . == \"none\" then . else (tonumber * $mul / $scale * 10 | round / 10 | tostring) end")
		stats="$stats  $title: $v${ylabel:+ $ylabel}"
	else
		plots=
		k=0
		echo "$exprs" | while read -r e; do
			curl -sf "$api/query_range" --data-urlencode "query=$e" --data-urlencode "start=$t0" \
				--data-urlencode "end=$t1" --data-urlencode step=3 >"$w/q$i.$k.json"
			k=$((k + 1))
		done
		for f in "$w"/q$i.*.json; do
			ns=$(jq '.data.result | length' "$f")
			s=0
			while [ $s -lt "$ns" ]; do
				jq -r ".data.result[$s].values[] | \"\(.[0] - $t0)\t\(.[1] | tonumber * $mul / $scale)\"" "$f" >"$f.$s.dat"
				# the label that tells the series apart: the group, else the
				# metric (two metrics in one panel), else the host
				leg=$(jq -r ".data.result[$s].metric | .group // (.__name__ // \"\" | sub(\"^xenshare_\"; \"\")) | if . == \"\" then \"$title\" else . end" "$f")
				[ -z "$(jq -r ".data.result[$s].metric.instance // empty" "$f")" ] || leg="$leg on $(jq -r ".data.result[$s].metric.instance" "$f")"
				plots="$plots${plots:+, }\"$f.$s.dat\" using 1:2 with lines lw 2 title \"$leg\""
				s=$((s + 1))
			done
		done
		n=$((n + 1))
		{
			echo "set title \"$title\""
			echo "set ylabel \"$ylabel\""
			if [ -n "$plots" ]; then echo "plot $plots"; else echo "plot NaN title \"no data\""; fi
		} >>"$gp"
	fi
	i=$((i + 1))
done

rows=$(((n + 1) / 2))
{
	echo "set terminal svg size 1200,$((rows * 260 + 60)) dynamic noenhanced font \"sans,10\""
	echo "set output \"$root/$out\""
	echo "set datafile separator \"\\t\""
	echo "set grid"
	echo "set key bottom right font \",9\""
	echo "set xlabel \"seconds into the demo\""
	echo "set multiplot layout $rows,2 title \"xenshare dashboard, demo run of ${seconds} s (4 guests x 512 MiB on xensim):$stats\""
	cat "$gp"
	echo "unset multiplot"
} >"$w/all.gp"
case $out in /*) sed -i "s|\"$root/$out\"|\"$out\"|" "$w/all.gp" ;; esac
gnuplot "$w/all.gp"
echo "render-demo: $out ($n panels, stat panels:$stats)"
