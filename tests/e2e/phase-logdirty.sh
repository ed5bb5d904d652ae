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
#    (its 2 MiB hot region each guest round), not its 32 768 pages;
#  - content written into both guests anew is merged within seconds of
#    guest2's write: guest1 writes it before its opt-in, so the daemon's
#    first pass indexes it, then guest2's dirty log names guest2's copies
#    (guest-fill --write-node prints the gfns, e2e-probe shared asks Xen
#    about them);
#  - `xl save -c guest2` while the daemon holds guest2's log works (the
#    toolstack's save turns log-dirty off when it ends), the daemon sees
#    the log taken (logdirty_lost, guest2's full_why) and keeps scanning
#    guest2 with full passes; the checkpoint, restored once guest2 is
#    destroyed, runs on with its memory intact (guest-fill's own hashes of
#    every page it wrote), and the daemon scans the restored guest from
#    its dirty log again after its first pass;
#  - the scan cost: bench-xxh3's raw XXH3 rate over guest pages copied
#    into dom0 once, beside the daemon's pages fingerprinted per CPU
#    second (pages_scanned / engine_cpu_s) after its second complete
#    pass, in the same boot.
# A sampler reads the daemon's counters every 2 s into /tmp/ld.samples,
# one line of key=value each (t= dom0's uptime, the daemon's counters by
# their stats names, process_cpu_s, and guest2's verify and newdata line
# counts v2= and n2=), for the windows.
LD_TAG=n1                   # the value of e2e-newdata both guests are told
LD_MERGE_S=${E2E_LD_MERGE_S:-30}     # seconds the merge of the new data may take
LD_RAW_PAGES=8192           # guest pages bench-xxh3 hashes (32 MiB)
LD_SCAN_TARGET=60           # percent of raw XXH3 the daemon should reach
LD_SAVE=/tmp/guest2.chk

