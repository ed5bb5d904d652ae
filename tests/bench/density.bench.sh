#!/bin/bash
# density.bench.sh - how many guests fit on a host with sharing, and what a
# storm of unshares then does to them.
#
# A simulated 16 GiB host (BENCH_DENSITY_HOST_MIB), patched hypervisor
# (batched protocol, VIRQ_ENOMEM), dom0 of 2 GiB that the daemon may
# balloon down to dom0_min_memory = 512M.  Guests of 1 GiB
# (BENCH_DENSITY_GUEST_MIB), PVH, opted in, in a repeating mix of four:
#   idle       the corpus image idle.raw.zst (a booted, idle Linux guest)
#   web        generated, os=0.5,zero=0.15,dup=0.1,unique=0.25
#   pagecache  the corpus image pagecache.raw.zst (page cache full of
#              shared libraries)
#   app        generated, os=0.3,zero=0.3,dup=0.1,unique=0.3
# each generated guest with its own seed; each image guest's vCPU writes
# 20 pages/s of fresh content over 4096 gfns of its own, so copies of one
# image drift apart as real guests do.  (A 1 GiB guest from a 256 MiB image
# has the rest of its memory zero: free memory of a guest that booted.)
#
# Fit: guests are created one after another, each as soon as the operator's
# admission says it fits: xenshare-stat's room (free memory minus the
# reserve minus a burst of 50% of the shared pages, xenshare-stat(1)) at
# least the guest's size.  When the room is short and the daemon's savings
# have not grown for BENCH_DENSITY_SETTLE_S (default 15 s), the host is full.
# Without sharing (no daemon), a guest fits while free memory minus the
# same reserve holds it.  Reported: guests fitted with and without sharing
# and the ratio, the wall time of the fit, the daemon's CPU over it.
#
# Storm: every guest's vCPU rewrites half of the gfns it shares, all at
# once (`xensim storm`), with fresh content; each rewrite is an unshare
# that needs a free frame, and a vCPU that finds none is paused until the
# daemon makes memory (reserve, dom0 balloon) and resumes it.  Checked:
# no guest crashed, every storm ran to its end (every paused vCPU was
# resumed), `xensim verify` 0 mismatches.  Reported: the waits per guest
# (xensim's record of ended vCPU waits: the longest wait of each guest and
# the total time each guest waited; max and 99th percentile over the
# guests), the storm's wall time, the memory the daemon ballooned.
#   admitted    the fit's host itself (reserve 1G, dom0_balloon on): the
#               admission kept a burst of 50% free, so this storm is the
#               one the admission figure promises to absorb.
# Then the host is filled tighter than admission allows, as happens when
# guests are started without asking it: the same guests created again
# back to back (dom0_balloon off meanwhile, so that every storm starts with
# all of dom0), and a guest that does not share (the hog) taking free
# memory down to the storm's need minus half of what dom0 can give (dom0
# above dom0_min_memory): the storm needs more than is free and less than
# free plus dom0's share.  The need is taken at its upper bound, a frame
# for every gfn the storm rewrites (half of the guests' shared gfns).  Three storms on that host:
#   short_reserve     reserve 1G, dom0_balloon on
#   short_no_balloon  reserve 1G, dom0_balloon off
#   short_no_reserve  reserve 0, dom0_balloon on
# A storm whose guests make no progress for BENCH_DENSITY_STUCK_S (default
# 30 s), paused with no memory to be had, is reported as stuck, then the
# operator destroys the hog to release them.
set -u
. "$(dirname "$0")/lib.sh"

