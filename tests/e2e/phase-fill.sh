# Phase "fill" of the e2e dom0 (sourced by dom0-init.sh after the enomem
# and group phases; uses their helpers: say, check, create_guest, opt_in,
# enomem_free, vcpu_still, storm_done, check_verdicts, ...).
# See docs/e2e.md, "Fill and storm".
#
# What it proves on the real patched hypervisor: a host filled with guests
# while the daemon runs holds more of them than without sharing, and a
# storm of unshares on that full host pauses guests and never crashes one;
# once memory is given back, every paused guest is resumed and its data is
# intact.
#
# How:
#  1. the host is made small: a hog (an empty domain that never runs, as
#     in the enomem phase) takes every free page but FILL_ROOM_MB;
#  2. guests fill1, fill2, ... (128 MiB each, guest1's image with their own
#     seed: the same common data, their own unique data) are created one
#     after another, each once the previous one is ready, opted in and
#     shared, until `xl create` fails for lack of memory (the host is full)
#     or FILL_MAX guests run.  Without sharing, FILL_ROOM_MB holds
#     room / (the first guest's cost before it was shared) of them;
#  3. the host is topped up: what the full host still has free is less
#     than one more guest, but may be more than a storm needs; a second
#     hog takes it but FILL_LEAVE pages, as smaller guests would;
#  4. the storm: every fill guest rewrites all its common pages at once
#     (e2e-storm = 1): each write to a frame its partners still hold needs
#     a new frame, far more than the full host has.  Guests that cannot
#     get one wait (their vCPU makes no progress) and none may crash;
#  5. the hogs are destroyed: the daemon resumes every waiting guest, every
#     storm finishes and every guest's verification passes; then the fill
#     guests are destroyed.
FILL_ROOM_MB=${E2E_FILL_ROOM_MB:-192}   # host memory left to the fill guests
FILL_MAX=${E2E_FILL_MAX:-10}            # at most this many fill guests
FILL_LEAVE=1024                         # pages the top-up leaves free
FILL_SEED0=20                           # fill guest k has seed FILL_SEED0 + k

