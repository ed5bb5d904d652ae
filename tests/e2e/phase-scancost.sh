# Phase "scan cost" of the e2e dom0 (sourced by dom0-init.sh; uses its
# helpers: say, check, daemon_ctl, wait_for, D1, DAEMON_PID, T0).
# See docs/e2e.md, check scan-cost.
#
# On the real hypervisor, in one boot: the daemon's pages fingerprinted
# per second of its engine's CPU (pages_scanned / engine_cpu_s, both from
# `xenshared -C stats`) over a window after its first complete pass (the
# first pass's merging is over), beside
# bench-xxh3's raw XXH3 rate over SC_RAW_PAGES of guest1's pages copied
# into dom0 once (e2e-probe dump), measured before and after the window.
# Under TCG and a shared machine both rates are emulated and noisy: the
# ratio is the figure, the check asks only that both were measured.
#
# A sampler reads the daemon's counters every 2 s into /tmp/sc.samples,
# one line of key=value each: t= (dom0's uptime), the counters by their
# stats names, and process_cpu_s (the daemon process's utime + stime).
SC_RAW_PAGES=8192           # guest pages bench-xxh3 hashes (32 MiB)
SC_PASS_WAIT_S=900          # the first complete pass may take this long
SC_WINDOW_S=60              # the window after it, at least
SC_MAP_PAGES=2048           # guest pages e2e-probe mapcost maps each way

sc_info() { echo "E2E INFO scancost t=$(( $(cut -d. -f1 /proc/uptime) - T0 ))s $*"; }
# the daemon process's CPU seconds (utime + stime, USER_HZ = 100)
sc_proc_cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$DAEMON_PID/stat" 2>/dev/null; }
sc_sample() {
	local s k line
	s=$(daemon_ctl stats)
	line="t=$(now_s)"
	for k in full_scans pages_scanned mapped_pages engine_cpu_s hypercalls mappings share_attempts \
		compare_mismatch share_raced unshares_rewritten nominations_released; do
		line="$line $k=$(echo "$s" | grep -o "\"$k\":[0-9.]*" | head -n1 | sed 's/.*://')"
	done
	echo "$line process_cpu_s=$(sc_proc_cpu)"
}
sc_sampler() {
	while :; do
		sc_sample >>/tmp/sc.samples
		sleep 2
	done
}
sc_pass_done() { [ -n "$(sample_first /tmp/sc.samples full_scans 1)" ]; }
sc_window_done() { # t of the window's first sample
	awk -v t0="$1" -v w="$SC_WINDOW_S" 'END { split($1, a, "="); exit !(a[2] - t0 >= w) }' /tmp/sc.samples
}
# bench-xxh3 over SC_RAW_PAGES of guest1's pages, copied into dom0 once:
# prints bench-xxh3's pages_per_cpu_s (the faster kernel), or nothing.
sc_raw() {
	local out
	out=$(e2e-probe dump "$D1" /tmp/raw.pages "$SC_RAW_PAGES" 2>&1) ||
		{ sc_info "e2e-probe dump: $out" >&2; rm -f /tmp/raw.pages; return 1; }
	bench-xxh3 --min-cpu 0.3 /tmp/raw.pages >/tmp/raw.json 2>&1
	rm -f /tmp/raw.pages
	sc_info "raw: $out $(cat /tmp/raw.json)" >&2
	sed -n 's/.*"pages_per_cpu_s":\([0-9.]*\).*/\1/p' /tmp/raw.json
}