HOST_MIB=${BENCH_DENSITY_HOST_MIB:-16384}
GUEST_MIB=${BENCH_DENSITY_GUEST_MIB:-1024}
DOM0_MIB=${BENCH_DENSITY_DOM0_MIB:-2048}
RESERVE=${BENCH_DENSITY_RESERVE:-1G}
STUCK_S=${BENCH_DENSITY_STUCK_S:-30}
SETTLE_S=${BENCH_DENSITY_SETTLE_S:-15}
MAX_GUESTS=${BENCH_DENSITY_MAX:-80}
[ "$DOM0_MIB" -gt 512 ] || die "BENCH_DENSITY_DOM0_MIB must be above dom0_min_memory (512): the storms need dom0's balloon"
XST="$O/bin/xenshare-stat"
[ -x "$XST" ] || die "$XST not built"
GUEST_PAGES=$((GUEST_MIB * 256 + 256))   # RAM and its special pages, with slack
mib_of() { # SIZE (512M, 1G, 0): MiB
	case $1 in *G) echo $((${1%G} * 1024)) ;; *M) echo "${1%M}" ;; *) echo "$1" ;; esac
}

IDLE=$(corpus_raw idle)
PAGECACHE=$(corpus_raw pagecache)

# create_n I: creates the I-th guest of the mix (the same one in every
# run); 1 when the host refused it for want of memory
create_n() {
	local i=$1 name src writes=""
	case $((i % 4)) in
	1) name=idle$i src="sim_image = \"$IDLE\"" writes=1 ;;
	2) name=web$i src='sim_profile = "os=0.5,zero=0.15,dup=0.1,unique=0.25"' ;;
	3) name=pagecache$i src="sim_image = \"$PAGECACHE\"" writes=1 ;;
	0) name=app$i src='sim_profile = "os=0.3,zero=0.3,dup=0.1,unique=0.3"' ;;
	esac
	{
		printf 'name = "%s"\ntype = "pvh"\nmemory = %s\nmaxmem = %s\nvcpus = 1\n' \
			"$name" "$GUEST_MIB" "$GUEST_MIB"
		printf 'mem_sharing = "on"\n%s\nsim_seed = %s\n' "$src" "$i"
		[ -z "$writes" ] || printf 'sim_write_rate = 20\nsim_working_set = 4096\n'
	} > "$T/$name.cfg"
	"$XENSIM" create "$T/$name.cfg" > "$T/create.out" 2>&1 && return 0
	grep -q "Cannot allocate memory" "$T/create.out" ||
		die "create $name: $(cat "$T/create.out")"
	return 1
}
host_start() {
	"$XENSIM" start --mem "$HOST_MIB" --dom0-mem "$DOM0_MIB" --patched --pidfile "$T/sim.pid" \
		--log "$T/sim.log" >/dev/null || die "xensim start --mem $HOST_MIB"
}
daemon_conf() { # RESERVE BALLOON
	xsd_conf "reserve = $1" "dom0_balloon = $2" "dom0_min_memory = 512M" "pass_target = 0" \
		"cpu_cap = 100" "protocol = batched"
}
xst_json() { LD_LIBRARY_PATH="$SIMLIB" "$XST" --json -s "$T/run/control.sock"; }
free_pages() { "$XENSIM" info --json | jq -r '.free_mib * 256'; }

saved_now() { stats | jq -r .host.sharing_freed_pages; }
# converged: the savings have not grown by more than 0.2% (and 1 MiB) for
# SETTLE_S seconds.  A full
# pass over a 16 GiB host takes minutes on a loaded machine; new guests
# are shared within seconds of their creation (the daemon looks at new
# domains first), so a stall of the savings is the end of what the next
# pass would add.
converged() {
	local s0 s1 t0
	s0=$(saved_now) t0=$(date +%s)
	while sleep 1; do
		s1=$(saved_now)
		if [ $((s1 - s0)) -gt $((s0 / 500 + 256)) ]; then
			s0=$s1 t0=$(date +%s)
		elif [ $(( $(date +%s) - t0 )) -ge "$SETTLE_S" ]; then
			return 0
		fi
	done
}

