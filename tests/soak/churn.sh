#!/bin/sh
# churn.sh - savings that survive domain churn: the daemon on a host whose
# guests are destroyed, re-created, rebooted, paused and ballooned at random.
#
# A patched xensim host (`xensim start --patched`; CHURN_PATCHED=0 an
# unpatched one) runs CHURN_GUESTS guests:
# two from the real RAM images of ../shared/corpus (256 MiB each) and the
# rest 64 MiB guests of generated profiles; every guest's vCPU writes
# CHURN_WRITE_RATE pages/s over a working set of 1024 pages.  The real
# xenshared runs against it (as tests/integration/common.sh starts it).
# Then CHURN_EVENTS lifecycle events are drawn from a seeded generator (the
# seed is printed; CHURN_SEED=N replays the same sequence of events), one
# every CHURN_GAP seconds, each on a random guest slot:
#   recreate_same  destroy the guest, create a new guest (new name, new
#                  domid) of the same content (same image, or same profile
#                  and seed)
#   recreate_new   destroy it, create a new guest of other content (the
#                  other image, or another profile and seed)
#   reboot         xensim has no reboot: destroy it and create it again
#                  under the same name with its memory rewritten (a
#                  profile guest a new seed, an image guest the other image)
#   pause/unpause  pause a running guest; unpause a paused one (drawn with
#                  the same weight: when none is paused, a pause)
#   balloon        lower the guest's memory/target by 1-8 MiB as dom0
#                  (xensim's balloon driver gives the highest gfns back),
#                  never below half its memory; a guest at that floor is
#                  rebooted instead
# Events go on past CHURN_EVENTS until the daemon's share_attempts counter
# (pages offered to the hypervisor for a merge) reaches CHURN_MIN_SHARES.
#
# Every CHURN_SAMPLE events, one JSON line (stdout, and CHURN_OUT if set),
# "event": "sample", taken right after the event (savings under churn),
# then the daemon gets a full pass with no event and a "settled" line
# follows (where savings settle after that much churn; the first settled
# line, at 0 events, is the host before any event).  Each line has:
#   events, shares (share_attempts), saved (the daemon's
#   host.sharing_freed_pages), ideal (shr-ideal over the live guests, as
#   common.sh's `ideal`), volatile (the daemon's pages_volatile: pages
#   seen changing, which it leaves alone by design; the writers' working
#   sets), reachable = ideal - volatile, ratio = saved / reachable,
#   rss_kib (VmRSS of the daemon, /proc/PID/status), foreign_mappings and
#   nominated_unshared (`xensim info --json`).
#
# After the last event, the daemon gets one full pass started after it
# (its full_scans counter advances by two), then the run passes only if:
#   - saved >= CHURN_BAR (0.99) of the reachable ideal (else one more
#     pass and a new settled line, up to CHURN_PASSES passes in all)
#   - `xensim verify` finds 0 mismatches and the hypervisor's counters are
#     consistent (`xensim info` invariant_ok)
#   - the daemon is alive and its audit is clean
#   - daemon RSS grew by at most 16 bytes per guest page on the host since
#     the first sample (taken after the first passes over the CHURN_GUESTS
#     guests, before any event): docs/design.md gives the index a budget of
#     16 bytes per scanned guest page, so a run of churn may at most build
#     one more index of the host's size (tables rebuilt at another size,
#     allocator fragmentation); a per-domain leak of even its 5 per-gfn
#     bytes over hundreds of destroys is several times that
#   - foreign mappings come back to the steady value (what the daemon held
#     per sharing guest before any event, times the guests alive now)
#     within 30 s, and to 0 once the daemon has stopped (SIGTERM)
#   - at least CHURN_EVENTS events and CHURN_MIN_SHARES share attempts ran
# Two passes after that, a "later" line records where the savings went
# with more time (a figure, not a check).  Nominated-unshared frames (shared
# frames with one sharer) are recorded, not checked: their number follows
# the content, not the events (a destroyed guest's twins stay alone on
# their frames, tens of thousands after a corpus image goes, and a page
# whose content is nowhere else saves nothing either way), and from outside
# a nomination the engine lost looks the same as one it keeps; the engine
# finds those itself from Xen's shr_pages (docs/design.md, "Pages left
# nominated") and its audit checks the frames it believes shared.
#
# Output: the JSON lines on stdout, a "result" line last; progress and
# checks on stderr.  Exit 0 pass, 1 fail, 77 binaries or corpus missing.
# On failure the work directory (host log, daemon log) is kept and named.
#
# Settings (environment):
#   O                 build folder (required)
#   CHURN_EVENTS      lifecycle events (500)      CHURN_SEED  seed (random)
#   CHURN_MIN_SHARES  share attempts to reach (1000000)
#   CHURN_GUESTS      guests, >= 8 (8)            CHURN_GAP   s between events (0.3)
#   CHURN_SAMPLE      events per JSON line (50)   CHURN_WRITE_RATE pages/s (100)
#   CHURN_BAR         final ratio (0.99)          CHURN_OUT   JSON lines file
#   CHURN_PASSES      full passes after the last event the savings may
#                     take to reach CHURN_BAR (1)
#   CHURN_SETTLE      1/0 (1): after each sample, one more a full pass
#                     later, and the "later" line (figures, no check)
#   CHURN_PATCHED     patched hypervisor, 1/0 (1; 0: Xen 4.17's plain
#                     share, which cannot merge two shared frames: the
#                     savings check then fails, as docs/performance.md says)
set -u
here=$(cd "$(dirname "$0")" && pwd)
INTEGRATION_DIR="$here/../integration"
. "$INTEGRATION_DIR/common.sh"
CORPUS=${CHURN_CORPUS:-$CORPUS}
need_tool jq
need_corpus idle pagecache
need_built "$XSD" "$XENSIM" "$SIMLIB" "$IDEAL"

