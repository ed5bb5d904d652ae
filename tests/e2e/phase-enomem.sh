# Phase "enomem" of the e2e dom0 (sourced by dom0-init.sh after the other
# phases; uses its helpers: say, check, daemon_ctl, wait_for, verdicts, ...).
# See docs/e2e.md, "Unshare ENOMEM".
#
# What it proves on the real patched hypervisor (hypervisor-patch 0004/0005):
# when a guest writes shared pages and the host has no free frame left for
# the private copies, Xen pauses the writing vCPU and raises VIRQ_ENOMEM
# instead of crashing the domain; xenshared (dom0_balloon = on) lowers
# dom0's memory target, never below dom0_min_memory, and resumes the
# waiting vCPUs (xc_memshr_enomem_resume) once memory is free again; the
# guest's data is intact afterwards.
#
# How:
#  1. the daemon is reloaded with reserve = 0 (no ballooning ahead of
#     time: the VIRQ path is the only one left), dom0_balloon = on and
#     dom0_min_memory = dom0's target - ENOMEM_BALLOON_MB, so ballooning
#     alone cannot cover the storm below and the guest must wait;
#  2. a "hog" domain (empty, never runs) is given every free host page
#     but ENOMEM_LEAVE pages (e2e-enomem hog: exact, page by page);
#  3. the ring path first (enomem_ring): guest3, which the daemon scans and
#     whose sharing vm_event ring it enabled, overwrites the first half of
#     its ~7680 shared common pages (e2e-storm = a): ~15 MiB of unshares
#     while ~9 MiB exist.  Upstream Xen puts the request on the ring and
#     pauses the vCPU; the daemon must balloon, answer the ring and resume
#     it.  While guest3 waits again, the stop protocol of the rings: a
#     SIGTERM, a restart (takeover while memory is short) and a kill -9
#     leave the ring enabled with the request unanswered; the hog goes
#     while no daemon runs, and the next daemon takes the ring over and
#     guest3 finishes;
#  4. the path of patch 0004: guest1, which has no sharing ring (dom0-init.sh
#     took its ring page away before the daemon saw it), is told through
#     xenstore (/local/domain/<id>/e2e-storm = b, read by guest-fill
#     --storm-node) to overwrite the second half: guest3 still holds those
#     frames, so each write needs a new frame (a last sharer would be
#     converted in place, needing none);
#  5. once it waits at the floor (listed by xc_memshr_enomem_waiters), the
#     hog is destroyed: the daemon must resume it, and the storm and the
#     guest's verification must complete.
ENOMEM_LEAVE=${E2E_ENOMEM_LEAVE:-256}          # pages left free by the hog
ENOMEM_BALLOON_MB=${E2E_ENOMEM_BALLOON_MB:-8}   # how far dom0 may balloon

enomem_info() { echo "E2E INFO enomem t=$(( $(cut -d. -f1 /proc/uptime) - T0 ))s $*"; }
enomem_free() { e2e-enomem free | sed -n 's/.*free_pages=\([0-9]*\).*/\1/p'; }
enomem_waiters() { $DAEMON_ENV e2e-enomem waiters 2>&1; }
dom0_target() { xenstore-read /local/domain/0/memory/target 2>/dev/null; }
dom0_tot() { e2e-probe state | sed -n 's/^E2E-PROBE dom=0 .* tot=\([0-9]*\).*/\1/p'; }
dom_cpu() { e2e-probe state | sed -n "s/^E2E-PROBE dom=$1 .*cpu_ns=\([0-9]*\).*/\1/p"; }
daemon_num() { daemon_ctl stats | grep -o "\"$1\":[0-9]*" | head -n1 | sed 's/.*://'; }
storm_done() { # [guest, default guest1]
	grep -q "E2E-GUEST ${1:-guest1} storm done" "$(console_log "${1:-guest1}")" 2>/dev/null
}
# A hog domain holding all free host memory but ENOMEM_LEAVE pages.  Run as
# $(enomem_hog): prints its domid, or the reason it failed and returns 1
# (its log line goes to stderr, the console).
enomem_hog() {
	local line hog free1
	hog=$(empty_domain) || { echo "$hog"; return 1; }
	line=$(e2e-enomem hog "$hog" "$ENOMEM_LEAVE" 2>&1)
	free1=$(enomem_free)
	enomem_info "$line" >&2
	if [ -z "$free1" ] || [ "$free1" -gt $((ENOMEM_LEAVE * 2)) ]; then
		echo "hog d$hog did not take the free memory: free ${free1:-?} pages; $line"
		e2e-enomem destroy "$hog" >/dev/null 2>&1
		return 1
	fi
	echo "$hog"
}