# fit_sharing: guests one after another as admission allows; sets FITTED,
# FIT_S, FIT_CPU.  Full once the room is short of a guest and the savings
# have stopped growing.
fit_sharing() {
	local t0 c0 i=0 room
	t0=$(now_s) c0=$(cpu_s "$DPID")
	while [ "$i" -lt "$MAX_GUESTS" ]; do
		room=$(xst_json 2>/dev/null | jq -r '.headroom.room_pages // 0')
		if [ "$room" -lt "$GUEST_PAGES" ]; then
			converged
			room=$(xst_json 2>/dev/null | jq -r '.headroom.room_pages // 0')
			[ "$room" -ge "$GUEST_PAGES" ] || break
		fi
		create_n $((i + 1)) || { note "density: admission said yes, the create of $((i + 1)) failed"; break; }
		i=$((i + 1))
	done
	FITTED=$i
	FIT_S=$(calc "$(now_s) - $t0")
	FIT_CPU=$(calc "$(cpu_s "$DPID") - $c0")
}

# fit_plain: no daemon: a guest fits while free memory minus the reserve holds it
fit_plain() {
	local t0 i=0 reserve_pages
	reserve_pages=$(( $(mib_of "$RESERVE") * 256 ))
	t0=$(now_s)
	while [ "$i" -lt "$MAX_GUESTS" ] && [ $(( $(free_pages) - reserve_pages )) -ge "$GUEST_PAGES" ]; do
		create_n $((i + 1)) || break
		i=$((i + 1))
	done
	FITTED_PLAIN=$i
	FIT_PLAIN_S=$(calc "$(now_s) - $t0")
}