events_min=${CHURN_EVENTS:-500}
min_shares=${CHURN_MIN_SHARES:-1000000}
seed=${CHURN_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
nguests=${CHURN_GUESTS:-8}
gap=${CHURN_GAP:-0.3}
every=${CHURN_SAMPLE:-50}
wrate=${CHURN_WRITE_RATE:-100}
bar=${CHURN_BAR:-0.99}
out=${CHURN_OUT:-}
patched=${CHURN_PATCHED:-1}
settle=${CHURN_SETTLE:-1}
passes_max=${CHURN_PASSES:-1}
[ "$nguests" -ge 8 ] || { echo "CHURN_GUESTS must be at least 8" >&2; exit 2; }
# events beyond CHURN_EVENTS to reach CHURN_MIN_SHARES: at most this many
events_cap=$((events_min * 4 + 100))

say() { echo "churn: $*" >&2; }
fail() {
	KEEP=1
	say "FAIL: $* (seed $seed; logs kept in $T)"
	[ -f "$T/daemon.err" ] && tail -5 "$T/daemon.err" | sed 's/^/  daemon: /' >&2
	exit 1
}
failed=""
: >"$T/checks.jsonl"
check() {   # NAME OK(0/1) DETAIL
	if [ "$2" = 0 ]; then say "ok   $1${3:+: $3}"; else say "FAIL $1${3:+: $3}"; failed="$failed $1"; fi
	jq -cn --arg n "$1" --argjson ok "$([ "$2" = 0 ] && echo true || echo false)" --arg d "${3:-}" \
		'{check: $n, ok: $ok, detail: $d}' >>"$T/checks.jsonl"
}
emit() {   # one JSON line to stdout, CHURN_OUT and lines.jsonl
	printf '%s\n' "$1"
	printf '%s\n' "$1" >>"$T/lines.jsonl"
	[ -n "$out" ] && printf '%s\n' "$1" >>"$out"
	return 0
}
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# The event generator: a 31-bit LCG (glibc's TYPE_0 constants) in shell
# arithmetic, so a seed gives the same events on any machine and any sh.
R=$((seed % 2147483648))
# rnd N: a number in 0..N-1 in $r (high bits: the low ones of an LCG are weak)
rnd() {
	R=$(((R * 1103515245 + 12345) % 2147483648))
	r=$(((R / 65536) % $1))
}

PROFILES="os=0.5,zero=0.15,dup=0.1,unique=0.25 os=0.3,zero=0.4,dup=0.1,unique=0.2 os=0.6,zero=0.1,dup=0.05,unique=0.25 os=0.4,zero=0.2,dup=0.2,unique=0.2"
nth() { shift "$1"; echo "$1"; }   # nth I WORDS...: the I-th word (1-based)
other_image() { [ "$1" = idle ] && echo pagecache || echo idle; }

# Slot state (slot i: 1..nguests): name, kind (image/profile), image,
# profile index, seed, generation, paused, target KiB, memory MiB.
get() { eval "echo \"\$${1}_$2\""; }
set_() { eval "${1}_$2=\$3"; }

# mkguest SLOT: create the slot's guest from its state.
mkguest() {
	s=$1
	name=$(get name "$s") mib=$(get mib "$s")
	{
		printf 'name = "%s"\ntype = "hvm"\nmemory = %s\nvcpus = 1\non_crash = "preserve"\n' "$name" "$mib"
		printf 'mem_sharing = "on"\nsim_write_rate = %s\nsim_working_set = 1024\n' "$wrate"
		printf 'sim_seed = %s\n' "$(get seed "$s")"
		if [ "$(get kind "$s")" = image ]; then
			printf 'sim_image = "%s/%s.raw.zst"\n' "$CORPUS" "$(get img "$s")"
		else
			# shellcheck disable=SC2086 # the list is split into words on purpose
			printf 'sim_profile = "%s"\nsim_os_dir = "/usr/lib/x86_64-linux-gnu"\n' \
				"$(nth "$(get prof "$s")" $PROFILES)"
		fi
	} >"$T/$name.cfg"
	"$XENSIM" create "$T/$name.cfg" >>"$T/create.log" 2>&1 || fail "xensim create $name: $(tail -1 "$T/create.log")"
	set_ paused "$s" 0
	set_ target "$s" $((mib * 1024))
}

# ---- host, guests, daemon ------------------------------------------------------
img_mib=256 prof_mib=64
guest_mib=$((2 * img_mib + (nguests - 2) * prof_mib))
host_mib=$((guest_mib + 64 + 128))
say "seed $seed: $nguests guests ($guest_mib MiB) writing $wrate pages/s each, >= $events_min events and"
say "  >= $min_shares share attempts, sample every $every; reproduce with CHURN_SEED=$seed (work dir $T)"
hvopt=""
[ "$patched" = 1 ] && hvopt="--patched"
"$XENSIM" start --mem "$host_mib" --dom0-mem 64 $hvopt --debug-build \
	--pidfile "$T/sim.pid" --log "$T/sim.log" >/dev/null || fail "xensim start $hvopt"
i=0
while [ $i -lt "$nguests" ]; do
	i=$((i + 1))
	set_ gen $i 0
	set_ name $i "c$i"
	set_ seed $i $((seed % 100000 * 100 + i))
	if [ $i -le 2 ]; then
		set_ kind $i image
		set_ mib $i $img_mib
		set_ img $i "$([ $i = 1 ] && echo idle || echo pagecache)"
	else
		set_ kind $i profile
		set_ mib $i $prof_mib
		set_ prof $i $(((i - 3) % 4 + 1))
	fi
	mkguest $i
done
write_conf <<CFG
pass_target = 2
CFG
xsd_start || fail "the daemon did not come up (see $T/daemon.err)"
XSD_PID=$(xsd_pid)
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$XSD_PID/status" 2>/dev/null; }
live_ids() { "$XENSIM" list --json | jq -r '.[] | select(.domid > 0) | .domid' | tr '\n' ' '; }
# wait_passes N: until the daemon's full_scans advanced by N (a pass of
# this host takes a few seconds; 600 s leaves room for a loaded machine)
wait_passes() {
	base=$(stats | jq -r '.daemon.full_scans') || fail "stats unreachable"
	wait_for 600 scans_at_least $((base + $1)) || fail "no $1 full pass(es) within 600 s"
}

# sample EVENTS KIND: one JSON line of the host's state; KIND "sample"
# (right after an event) or "settled" (a full pass after it)
sample() {
	stats >"$T/stats.json" || fail "daemon stats unreachable after $1 events"
	"$XENSIM" info --json >"$T/info.json" || fail "xensim info failed after $1 events"
	# shellcheck disable=SC2046
	LD_LIBRARY_PATH="$SIMLIB" "$IDEAL" $(live_ids) >"$T/ideal.json" || fail "shr-ideal failed after $1 events"
	line=$(jq -cn --arg kind "$2" --argjson ev "$1" --argjson t "$(($(date +%s) - t0))" --argjson rss "$(rss)" \
		--slurpfile s "$T/stats.json" --slurpfile i "$T/info.json" --slurpfile d "$T/ideal.json" '
		$s[0] as $s | $i[0] as $i | ($d[0].ideal - $s.counters.pages_volatile) as $reach |
		{event: $kind, events: $ev, t: $t, shares: $s.counters.share_attempts,
		 saved: $s.host.sharing_freed_pages, ideal: $d[0].ideal,
		 volatile: $s.counters.pages_volatile, reachable: $reach,
		 ratio: (if $reach > 0 then ($s.host.sharing_freed_pages / $reach * 10000 | round) / 10000 else 0 end),
		 ratio_exact: (if $d[0].ideal > 0 then ($s.host.sharing_freed_pages / $d[0].ideal * 10000 | round) / 10000 else 0 end),
		 rss_kib: $rss, foreign_mappings: $i.foreign_mappings,
		 nominated_unshared: $i.nominated_unshared, frame_merges: $s.counters.frame_merges,
		 guests: ([$i.domains[] | select(.domid > 0)] | length),
		 guest_pages: ([$i.domains[] | select(.domid > 0) | .tot_pages + .shr_pages] | add)}')
	emit "$line"
}

t0=$(date +%s)
wait_passes 2
alive "$XSD_PID" || fail "the daemon died in its first passes"
sample 0 settled
rss0=$(printf '%s\n' "$line" | jq .rss_kib)
maps0=$(printf '%s\n' "$line" | jq .foreign_mappings)
say "baseline: $(printf '%s\n' "$line" | jq -c '{saved, reachable, ratio, rss_kib, foreign_mappings, nominated_unshared}')"

# ---- the events ----------------------------------------------------------------
n=0 shares=0 settled_at=-1
n_same=0 n_new=0 n_reboot=0 n_pause=0 n_unpause=0 n_balloon=0
# destroy_slot SLOT: the slot's guest goes (unpaused first is not needed:
# xl destroy takes a paused domain too)
destroy_slot() {
	"$XENSIM" destroy "$(get name "$1")" >/dev/null 2>&1 || fail "destroy $(get name "$1") (event $n)"
}
# fresh content for SLOT: the other image, or another profile and a new seed
new_content() {
	if [ "$(get kind "$1")" = image ]; then
		set_ img "$1" "$(other_image "$(get img "$1")")"
	else
		rnd 3
		set_ prof "$1" $((($(get prof "$1") + r) % 4 + 1))
		rnd 1000000
		set_ seed "$1" "$r"
	fi
}
while [ $n -lt "$events_min" ] || { [ "$shares" -lt "$min_shares" ] && [ $n -lt "$events_cap" ]; }; do
	n=$((n + 1))
	rnd "$nguests"
	s=$((r + 1))
	rnd 11
	kind=$r
	# balloon at its floor: reboot instead (a reboot gives it its memory back)
	if [ $kind = 10 ] && [ $(($(get target $s) - 8192)) -lt $(($(get mib $s) * 512)) ]; then
		kind=4
	fi
	case $kind in
	0 | 1) # recreate_same: a new guest of the same content
		destroy_slot $s
		set_ gen $s $(($(get gen $s) + 1))
		set_ name $s "c${s}g$(get gen $s)"
		mkguest $s
		n_same=$((n_same + 1)) ;;
	2 | 3) # recreate_new: a new guest of other content
		destroy_slot $s
		set_ gen $s $(($(get gen $s) + 1))
		set_ name $s "c${s}g$(get gen $s)"
		new_content $s
		mkguest $s
		n_new=$((n_new + 1)) ;;
	4 | 5) # reboot: the same name, memory rewritten
		destroy_slot $s
		if [ "$(get kind $s)" = image ]; then
			set_ img $s "$(other_image "$(get img $s)")"
		else
			rnd 1000000
			set_ seed $s "$r"
		fi
		mkguest $s
		n_reboot=$((n_reboot + 1)) ;;
	6 | 7 | 8 | 9) # pause or unpause
		p=0
		for j in $(seq 1 "$nguests"); do [ "$(get paused "$j")" = 1 ] && p=$j; done
		if [ $kind -ge 8 ] && [ "$p" != 0 ]; then
			"$XENSIM" unpause "$(get name "$p")" >/dev/null 2>&1 || fail "unpause $(get name "$p") (event $n)"
			set_ paused "$p" 0
			n_unpause=$((n_unpause + 1))
		elif [ "$(get paused $s)" = 1 ]; then
			"$XENSIM" unpause "$(get name $s)" >/dev/null 2>&1 || fail "unpause $(get name $s) (event $n)"
			set_ paused $s 0
			n_unpause=$((n_unpause + 1))
		else
			"$XENSIM" pause "$(get name $s)" >/dev/null 2>&1 || fail "pause $(get name $s) (event $n)"
			set_ paused $s 1
			n_pause=$((n_pause + 1))
		fi ;;
	10) # balloon: 1-8 MiB less
		rnd 8
		tgt=$(($(get target $s) - (r + 1) * 1024))
		id=$(domid_of "$(get name $s)")
		"$XENSIM" xenstore-write "/local/domain/$id/memory/target" "$tgt" >/dev/null 2>&1 ||
			fail "balloon $(get name $s) to $tgt KiB (event $n)"
		set_ target $s $tgt
		n_balloon=$((n_balloon + 1)) ;;
	esac
	sleep "$gap"
	if [ $((n % every)) = 0 ]; then
		alive "$XSD_PID" || fail "the daemon died by event $n"
		sample $n sample
		shares=$(printf '%s\n' "$line" | jq .shares)
		say "$n events: $(printf '%s\n' "$line" | jq -c '{shares, ratio_exact, rss_kib, foreign_mappings, nominated_unshared}')"
		if [ "$settle" = 1 ]; then
			wait_passes 2
			sample $n settled
			settled_at=$n
			say "  a pass later: $(printf '%s\n' "$line" | jq -c '{ratio, ratio_exact, rss_kib, foreign_mappings, nominated_unshared}')"
		fi
	fi