# The running daemon gets the phase's settings by a reload (SIGHUP):
# reserve, dom0_balloon and dom0_min_memory are reloadable, the protocol
# stays what it is.  The file is also what the phase's restarts start with.
enomem_reload_daemon() { # min_mib
	local proto
	proto=$(daemon_proto)
	{
		echo "# written by the e2e dom0 init (tests/e2e/phase-enomem.sh)"
		echo "protocol = ${proto:-auto}"
		echo "pass_target = 5"
		echo "cpu_cap = 100"
		echo "reserve = 0"
		echo "dom0_balloon = on"
		echo "dom0_min_memory = ${1}M"
		echo "settle_threshold = 0.1"
		echo "log_level = info"
		echo "log_target = stderr"
	} >/etc/xen/xenshared.conf
	ENOMEM_LOG_FROM=$(wc -l </var/log/xenshared.log)
	$DAEMON_ENV xenshared -n -f /etc/xen/xenshared.conf >>/var/log/xenshared.log 2>&1 ||
		{ say "xenshared -n rejected the enomem config: $(tail -n 3 /var/log/xenshared.log)"; return 1; }
	kill -HUP "$DAEMON_PID" 2>/dev/null || return 1
	wait_for 20 sh -c "tail -n +$((ENOMEM_LOG_FROM + 1)) /var/log/xenshared.log | grep -q reloaded"
}
# the daemon's log lines of this phase
enomem_log() { tail -n +"$((ENOMEM_LOG_FROM + 1))" /var/log/xenshared.log; }

# guest3's sharing ring as Xen and its page show it (e2e-probe ring):
# "enabled=yes|no ... unanswered=<n>"
ring_info() { e2e-probe ring "$1" 2>&1 | tail -n 1 | sed 's/^E2E-PROBE ring //'; }
ring_unanswered() { ring_info "$1" | sed -n 's/.* unanswered=\([0-9]*\).*/\1/p'; }
# A vCPU that used no CPU time over 2 s (paused: waiting for memory).
vcpu_still() { # domid
	local c0 c1
	c0=$(dom_cpu "$1")
	sleep 2
	c1=$(dom_cpu "$1")
	[ -n "$c0" ] && [ "$c0" = "$c1" ]
}
# Waiting on its ring: a request nobody answered, and its vCPU paused.
ring_waits() { # domid
	[ "$(ring_unanswered "$1")" -ge 1 ] 2>/dev/null && vcpu_still "$1"
}
log_lines() { wc -l </var/log/xenshared.log; }
log_since() { tail -n +"$(($1 + 1))" /var/log/xenshared.log; }
xen_crash_lines() { xl dmesg 2>/dev/null | grep -E "d$1.*(crash|Triple)|ENOMEM and no helper" | head -n 3; }