# refill N: the same N guests back to back, each as soon as its create
# succeeds, then the daemon settled
refill() {
	local i=0 tries
	while [ "$i" -lt "$1" ]; do
		tries=0
		until create_n $((i + 1)); do
			tries=$((tries + 1))
			[ "$tries" -lt 600 ] || die "refill: guest $((i + 1)) found no memory in 120 s"
			sleep 0.2
		done
		i=$((i + 1))
	done
	converged
}
# storm NAME: every guest rewrites half of its shared gfns; emits a result
storm() {
	local name=$1 names t0 t1 stuck=0 stuck_s=null list done_all c0 cpu bal0 bal1 free0 free1 freed0 mism crashed
	names=$("$XENSIM" list --json | jq -r '.[] | select(.domid > 0 and .name != "hog") | .name' | tr '\n' ' ')
	read -r free0 freed0 bal0 <<<"$(stats | jq -r '[.host.free_pages, .host.sharing_freed_pages, .host.dom0_balloon_pages] | @tsv')"
	c0=$(cpu_s "$DPID")
	t0=$(now_s)
	# shellcheck disable=SC2086
	"$XENSIM" storm $names > "$T/storm.out" || die "xensim storm"
	local last_progress t_last written prev=-1
	t_last=$(now_s)
	while :; do
		list=$("$XENSIM" list --json)
		done_all=$(printf '%s\n' "$list" | jq '[.[] | select(.domid > 0) | .storm_running // false] | any | not')
		[ "$done_all" = true ] && break
		written=$(printf '%s\n' "$list" | jq '[.[] | .storm_written // 0] | add')
		if [ "$written" != "$prev" ]; then prev=$written t_last=$(now_s); fi
		last_progress=$(calc "$(now_s) - $t_last")
		if [ "$stuck" = 0 ] && awk -v a="$last_progress" -v b="$STUCK_S" 'BEGIN { exit !(a >= b) }'; then
			stuck=$(printf '%s\n' "$list" | jq '[.[] | select(.paused_vcpus > 0)] | length')
			stuck_s=$(calc "$(now_s) - $t0")
			printf '%s\n' "$list" | jq -e '.[] | select(.name == "hog")' >/dev/null ||
				die "$name: $stuck guests stuck with no memory to be had, and no hog to destroy"
			note "density: $name: no progress for $STUCK_S s, $stuck guests paused; the hog is destroyed"
			"$XENSIM" destroy hog >/dev/null || die "destroy hog"
		fi
		awk -v a="$(calc "$(now_s) - $t0")" 'BEGIN { exit !(a >= 600) }' && die "$name: storm not over in 600 s"
		sleep 0.2
	done
	t1=$(calc "$(now_s) - $t0")
	cpu=$(calc "$(cpu_s "$DPID") - $c0")
	# every waiting vCPU has been resumed by now (the storms ended); let the
	# daemon settle its books before the last reading
	sleep 1
	read -r bal1 free1 <<<"$(stats | jq -r '[.host.dom0_balloon_pages, .host.free_pages] | @tsv')"
	list=$("$XENSIM" list --json)
	crashed=$(printf '%s\n' "$list" | jq '[.[] | select(.crashed)] | length')
	"$XENSIM" verify --json > "$T/verify.json" 2>&1
	mism=$(jq -r '.mismatches // "unknown"' "$T/verify.json" 2>/dev/null || echo unknown)
	[ "$crashed" = 0 ] || die "$name: $crashed guests crashed"
	[ "$mism" = 0 ] || die "$name: verify: $mism mismatches"
	printf '%s\n' "$list" | jq -e '[.[] | select(.domid > 0 and .name != "hog") | .paused_vcpus == 0 and .storm_written == .storm_pages] | all' \
		>/dev/null || die "$name: a storm did not finish or a vCPU is still paused: $(printf '%s\n' "$list" | jq -c '[.[] | {name, paused_vcpus, storm_written, storm_pages}]')"
	emit "$(printf '%s\n' "$list" | jq -c --arg run "$name" --arg reserve "$STORM_RESERVE" --arg balloon "$STORM_BALLOON" \
		--argjson t "$t1" --argjson cpu "$cpu" --argjson bal0 "$bal0" --argjson bal1 "$bal1" \
		--argjson free0 "$free0" --argjson free1 "$free1" --argjson freed0 "$freed0" --argjson stuck "$stuck" --argjson stuck_s "$stuck_s" \
		--argjson mism "$mism" --argjson hostmib "$HOST_MIB" --argjson gmib "$GUEST_MIB" '
		def pct(a; p): (a | sort) as $s | if ($s | length) == 0 then null
			else $s[((($s | length) * p / 100) | ceil) - 1] end;
		[.[] | select(.domid > 0 and .name != "hog")] as $g
		| ($g | map(.vcpu_pause_max_us / 1000)) as $maxw
		| ($g | map(.vcpu_pause_total_us / 1000)) as $totw
		| ([range(32)] | map(. as $b | [$g[].vcpu_pause_hist_us[$b]] | add)) as $hist
		| ($hist | add) as $nw
		| {bench: "density_storm", run: $run, reserve: $reserve, dom0_balloon: $balloon,
		   host_mib: $hostmib, guest_mib: $gmib, guests: ($g | length),
		   pages_written: ([$g[].storm_written] | add),
		   free_pages_before: $free0, saved_pages_before: $freed0,
		   guests_paused: ([$g[] | select(.vcpu_pauses > 0)] | length),
		   vcpu_waits: $nw,
		   wait_per_guest_max_ms: ($maxw | max), wait_per_guest_p99_ms: pct($maxw; 99),
		   paused_per_guest_max_ms: ($totw | max), paused_per_guest_p99_ms: pct($totw; 99),
		   wait_p99_ms_at_most: (if $nw == 0 then 0 else
			([foreach range(32) as $b (0; . + $hist[$b]; [., $b])] | map(select(.[0] >= $nw * 0.99)) | .[0][1]
			 | pow(2; . + 1) / 1000) end),
		   storm_frames_mib: (($free0 - $free1 + $bal1 - $bal0) / 256),
		   storm_s: $t, daemon_cpu_s: $cpu,
		   dom0_ballooned_mib: (($bal1 - $bal0) / 256), dom0_ballooned_total_mib: ($bal1 / 256),
		   stuck_guests: $stuck, stuck_at_s: $stuck_s,
		   crashed: 0, verify_mismatches: $mism}')"
}

