#!/bin/bash
# ksm.bench.sh - Linux KSM and xenshare side by side, on the same pages,
# in one run: CPU to merge 99% of what each can merge.
#
# Two workloads:
#   images  four 256 MiB guests loaded from the real images of
#           ../shared/corpus (idle, pagecache, idle, pagecache)
#   mix     four 512 MiB guests with the generated OS-image mix of
#           convergence.bench.sh (os=0.5, zero=0.15, dup=0.1, unique=0.25,
#           seeds 1-4)
# For each, xensim creates the guests and shr-ideal counts the byte-exact
# ideal; then one bench-ksm-guest helper per guest copies that guest's
# pages, read from the host through foreign mappings (the very bytes the
# daemon will see, not a second generator), into MADV_MERGEABLE memory and
# holds them.  Each host the daemon then runs on is created the same way
# and must give the same ideal (xensim's guests are a pure function of
# their configuration); shr-ideal's mapping of every page before the
# daemon starts is also what convergence.bench.sh does (a first mapping
# of xensim's memory costs the mapper more than later ones).
#
# xenshare half: the daemon with no pacing (pass_target = 0, cpu_cap =
# 100) on a fresh host with the same guests, once with the batched op
# (patched hypervisor) and once with the upstream protocol (stock Xen
# 4.17); bench-stats-poll samples it from the moment its domain table is
# ready, and the result is its CPU (utime + stime) until the hypervisor's
# saved pages reach 99% of the ideal.  xensim's CPU over the same time is
# reported beside it: it is the simulated hypervisor's work (mapping,
# compares, frees), which on Xen is not the daemon's, while ksmd's CPU
# includes the equivalent kernel work; the ratio with it added is the
# conservative one.  These runs are pinned to one CPU (BENCH_KSM_CPU,
# default 0; see convergence.bench.sh).
#
# KSM half (after the daemon runs, so the two never compete): with no
# other user of KSM on the machine (run = 0, nothing merged), the current
# /sys/kernel/mm/ksm settings are saved, ksmd is set to its most
# aggressive (pages_to_scan 20000, sleep_millisecs 0, max_page_sharing
# 256, KSM's cap matching the daemon's max_sharers) and started; its CPU
# (utime + stime of the ksmd kernel thread, /proc/<pid>/stat) and
# pages_sharing are sampled every 0.1 s until pages_sharing has grown by
# less than 0.1% over two full scans, or BENCH_KSM_MAX_S (default 300)
# seconds.  What KSM can merge is that final count; the result is ksmd's
# CPU until pages_sharing reached 99% of it.  The helpers are then ended
# and the saved settings written back (also on an error or interrupt).
# ksmd's CPU and counters are machine-wide, so they measure the helpers
# only when nothing else is mergeable: where /sys/kernel/mm/ksm is missing
# or not writable, someone else uses KSM, or another process has memory
# ksmd scans (QEMU marks its guests' RAM MADV_MERGEABLE), before or
# during the run (every merged page must be one of the helpers'), the
# KSM half prints a line saying it was skipped and why, and no ratio.
#
# Target: xenshared's CPU <= 1/5 of ksmd's, on both workloads.
set -u
KSM_CPU=${BENCH_KSM_CPU-0}
if [ -n "$KSM_CPU" ] && [ -z "${BENCH_KSM_PINNED:-}" ] && command -v taskset >/dev/null; then
	BENCH_KSM_PINNED=1 exec taskset -c "$KSM_CPU" bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

POLL="$O/bin/bench-stats-poll"
HELPER="$O/bin/bench-ksm-guest"
KSM=${BENCH_KSM_SYSFS:-/sys/kernel/mm/ksm}
KSM_MAX_S=${BENCH_KSM_MAX_S:-300}
RATIO_TARGET=0.2
for f in "$POLL" "$HELPER"; do [ -x "$f" ] || die "$f not built"; done