# The ring path on real Xen, and the stop protocol of the rings
# (docs/design.md, "The stop protocol"): guest3 (scanned, ring enabled)
# storms the first half of its common pages while a hog holds the host's
# memory.  enomem-ring: the request came through guest3's ring, the daemon
# ballooned dom0 to its floor, answered and resumed guest3 with that
# memory, and guest3 waits on its ring again.  Then, while it waits:
# enomem-ring-stop (SIGTERM), enomem-ring-kill (a restarted daemon takes
# the ring over, guest3 asks again, kill -9) and enomem-ring-takeover (the
# hog is destroyed while no daemon runs; the next daemon takes the ring
# over and guest3 finishes); then enomem-ring-verdicts.
enomem_ring() {
	local D3 hog OK1 OK3 i saw t_req detail ok resumed crash waits
	D3=$(domid_of guest3)
	if [ -z "$D3" ] || ! guest_alive guest3; then
		check enomem-ring FAIL "guest3 is not alive before the ring storm"
		return
	fi
	if ! grep -q "d$D3 ring: sharing ring enabled" /var/log/xenshared.log; then
		check enomem-ring FAIL "the daemon did not enable guest3's (d$D3) sharing ring: $(grep "d$D3 ring" /var/log/xenshared.log | tail -n 1)"
		return
	fi
	# guest1 rewrites its hot pages every few seconds: running, it would
	# race guest3 for the frames dom0 gives, and whichever faulted first
	# would take them.  Paused (xl pause) until guest3's wait is seen.
	xl pause guest1 2>/dev/null || say "xl pause guest1 failed"
	if ! hog=$(enomem_hog); then
		xl unpause guest1 2>/dev/null
		check enomem-ring FAIL "$hog"
		return
	fi
	OK1=$(verdicts guest1 OK) OK3=$(verdicts guest3 OK)
	xenstore-write /local/domain/$D3/e2e-storm a && xenstore-chmod /local/domain/$D3/e2e-storm n0 r$D3 ||
		{ check enomem-ring FAIL "cannot write /local/domain/$D3/e2e-storm"; e2e-enomem destroy "$hog"; xl unpause guest1; return; }
	# the ring's request: the daemon's "d<id> unshare ENOMEM" line
	saw=0 t_req=
	for i in $(seq 120); do
		if enomem_log | grep -q "d$D3 unshare ENOMEM"; then
			saw=1 t_req=$i
			break
		fi
		storm_done guest3 && break
		sleep 1
	done
	# dom0 gives what it may (down to its floor), the daemon answers the
	# ring with it, and guest3, still short, asks again and waits
	waits=0
	wait_for 90 sh -c "tail -n +$((ENOMEM_LOG_FROM + 1)) /var/log/xenshared.log | grep -q 'd$D3 resumed after unshare ENOMEM'" &&
		wait_for 60 ring_waits "$D3" && waits=1
	enomem_info "ring storm: request after ${t_req:-?} s; free=$(enomem_free) dom0 target=$(dom0_target) memory_requests=$(daemon_num memory_requests) guest3: $(e2e-probe state | grep "dom=$D3 ") ring: $(ring_info "$D3")"
	enomem_log | grep -E "d$D3 |balloon" | head -n 8 | sed 's/^/E2E INFO enomem ring xenshared: /'
	resumed=$(enomem_log | grep -c "d$D3 resumed after unshare ENOMEM")
	crash=$(xen_crash_lines "$D3")
	detail="request on d$D3's ring after ${t_req:-never} s; daemon 'd$D3 resumed after unshare ENOMEM' lines=$resumed; dom0 target $(dom0_target) KiB; memory_requests=$(daemon_num memory_requests); then waiting at the floor: $( [ $waits = 1 ] && echo yes || echo no), ring $(ring_info "$D3")"
	ok=1
	[ "$saw" = 1 ] || { ok=0; detail="$detail; no 'd$D3 unshare ENOMEM' (ring request) in the daemon's log"; }
	[ "$resumed" -gt 0 ] || { ok=0; detail="$detail; guest3 never resumed by the daemon with dom0's memory"; }
	[ "$waits" = 1 ] || { ok=0; detail="$detail; guest3 does not wait on its ring (storm done: $(storm_done guest3 && echo yes || echo no))"; }
	guest_alive guest3 || { ok=0; detail="$detail; guest3 not alive"; }
	[ -z "$crash" ] || { ok=0; detail="$detail; Xen: $crash"; }
	if [ $ok = 1 ]; then check enomem-ring PASS "$detail"; else
		check enomem-ring FAIL "$detail"
		diag_guest_once guest3 enomem-ring "ring storm failed"
	fi
	xl unpause guest1 2>/dev/null || say "xl unpause guest1 failed"
	enomem_ring_stop "$D3"
	enomem_ring_kill "$D3"
	enomem_ring_takeover "$D3" "$hog"
	check_verdicts enomem-ring-verdicts "guest1:$OK1 guest3:$OK3"
}