# ---- fit with sharing, then its storm ------------------------------------------
note "density: fit with sharing ($HOST_MIB MiB host, $GUEST_MIB MiB guests, reserve $RESERVE)"
host_start
daemon_conf "$RESERVE" on
xsd_start
fit_sharing
read -r saved free bal <<<"$(stats | jq -r '[.host.sharing_freed_pages, .host.free_pages, .host.dom0_balloon_pages] | @tsv')"
note "density: $FITTED guests fitted with sharing in $FIT_S s, daemon CPU $FIT_CPU s"
FIT_JSON=$(jq -n --argjson n "$FITTED" --argjson t "$FIT_S" --argjson c "$FIT_CPU" --argjson saved "$saved" \
	--argjson free "$free" --argjson bal "$bal" '{fitted: $n, fit_s: $t, daemon_cpu_s: $c,
	 saved_pages: $saved, free_pages: $free, dom0_ballooned_pages: $bal}')
STORM_RESERVE=$RESERVE STORM_BALLOON=on
storm admitted
xsd_stop
sim_stop

# ---- the same guests without sharing -------------------------------------------
note "density: fit without sharing"
host_start
fit_plain
sim_stop
note "density: $FITTED_PLAIN guests fitted without sharing in $FIT_PLAIN_S s"
emit "$(jq -n --argjson s "$FIT_JSON" --argjson n0 "$FITTED_PLAIN" --argjson t0 "$FIT_PLAIN_S" \
	--argjson hostmib "$HOST_MIB" --argjson gmib "$GUEST_MIB" --argjson dom0 "$DOM0_MIB" --arg reserve "$RESERVE" '
	{bench: "density", host_mib: $hostmib, guest_mib: $gmib, dom0_mib: $dom0, reserve: $reserve,
	 admission: "xenshare-stat room (burst 50%) >= one guest; without sharing free - reserve >= one guest",
	 mix: ["idle image", "web profile", "pagecache image", "app profile"],
	 fitted_with_sharing: $s.fitted, fitted_without_sharing: $n0,
	 ratio: (if $n0 > 0 then $s.fitted / $n0 else null end),
	 fit_s: $s.fit_s, fit_without_sharing_s: $t0,
	 daemon_cpu_s: $s.daemon_cpu_s, daemon_cpu_percent_of_fit: ($s.daemon_cpu_s * 100 / $s.fit_s),
	 saved_mib_at_fit: ($s.saved_pages / 256), free_mib_at_fit: ($s.free_pages / 256),
	 dom0_ballooned_mib_at_fit: ($s.dom0_ballooned_pages / 256)}')"

# ---- a host filled past admission: three storms -----------------------------------
SHORT_PAGES=$(( (DOM0_MIB - 512) * 256 / 2 ))
for v in "short_reserve:$RESERVE:on" "short_no_balloon:$RESERVE:off" "short_no_reserve:0:on"; do
	IFS=: read -r name STORM_RESERVE STORM_BALLOON <<<"$v"
	note "density: storm $name: the same $FITTED guests, reserve $STORM_RESERVE, dom0_balloon $STORM_BALLOON"
	host_start
	# no ballooning while the guests are created back to back (free memory
	# dips below the reserve until the daemon has shared them): every storm
	# starts with all of dom0
	daemon_conf "$STORM_RESERVE" off
	xsd_start
	refill "$FITTED"
	daemon_conf "$STORM_RESERVE" "$STORM_BALLOON"
	kill -HUP "$DPID"
	sleep 1
	NEED_PAGES=$("$XENSIM" list --json | jq '[.[] | select(.domid > 0) | .shr_pages] | add / 2 | floor')
	want=$((NEED_PAGES - SHORT_PAGES))
	hog_mib=$(( ($(free_pages) - want) / 256 ))
	[ "$hog_mib" -gt 0 ] || die "$name: free memory already below the storm's need less dom0's share"
	guest hog "$hog_mib"
	note "density: $name: hog of $hog_mib MiB; free $(( $(free_pages) / 256 )) MiB, the storm needs about $((NEED_PAGES / 256)) MiB"
	storm "$name"
	xsd_stop
	sim_stop
done
