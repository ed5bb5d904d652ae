# Phase "group" of the e2e dom0 (sourced by dom0-init.sh after the other
# phases; uses its helpers: say, check, daemon_ctl, verdicts, ...).
# See docs/e2e.md, "Tenant isolation".
#
# What it proves on the real hypervisor: when dom0 moves a running guest
# that shares pages to another sharing group, xenshared first unshares
# every page the guest holds (libshare: the domain is "evicting"; its gfns
# are mapped writable, no byte written, and Xen unshares each shared gfn),
# and only once Xen counts no shared page in it does the guest share again,
# in its new group: no frame ever holds pages of two groups.  The daemon's
# record of the group a guest's shared pages belong to
# (/local/domain/<id>/memshare/held, "<mode> <group>", dom0's alone) moves
# with it once the eviction is over.
#
# How: guest1 (sharing in group e2e with guest3) is moved to group
# GROUP_NEW, alone there.  e2e-probe shr-trace reads guest1's shr_pages
# every 20 ms (every 1 ms while it evicts: its zero may last no longer than
# the daemon takes to map and hash one batch) from before the move until
# it has fallen to 0 and risen to
# GROUP_RISE again (its own zero pages, merged among themselves), while the
# daemon's stats are read twice a second; the first "evicting": true arms
# the trace: from then on guest1's shr_pages must not rise until it is 0.
GROUP_NEW=e2e-b
GROUP_RISE=1000        # pages guest1 shares again, alone
GROUP_TIMEOUT=300      # seconds for the eviction and the rise

group_held() { xenstore-read "/local/domain/$1/memshare/held" 2>/dev/null; }
# the held node's permissions as xenstore-ls -p prints them, e.g. "n0"
group_held_perms() {
	xenstore-ls -p "/local/domain/$1/memshare" 2>/dev/null | sed -n 's/^held = .*(\(.*\))$/\1/p'
}
group_evicting() { # domid: true, false or nothing (not listed)
	daemon_ctl stats | grep -o "{\"domid\":$1,[^}]*}" | sed -n 's/.*"evicting":\([a-z]*\).*/\1/p'
}
trace_field() { sed -n "s/^E2E-PROBE shr-trace .* $1=\\(-\\{0,1\\}[0-9]*\\).*/\\1/p" /tmp/group-trace; }

phase_group() {
	local D1 OK1 OK3 held0 held_during='' held1 perms tp seen=0 ev ev_after detail ok=1
	local zero rose rises end t0 audit
	say "---- phase group: guest1 moves to group $GROUP_NEW"
	D1=$(domid_of guest1)
	if [ -z "$D1" ] || ! guest_alive guest1 || [ -z "$DAEMON_PID" ]; then
		check group-move FAIL "guest1 (d${D1:-?}) not alive or no daemon before the move"
		return
	fi
	OK1=$(verdicts guest1 OK) OK3=$(verdicts guest3 OK)
	held0=$(group_held "$D1")
	e2e-probe shr-trace "$D1" "$GROUP_TIMEOUT" "$GROUP_RISE" >/tmp/group-trace 2>&1 &
	tp=$!
	sleep 1
	t0=$(cut -d. -f1 /proc/uptime)
	xenstore-write "/local/domain/$D1/memshare/group" "$GROUP_NEW" ||
		{ kill "$tp"; check group-move FAIL "cannot write guest1's memshare/group"; return; }
	while kill -0 "$tp" 2>/dev/null; do
		ev=$(group_evicting "$D1")
		if [ "$ev" = true ]; then
			# from now on nothing of guest1 may be shared until Xen
			# counts none: arm the trace (merges decided before the
			# move, in the old group, may still land before this)
			[ $seen = 1 ] || kill -USR1 "$tp"
			seen=1
			held_during=$(group_held "$D1")
		fi
		sleep 0.5
	done
	wait "$tp"
	# the record follows the engine's answer at the daemon's next run
	wait_for 30 sh -c "[ \"\$(xenstore-read /local/domain/$D1/memshare/held 2>/dev/null)\" = 'on $GROUP_NEW' ]"
	held1=$(group_held "$D1")
	perms=$(group_held_perms "$D1")
	ev_after=$(group_evicting "$D1")
	zero=$(trace_field zero_ms) rose=$(trace_field rose_ms) rises=$(trace_field rises_before_zero)
	end=$(trace_field end)
	grep "d${D1}[: ]" /var/log/xenshared.log | grep -E "unsharing them all|no page shared under its old policy|evict" |
		tail -n 4 | sed 's/^/E2E INFO group xenshared: /'
	grep '^E2E-PROBE shr-rise' /tmp/group-trace | sed 's/^/E2E INFO group /'
	detail="guest1 d$D1 e2e -> $GROUP_NEW: $(grep -v '^E2E-PROBE shr-rise' /tmp/group-trace | tr '\n' ' ' | sed 's/E2E-PROBE shr-trace //'); evicting seen in stats: $( [ $seen = 1 ] && echo yes || echo no), after: ${ev_after:-?}; held '$held0' -> (while evicting '${held_during:-?}') -> '$held1', perms ($perms); $(( $(cut -d. -f1 /proc/uptime) - t0 )) s"
	[ -n "$zero" ] && [ "$zero" -ge 0 ] || { ok=0; detail="$detail; Xen never counted 0 shared pages in guest1 after the daemon said it was evicting"; }
	[ "$rises" = 0 ] || { ok=0; detail="$detail; guest1's shared pages rose while it was evicting: it shared while it still held group e2e's frames"; }
	[ -n "$rose" ] && [ "$rose" -gt "${zero:--1}" ] && [ "${end:-0}" -ge "$GROUP_RISE" ] ||
		{ ok=0; detail="$detail; guest1 did not share again (want $GROUP_RISE pages)"; }
	[ $seen = 1 ] || { ok=0; detail="$detail; stats never showed it evicting"; }
	[ "$ev_after" = false ] || { ok=0; detail="$detail; still evicting"; }
	[ "$held0" = "on e2e" ] || { ok=0; detail="$detail; held record before the move"; }
	[ -z "$held_during" ] || [ "$held_during" = "$held0" ] ||
		{ ok=0; detail="$detail; the held record moved while guest1 still held e2e's frames"; }
	[ "$held1" = "on $GROUP_NEW" ] || { ok=0; detail="$detail; held record after the move"; }
	[ "$perms" = n0 ] || { ok=0; detail="$detail; held record's permissions, want n0 alone"; }
	guest_alive guest1 || { ok=0; detail="$detail; guest1 not alive"; }
	if [ $ok = 1 ]; then check group-move PASS "$detail"; else check group-move FAIL "$detail"; fi

	# The frame census, with guest1 in its new group and guest3 in e2e.
	audit=$(daemon_ctl audit)
	case $audit in
	*'"ok":true'*'"engine_violations":0,"table_violations":0,"frame_violations":0,'*)
		check group-move-audit PASS "xenshared -C audit: $audit" ;;
	*)
		check group-move-audit FAIL "xenshared -C audit: $audit"
		grep 'audit' /var/log/xenshared.log | tail -n 5 | sed 's/^/E2E INFO group xenshared: /' ;;
	esac
	check_verdicts group-move-verdicts "guest1:$OK1 guest3:$OK3"
}
