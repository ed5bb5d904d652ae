#!/bin/sh
# Golden output of xenshare-stat against a scripted xensim host: three
# guests with fixed sizes and policies, nothing shared, and a fake daemon
# giving a fixed `stats` reply (docs/control-protocol.md) whose numbers
# differ from the hypervisor's.  The table, the JSON and the Prometheus
# output must equal tests/golden/stat-xensim.{table,json,prom} byte for
# byte: this covers collection (libxenctrl + xenstore through xensim's
# drop-in libraries, the control socket) and formatting together.  After an
# intended change, regenerate with XST_GOLDEN_UPDATE=1 and review the diff.
# The golden files say @VERSION@ where xenshare-stat prints the release
# (the file VERSION), so a new release does not rewrite them.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_tool python3
need_built "$XST" "$XENSIM" "$SIMLIB"
golden=$TOP/tests/golden
version=$(cat "$TOP/VERSION") || fail "no VERSION file"
vre=$(printf '%s' "$version" | sed 's/[.]/\\./g')
# only the exact release is replaced: another one there fails the diff
version_neutral() {
	sed -e "1s/^xenshare-stat $vre /xenshare-stat @VERSION@ /" \
	    -e "1s/^{\"version\":\"$vre\"/{\"version\":\"@VERSION@\"/" "$1"
}

sim_start --mem 1024 --dom0-mem 256
guest web1 1 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=tenant-a
guest web2 2 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=tenant-a
guest db 3 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=zero mem_sharing_group=tenant-b

cat >"$T/reply.line" <<'JSON'
{"version":"9.9.9","daemon":{"pid":4242,"uptime_s":61.2,"cpu_percent":12.5,"protocol":"batched","full_scans":3,"pass_time_s":4.2,"pass_progress":0.37,"settled":true},"host":{"total_pages":262144,"free_pages":100000,"reserve_pages":16384,"pages_at_risk":3000,"sharing_paused":false,"sharing_freed_pages":3000,"sharing_used_frames":800},"counters":{"pages_shared":800,"pages_sharing":3000,"pages_unshared":20000,"pages_volatile":12,"pages_scanned":150000,"zero_pages_sharing":2500,"share_attempts":3100,"share_raced":4,"unshares":9},"domains":[{"domid":1,"name":"web1","group":"tenant-a","mode":"on","tot_pages":14384,"shr_pages":2000,"pages_sharing":1500,"pages_volatile":12,"unshares_per_s":0.5,"scan_progress":0.37},{"domid":2,"name":"web2","group":"tenant-a","mode":"on","tot_pages":14384,"shr_pages":1800,"pages_sharing":1500,"pages_volatile":0,"unshares_per_s":0,"scan_progress":0.37},{"domid":3,"name":"db","group":"tenant-b","mode":"zero","tot_pages":16384,"shr_pages":0,"pages_sharing":0,"pages_volatile":0,"unshares_per_s":0,"scan_progress":0}]}
JSON
fake_daemon "$T/ok.sock" "file:$T/reply.line"

rc_all=0
for fmt in table json prom; do
	case $fmt in
	table) args= ;;
	json) args=--json ;;
	prom) args=--prometheus ;;
	esac
	# shellcheck disable=SC2086
	xst $args -s "$T/ok.sock" >"$T/raw.$fmt" 2>"$T/err" || fail "$fmt: exit $?: $(cat "$T/err")"
	version_neutral "$T/raw.$fmt" >"$T/out.$fmt"
	if [ -n "${XST_GOLDEN_UPDATE:-}" ]; then
		cp "$T/out.$fmt" "$golden/stat-xensim.$fmt"
		echo "   wrote $golden/stat-xensim.$fmt"
	elif ! diff -u "$golden/stat-xensim.$fmt" "$T/out.$fmt"; then
		echo "FAIL: $fmt output differs from $golden/stat-xensim.$fmt"
		rc_all=1
	fi
done
[ $rc_all = 0 ] || exit 1
echo "stat_golden: ok"