# ---- KSM settings: checked, saved, restored --------------------------------

KSM_SAVED=()          # "name=value" of every setting written
HELPERS=()            # pids of the helpers this benchmark started

ksm_restore() {
	local kv
	for kv in "${KSM_SAVED[@]}"; do
		echo "${kv#*=}" > "$KSM/${kv%%=*}" 2>/dev/null ||
			note "ksm: could not restore ${kv%%=*} = ${kv#*=}"
	done
	KSM_SAVED=()
}
helpers_stop() {
	local p
	for p in "${HELPERS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${HELPERS[@]}"; do wait "$p" 2>/dev/null; done
	HELPERS=()
}
# ksm_release: ends the helpers, then has ksmd drop what it merged (run =
# 2: the exited helpers' stable pages go only when ksmd runs again), then
# writes the saved settings back (max_page_sharing can only be written
# while nothing is merged).
ksm_release() {
	helpers_stop
	if [ ${#KSM_SAVED[@]} -gt 0 ]; then
		echo 2 > "$KSM/run" 2>/dev/null
		for _ in $(seq 300); do
			[ "$(cat "$KSM/pages_shared")" = 0 ] && [ "$(cat "$KSM/pages_sharing")" = 0 ] && break
			sleep 0.1
		done
	fi
	ksm_restore
}
ksm_cleanup() {
	ksm_release
	bench_cleanup
}
trap ksm_cleanup EXIT
trap 'exit 1' INT TERM

# ksm_set NAME VALUE: saves the current value once, then writes VALUE.
ksm_set() {
	local kv
	for kv in "${KSM_SAVED[@]}"; do [ "${kv%%=*}" = "$1" ] && break; kv=; done
	[ -n "${kv:-}" ] || KSM_SAVED=("$1=$(cat "$KSM/$1")" "${KSM_SAVED[@]}")
	echo "$2" > "$KSM/$1"
}

# ksm_others: "PID (COMM)" of the first process other than the helpers
# whose memory ksmd scans (a MADV_MERGEABLE area, e.g. QEMU's guest RAM,
# or PR_SET_MEMORY_MERGE); empty when there is none.  ksmd's CPU and
# pages_sharing are machine-wide, so with such a process they are not
# the helpers' alone.
ksm_others() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		case " ${HELPERS[*]} " in *" $pid "*) continue ;; esac
		if grep -Eqs '^VmFlags:.* mg( |$)' "$d/smaps" ||
		   grep -qs '^ksm_merge_any: yes' "$d/ksm_stat"; then
			echo "$pid ($(cat "$d/comm" 2>/dev/null))"
			return
		fi
	done
}

# ksm_usable: empty when KSM can be measured here, else why not.
ksm_usable() {
	local f
	[ -d "$KSM" ] || { echo "no $KSM (kernel without CONFIG_KSM)"; return; }
	for f in run pages_to_scan sleep_millisecs max_page_sharing pages_sharing full_scans; do
		[ -e "$KSM/$f" ] || { echo "no $KSM/$f"; return; }
	done
	for f in run pages_to_scan sleep_millisecs max_page_sharing; do
		[ -w "$KSM/$f" ] || { echo "$KSM/$f is not writable (not root?)"; return; }
	done
	[ "$(cat "$KSM/run")" = 0 ] || { echo "KSM is running for someone else (run = $(cat "$KSM/run"))"; return; }
	[ "$(cat "$KSM/pages_shared")" = 0 ] && [ "$(cat "$KSM/pages_sharing")" = 0 ] ||
		{ echo "KSM holds merged pages of someone else"; return; }
	pgrep -x ksmd >/dev/null || { echo "no ksmd thread"; return; }
	f=$(ksm_others)
	[ -z "$f" ] || { echo "process $f has memory ksmd would scan too"; return; }
	# a probe write (the same value) proves the file takes writes
	f=$(cat "$KSM/pages_to_scan")
	echo "$f" > "$KSM/pages_to_scan" 2>/dev/null ||
		{ echo "$KSM/pages_to_scan refuses writes"; return; }
}