done
events_json=$(jq -cn --argjson a $n_same --argjson b $n_new --argjson c $n_reboot --argjson d $n_pause \
	--argjson e $n_unpause --argjson f $n_balloon \
	'{recreate_same: $a, recreate_new: $b, reboot: $c, pause: $d, unpause: $e, balloon: $f}')
say "$n events done: $events_json"

# ---- the checks ----------------------------------------------------------------
alive "$XSD_PID" || fail "the daemon died by the last event"
# one full pass started after the last event: the pass under way then ends,
# the next one runs whole (taken already when the last event was sampled)
if [ "$settled_at" != $n ]; then
	wait_passes 2
	sample $n settled
fi
# more passes, up to CHURN_PASSES in all, while the savings are short
passes=1
while ! at_least "$(printf '%s\n' "$line" | jq .ratio)" "$bar" && [ $passes -lt "$passes_max" ]; do
	wait_passes 1
	passes=$((passes + 1))
	sample $n settled
done
final=$line
shares=$(printf '%s\n' "$final" | jq .shares)
[ $n -ge "$events_min" ]
check events $? "$n lifecycle events (>= $events_min): $events_json"
[ "$shares" -ge "$min_shares" ]
check share-attempts $? "$shares share attempts (>= $min_shares)"
r_final=$(printf '%s\n' "$final" | jq .ratio)
at_least "$r_final" "$bar"
check savings $? "$(printf '%s\n' "$final" | jq -r '"\(.saved) saved of \(.reachable) reachable (\(.ideal) byte-exact, \(.volatile) volatile)"') = $r_final, bar $bar, $passes full pass(es) after the last event (at most $passes_max)"

