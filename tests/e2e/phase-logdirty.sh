# Phase "logdirty" of the e2e dom0 (sourced by dom0-init.sh; uses its
# helpers: say, check, daemon_ctl, wait_for, verdicts, console_log, ...).
# See docs/e2e.md, "Dirty-log scanning and the scan cost".
#
# What it proves on the real hypervisor, in phase 1 (guest1 without a
# sharing ring, guest2 with one; docs/design.md, "Dirty-log scanning"):
#  - with scan_mode = auto (the default) the daemon scans guest2 from its
#    dirty log after the first pass, and guest1, which has no ring page to
#    serve as the log's sentinel, with full passes, saying why (full_why);
#  - the pages the log names per round are about the pages guest2 writes
#    (its 2 MiB hot region each guest round), not its 32 768 pages; their
#    number per round is the count of extra write faults log-dirty costs
#    the guest (the first write to a page after each CLEAN faults once);
#  - content written into both guests anew is merged once guest2's dirty
#    log has named it: guest1 writes it before its opt-in, so the daemon's
#    first pass indexes it, then guest2's dirty log names guest2's copies
#    (guest-fill --write-node prints the gfns, e2e-probe shared asks Xen
#    about them);
#  - `xl save -c guest2` while the daemon holds guest2's log works (the
#    toolstack's save turns log-dirty off when it ends), the daemon sees
#    the log taken (logdirty_lost, guest2's full_why) and keeps scanning
#    guest2 with full passes; the checkpoint, restored once guest2 is
#    destroyed, runs on with its memory intact (guest-fill's own hashes of
#    every page it wrote), and the daemon scans the restored guest from
#    its dirty log again after its first pass.
# Under TCG on a shared machine a pass takes from half a minute to over
# twenty: every wait is on the daemon's counters (passes, dirty-log
# rounds, logdirty_lost) or the guests' own lines, with limits far above
# what a loaded boot has needed, never on a fixed time.
# A sampler reads the daemon's counters every 3 s into /tmp/ld.samples,
# one line of key=value each (t= dom0's uptime, the daemon's counters by
# their stats names, and guest2's verify and newdata line counts v2= and
# n2=), for the windows.
LD_TAG=n1                   # the value of e2e-newdata both guests are told
LD_PASS_WAIT=1800           # limit for a daemon pass (polls of >= 1 s)
LD_MERGE_ROUNDS=3           # dirty-log rounds of guest2 the merge may take
LD_MERGE_S=10               # and seconds: rounds cut by the CPU budget rerun at once
LD_ROUND_WAIT=900           # limit for those rounds
LD_SAVE=/tmp/guest2.chk

