#!/bin/sh
# soak.sh - the daemon against a host that injects faults, for a long time.
#
# xenshared (started as tests/integration/common.sh starts it) runs
# against a simulated Xen 4.17 host started with `xensim start --faults`
# (hypercalls fail, foreign maps fail whole or per page, notifications are
# lost or doubled; docs/xensim.md).  SOAK_GUESTS guests in two sharing
# groups write all the time; from 30% to 70% of the run a memory hog takes
# all free memory, so unshares meet ENOMEM and the daemon must balloon dom0
# and resume the guests.  The host is sampled every SOAK_SAMPLE seconds.
#
# The run passes only if, at the end:
#   - `xensim verify` finds no mismatch (no guest page lost or wrong)
#   - no guest crashed or disappeared (they run with on_crash = "preserve")
#   - no guest was frozen: no vCPU stayed paused on an unshare ENOMEM for
#     SOAK_FROZEN seconds during which the host had SOAK_FREE_MIN free frames
#   - no frame was ever shared across the two groups (`xensim frames`)
#   - the daemon is alive, answers `xenshared -C ping`, and its `audit` is
#     clean
#   - the sharing counters are consistent (`xensim info` invariant_ok)
#   - once the daemon has stopped (SIGTERM), no frame is foreign-mapped
#   - faults were injected (hypercall and map-page counts above zero), and
#     the hog phase made unshares run out of memory (`unshare_enomem`)
# Nothing is skipped silently: every check prints ok or FAIL.
#
# Output: one JSON object per line on stdout -- a "sample" line every
# 10th sample, then one "result" line with every check -- and a plain
# summary on stderr.  Exit 0 pass, 1 fail (also when a tool or binary is
# missing).  On failure the work directory (host log, daemon log, samples)
# is kept and named; the seed that reproduces the faults is printed first.
#
# Settings (environment):
#   O              build folder (required), e.g. build/release
#   SOAK_SECONDS   run time (600)          SOAK_SEED    fault seed (random)
#   SOAK_RATE      fault rate (0.01)       SOAK_KINDS   fault kinds (all)
#   SOAK_GUESTS    guests, >= 4 (4)        SOAK_GUEST_MIB  each (128)
#   SOAK_WRITE_RATE pages/s per guest (300) SOAK_HOG     ENOMEM phase, 1/0 (1)
#   SOAK_PATCHED   patched hypervisor, 1/0 (1)
#   SOAK_FROZEN    seconds a vCPU may wait with memory free (15)
#   SOAK_FREE_MIN  frames that count as "memory free" (1024)
#   SOAK_SAMPLE    seconds between samples (2)
set -u
. "$(dirname "$0")/../integration/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

secs=${SOAK_SECONDS:-600}
seed=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
rate=${SOAK_RATE:-0.01}
kinds=${SOAK_KINDS:-all}
nguests=${SOAK_GUESTS:-4}
gmib=${SOAK_GUEST_MIB:-128}
wrate=${SOAK_WRITE_RATE:-300}
hog=${SOAK_HOG:-1}
patched=${SOAK_PATCHED:-1}
frozen_s=${SOAK_FROZEN:-15}
free_min=${SOAK_FREE_MIN:-1024}
sample_s=${SOAK_SAMPLE:-2}
[ "$nguests" -ge 4 ] || { echo "SOAK_GUESTS must be at least 4" >&2; exit 2; }

say() { echo "soak: $*" >&2; }
failed=""
check() {   # NAME OK(0/1) DETAIL
	if [ "$2" = 0 ]; then
		say "ok   $1${3:+: $3}"
	else
		say "FAIL $1${3:+: $3}"
		failed="$failed $1"
	fi
	printf '%s\n' "$(jq -cn --arg n "$1" --argjson ok "$([ "$2" = 0 ] && echo true || echo false)" \
		--arg d "${3:-}" '{check: $n, ok: $ok, detail: $d}')" >>"$T/checks.jsonl"
}
now() { awk '{ print $1 }' /proc/uptime; }

say "seed $seed, rate $rate, kinds $kinds, $secs s, $nguests guests of $gmib MiB writing $wrate pages/s,"
say "  hog $hog, patched $patched; reproduce with SOAK_SEED=$seed (work dir $T)"

# ---- host, guests, daemon ------------------------------------------------------
# dom0 can balloon out 4 MiB (down to dom0_min_memory): enough to answer
# the first unshare ENOMEMs, not the whole hog phase, so guests also wait
# with no memory to be had until the hog goes
host_mib=$((nguests * gmib + 68 + 64))
hvopt=""
[ "$patched" = 1 ] && hvopt="--patched"
# shellcheck disable=SC2086
sim_start --mem "$host_mib" --dom0-mem 68 $hvopt --debug-build --faults "$seed:$rate:$kinds"
i=0
while [ $i -lt "$nguests" ]; do
	i=$((i + 1))
	group=blue
	[ $((i % 2)) = 0 ] && group=red
	cat >"$T/s$i.cfg" <<CFG