# ---- the guests --------------------------------------------------------------

# make_guests WORKLOAD: creates the workload's guests on the running host;
# sets IDS (their domids).
make_guests() {
	local i img
	IDS=""
	case $1 in
	images)
		i=0
		for img in idle pagecache idle pagecache; do
			i=$((i + 1))
			guest "g$i" 256 'mem_sharing = "on"' "sim_image = \"$CORPUS/$img.raw.zst\""
			IDS="$IDS $(domid_of "g$i")"
		done ;;
	mix)
		for i in 1 2 3 4; do
			guest "g$i" 512 'mem_sharing = "on"' \
				"sim_profile = \"os=0.5,zero=0.15,dup=0.1,unique=0.25\"" "sim_seed = $i"
			IDS="$IDS $(domid_of "g$i")"
		done ;;
	esac
}
host_mib() { [ "$1" = images ] && echo 2048 || echo 3072; }

# helpers_start: one helper per domain of IDS, waits until all hold their
# copy; sets HELPER_PAGES.
helpers_start() {
	local id n=0 p
	for id in $IDS; do
		n=$((n + 1))
		rm -f "$T/helper$n.ready"
		LD_LIBRARY_PATH="$SIMLIB" "$HELPER" "$id" "$T/helper$n.ready" 2>"$T/helper$n.err" &
		HELPERS+=($!)
	done
	HELPER_PAGES=0
	for n in $(seq "$n"); do
		for _ in $(seq 600); do
			[ -s "$T/helper$n.ready" ] && break
			kill -0 "${HELPERS[$((n - 1))]}" 2>/dev/null ||
				die "ksm helper $n failed: $(cat "$T/helper$n.err")"
			sleep 0.1
		done
		[ -s "$T/helper$n.ready" ] || die "ksm helper $n not ready in 60 s"
		read -r p < "$T/helper$n.ready"
		HELPER_PAGES=$((HELPER_PAGES + p))
	done
}

# ---- the two halves -------------------------------------------------------