# A clean stop (SIGTERM) while guest3 waits: the daemon exits 0 and says
# the request stays; the ring is still enabled with the request unanswered
# on it, and guest3 waits on, paused, not crashed.
enomem_ring_stop() { # domid
	local D3=$1 from stay ring detail ok=1 crash
	from=$(log_lines)
	end_daemon TERM
	stay=$(log_since "$from" | grep "d$D3: [0-9]* vCPUs wait for memory" | head -n 1)
	ring=$(ring_info "$D3")
	detail="xenshared exit status $DAEMON_RC after SIGTERM; its log: '${stay:-nothing about d$D3}'; ring $ring"
	[ "$DAEMON_RC" = 0 ] || { ok=0; detail="$detail; want exit status 0"; }
	[ -n "$stay" ] || ok=0
	case $ring in *enabled=yes*) ;; *) ok=0; detail="$detail; the ring is not enabled any more" ;; esac
	[ "$(ring_unanswered "$D3")" -ge 1 ] 2>/dev/null || { ok=0; detail="$detail; no unanswered request on the ring"; }
	vcpu_still "$D3" || { ok=0; detail="$detail; guest3's vCPU runs (nobody should have answered it)"; }
	guest_alive guest3 || { ok=0; detail="$detail; guest3 not alive"; }
	crash=$(xen_crash_lines "$D3")
	[ -z "$crash" ] || { ok=0; detail="$detail; Xen: $crash"; }
	if [ $ok = 1 ]; then check enomem-ring-stop PASS "$detail"; else check enomem-ring-stop FAIL "$detail"; fi
}

# A daemon started while guest3 waits and memory is still short takes the
# ring over (answers the request its predecessor left, re-enables the
# ring); guest3, still short of memory, asks again on the new ring.  Then
# kill -9: the ring stays enabled with that request unanswered, guest3
# waits on, not crashed.
enomem_ring_kill() { # domid
	local D3=$1 from took ring detail ok=1 crash waits=0
	from=$(log_lines)
	if ! launch_daemon "restart while d$D3 waits on its ring, memory still short"; then
		check enomem-ring-kill FAIL "xenshared did not start again: $(log_since "$from" | tail -n 5 | tr '\n' ' ')"
		return
	fi
	wait_for 60 sh -c "tail -n +$((from + 1)) /var/log/xenshared.log | grep -q 'd$D3 ring: taken over; [1-9]'" &&
		wait_for 60 ring_waits "$D3" && waits=1
	took=$(log_since "$from" | grep "d$D3 ring: taken over" | head -n 1)
	enomem_info "restarted daemon pid $DAEMON_PID: ${took:-no takeover line}; ring $(ring_info "$D3")"
	end_daemon KILL
	sleep 2
	ring=$(ring_info "$D3")
	detail="restart: '${took:-no takeover of the ring of d$D3}', guest3 asked again and waits: $( [ $waits = 1 ] && echo yes || echo no); after kill -9 (exit status $DAEMON_RC): ring $ring"
	[ -n "$took" ] || ok=0
	[ "$waits" = 1 ] || ok=0
	case $ring in *enabled=yes*) ;; *) ok=0; detail="$detail; the ring is not enabled any more" ;; esac
	[ "$(ring_unanswered "$D3")" -ge 1 ] 2>/dev/null || { ok=0; detail="$detail; no unanswered request on the ring"; }
	vcpu_still "$D3" || { ok=0; detail="$detail; guest3's vCPU runs"; }
	guest_alive guest3 || { ok=0; detail="$detail; guest3 not alive"; }
	crash=$(xen_crash_lines "$D3")
	[ -z "$crash" ] || { ok=0; detail="$detail; Xen: $crash"; }
	if [ $ok = 1 ]; then check enomem-ring-kill PASS "$detail"; else check enomem-ring-kill FAIL "$detail"; fi
}