# two passes more (a figure, not a check): tells a slow convergence from
# savings lost for good
later=null
if [ "$settle" = 1 ]; then
	wait_passes 2
	sample $n later
	later=$line
fi

ctl ping | jtrue '.ok == true'
check daemon-ping $? ""
ctl audit >"$T/audit.json" 2>&1
jtrue '.ok == true and .engine_violations == 0 and .table_violations == 0' <"$T/audit.json"
check daemon-audit $? "$(head -c 300 "$T/audit.json")"

rss1=$(printf '%s\n' "$final" | jq .rss_kib)
pages1=$(printf '%s\n' "$final" | jq .guest_pages)
budget_kib=$((pages1 * 16 / 1024))
if [ "${VARIANT:-release}" = san ] || ldd "$XSD" 2>/dev/null | grep -q libasan; then
	# ASan's quarantine keeps freed memory resident: RSS says nothing of
	# the daemon's own growth; LeakSanitizer judges leaks at its exit
	# (the sanitizer reports checked below)
	check rss 0 "daemon RSS $rss0 -> $rss1 KiB: not judged under ASan"
else
	[ $((rss1 - rss0)) -le $budget_kib ]
	check rss $? "daemon RSS $rss0 -> $rss1 KiB, growth $((rss1 - rss0)) KiB, budget 16 B x $pages1 guest pages = $budget_kib KiB"