fill_info() { echo "E2E INFO fill t=$(( $(cut -d. -f1 /proc/uptime) - T0 ))s $*"; }
fill_names() { cat /tmp/fill.names 2>/dev/null; }
# fill guest k's config: guest1's, with its own name and seed, opted in by
# the harness once booted (as guest1 is)
fill_cfg() { # k
	sed -e "s/guest1/fill$1/g" -e "s/e2e_seed=1\"/e2e_seed=$((FILL_SEED0 + $1))\"/" \
		/etc/xen/guest1.cfg >/etc/xen/fill$1.cfg
}
# what Xen says when it crashes a domain (as enomem-xen-healthy reads it)
fill_crash_lines() {
	xl dmesg 2>/dev/null | grep -E "ENOMEM and no helper|domain_crash|Domain .* crash|Triple fault" | head -n 3
}
# every guest:oks_before given has verified twice since, or one failed
fill_verified() {
	local spec g
	for spec in "$@"; do
		g=${spec%%:*}
		[ "$(verdicts "$g" BAD)" = 0 ] || return 0
		[ "$(verdicts "$g" OK)" -ge $((${spec#*:} + 2)) ] || return 1
	done
}
# free host pages hold an unshared guest (its cost) and a margin
fill_room() { [ "$(enomem_free)" -ge $(($1 + 512)) ] 2>/dev/null; }
# shared gfns of a domain (hypervisor's count)
fill_shared_ge() { [ "$(probe_shr "$1")" -ge "$2" ] 2>/dev/null; }

phase_fill() {
	local hog hog2 line free0 free1 room fk waited_room rc id want cost fitted plain detail ok g cfail
	local waited looks spec t_storm i still done_all crashed resumed secs
	fill_info "---- phase fill: guests until the host is full, then a storm"
	: >/tmp/fill.names
	hog=$(empty_domain) || { check fill-guests FAIL "$hog"; return; }
	free0=$(enomem_free)
	line=$(e2e-enomem hog "$hog" $((FILL_ROOM_MB * 256)) 2>&1)
	room=$(enomem_free)
	fill_info "$line; free $free0 -> $room pages"
	if [ -z "$room" ] || [ "$room" -gt $((FILL_ROOM_MB * 256 + 512)) ]; then
		check fill-guests FAIL "hog d$hog did not leave $FILL_ROOM_MB MiB: free ${room:-?} pages; $line"
		e2e-enomem destroy "$hog" >/dev/null 2>&1
		return
	fi
	want=$((COMMON_PAGES * SHARE_FRACTION / 100))
	fitted=0 cost= cfail= ok=1 detail=
	fk=1 waited_room=
	while [ "$fk" -le "$FILL_MAX" ]; do
		free1=$(enomem_free)
		fill_cfg "$fk"
		create_guest fill$fk
		rc=$?
		if [ "$rc" = 2 ]; then
			# as soon as the host has room: the daemon goes on merging
			# the last guest; once free memory holds an unshared guest
			# again, one more try
			if [ -z "$waited_room" ] && [ -n "$cost" ] && wait_for 60 fill_room "$cost"; then
				waited_room=yes
				fill_info "fill$fk refused with $free1 free pages; $(enomem_free) free now: again"
				continue
			fi
			cfail="fill$fk refused with $free1 free pages: $(grep -i -m1 -E 'memory|ENOMEM' /tmp/create-fill$fk.log | tr -d '\r' | cut -c1-160)"
			break
		fi
		waited_room=
		if [ "$rc" != 0 ]; then
			ok=0 detail="$detail; xl create fill$fk failed: $CREATE_ERR"
			break
		fi
		echo "fill$fk" >>/tmp/fill.names
		id=$(cat /tmp/domid.fill$fk)
		wait_for 300 guests_ready_or_lost fill$fk
		if ! guest_ready fill$fk; then
			ok=0 detail="$detail; fill$fk (d$id) not ready"
			diag_guest_once fill$fk ready "not ready (alive: $(guest_alive fill$fk && echo yes || echo no))"
			break
		fi
		# the cost of a guest before sharing: what its creation and boot
		# took from the host (the first guest's, before its opt-in)
		[ -n "$cost" ] || cost=$((free1 - $(enomem_free)))
		opt_in fill$fk || { ok=0 detail="$detail; cannot opt fill$fk in"; break; }
		if ! wait_for 300 fill_shared_ge "$id" "$want"; then
			ok=0 detail="$detail; fill$fk (d$id) shr_pages $(probe_shr "$id") < $want after 300 s"
			break
		fi
		fitted=$fk
		fill_info "fill$fk d$id shared: shr_pages $(probe_shr "$id"), free $(enomem_free) pages"
		fk=$((fk + 1))
	done
	plain=$(( room / ${cost:-1} ))
	detail="$fitted guests of 128 MiB fitted in $FILL_ROOM_MB MiB ($room free pages) with sharing, $plain without (one costs $cost pages unshared); ${cfail:-no create refused (FILL_MAX $FILL_MAX reached)}$detail"
	[ -n "$cfail" ] || ok=0
	[ "$fitted" -gt "$plain" ] || ok=0
	for g in $(fill_names); do guest_alive "$g" || { ok=0; detail="$detail; $g not alive"; }; done
	if [ $ok = 1 ]; then check fill-guests PASS "$detail"; else check fill-guests FAIL "$detail"; fi
	if [ "$fitted" = 0 ]; then
		e2e-enomem destroy "$hog" >/dev/null 2>&1
		return
	fi

	# the storm, on the full host, topped up
	hog2=$(empty_domain) || { check fill-storm-paused FAIL "top-up: $hog2"; e2e-enomem destroy "$hog" >/dev/null 2>&1; return; }
	free1=$(enomem_free)
	line=$(e2e-enomem hog "$hog2" "$FILL_LEAVE" 2>&1)
	fill_info "top-up: $line; free $free1 -> $(enomem_free) pages"
	spec=
	for g in $(fill_names); do
		spec="$spec $g:$(verdicts "$g" OK)"
		id=$(cat /tmp/domid.$g)
		xenstore-write /local/domain/$id/e2e-storm 1 && xenstore-chmod /local/domain/$id/e2e-storm n0 r$id ||
			fill_info "cannot write /local/domain/$id/e2e-storm"
	done
	t_storm=$(cut -d. -f1 /proc/uptime)
	# a guest waits when its storm began, has not ended, and its vCPU
	# made no progress for 2 s; watched for up to 120 s, until guests
	# waited in two rounds of looks or every storm ended
	waited=' ' looks=0
	while [ $(( $(cut -d. -f1 /proc/uptime) - t_storm )) -lt 120 ]; do
		done_all=1 still=
		for g in $(fill_names); do
			storm_done "$g" && continue
			done_all=0
			grep -q "E2E-GUEST $g storm begins" "$(console_log "$g")" 2>/dev/null &&
				vcpu_still "$(cat /tmp/domid.$g)" && still="$still $g"
		done
		[ $done_all = 1 ] && break
		for g in $still; do
			case $waited in *" $g:"*) ;; *) waited="$waited$g:$(( $(cut -d. -f1 /proc/uptime) - t_storm )) " ;; esac
		done
		fill_info "storm: free $(enomem_free) pages, waiting:${still:- none}; $(enomem_waiters)"
		[ -n "$still" ] && looks=$((looks + 1))
		[ "$looks" -ge 2 ] && break
	done
	crashed=
	for g in $(fill_names); do guest_alive "$g" || crashed="$crashed $g"; done
	detail="waiting (guest:seconds into the storm):$waited; storms done $(for g in $(fill_names); do storm_done "$g" && printf '%s ' "$g"; done); free $(enomem_free) pages; $(enomem_waiters); Xen 'no memory to unshare' lines=$(xl dmesg 2>/dev/null | grep -c 'no memory to unshare gfn')"
	if [ "$waited" != ' ' ] && [ -z "$crashed" ] && [ -z "$(fill_crash_lines)" ]; then
		check fill-storm-paused PASS "$detail"
	else
		check fill-storm-paused FAIL "$detail; crashed:${crashed:- none}; $(fill_crash_lines)"
	fi

	# memory back: every storm must finish, every guest alive and intact
	for id in "$hog2" "$hog"; do
		fill_info "destroying the hog d$id"
		e2e-enomem destroy "$id" >/tmp/destroy-hog.log 2>&1 || fill_info "destroying the hog d$id: $(cat /tmp/destroy-hog.log)"
	done
	resumed=0
	for i in $(seq 300); do
		done_all=1
		for g in $(fill_names); do storm_done "$g" || done_all=0; done
		[ $done_all = 1 ] && break
		sleep 1
	done
	secs=
	for g in $(fill_names); do
		secs="$secs $g:$(grep -m1 "E2E-GUEST $g storm done" "$(console_log "$g")" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')s"
	done
	resumed=$(grep -c "resumed after unshare ENOMEM" /var/log/xenshared.log)
	crashed=
	for g in $(fill_names); do guest_alive "$g" || crashed="$crashed $g"; done
	detail="storm seconds (wall, pauses included):$secs; daemon 'resumed after unshare ENOMEM' lines (whole run)=$resumed; $(enomem_waiters)"
	if [ $done_all = 1 ] && [ -z "$crashed" ] && [ -z "$(fill_crash_lines)" ]; then
		check fill-storm-resumed PASS "$detail"
	else
		check fill-storm-resumed FAIL "$detail; all done: $done_all; crashed:${crashed:- none}"
		for g in $(fill_names); do
			storm_done "$g" || diag_guest_once "$g" storm "storm not done after the hog was destroyed"
		done
	fi
	# two verifications after the storm in every guest (their rounds
	# are slow with this many guests on one emulated CPU)
	wait_for 180 fill_verified $spec
	check_verdicts fill-verdicts "$spec"
	for g in $(fill_names); do
		echo "$g" >>/tmp/destroyed
		xl destroy "$g" >/dev/null 2>&1 || fill_info "xl destroy $g failed"
	done
}