# The memory comes back while no daemon runs (the hog is destroyed):
# nobody answers, guest3 keeps waiting.  The next daemon takes the ring
# over (the killed one's owner node is stale, not a running daemon),
# answers the request, and guest3 finishes its storm.
enomem_ring_takeover() { # domid hog
	local D3=$1 hog=$2 from took owner ring detail ok=1 crash still=0 free
	e2e-enomem destroy "$hog" >/tmp/destroy-hog.log 2>&1 || enomem_info "destroying the hog: $(cat /tmp/destroy-hog.log)"
	sleep 3
	free=$(enomem_free)
	ring_waits "$D3" && still=1
	from=$(log_lines)
	if ! launch_daemon "restart after a kill -9, memory back"; then
		check enomem-ring-takeover FAIL "xenshared did not start again: $(log_since "$from" | tail -n 5 | tr '\n' ' ')"
		return
	fi
	wait_for 120 storm_done guest3
	took=$(log_since "$from" | grep "d$D3 ring: taken over" | head -n 1)
	owner=$(log_since "$from" | grep "/tool/xenshared/owner was" | head -n 1)
	ring=$(ring_info "$D3")
	detail="hog gone, no daemon: free $free pages, guest3 still waiting: $( [ $still = 1 ] && echo yes || echo no); restart (pid $DAEMON_PID): '${took:-no takeover of the ring of d$D3}'; '${owner:-no stale owner taken over}'; $(grep -m1 "E2E-GUEST guest3 storm done" "$(console_log guest3)" | tr -d '\r'); ring $ring"
	[ "$still" = 1 ] || ok=0
	[ -n "$took" ] || ok=0
	[ -n "$owner" ] || ok=0
	storm_done guest3 || { ok=0; detail="$detail; storm not done 120 s after the restart"; }
	[ "$(ring_unanswered "$D3")" = 0 ] || { ok=0; detail="$detail; requests left unanswered"; }
	guest_alive guest3 || { ok=0; detail="$detail; guest3 not alive"; }
	crash=$(xen_crash_lines "$D3")
	[ -z "$crash" ] || { ok=0; detail="$detail; Xen: $crash"; }
	if [ $ok = 1 ]; then check enomem-ring-takeover PASS "$detail"; else
		check enomem-ring-takeover FAIL "$detail"
		diag_guest_once guest3 enomem-ring "ring takeover failed"
	fi
}