fi

# mappings: what the daemon held per guest before any event, for the guests
# alive now (the scan's own batch mappings come and go: polled)
live=$(printf '%s\n' "$final" | jq .guests)
steady=$((maps0 * live / nguests))
maps_steady() { [ "$("$XENSIM" info --json | jq .foreign_mappings)" -le "$steady" ]; }
wait_for 30 maps_steady
check mappings-steady $? "$("$XENSIM" info --json | jq .foreign_mappings) frames mapped, steady value $steady ($maps0 for $nguests guests)"

"$XENSIM" verify >"$T/verify.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q " 0 mismatches" "$T/verify.out"
check verify $? "$(tail -1 "$T/verify.out")"
"$XENSIM" info --json | jtrue '.invariant_ok == true'
check counters $? "hypervisor's sum(shr_pages) = freed + used"

kill -TERM "$XSD_PID"
wait_for 20 dead "$XSD_PID"
check daemon-stops $? "SIGTERM"
unmapped() { [ "$("$XENSIM" info --json | jq .foreign_mappings)" = 0 ]; }
wait_for 5 unmapped
check no-mapping-left $? "$("$XENSIM" info --json | jq .foreign_mappings) frames mapped after the daemon stopped"
for f in "$T"/asan.* "$T"/ubsan.*; do
	[ -e "$f" ] && check sanitizer 1 "$f: $(head -3 "$f" | tr '\n' ' ')"