name = "s$i"
type = "pvh"
memory = $gmib
vcpus = 2
on_crash = "preserve"
mem_sharing = "on"
mem_sharing_group = "$group"
sim_profile = "os=0.5,zero=0.2,dup=0.1,unique=0.2"
sim_seed = $((seed % 100000 + i))
sim_write_rate = $wrate
sim_working_set = $((gmib * 256))
sim_write_aim = "0.2"
CFG
	"$XENSIM" create "$T/s$i.cfg" >>"$T/create.log" 2>&1 || fail "create s$i: $(tail -1 "$T/create.log")"
done
write_conf <<CFG
pass_target = 5
dom0_balloon = on
dom0_min_memory = 64M
CFG
xsd_start || fail "the daemon did not come up under faults (see $T/daemon.err)"
say "daemon pid $XSD_PID up; host $host_mib MiB"

# ---- the run -------------------------------------------------------------------
t0=$(now)
deadline=$(awk -v a="$t0" -v s="$secs" 'BEGIN { print a + s }')
hog_on=$(awk -v a="$t0" -v s="$secs" 'BEGIN { print a + s * 0.30 }')
hog_off=$(awk -v a="$t0" -v s="$secs" 'BEGIN { print a + s * 0.70 }')
hog_state=0      # 0 before, 1 running, 2 destroyed
freed_at_hog=""
n=0 last_iso=0 daemon_gone=""
: >"$T/samples.jsonl"
: >"$T/cross.jsonl"
later() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
while ! later "$(now)" "$deadline"; do
	t=$(now)
	if [ "$hog" = 1 ] && [ $hog_state = 0 ] && later "$t" "$hog_on"; then
		free=$("$XENSIM" info --json | jq .free_mib)
		printf 'name = "hog"\ntype = "hvm"\nmemory = %s\n' "$((free - 1))" >"$T/hog.cfg"
		freed_at_hog=$("$XENSIM" info --json | jq .sharing_freed_pages)
		if "$XENSIM" create "$T/hog.cfg" >>"$T/create.log" 2>&1; then
			say "t=$(awk -v a="$t" -v b="$t0" 'BEGIN { printf "%d", a - b }') s: hog of $((free - 1)) MiB takes the free memory"
		else
			say "hog not created: $(tail -1 "$T/create.log")"
		fi
		hog_state=1
	fi
	if [ $hog_state = 1 ] && later "$t" "$hog_off"; then
		"$XENSIM" destroy hog >/dev/null 2>&1
		say "t=$(awk -v a="$t" -v b="$t0" 'BEGIN { printf "%d", a - b }') s: hog destroyed, memory free again"
		hog_state=2
	fi
	"$XENSIM" list --json >"$T/list.json" 2>/dev/null && "$XENSIM" info --json >"$T/info.json" 2>/dev/null ||
		fail "the host stopped answering (see $T/sim.log)"
	jq -c --argjson t "$t" --slurpfile l "$T/list.json" \
		'{t: $t, free: .free_frames, freed: .sharing_freed_pages, mapped: .foreign_mappings,
		  nominated: .nominated_unshared, faults: .faults.injected,
		  doms: [$l[0][] | select(.domid != 0) | {name, domid, paused_vcpus,
			 pause_ms: .longest_vcpu_pause_ms, crashed, state}]}' \
		"$T/info.json" >>"$T/samples.jsonl"
	n=$((n + 1))
	[ $((n % 10)) = 1 ] && tail -1 "$T/samples.jsonl" | jq -c '{event: "sample"} + .'
	if ! alive "$XSD_PID"; then
		daemon_gone="died at t=$(awk -v a="$t" -v b="$t0" 'BEGIN { printf "%d", a - b }') s"
		say "the daemon $daemon_gone"
		break
	fi
	# isolation every ~30 s: a frame with sharers in both groups is kept as evidence
	if [ $((n - last_iso)) -ge $((30 / sample_s)) ]; then
		frames_across_groups >>"$T/cross.jsonl" || fail "xensim frames failed"
		last_iso=$n
	fi
	sleep "$sample_s"
done
[ $hog_state = 1 ] && "$XENSIM" destroy hog >/dev/null 2>&1

# ---- the checks ----------------------------------------------------------------
: >"$T/checks.jsonl"
if [ -z "$daemon_gone" ] && alive "$XSD_PID"; then
	check daemon-alive 0
	ctl ping | jtrue '.ok == true'
	check daemon-ping $? "$(ctl ping 2>&1 | head -c 200)"
	ctl audit >"$T/audit.json" 2>&1
	jtrue '.ok == true' <"$T/audit.json"
	check daemon-audit $? "$(head -c 300 "$T/audit.json")"
	stats >"$T/stats.json" 2>/dev/null
else
	check daemon-alive 1 "${daemon_gone:-not running at the end}; last lines of $T/daemon.err: $(tail -3 "$T/daemon.err" | tr '\n' ' ')"
fi