ld_info() { echo "E2E INFO logdirty t=$(( $(cut -d. -f1 /proc/uptime) - T0 ))s $*"; }
# A number from the daemon's stats by its key (keys met once in the reply).
ld_num() { daemon_ctl stats | grep -o "\"$1\":[0-9.]*" | head -n1 | sed 's/.*://'; }
ld_dom() { daemon_ctl stats | grep -o "{\"domid\":$1,[^}]*}"; }
ld_logdirty() { ld_dom "$1" | sed -n 's/.*"logdirty":\([a-z]*\).*/\1/p'; }
ld_why() { ld_dom "$1" | sed -n 's/.*"full_why":"\([^"]*\)".*/\1/p'; }
ld_sample() {
	local s k line
	s=$(daemon_ctl stats)
	line="t=$(now_s)"
	for k in full_scans logdirty_rounds logdirty_pages logdirty_lost; do
		line="$line $k=$(echo "$s" | grep -o "\"$k\":[0-9.]*" | head -n1 | sed 's/.*://')"
	done
	echo "$line v2=$(grep -c "E2E-GUEST guest2 round=[0-9]* verify=" "$(console_log guest2)") n2=$(grep -c "E2E-GUEST guest2 newdata " "$(console_log guest2)")"
}
ld_sampler() {
	while :; do
		ld_sample >>/tmp/ld.samples
		sleep 3
	done
}
# the gfns of a guest's new data (guest-fill's newdata line)
ld_gfns() { sed -n "s/.*E2E-GUEST $1 newdata tag=$LD_TAG pages=[0-9]* gfns=\([0-9a-f,]*\).*/\1/p" "$(console_log "$1")" | tail -n 1; }
ld_shared() { # domid gfns: how many of them Xen has on shared frames
	e2e-probe shared "$1" "$2" 2>/dev/null | sed -n 's/.* shared=\([0-9]*\).*/\1/p'
}
ld_rounds_ge() { [ "$(ld_num logdirty_rounds)" -ge "$1" ] 2>/dev/null; }
ld_sampled_ge() { [ "$(sample_f "$(tail -n 1 /tmp/ld.samples)" logdirty_rounds)" -ge "$1" ] 2>/dev/null; }
ld_dom_full() { [ "$(ld_logdirty "$1")" = false ]; }
ld_passes_ge() { [ "$(ld_num full_scans)" -ge "$1" ] 2>/dev/null; }
ld_lost_gt() { [ "$(ld_num logdirty_lost)" -gt "$1" ] 2>/dev/null; }
ld_dom_logdirty() { [ "$(ld_logdirty "$1")" = true ]; }
ld_newdata_seen() { grep -q "E2E-GUEST $1 newdata tag=$LD_TAG " "$(console_log "$1")" 2>/dev/null; }
ld_oks_ge() { [ "$(verdicts "$1" OK)" -ge "$2" ]; }
ld_oks_ge_or_bad() { [ "$(verdicts "$1" OK)" -ge "$2" ] || [ "$(verdicts "$1" BAD)" -gt "$3" ]; }
ld_write_node() { # domid value
	xenstore-write "/local/domain/$1/e2e-newdata" "$2" &&
		xenstore-chmod "/local/domain/$1/e2e-newdata" n0 "r$1"
}
# guest-fill's mean hot_write_us over a guest's verify lines after line n
ld_hot_us() { # guest first-line
	tail -n +"$2" "$(console_log "$1")" 2>/dev/null |
		sed -n "s/.*E2E-GUEST $1 round=[0-9]* verify=OK .*hot_write_us=\([0-9]*\).*/\1/p" |
		awk '$1 > 0 { s += $1; n++ } END { if (n) printf "%d (%d rounds)", s / n, n; else print "none" }'
}

# Right after guest1 is created: its new data, written before the daemon
# ever scans it (opt-in comes later), so the daemon's first pass over guest1
# indexes it.
ld_prepare() {
	ld_write_node "$(domid_of guest1)" "$LD_TAG" || say "cannot write guest1's e2e-newdata node"
}
# Before the opt-in: guest1 has written it (it reads the node each round).
ld_prepared() { wait_for 300 ld_newdata_seen guest1; }

# Right after phase 1's sharing check: the sampler starts.
ld_begin() {
	LD_ON=no
	[ -n "$DAEMON_PID" ] || return 0
	LD_ON=yes
	: >/tmp/ld.samples
	ld_sampler &
	LD_SAMPLER=$!
	LD_HOT=$(sed -n 's/.*E2E-GUEST guest1 ready .*hot=\([0-9]*\).*/\1/p' "$(console_log guest1)" | head -n1)
	ld_info "sampler started; guests write $LD_HOT hot pages a round"
}

# After phase 1's verdict checks, before guest2 is destroyed.
ld_checks() {
	[ "$LD_ON" = yes ] || return 0
	ld_merge
	ld_looks
	ld_save
}