done

# ---- result ------------------------------------------------------------------
emit "$(jq -cn --argjson seed "$seed" --argjson n "$n" --argjson ev "$events_json" \
	--argjson passes "$passes" --argjson final "$final" --argjson later "$later" --argjson rss0 "$rss0" --argjson secs $(($(date +%s) - t0)) \
	--argjson smin "$(jq -s '[.[] | select(.event == "settled") | .ratio_exact] | min' "$T/lines.jsonl")" \
	--slurpfile checks "$T/checks.jsonl" '
	{event: "result", pass: ([$checks[] | .ok] | all), seed: $seed, events: $n, kinds: $ev,
	 seconds: $secs, passes: $passes, shares: $final.shares, final_ratio: $final.ratio, final_ratio_exact: $final.ratio_exact, rss_kib_first: $rss0,
	 rss_kib_last: $final.rss_kib, settled_min_ratio_exact: $smin,
	 later_ratio: $later.ratio?, later_ratio_exact: $later.ratio_exact?, checks: $checks}')"
if [ -n "$failed" ]; then
	KEEP=1
	say "FAILED:$failed (seed $seed; logs kept in $T)"
	exit 1
fi
say "passed: $n events, $shares share attempts, ratio $r_final, seed $seed, $(($(date +%s) - t0)) s"
exit 0
