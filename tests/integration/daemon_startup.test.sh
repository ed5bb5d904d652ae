#!/bin/sh
# daemon_startup: start-up checks give clear messages and exit 1 without
# leaving anything behind: no privcmd (not dom0), no xenstore, a second
# instance, a control socket path taken by a file; and a CPU without VMX
# makes the daemon refuse sharing per domain with the reason, not crash.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

write_conf </dev/null
leftovers() { [ -e "$T/run/control.sock" ] || [ -e "$T/run/xenshared.pid" ]; }

# the real Xen libraries on a machine that is not a Xen dom0
if [ ! -e /dev/xen/privcmd ]; then
	"$XSD" -d -f "$CONF" 2>"$T/out"
	[ $? -eq 1 ] || fail "started without /dev/xen/privcmd"
	grep -q "cannot open /dev/xen/privcmd .*not dom0" "$T/out" || { cat "$T/out"; fail "no clear privcmd message"; }
	leftovers && fail "failed start left files"
else
	note "(this machine has /dev/xen/privcmd: the not-dom0 check is not exercised)"
fi

# xensim not running: the drop-in libraries find no host
xsd_env "$XSD" -d -f "$CONF" 2>"$T/out"
[ $? -eq 1 ] || fail "started without a host"
grep -q "error: cannot open /dev/xen/privcmd\|error: cannot reach xenstore" "$T/out" || { cat "$T/out"; fail "no clear message without a host"; }
leftovers && fail "failed start left files"

# a hypervisor built without CONFIG_MEM_SHARING (Debian's stock one): the
# daemon says so, points at hypervisor-patch/, and exits 1
"$XENSIM" start --mem 256 --dom0-mem 64 --no-mem-sharing --pidfile "$T/sim.pid" --log "$T/sim.log" >/dev/null || fail "xensim start --no-mem-sharing"
xsd_env "$XSD" -d -f "$CONF" 2>"$T/out"
[ $? -eq 1 ] || fail "started on a hypervisor without sharing"
grep -q "built without CONFIG_MEM_SHARING; see hypervisor-patch/" "$T/out" || { cat "$T/out"; fail "no clear no-sharing message"; }
leftovers && fail "failed start left files"
"$XENSIM" stop >/dev/null 2>&1 || fail "xensim stop"

# a host whose CPU has no VMX: every add is refused with the reason
"$XENSIM" start --mem 256 --dom0-mem 64 --no-vmx --pidfile "$T/sim.pid" --log "$T/sim.log" >/dev/null || fail "xensim start"
guest v1 1 mem_sharing=on
xsd_start || fail "daemon did not start on a host without VMX"
[ "$(stat -c %a "$T/run")" = 700 ] || fail "run directory is $(stat -c %a "$T/run"), not 700"
[ "$(stat -c %a "$T/run/control.sock")" = 600 ] || fail "control socket is not 0600"
refused() { stats_true '.domains[0].in_engine == false'; }
wait_for 10 refused || fail "domain taken although the CPU has no VMX"
grep -q "d$(domid_of v1) (v1) add to engine: .*Intel VT-x (VMX)" "$T/daemon.err" || fail "no VMX explanation in the log"
stats_true '.domains[0].note | contains("refused by the hypervisor") and contains("mem-sharing-svm")' || fail "stats do not say why v1 is not shared"

# a second instance is refused while the first runs
xsd_env "$XSD" -d -f "$CONF" 2>"$T/out"
[ $? -eq 1 ] || fail "second instance started"
grep -q "another xenshared is running (pid $(xsd_pid)" "$T/out" || { cat "$T/out"; fail "no clear second-instance message"; }
ctl ping | jtrue '.ok == true' || fail "the first instance suffered from the second"
kill -TERM "$(xsd_pid)"
wait "$XSD_PID" || fail "SIGTERM: non-zero exit"

# the control socket path is a regular file: refuse, do not delete it
mkdir -p "$T/run"
echo precious > "$T/run/control.sock"
xsd_env "$XSD" -d -f "$CONF" 2>"$T/out"
[ $? -eq 1 ] || fail "started over a regular file at the socket path"
grep -q "control.sock exists and is not a socket" "$T/out" || { cat "$T/out"; fail "no clear socket-path message"; }
[ "$(cat "$T/run/control.sock")" = precious ] || fail "the file at the socket path was touched"
[ -e "$T/run/xenshared.pid" ] && fail "failed start left its pidfile"
pass daemon_startup