# map-cost: where dom0's CPU goes when it reads guest pages through
# privcmd (e2e-probe mapcost: each way of mapping at batch sizes 1 to
# 1024, and the per-call and per-page costs fitted), beside the daemon.
sc_mapcost() {
	local out rc
	out=$(e2e-probe mapcost "$D1" "$SC_MAP_PAGES" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/E2E INFO scancost /'
	echo "$out" | sed -n 's/^E2E-PROBE mapcost-fit /E2E MAPCOST /p'
	if [ "$rc" = 0 ] && [ "$(echo "$out" | grep -c '^E2E-PROBE mapcost-fit ')" -ge 4 ]; then
		check map-cost PASS "$(echo "$out" | grep '^E2E-PROBE mapcost-fit \|way=local' | sed 's/E2E-PROBE //' | tr '\n' ';')"
	else
		check map-cost FAIL "e2e-probe mapcost rc=$rc: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

# Right after phase 1's sharing check: the first raw figure, the sampler.
sc_begin() {
	SC_ON=no
	[ -n "$DAEMON_PID" ] || return 0
	SC_ON=yes
	: >/tmp/sc.samples
	SC_RAW1=$(sc_raw)
	sc_sampler &
	SC_SAMPLER=$!
	sc_info "sampler started; raw XXH3 ${SC_RAW1:-?} pages/CPU-s"
}

# scan-cost: after phase 1's verdict checks, before guest2 is destroyed.
sc_check() {
	local first last dpg dmap dcpu dproc rate rate_p raw pct detail dhc dmc dsh dcm dra drw drl
	[ "$SC_ON" = yes ] || return 0
	wait_for "$SC_PASS_WAIT_S" sc_pass_done
	first=$(sample_first /tmp/sc.samples full_scans 1)
	[ -z "$first" ] || wait_for $((SC_WINDOW_S + 30)) sc_window_done "$(sample_f "$first" t)"
	kill "$SC_SAMPLER" 2>/dev/null
	# every counter at the window's end, for what the line below leaves out
	sc_info "counters: $(daemon_ctl stats | grep -o '"counters":{[^}]*}')"
	SC_RAW2=$(sc_raw)
	last=$(tail -n 1 /tmp/sc.samples)
	if [ -z "$first" ] || [ "$first" = "$last" ] || [ -z "$SC_RAW1$SC_RAW2" ]; then
		check scan-cost FAIL "no window after the first complete pass (first: '$first', last: '$last') or no raw figure (raw '$SC_RAW1' '$SC_RAW2')"
		return
	fi
	dpg=$(( $(sample_f "$last" pages_scanned) - $(sample_f "$first" pages_scanned) ))
	dmap=$(( $(sample_f "$last" mapped_pages) - $(sample_f "$first" mapped_pages) ))
	dcpu=$(sub_s "$(sample_f "$last" engine_cpu_s)" "$(sample_f "$first" engine_cpu_s)")
	# what else the engine asked of Xen in the window
	dhc=$(( $(sample_f "$last" hypercalls) - $(sample_f "$first" hypercalls) ))
	dmc=$(( $(sample_f "$last" mappings) - $(sample_f "$first" mappings) ))
	dsh=$(( $(sample_f "$last" share_attempts) - $(sample_f "$first" share_attempts) ))
	dcm=$(( $(sample_f "$last" compare_mismatch) - $(sample_f "$first" compare_mismatch) ))
	dra=$(( $(sample_f "$last" share_raced) - $(sample_f "$first" share_raced) ))
	drw=$(( $(sample_f "$last" unshares_rewritten) - $(sample_f "$first" unshares_rewritten) ))
	drl=$(( $(sample_f "$last" nominations_released) - $(sample_f "$first" nominations_released) ))
	dproc=$(sub_s "$(sample_f "$last" process_cpu_s)" "$(sample_f "$first" process_cpu_s)")
	rate=$(awk -v p="$dpg" -v c="$dcpu" 'BEGIN { if (c > 0) printf "%d", p / c; else print 0 }')
	rate_p=$(awk -v p="$dpg" -v c="$dproc" 'BEGIN { if (c > 0) printf "%d", p / c; else print 0 }')
	# the mean of the raw figures that were measured
	raw=$(echo "$SC_RAW1 $SC_RAW2" | awk '{ for (i = 1; i <= NF; i++) { s += $i; n++ } } END { if (n) printf "%d", s / n; else print 0 }')
	pct=$(awk -v a="$rate" -v b="$raw" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print 0 }')
	echo "E2E SCANCOST daemon_pages_per_cpu_s=$rate raw_pages_per_cpu_s=$raw percent=$pct pages=$dpg gfns_mapped=$dmap engine_cpu_s=$dcpu process_cpu_s=$dproc hypercalls=$dhc mappings=$dmc share_attempts=$dsh compare_mismatch=$dcm share_raced=$dra unshares_rewritten=$drw nominations_released=$drl seconds=$(sub_s "$(sample_f "$last" t)" "$(sample_f "$first" t)")"
	detail="scan cost: daemon $rate pages/CPU-s = $pct% of raw XXH3 $raw pages/s (${SC_RAW1:-?} before, ${SC_RAW2:-?} after, $SC_RAW_PAGES guest pages); window $(sub_s "$(sample_f "$last" t)" "$(sample_f "$first" t)") s after the first complete pass, passes $(sample_f "$first" full_scans) to $(sample_f "$last" full_scans): $dpg pages fingerprinted, $dmap gfns mapped (holes too, where the hypervisor cannot give page types), $dcpu s engine CPU, $dproc s process CPU ($rate_p pages per process CPU-s); meanwhile $dhc hypercalls, $dmc mapping calls, $dsh share attempts ($dcm found different, $dra raced by a write), $drw shares found lost to a rewrite, $drl nominations released"
	if [ "$dpg" -gt 0 ] && [ "$rate" -gt 0 ] && [ "$raw" -gt 0 ]; then
		check scan-cost PASS "$detail"
	else
		check scan-cost FAIL "$detail"
	fi
	sc_mapcost
}