# logdirty-merge: guest1's copies were indexed by the daemon's first pass
# (written before its opt-in); guest2 writes the same content now and the
# daemon must find it through guest2's dirty log, within LD_MERGE_ROUNDS
# of its rounds after guest2's write was seen and no sooner than
# LD_MERGE_S seconds (a round cut short by the daemon's CPU budget is
# taken again at once, so rounds alone can pass in less time than a
# written page needs to be seen unwritten once more).
ld_merge() {
	local t0 t1 f r r0 sh1 sh2 gfns1 gfns2 detail ok=1
	if ! ld_newdata_seen guest1; then
		ok=0 detail="guest1 never wrote its new data"
	elif ! wait_for "$LD_PASS_WAIT" ld_passes_ge 1; then
		ok=0 detail="no complete pass in $LD_PASS_WAIT polls (full_scans $(ld_num full_scans))"
	elif ! wait_for "$LD_ROUND_WAIT" ld_dom_logdirty "$D2"; then
		ok=0 detail="guest2 is not scanned from its dirty log: $(ld_dom "$D2")"
	elif ! ld_write_node "$D2" "$LD_TAG"; then
		ok=0 detail="cannot write guest2's e2e-newdata node"
	elif ! wait_for 300 ld_newdata_seen guest2; then
		ok=0 detail="guest2 did not write its new data in 300 polls"
	fi
	if [ $ok = 1 ]; then
		t0=$(now_s)
		gfns1=$(ld_gfns guest1) gfns2=$(ld_gfns guest2)
		f=$(ld_num full_scans) r0=$(ld_num logdirty_rounds)
		r=$r0
		# until both sides are shared, or the daemon has been through
		# guest2's log LD_MERGE_ROUNDS times and LD_MERGE_S seconds
		# since the write (a round begun before it may have missed it)
		while :; do
			sh1=$(ld_shared "$D1" "$gfns1") sh2=$(ld_shared "$D2" "$gfns2")
			t1=$(now_s)
			[ "${sh1:-0}" -ge 64 ] && [ "${sh2:-0}" -ge 64 ] && break
			r=$(ld_num logdirty_rounds)
			[ "${r:-0}" -ge $((r0 + LD_MERGE_ROUNDS)) ] &&
				awk -v a="$t1" -v b="$t0" -v m="$LD_MERGE_S" 'BEGIN { exit !(a - b >= m) }' && break
			awk -v a="$t1" -v b="$t0" -v m="$LD_ROUND_WAIT" 'BEGIN { exit !(a - b > m) }' && break
			sleep 2
		done
		detail="64 new pages in each guest (guest1's written before its opt-in): shared in Xen guest1 ${sh1:-?}/64 guest2 ${sh2:-?}/64, $(sub_s "$t1" "$t0") s and $(( ${r:-0} - ${r0:-0} )) dirty-log rounds after guest2's write was seen (limit $LD_MERGE_ROUNDS rounds and ${LD_MERGE_S} s); daemon passes $f -> $(ld_num full_scans), logdirty_rounds $r0 -> $(ld_num logdirty_rounds)"
		echo "E2E LOGDIRTY-MERGE seconds=$(sub_s "$t1" "$t0") rounds=$(( ${r:-0} - ${r0:-0} )) shared1=${sh1:-0} shared2=${sh2:-0}"
		if [ "${sh1:-0}" -lt 64 ] || [ "${sh2:-0}" -lt 64 ]; then
			ok=0
			ld_info "gfns of the new data: guest1 $gfns1; guest2 $gfns2"
		fi
	fi
	if [ $ok = 1 ]; then check logdirty-merge PASS "$detail"; else check logdirty-merge FAIL "$detail"; fi
}

