#!/bin/sh
# daemon_unit: the systemd unit stays hardened and stays runnable.
#  - systemd-analyze verify finds nothing to say about it (a misspelt or
#    misvalued directive is ignored by systemd with a warning, not refused);
#  - its exposure (systemd-analyze security) is at most UNIT_EXPOSURE;
#  - it keeps what a dom0 daemon needs: nothing that hides /dev/xen or
#    /proc/xen or drops root, and each /dev/xen device in DeviceAllow=;
#  - every system call the daemon makes against xensim (start, passes,
#    control commands, reload, SIGHUP, clean stop) is allowed by the unit's
#    SystemCallFilter=, so the filter cannot make it fail with EPERM.
# Release variant only (tests/skip-list.txt): a sanitizer runtime makes
# calls (setrlimit, personality) that the daemon the unit starts never makes.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"
need_tool systemd-analyze systemd
need_tool strace
UNIT="$TOP/dom0-daemon/xenshared.service"
# 1.4 with systemd 252 (Debian 12); docs/operations.md gives the breakdown
UNIT_EXPOSURE=14

# -- the unit as systemd reads it (Xen's own units stubbed)
mkdir -p "$T/units"
printf '[Mount]\nWhat=xenfs\nWhere=/proc/xen\nType=xenfs\n' > "$T/units/proc-xen.mount"
printf '[Service]\nExecStart=/bin/true\n' > "$T/units/xenstored.service"
sed "s|/usr/sbin/xenshared|$XSD|g" "$UNIT" > "$T/units/xenshared.service"
SYSTEMD_UNIT_PATH="$T/units:" systemd-analyze verify --man=no "$T/units/xenshared.service" >"$T/verify" 2>&1 ||
	{ cat "$T/verify"; fail "systemd-analyze verify failed"; }
[ -s "$T/verify" ] && { cat "$T/verify"; fail "systemd-analyze verify has warnings about the unit"; }

# -- exposure
systemd-analyze security --offline=yes --threshold=$UNIT_EXPOSURE "$UNIT" >"$T/security" 2>&1 ||
	{ grep -E '✗|Overall' "$T/security"; fail "exposure above $UNIT_EXPOSURE/10"; }
note "$(grep Overall "$T/security")"

# -- what a dom0 daemon cannot do without
for bad in 'PrivateDevices=yes' 'PrivateDevices=true' 'ProcSubset=pid' 'PrivateUsers=' 'DynamicUser=' 'User=' \
	   'InaccessiblePaths=' 'ProtectSystem=full'; do
	grep -q "^$bad" "$UNIT" && fail "the unit sets $bad: it would hide /dev/xen, /proc/xen or root's devices"
done
for dev in privcmd hypercall evtchn xenbus; do
	grep -qx "DeviceAllow=/dev/xen/$dev rw" "$UNIT" || fail "DeviceAllow= lacks /dev/xen/$dev"
done
grep -qx 'ReadWritePaths=/run/xenshared' "$UNIT" && grep -qx 'RuntimeDirectory=xenshared' "$UNIT" ||
	fail "the runtime directory (control socket, pidfile, host lock) is not writable"

# -- system calls: allowed by the filter = allow-list groups minus ~groups
expand() {  # filter items (groups or names) -> system call names, one a line
	todo="$*" seen=
	while [ -n "$todo" ]; do
		# shellcheck disable=SC2086
		set -- $todo
		g=$1
		shift
		todo="$*"
		case " $seen " in *" $g "*) continue ;; esac
		seen="$seen $g"
		case $g in
		@*) todo="$todo $(systemd-analyze syscall-filter "$g" | awk 'NR > 1 && $1 !~ /^#/ { print $1 }' | tr '\n' ' ')" ;;
		*) echo "$g" ;;
		esac
	done
}
allow=$(sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$UNIT" | tr '\n' ' ')
deny=$(sed -n 's/^SystemCallFilter=~\(.*\)/\1/p' "$UNIT" | tr '\n' ' ')
[ -n "$allow" ] || fail "the unit has no SystemCallFilter= allow-list"
# shellcheck disable=SC2086
expand $allow | sort -u > "$T/allowed.all"
# shellcheck disable=SC2086
expand $deny | sort -u > "$T/denied"
comm -23 "$T/allowed.all" "$T/denied" > "$T/allowed"

sim_start --mem 512 --dom0-mem 64
guest u1 1 mem_sharing=on
guest u2 2 mem_sharing=on
write_conf </dev/null
LD_LIBRARY_PATH="$SIMLIB" strace -f -qq -o "$T/strace.out" "$XSD" -d -f "$CONF" 2>>"$T/daemon.err" &
TRACED=$!
up() { ctl ping >/dev/null 2>&1; }
wait_for 30 up || fail "the traced daemon did not come up"
wait_scans 2
ctl stats >/dev/null && ctl audit >/dev/null && ctl reload >/dev/null || fail "control commands under strace"
kill -HUP "$(xsd_pid)"
sleep 1
kill -TERM "$(xsd_pid)"
wait "$TRACED" || fail "the traced daemon did not stop cleanly"
# "PID syscall(...": strace pads the pid to 5 columns, so a small pid has
# more than one blank after it
sed -n 's/^[0-9][0-9]* *\([a-z_][a-z0-9_]*\)(.*/\1/p' "$T/strace.out" | sort -u > "$T/used"
[ "$(wc -l < "$T/used")" -gt 20 ] || fail "strace saw only $(wc -l < "$T/used") system calls"
comm -23 "$T/used" "$T/allowed" > "$T/refused"
[ -s "$T/refused" ] && fail "the unit's SystemCallFilter= refuses system calls the daemon makes: $(tr '\n' ' ' < "$T/refused")"
note "the daemon made $(wc -l < "$T/used") distinct system calls, all allowed by the unit"
pass daemon_unit