phase_enomem() {
	local target0 tot0 min_mib hog free0 free1 st line w t_storm t_wait waited detail ok ring
	local cpu0 cpu1 target_floor req dmesg_crash paused_lines resumed_lines OK1 OK3 i
	enomem_info "---- phase enomem: unshare ENOMEM on the real hypervisor"
	if ! guest_alive guest1; then
		check enomem-setup FAIL "guest1 is not alive before the phase"
		return
	fi
	D1=$(domid_of guest1)
	target0=$(dom0_target)
	tot0=$(dom0_tot)
	enomem_info "dom0 before: memory/target='${target0}' KiB tot_pages=$tot0; $(e2e-enomem free)"
	xenstore-ls -f /local/domain/0/memory 2>&1 | sed 's/^/E2E INFO enomem dom0-xenstore: /'
	if [ -z "$target0" ]; then
		# The daemon balloons through memory/target; `xl mem-set` (libxl)
		# writes it for dom0 when it is missing, as on a real host.
		enomem_info "no /local/domain/0/memory/target: writing it with xl mem-set 0 $((tot0 / 256))m"
		xl mem-set 0 "$((tot0 / 256))m" 2>&1 | sed 's/^/E2E INFO enomem xl-mem-set: /'
		target0=$(dom0_target)
		enomem_info "dom0 memory/target now '$target0' KiB"
	fi
	if [ -z "$target0" ]; then
		check enomem-setup FAIL "dom0 has no memory/target, the daemon cannot balloon"
		return
	fi
	min_mib=$((target0 / 1024 - ENOMEM_BALLOON_MB))

	if ! enomem_reload_daemon "$min_mib"; then
		check enomem-setup FAIL "xenshared did not reload the enomem config: $(tail -n 5 /var/log/xenshared.log | tr '\n' ' ')"
		return
	fi
	enomem_ring
	if [ -z "$DAEMON_PID" ] || ! daemon_ping; then
		check enomem-setup FAIL "no daemon answers after the ring steps: $(tail -n 5 /var/log/xenshared.log | tr '\n' ' ')"
		return
	fi
	# The path of hypervisor-patch 0004 is that of a domain without a
	# sharing ring: guest1, whose ring page dom0-init.sh took away before
	# the daemon first saw it (a ring, once enabled, stays with a domain
	# holding shared pages, opted out or not).
	ring=$(ring_info "$D1")
	case $ring in
	*pfn=0\ *) ;;
	*) check enomem-setup FAIL "guest1 (d$D1) has a sharing ring: $ring"; return ;;
	esac
	enomem_info "guest1 has no sharing ring ($ring; daemon: $(grep "d$D1 ring" /var/log/xenshared.log | tail -n 1)): $(e2e-probe stats | grep "dom=$D1 ")"

	# the hog: an empty HVM domain that never runs, made by e2e-enomem
	# (not xl: xl's kernel loader once failed to decompress the kernel here)
	free0=$(enomem_free)
	if ! hog=$(enomem_hog); then
		check enomem-setup FAIL "$hog"
		return
	fi
	free1=$(enomem_free)
	check enomem-setup PASS "daemon reloaded (reserve = 0, dom0_balloon = on, dom0_min_memory = ${min_mib}M, dom0 target ${target0} KiB); guest1 without a sharing ring ($ring); hog d$hog holds the host's memory: free $free0 -> $free1 pages, xl info free_memory=$(xl_info_mb free_memory)MiB"

	# the storm
	OK1=$(verdicts guest1 OK) OK3=$(verdicts guest3 OK)
	xenstore-write /local/domain/$D1/e2e-storm b && xenstore-chmod /local/domain/$D1/e2e-storm n0 r$D1 ||
		{ check enomem-storm FAIL "cannot write /local/domain/$D1/e2e-storm"; e2e-enomem destroy "$hog"; return; }
	t_storm=$(cut -d. -f1 /proc/uptime)
	wait_for 60 grep -q "E2E-GUEST guest1 storm begins" "$(console_log guest1)" ||
		enomem_info "guest1 did not say 'storm begins' in 60 s: $(tail -n 2 "$(console_log guest1)" | tr '\n' ' ')"
	# watch until guest1 has waited for memory WAIT_S seconds in a row (at
	# the floor), or the storm ended (then the floor was not reached)
	waited=0 t_wait=
	for i in $(seq 180); do
		w=$(enomem_waiters)
		case " $(echo "$w" | sed 's/.*domains=//; s/,/ /g') " in
		*" $D1 "*) waited=$((waited + 1)); [ -n "$t_wait" ] || t_wait=$(( $(cut -d. -f1 /proc/uptime) - t_storm )) ;;
		*) waited=0 ;;
		esac
		[ $((i % 5)) = 1 ] && enomem_info "$w free=$(enomem_free) dom0 target=$(dom0_target) tot=$(dom0_tot) memory_requests=$(daemon_num memory_requests) dom0_balloon_pages=$(daemon_num dom0_balloon_pages) guest1: $(e2e-probe state | grep "dom=$D1 ")"
		[ "$waited" -ge 8 ] && break
		storm_done && break
		sleep 1
	done
	cpu0=$(dom_cpu "$D1")
	sleep 3
	cpu1=$(dom_cpu "$D1")
	w=$(enomem_waiters)
	st=$(xl list guest1 2>/dev/null | awk 'NR==2 { print $5 }')
	target_floor=$(dom0_target)
	req=$(daemon_num memory_requests)
	dmesg_crash=$(xl dmesg 2>/dev/null | grep -E "ENOMEM and no helper|d$D1.*(crash|Triple)" | head -n 3)
	paused_lines=$(xl dmesg 2>/dev/null | grep -c "no memory to unshare gfn")
	xl dmesg 2>/dev/null | grep "no memory to unshare gfn" | tail -n 3 | sed 's/^/E2E INFO enomem xen: /'
	enomem_log | grep -E 'ENOMEM|balloon|resumed|reserve' | head -n 12 | sed 's/^/E2E INFO enomem xenshared: /'
	detail="guest1 d$D1 state '$st', $w, vCPU time $cpu0 -> $cpu1 ns over 3 s, waiting since t+${t_wait:-?}s of the storm; Xen 'no memory to unshare' lines=$paused_lines; memory_requests=${req:-?}; dom0 target $target0 -> $target_floor KiB (floor ${min_mib} MiB = $((min_mib * 1024)) KiB)"
	ok=1
	[ "$waited" -ge 8 ] || { ok=0; detail="$detail; guest1 never waited 8 s in a row (storm done: $(storm_done && echo yes || echo no))"; }
	case $st in *c*|*d*|"") ok=0; detail="$detail; guest1 not alive" ;; esac
	[ -z "$dmesg_crash" ] || { ok=0; detail="$detail; Xen: $dmesg_crash"; }
	[ "$paused_lines" -gt 0 ] || { ok=0; detail="$detail; no pause line in xl dmesg"; }
	[ "${req:-0}" -gt 0 ] || { ok=0; detail="$detail; daemon saw no memory request"; }
	if [ $ok = 1 ]; then check enomem-paused PASS "$detail"; else check enomem-paused FAIL "$detail"; fi

	detail="dom0 memory/target $target0 -> $target_floor KiB, tot_pages $tot0 -> $(dom0_tot), dom0_min_memory = $((min_mib * 1024)) KiB, dom0_balloon_pages=$(daemon_num dom0_balloon_pages)"
	if [ -n "$target_floor" ] && [ "$target_floor" -lt "$target0" ] && [ "$target_floor" -ge $((min_mib * 1024)) ]; then
		check enomem-balloon PASS "$detail"
	else
		check enomem-balloon FAIL "$detail (want lowered, never below the floor)"
	fi

	# free the host: the daemon must resume guest1
	enomem_info "destroying the hog d$hog"
	e2e-enomem destroy "$hog" >/tmp/destroy-hog.log 2>&1 || enomem_info "destroying the hog: $(cat /tmp/destroy-hog.log)"
	if wait_for 180 storm_done; then
		sleep 2
		w=$(enomem_waiters)
		resumed_lines=$(enomem_log | grep -c "d$D1 resumed after unshare ENOMEM")
		detail="$(grep -m1 "E2E-GUEST guest1 storm done" "$(console_log guest1)" | tr -d '\r'), after the hog went: $w; daemon 'd$D1 resumed after unshare ENOMEM' lines=$resumed_lines: $(enomem_log | grep "d$D1 resumed after unshare ENOMEM" | tail -n 1)"
		case $w in
		*waiters=0*) [ "$resumed_lines" -gt 0 ] && check enomem-resumed PASS "$detail" || check enomem-resumed FAIL "$detail" ;;
		*) check enomem-resumed FAIL "$detail" ;;
		esac
	else
		check enomem-resumed FAIL "guest1's storm not done 180 s after the hog was destroyed: $(enomem_waiters); $(tail -n 2 "$(console_log guest1)" | tr '\n' ' ')"
		diag_guest_once guest1 enomem "storm not done after the hog was destroyed"
	fi
	check_verdicts enomem-verdicts "guest1:$OK1 guest3:$OK3"

	# Xen still healthy: toolstack answers, invariant, memory back, no crash
	read_hv
	detail="xl info free_memory=$(xl_info_mb free_memory)MiB, invariant $INVARIANT, freed=$FREED used=$USED; daemon pid $DAEMON_PID"
	ok=1
	xl info >/dev/null 2>&1 || { ok=0; detail="$detail; xl info failed"; }
	[ "$INVARIANT" = ok ] || [ "$INVARIANT" = unsettled ] || { ok=0; detail="$detail; invariant broken"; }
	kill -0 "$DAEMON_PID" 2>/dev/null && daemon_ping || { ok=0; detail="$detail; xenshared not answering"; }
	for g in guest1 guest3; do guest_alive $g || { ok=0; detail="$detail; $g not alive"; }; done
	e2e-probe state | grep -q "^E2E-PROBE dom=$hog " && { ok=0; detail="$detail; hog d$hog still listed"; }
	dmesg_crash=$(xl dmesg 2>/dev/null | grep -E "ENOMEM and no helper|domain_crash|Domain .* crash" | head -n 3)
	[ -z "$dmesg_crash" ] || { ok=0; detail="$detail; Xen: $dmesg_crash"; }
	if [ $ok = 1 ]; then check enomem-xen-healthy PASS "$detail"; else check enomem-xen-healthy FAIL "$detail"; fi
}