ld_info() { echo "E2E INFO logdirty t=$(( $(cut -d. -f1 /proc/uptime) - T0 ))s $*"; }
ld_now() { cut -d' ' -f1 /proc/uptime; }
# A number from the daemon's stats by its key (keys met once in the reply).
ld_num() { daemon_ctl stats | grep -o "\"$1\":[0-9.]*" | head -n1 | sed 's/.*://'; }
ld_dom() { daemon_ctl stats | grep -o "{\"domid\":$1,[^}]*}"; }
ld_logdirty() { ld_dom "$1" | sed -n 's/.*"logdirty":\([a-z]*\).*/\1/p'; }
ld_why() { ld_dom "$1" | sed -n 's/.*"full_why":"\([^"]*\)".*/\1/p'; }
# the daemon process's CPU seconds (utime + stime, USER_HZ = 100)
ld_proc_cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$DAEMON_PID/stat" 2>/dev/null; }
ld_sample() {
	local s k line
	s=$(daemon_ctl stats)
	line="t=$(ld_now)"
	for k in full_scans pages_scanned mapped_pages engine_cpu_s logdirty_rounds logdirty_pages logdirty_lost; do
		line="$line $k=$(echo "$s" | grep -o "\"$k\":[0-9.]*" | head -n1 | sed 's/.*://')"
	done
	echo "$line process_cpu_s=$(ld_proc_cpu) v2=$(grep -c "E2E-GUEST guest2 round=[0-9]* verify=" "$(console_log guest2)") n2=$(grep -c "E2E-GUEST guest2 newdata " "$(console_log guest2)")"
}
ld_sampler() {
	while :; do
		ld_sample >>/tmp/ld.samples
		sleep 2
	done
}
# a field of a sample line by its key
ld_f() { echo "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p; s/^$2=\([^ ]*\).*/\1/p"; }
# the first sample whose field is at least the value
ld_first() { awk -v k="$1" -v v="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1 && substr($i, length(k) + 2) + 0 >= v) { print; exit } }' /tmp/ld.samples; }
# b - a, with decimals
ld_sub() { awk -v a="$2" -v b="$1" 'BEGIN { printf "%.2f", b - a }'; }
# the gfns of a guest's new data (guest-fill's newdata line)
ld_gfns() { sed -n "s/.*E2E-GUEST $1 newdata tag=$LD_TAG pages=[0-9]* gfns=\([0-9a-f,]*\).*/\1/p" "$(console_log "$1")" | tail -n 1; }
ld_shared() { # domid gfns: how many of them Xen has on shared frames
	e2e-probe shared "$1" "$2" 2>/dev/null | sed -n 's/.* shared=\([0-9]*\).*/\1/p'
}
ld_rounds_ge() { [ "$(ld_f "$(tail -n 1 /tmp/ld.samples)" logdirty_rounds)" -ge "$1" ] 2>/dev/null; }
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
# bench-xxh3 over LD_RAW_PAGES of guest1's pages, copied into dom0 once:
# prints bench-xxh3's pages_per_cpu_s (the faster kernel), or nothing.
ld_raw() {
	local out
	out=$(e2e-probe dump "$D1" /tmp/raw.pages "$LD_RAW_PAGES" 2>&1) ||
		{ ld_info "e2e-probe dump: $out" >&2; rm -f /tmp/raw.pages; return 1; }
	bench-xxh3 --min-cpu 0.3 /tmp/raw.pages >/tmp/raw.json 2>&1
	rm -f /tmp/raw.pages
	ld_info "raw: $out $(cat /tmp/raw.json)" >&2
	sed -n 's/.*"pages_per_cpu_s":\([0-9.]*\).*/\1/p' /tmp/raw.json
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
ld_prepared() { wait_for 30 ld_newdata_seen guest1; }

# Right after phase 1's sharing check: the sampler starts, and the first
# raw XXH3 figure.
ld_begin() {
	LD_ON=no
	[ -n "$DAEMON_PID" ] || return 0
	LD_ON=yes
	: >/tmp/ld.samples
	LD_RAW1=$(ld_raw)
	ld_sampler &
	LD_SAMPLER=$!
	LD_HOT=$(sed -n 's/.*E2E-GUEST guest1 ready .*hot=\([0-9]*\).*/\1/p' "$(console_log guest1)" | head -n1)
	ld_info "sampler started; raw XXH3 ${LD_RAW1:-?} pages/CPU-s"
}

# After phase 1's verdict checks, before guest2 is destroyed.
ld_checks() {
	[ "$LD_ON" = yes ] || return 0
	ld_merge
	ld_scan_cost
	ld_looks
	ld_save
}

# logdirty-merge: guest1's copies were indexed by the daemon's first pass
# (written before its opt-in); guest2 writes the same content now and the
# daemon must find it through guest2's dirty log.
ld_merge() {
	local t0 t1 f r sh1 sh2 gfns1 gfns2 detail ok=1
	if ! ld_newdata_seen guest1; then
		ok=0 detail="guest1 never wrote its new data"
	elif ! wait_for 120 ld_passes_ge 1; then
		ok=0 detail="no complete pass over guest1 in 120 s (full_scans $(ld_num full_scans))"
	elif ! wait_for 120 ld_dom_logdirty "$D2"; then
		ok=0 detail="guest2 is not scanned from its dirty log: $(ld_dom "$D2")"
	elif ! ld_write_node "$D2" "$LD_TAG"; then
		ok=0 detail="cannot write guest2's e2e-newdata node"
	elif ! wait_for 30 ld_newdata_seen guest2; then
		ok=0 detail="guest2 did not write its new data in 30 s"
	fi
	if [ $ok = 1 ]; then
		t0=$(ld_now)
		gfns1=$(ld_gfns guest1) gfns2=$(ld_gfns guest2)
		f=$(ld_num full_scans) r=$(ld_num logdirty_rounds)
		while :; do
			sh1=$(ld_shared "$D1" "$gfns1") sh2=$(ld_shared "$D2" "$gfns2")
			t1=$(ld_now)
			[ "${sh1:-0}" -ge 64 ] && [ "${sh2:-0}" -ge 64 ] && break
			awk -v a="$t1" -v b="$t0" -v m="$LD_MERGE_S" 'BEGIN { exit !(a - b > m) }' && break
			sleep 1
		done
		detail="64 new pages in each guest (guest1's written before its opt-in): shared in Xen guest1 ${sh1:-?}/64 guest2 ${sh2:-?}/64, $(ld_sub "$t1" "$t0") s after guest2's write was seen (limit $LD_MERGE_S s); daemon passes $f -> $(ld_num full_scans), logdirty_rounds $r -> $(ld_num logdirty_rounds)"
		if [ "${sh1:-0}" -lt 64 ] || [ "${sh2:-0}" -lt 64 ]; then
			ok=0
			ld_info "gfns of the new data: guest1 $gfns1; guest2 $gfns2"
		fi
	fi
	if [ $ok = 1 ]; then check logdirty-merge PASS "$detail"; else check logdirty-merge FAIL "$detail"; fi
}

# logdirty-scan and logdirty-looks, over the samples from guest2's first
# dirty-log round on (at least two more rounds, waited for).
ld_looks() {
	local a b dr dp dv dn written per ratio ld1 ld2 why1 detail
	a=$(ld_first logdirty_rounds 1)
	dr=0
	[ -z "$a" ] || wait_for 60 ld_rounds_ge $(( $(ld_f "$a" logdirty_rounds) + 2 ))
	b=$(tail -n 1 /tmp/ld.samples)
	ld1=$(ld_logdirty "$D1") ld2=$(ld_logdirty "$D2") why1=$(ld_why "$D1")
	[ -z "$a" ] || dr=$(( $(ld_f "$b" logdirty_rounds) - $(ld_f "$a" logdirty_rounds) ))
	detail="d$D2 (ring) logdirty=$ld2; d$D1 (no ring) logdirty=$ld1 full_why='$why1'; logdirty_rounds $(ld_f "$b" logdirty_rounds) (first at t=$(ld_f "$a" t))"
	if [ "$ld2" = true ] && [ "$ld1" = false ] && [ -n "$why1" ] && [ "$(ld_f "$b" logdirty_rounds)" -gt 0 ]; then
		check logdirty-scan PASS "$detail"
	else
		check logdirty-scan FAIL "$detail"
	fi
	if [ -z "$a" ] || [ "$dr" -lt 1 ]; then
		check logdirty-looks FAIL "no dirty-log rounds to measure (first: '$a', last: '$b')"
		return
	fi
	dp=$(( $(ld_f "$b" logdirty_pages) - $(ld_f "$a" logdirty_pages) ))
	dv=$(( $(ld_f "$b" v2) - $(ld_f "$a" v2) ))
	dn=$(( $(ld_f "$b" n2) - $(ld_f "$a" n2) ))
	written=$((dv * ${LD_HOT:-0} + dn * 64))
	per=$((dp / dr))
	ratio=$(awk -v a="$dp" -v b="$written" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-1" }')
	detail="$(ld_sub "$(ld_f "$b" t)" "$(ld_f "$a" t)") s, $dr rounds of guest2's dirty log named $dp pages ($per per round; the guest has 32768); guest2 wrote $dv x $LD_HOT hot pages + $dn x 64 new: $written pages: ratio $ratio; log-dirty's extra write faults: about $per per round (Xen's dirty count, the write faults it took); hot_write_us guest1 (full passes) $(ld_hot_us guest1 1), guest2 (log-dirty) $(ld_hot_us guest2 1)"
	echo "E2E LOGDIRTY seconds=$(ld_sub "$(ld_f "$b" t)" "$(ld_f "$a" t)") rounds=$dr dirty_pages=$dp written_pages=$written per_round=$per"
	if [ "$written" -gt 0 ] && [ "$per" -lt 3277 ] &&
	   awk -v r="$ratio" 'BEGIN { exit !(r >= 0.5 && r <= 2.0) }'; then
		check logdirty-looks PASS "$detail"
	else
		check logdirty-looks FAIL "$detail (want 0.5..2 pages named per page written, < 10% of the guest per round)"
	fi
}

# The scan cost: the daemon's pages fingerprinted per CPU second over the
# samples after its second complete pass, against bench-xxh3 before and
# after them.
ld_scan_cost() {
	local first last dpg dmap dcpu dproc rate rate_p rate_map raw ratio detail
	LD_RAW2=$(ld_raw)
	first=$(ld_first full_scans 2)
	last=$(tail -n 1 /tmp/ld.samples)
	if [ -z "$first" ] || [ "$first" = "$last" ] || [ -z "$LD_RAW1$LD_RAW2" ]; then
		check scan-cost FAIL "no steady window (first sample after two passes: '${first}') or no raw figure (raw '${LD_RAW1}' '${LD_RAW2}')"
		return
	fi
	dpg=$(( $(ld_f "$last" pages_scanned) - $(ld_f "$first" pages_scanned) ))
	dmap=$(( $(ld_f "$last" mapped_pages) - $(ld_f "$first" mapped_pages) ))
	dcpu=$(ld_sub "$(ld_f "$last" engine_cpu_s)" "$(ld_f "$first" engine_cpu_s)")
	dproc=$(ld_sub "$(ld_f "$last" process_cpu_s)" "$(ld_f "$first" process_cpu_s)")
	rate=$(awk -v p="$dpg" -v c="$dcpu" 'BEGIN { if (c > 0) printf "%d", p / c; else print 0 }')
	rate_p=$(awk -v p="$dpg" -v c="$dproc" 'BEGIN { if (c > 0) printf "%d", p / c; else print 0 }')
	rate_map=$(awk -v p="$dmap" -v c="$dcpu" 'BEGIN { if (c > 0) printf "%d", p / c; else print 0 }')
	# the mean of the raw figures that were measured
	raw=$(echo "$LD_RAW1 $LD_RAW2" | awk '{ for (i = 1; i <= NF; i++) { s += $i; n++ } } END { if (n) printf "%d", s / n; else print 0 }')
	ratio=$(awk -v a="$rate" -v b="$raw" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print 0 }')
	detail="daemon $rate pages fingerprinted per engine CPU-s ($dpg pages, $dcpu s; $rate_p per process CPU-s, $dproc s; $dmap gfns mapped, holes included: $rate_map per CPU-s) over $(ld_sub "$(ld_f "$last" t)" "$(ld_f "$first" t)") s, passes $(ld_f "$first" full_scans) to $(ld_f "$last" full_scans); raw XXH3 over $LD_RAW_PAGES guest pages ${LD_RAW1:-?} before, ${LD_RAW2:-?} after: ratio $ratio (target >= 0.$LD_SCAN_TARGET)"
	echo "E2E SCANCOST daemon_pages_per_cpu_s=$rate raw_pages_per_cpu_s=$raw ratio=$ratio pages=$dpg gfns_mapped=$dmap engine_cpu_s=$dcpu process_cpu_s=$dproc"
	if [ "$dpg" -gt 0 ] && [ "$rate" -gt 0 ] && [ "$raw" -gt 0 ]; then
		check scan-cost PASS "$detail"
	else
		check scan-cost FAIL "$detail"
	fi
}

# xl save -c while the daemon holds guest2's dirty log.
ld_save() {
	local lost0 ld0 rc t0 t1 why oks0 detail ok=1 size
	lost0=$(ld_num logdirty_lost) ld0=$(ld_logdirty "$D2")
	oks0=$(verdicts guest2 OK)
	# suspended for the save: not a lost guest for the watcher
	echo guest2 >>/tmp/destroyed
	t0=$(ld_now)
	xl save -c guest2 "$LD_SAVE" >/tmp/save.log 2>&1
	rc=$?
	t1=$(ld_now)
	size=$(wc -c <"$LD_SAVE" 2>/dev/null)
	wait_for 60 ld_lost_gt "${lost0:-0}"
	why=$(ld_why "$D2")
	wait_for 30 ld_oks_ge guest2 $((oks0 + 1))
	detail="daemon held d$D2's log: $ld0; xl save -c rc=$rc in $(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s, $size bytes; logdirty_lost ${lost0:-?} -> $(ld_num logdirty_lost), d$D2 logdirty=$(ld_logdirty "$D2") full_why='$why'; guest2 alive=$(guest_alive guest2 && echo yes || echo no), verify OK $oks0 -> $(verdicts guest2 OK), BAD $(verdicts guest2 BAD)"
	[ "$ld0" = true ] && [ "$rc" = 0 ] && [ "${size:-0}" -gt 0 ] || ok=0
	[ "$(ld_num logdirty_lost)" -gt "${lost0:-0}" ] 2>/dev/null || ok=0
	[ "$(ld_logdirty "$D2")" = false ] || ok=0
	case $why in *"another user"*) ;; *) ok=0 ;; esac
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
	t0=$(ld_now)
	xl restore -e "$LD_SAVE" >/tmp/restore.log 2>&1
	rc=$?
	t1=$(ld_now)
	rm -f "$LD_SAVE"
	id=$(domid_of guest2)
	if [ "$rc" != 0 ] || [ -z "$id" ]; then
		check logdirty-restore FAIL "xl restore rc=$rc: $(tail -n 5 /tmp/restore.log | tr '\n' ' ')"
		return
	fi
	opt_in guest2 || ok=0
	# two verifications of every page the guest wrote before the checkpoint
	wait_for 60 ld_oks_ge_or_bad guest2 $((oks0 + 2)) "$bad0"
	wait_for 120 ld_dom_logdirty "$id"
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