# xs_run WORKLOAD PROTO IDEAL: the daemon on a fresh host; sets XS_RESULT
# to "cpu_s_to_99 s_to_99 xensim_cpu_s_to_99 hypercalls_at_99 saved_at_99"
# and XS_MISMATCHES.
xs_run() {
	local w=$1 proto=$2 ideal=$3 spid
	if [ "$proto" = batched ]; then sim_start "$(host_mib "$w")" --patched
	else sim_start "$(host_mib "$w")"; fi
	spid=$(cat "$T/sim.pid")
	make_guests "$w"
	# the same bytes as the helpers' copy (and every host mapped once
	# before the daemon, as in convergence.bench.sh)
	# shellcheck disable=SC2086
	[ "$(ideal_of $IDS)" = "$ideal" ] || die "ksm/$w/$proto: the guests differ from the first host's"
	xsd_conf "pass_target = 0" "cpu_cap = 100" "reserve = 0" "protocol = $proto"
	"$POLL" --socket "$T/run/control.sock" --interval-ms 20 --max-s 120 \
		--also-pid "$spid" --until-freed $((ideal * 99 / 100)) > "$T/$w-$proto.trace" \
		2>"$T/poll.err" &
	local pp=$!
	xsd_start
	wait "$pp" || note "ksm/$w/$proto: 99% of the ideal not reached in 120 s"
	xsd_stop
	"$XENSIM" verify --json > "$T/verify.json" 2>&1
	XS_MISMATCHES=$(jq -r '.mismatches // "unknown"' "$T/verify.json" 2>/dev/null || echo unknown)
	sim_stop
	cp "$T/$w-$proto.trace" "$O/bench/ksm-$w-$proto.trace" 2>/dev/null
	XS_RESULT=$(awk -v p=$((ideal * 99 / 100)) 'NR == 1 { s0 = $11 }
		$3 >= p { print $2, $1, $11 - s0, $4, $3; f = 1; exit }
		END { if (!f) print "null null null null null" }' "$T/$w-$proto.trace")
}

# ksm_run: ksmd from start to stop (see the header); sets KSM_RESULT to
# "cpu_s_to_99_of_final s_to_99 final_pages_sharing pages_shared full_scans
#  end_s end_cpu_s stopped_by".
ksm_run() {
	local pid c0 t0 now cpu ps psh fs fs0 last_ps=0 grow_fs by=time
	pid=$(pgrep -x ksmd | head -n 1)
	ksm_set max_page_sharing 256
	ksm_set pages_to_scan 20000
	ksm_set sleep_millisecs 0
	c0=$(cpu_s "$pid")
	t0=$(now_s)
	ksm_set run 1
	fs0=$(cat "$KSM/full_scans")
	grow_fs=$fs0
	: > "$T/ksm.trace"
	while :; do
		sleep 0.1
		now=$(calc "$(now_s) - $t0")
		cpu=$(calc "$(cpu_s "$pid") - $c0")
		read -r ps < "$KSM/pages_sharing"
		read -r psh < "$KSM/pages_shared"
		read -r fs < "$KSM/full_scans"
		echo "$now $cpu $ps $psh $((fs - fs0))" >> "$T/ksm.trace"
		# growth of more than 0.1% starts the count of quiet scans again
		if [ $((ps - last_ps)) -gt $((last_ps / 1000)) ]; then
			last_ps=$ps grow_fs=$fs
		fi
		if [ "$ps" -gt 0 ] && [ $((fs - grow_fs)) -ge 2 ]; then by=plateau; break; fi
		awk -v t="$now" -v m="$KSM_MAX_S" 'BEGIN { exit !(t >= m) }' && break
	done
	echo 0 > "$KSM/run"
	cp "$T/ksm.trace" "$O/bench/ksm-$W.ksmtrace" 2>/dev/null
	ksm_foreign
	KSM_RESULT=$(awk -v by="$by" '{ l[NR] = $0; if ($3 > max) max = $3 }
		END { split(l[NR], e, " ")
		      for (i = 1; i <= NR; i++) { split(l[i], f, " ")
			if (f[3] >= 0.99 * max) { print f[2], f[1], max, e[4], e[5], e[1], e[2], by; exit } } }' \
		"$T/ksm.trace")
}

# ksm_foreign: with ksmd stopped, sets KSM_FOREIGN to why the run does not
# measure the helpers alone (empty when it does): every merged page must
# be one of theirs (pages_shared + pages_sharing = the sum of their
# ksm_merging_pages), and no other process may have become mergeable.
ksm_foreign() {
	local p n ours=0 all
	KSM_FOREIGN=
	all=$(( $(cat "$KSM/pages_shared") + $(cat "$KSM/pages_sharing") ))
	for p in "${HELPERS[@]}"; do
		if ! read -r n < "/proc/$p/ksm_merging_pages"; then
			ours=unknown
			break
		fi
		ours=$((ours + n))
	done
	if [ "$ours" != unknown ] && [ "$ours" != "$all" ]; then
		KSM_FOREIGN="ksmd merged $((all - ours)) pages that are not the helpers'"
		return
	fi
	p=$(ksm_others)
	[ -z "$p" ] || KSM_FOREIGN="process $p had memory ksmd would scan too"
}

# ---- the run ---------------------------------------------------------------

for W in ${BENCH_KSM_WORKLOADS:-images mix}; do
	why=$(ksm_usable)
	if [ "$W" = images ] && ! { [ -r "$CORPUS/idle.raw.zst" ] && [ -r "$CORPUS/pagecache.raw.zst" ]; }; then
		emit '{"bench":"ksm_vs_xenshare","workload":"images","skipped":"no corpus"}'
		continue
	fi
	note "ksm: workload $W"
	# the ideal and the helpers' copies from a first host
	sim_start "$(host_mib "$W")"
	make_guests "$W"
	# shellcheck disable=SC2086
	ideal=$(ideal_of $IDS) || die "shr-ideal"
	[ -z "$why" ] && helpers_start
	sim_stop
	declare -A XS=()
	for proto in batched upstream; do
		note "ksm: $W: xenshared, $proto"
		xs_run "$W" "$proto" "$ideal"
		XS[$proto]=$XS_RESULT
		XS[$proto.mism]=$XS_MISMATCHES
	done
	# someone may have started using KSM while the daemon ran
	[ -z "$why" ] && why=$(ksm_usable)
	if [ -z "$why" ]; then
		note "ksm: $W: ksmd"
		ksm_run
		KR=$KSM_RESULT
		why=$KSM_FOREIGN
	fi
	ksm_release
	if [ -n "$why" ]; then
		note "ksm: $W: KSM half skipped: $why"
		KR="null null null null null null null skipped"
	fi
	read -r k_cpu k_t k_final k_shared k_scans k_end_t k_end_cpu k_by <<<"$KR"
	[ -n "$why" ] && emit "$(jq -n --arg w "$W" --arg why "$why" \
		'{bench: "ksm", workload: $w, skipped: $why}')"
	for proto in batched upstream; do
		read -r x_cpu x_t x_sim x_hc _ <<<"${XS[$proto]}"
		emit "$(jq -n --arg w "$W" --arg proto "$proto" --argjson ideal "$ideal" \
			--argjson hp "${HELPER_PAGES:-null}" \
			--argjson x_cpu "$x_cpu" --argjson x_t "$x_t" --argjson x_sim "$x_sim" \
			--argjson x_hc "$x_hc" --arg mism "${XS[$proto.mism]}" \
			--argjson k_cpu "$k_cpu" --argjson k_t "$k_t" --argjson k_final "$k_final" \
			--argjson k_shared "$k_shared" --argjson k_scans "$k_scans" \
			--argjson k_end_t "$k_end_t" --argjson k_end_cpu "$k_end_cpu" \
			--arg k_by "$k_by" --arg why "$why" --argjson target "$RATIO_TARGET" \
			--arg cpus "${KSM_CPU:-any}" '
			{bench: "ksm_vs_xenshare", workload: $w, protocol: $proto,
			 ideal_pages: $ideal, xenshare_cpus: $cpus,
			 xenshared_cpu_s_to_99: $x_cpu, xenshared_s_to_99: $x_t,
			 xensim_cpu_s_to_99: $x_sim, hypercalls_to_99: $x_hc,
			 verify_mismatches: $mism,
			 ksm: (if $why != "" then {skipped: $why} else
			       {pages_in_helpers: $hp, settings: {pages_to_scan: 20000, sleep_millisecs: 0,
					max_page_sharing: 256},
				final_pages_sharing: $k_final, final_pages_shared: $k_shared,
				final_fraction_of_ideal: ($k_final / $ideal),
				ksmd_cpu_s_to_99_of_final: $k_cpu, s_to_99_of_final: $k_t,
				full_scans: $k_scans, stopped_by: $k_by,
				watched_s: $k_end_t, ksmd_cpu_s_watched: $k_end_cpu} end),
			 ratio: (if $why != "" or $x_cpu == null or $k_cpu == null or $k_cpu == 0 then null
				 else $x_cpu / $k_cpu end),
			 ratio_with_xensim: (if $why != "" or $x_cpu == null or $k_cpu == null or $k_cpu == 0 then null
				 else ($x_cpu + $x_sim) / $k_cpu end),
			 target: $target,
			 met: (if $why != "" or $x_cpu == null or $k_cpu == null then null
			       else $x_cpu <= $target * $k_cpu end)}')"
	done
	unset XS
done