frames_across_groups >>"$T/cross.jsonl" || fail "xensim frames failed"
check isolation "$([ -s "$T/cross.jsonl" ] && echo 1 || echo 0)" \
	"$(wc -l <"$T/cross.jsonl") frames with sharers in both groups$([ -s "$T/cross.jsonl" ] && echo ": $(head -c 300 "$T/cross.jsonl")")"

"$XENSIM" list --json >"$T/list.json"
bad=$(jq -r --argjson n "$nguests" '[.[] | select(.name | test("^s[0-9]+$"))] as $g |
	([$g[] | select(.crashed) | .name] + (if ($g | length) < $n then ["missing: \($n - ($g | length)) guests"] else [] end)) | join(" ")' "$T/list.json")
check no-crash "$([ -z "$bad" ] && echo 0 || echo 1)" "$bad"

# frozen: paused for frozen_s or more while every sample of the last frozen_s seconds had memory free
jq -sc --argjson n "$frozen_s" --argjson m "$free_min" '
	. as $s | [ $s[] as $cur | $cur.doms[] | select(.pause_ms >= $n * 1000) as $d
	  | [ $s[] | select(.t >= $cur.t - $n and .t <= $cur.t) | .free ] | min as $mf
	  | select($mf >= $m)
	  | {t: $cur.t, name: $d.name, pause_ms: $d.pause_ms, min_free: $mf} ]' \
	"$T/samples.jsonl" >"$T/frozen.json"
longest=$(jq -s '[.[].doms[].pause_ms] | max // 0' "$T/samples.jsonl")
check not-frozen "$([ "$(jq length "$T/frozen.json")" = 0 ] && echo 0 || echo 1)" \
	"longest vCPU wait seen ${longest} ms; frozen: $(jq -c '.[:3]' "$T/frozen.json")"

"$XENSIM" verify >"$T/verify.out" 2>&1
check verify $? "$(tail -1 "$T/verify.out")"
"$XENSIM" info --json >"$T/info.json"
jtrue '.invariant_ok == true' <"$T/info.json"
check counters $? "freed $(jq .sharing_freed_pages "$T/info.json"), used $(jq .sharing_used_frames "$T/info.json"), sum(shr_pages) $(jq .sum_shr_pages "$T/info.json")"

if [ "$hog" = 1 ]; then
	jtrue '.unshare_enomem > 0' <"$T/info.json"
	check enomem-phase $? "$(jq .unshare_enomem "$T/info.json") unshares found no free frame (pages saved when the hog came: ${freed_at_hog:-none}); daemon memory_requests $(jq '.host.memory_requests // "?"' "$T/stats.json" 2>/dev/null)"
fi
# faults really happened: some at all, and every kind that had operations
# enough to expect 10 faults (rate * operations >= 10) had at least one
injected=$(jq -c '.faults.injected' "$T/info.json")
ops=$(jq -c '.faults.operations' "$T/info.json")
jtrue '.faults as $f | ([$f.injected[]] | add) > 0 and
	([$f.kinds[] | select($f.rates[.] * $f.operations[.] >= 10 and $f.injected[.] == 0)] | length) == 0' <"$T/info.json"
check faults-injected $? "$injected of $ops"

if alive "$XSD_PID"; then
	kill -TERM "$XSD_PID"
	wait_for 20 dead "$XSD_PID"
	check daemon-stops $? "SIGTERM"
fi
unmapped() { [ "$("$XENSIM" info --json | jq .foreign_mappings)" = 0 ]; }
wait_for 5 unmapped
check no-mapping-left $? "$("$XENSIM" info --json | jq .foreign_mappings) frames mapped after the daemon stopped"
"$XENSIM" verify >"$T/verify2.out" 2>&1
check verify-after-stop $? "$(tail -1 "$T/verify2.out")"
for f in "$T"/asan.* "$T"/ubsan.*; do
	[ -e "$f" ] && check sanitizer 1 "$f: $(head -3 "$f" | tr '\n' ' ')"
done

# ---- result ------------------------------------------------------------------
jq -cn --arg seed "$seed" --arg rate "$rate" --arg kinds "$kinds" --argjson secs "$secs" \
	--argjson guests "$nguests" --slurpfile checks "$T/checks.jsonl" \
	--slurpfile stats "$([ -s "$T/stats.json" ] && echo "$T/stats.json" || echo /dev/null)" \
	--argjson faults "$(jq -c .faults "$T/info.json")" --arg dir "$T" \
	'{event: "result", pass: ([$checks[] | .ok] | all), seed: ($seed | tonumber), rate: ($rate | tonumber),
	  kinds: $kinds, seconds: $secs, guests: $guests, faults: $faults,
	  daemon: ($stats[0] // {} | {host, counters: (.counters // {} | {pages_sharing, share_attempts, share_raced, share_failed, unshares, hypercalls, mappings})}),
	  checks: $checks, work_dir: $dir}'
if [ -n "$failed" ]; then
	say "FAILED:$failed (seed $seed; logs kept in $T: sim.log, daemon.err, samples.jsonl)"
	exit 1
fi
say "passed ($secs s, seed $seed, faults $injected)"
exit 0