# logdirty-scan and logdirty-looks, over the samples from guest2's first
# dirty-log round on (at least two more rounds, waited for).  A page
# written several times between two CLEANs is named once, so the judge is
# the hot region per daemon round in which guest2 wrote it: at least half
# of LD_HOT pages named per such round (a guest round can straddle two of
# the daemon's), and less than a tenth of the guest per round.  The pages
# named per round are the count of extra write faults log-dirty costs the
# guest: after each CLEAN a page is read-only in the p2m until its first
# write, which faults once and sets its bit.
ld_looks() {
	local a b dr dp dv dn per want ld1 ld2 why1 detail secs
	a=$(sample_first /tmp/ld.samples logdirty_rounds 1)
	dr=0
	[ -z "$a" ] || wait_for "$LD_ROUND_WAIT" ld_rounds_ge $(( $(sample_f "$a" logdirty_rounds) + 2 ))
	# the sampler's line of that round
	[ -z "$a" ] || wait_for 60 ld_sampled_ge $(( $(sample_f "$a" logdirty_rounds) + 2 ))
	b=$(tail -n 1 /tmp/ld.samples)
	ld1=$(ld_logdirty "$D1") ld2=$(ld_logdirty "$D2") why1=$(ld_why "$D1")
	[ -z "$a" ] || dr=$(( $(sample_f "$b" logdirty_rounds) - $(sample_f "$a" logdirty_rounds) ))
	detail="d$D2 (ring) logdirty=$ld2; d$D1 (no ring) logdirty=$ld1 full_why='$why1'; logdirty_rounds $(sample_f "$b" logdirty_rounds) (first at t=$(sample_f "$a" t))"
	if [ "$ld2" = true ] && [ "$ld1" = false ] && [ -n "$why1" ] && [ "$(sample_f "$b" logdirty_rounds)" -gt 0 ]; then
		check logdirty-scan PASS "$detail"
	else
		check logdirty-scan FAIL "$detail"
	fi
	if [ -z "$a" ] || [ "$dr" -lt 1 ]; then
		check logdirty-looks FAIL "no dirty-log rounds to measure (first: '$a', last: '$b')"
		return
	fi
	secs=$(sub_s "$(sample_f "$b" t)" "$(sample_f "$a" t)")
	dp=$(( $(sample_f "$b" logdirty_pages) - $(sample_f "$a" logdirty_pages) ))
	dv=$(( $(sample_f "$b" v2) - $(sample_f "$a" v2) ))
	dn=$(( $(sample_f "$b" n2) - $(sample_f "$a" n2) ))
	per=$((dp / dr))
	# rounds of the daemon in which guest2 rewrote its hot region
	want=$(( (dv < dr ? dv : dr) * ${LD_HOT:-0} / 2 ))
	detail="$secs s, $dr rounds of guest2's dirty log named $dp pages ($per per round; the guest has 32768); guest2 meanwhile ran $dv rounds rewriting its $LD_HOT hot pages and wrote $dn x 64 new ones (want >= $want named: half its hot region per round it wrote, and < 3277 per round); extra write faults log-dirty cost guest2: $per per round, $(awk -v p="$dp" -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", p / s; else print "?" }') per second; hot_write_us guest1 (full passes) $(ld_hot_us guest1 1), guest2 (log-dirty) $(ld_hot_us guest2 1)"
	echo "E2E LOGDIRTY seconds=$secs rounds=$dr dirty_pages=$dp guest_rounds=$dv hot_pages=$LD_HOT newdata_writes=$dn faults_per_round=$per"
	if [ "$dv" -gt 0 ] && [ "$dp" -ge "$want" ] && [ "$per" -lt 3277 ]; then
		check logdirty-looks PASS "$detail"
	else
		check logdirty-looks FAIL "$detail"
	fi
}

# xl save -c while the daemon holds guest2's dirty log.  libxc's save
# enables log-dirty for itself (OFF, then ENABLE, when it is on already) and
# turns it off when it ends: the daemon's next round over guest2 finds the
# log taken (a bitmap without its sentinel: logdirty_lost) or, when the
# save ended between two of its rounds, gone; either way it must leave the
# log to the toolstack and scan guest2 with full passes.
ld_save() {
	local lost0 ld0 rc t0 t1 why oks0 detail ok=1 size
	lost0=$(ld_num logdirty_lost) ld0=$(ld_logdirty "$D2")
	oks0=$(verdicts guest2 OK)
	# suspended for the save: not a lost guest for the watcher
	echo guest2 >>/tmp/destroyed
	t0=$(now_s)
	xl save -c guest2 "$LD_SAVE" >/tmp/save.log 2>&1
	rc=$?
	t1=$(now_s)
	size=$(wc -c <"$LD_SAVE" 2>/dev/null)
	# the daemon's next round over guest2 finds the log taken or gone
	wait_for "$LD_ROUND_WAIT" ld_dom_full "$D2"
	why=$(ld_why "$D2")
	wait_for 300 ld_oks_ge guest2 $((oks0 + 1))
	detail="daemon held d$D2's log: $ld0; xl save -c rc=$rc in $(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s, $size bytes; logdirty_lost ${lost0:-?} -> $(ld_num logdirty_lost), d$D2 logdirty=$(ld_logdirty "$D2") full_why='$why'; guest2 alive=$(guest_alive guest2 && echo yes || echo no), verify OK $oks0 -> $(verdicts guest2 OK), BAD $(verdicts guest2 BAD)"
	[ "$ld0" = true ] && [ "$rc" = 0 ] && [ "${size:-0}" -gt 0 ] || ok=0
	[ "$(ld_logdirty "$D2")" = false ] || ok=0
	case $why in *"another user"* | *"went away"*) ;; *) ok=0 ;; esac
	guest_alive guest2 || ok=0
	[ "$(verdicts guest2 OK)" -gt "$oks0" ] && [ "$(verdicts guest2 BAD)" = 0 ] || ok=0
	if [ $ok = 1 ]; then
		check logdirty-save PASS "$detail"
	else
		check logdirty-save FAIL "$detail; xl said: $(tail -n 5 /tmp/save.log | tr '\n' ' ')"
		diag_guest_once guest2 save "check logdirty-save failed"
	fi
}

# After guest2 is destroyed: the checkpoint restored, its memory intact,
# and the daemon scanning it from its dirty log again; then it goes.
ld_restore() {
	local id rc t0 t1 oks0 bad0 detail ok=1 ld
	[ "$LD_ON" = yes ] || return 0
	kill "$LD_SAMPLER" 2>/dev/null
	if [ ! -s "$LD_SAVE" ]; then
		check logdirty-restore FAIL "no checkpoint to restore ($LD_SAVE)"
		return
	fi
	oks0=$(verdicts guest2 OK) bad0=$(verdicts guest2 BAD)
	t0=$(now_s)
	xl restore -e "$LD_SAVE" >/tmp/restore.log 2>&1
	rc=$?
	t1=$(now_s)
	rm -f "$LD_SAVE"
	id=$(domid_of guest2)
	if [ "$rc" != 0 ] || [ -z "$id" ]; then
		check logdirty-restore FAIL "xl restore rc=$rc: $(tail -n 5 /tmp/restore.log | tr '\n' ' ')"
		return
	fi
	opt_in guest2 || ok=0
	# two verifications of every page the guest wrote before the checkpoint
	wait_for 300 ld_oks_ge_or_bad guest2 $((oks0 + 2)) "$bad0"
	# its first full pass, then its dirty log
	wait_for "$LD_PASS_WAIT" ld_dom_logdirty "$id"
	ld=$(ld_logdirty "$id")
	detail="xl restore rc=0 in $(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s as d$id; verify OK $oks0 -> $(verdicts guest2 OK), BAD $bad0 -> $(verdicts guest2 BAD); alive=$(guest_alive guest2 && echo yes || echo no); daemon: d$id logdirty=$ld $(ld_dom "$id" | grep -o '"shr_pages":[0-9]*')"
	[ "$(verdicts guest2 OK)" -ge $((oks0 + 2)) ] && [ "$(verdicts guest2 BAD)" = "$bad0" ] || ok=0
	guest_alive guest2 || ok=0
	[ "$ld" = true ] || ok=0
	if [ $ok = 1 ]; then
		check logdirty-restore PASS "$detail"
	else
		check logdirty-restore FAIL "$detail; xl said: $(tail -n 3 /tmp/restore.log | tr '\n' ' ')"
		diag_guest_once guest2 restore "check logdirty-restore failed"
	fi
	xl destroy guest2 >/dev/null 2>&1 || say "xl destroy of the restored guest2 failed"
}
