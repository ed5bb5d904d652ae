#!/bin/sh
# daemon_hostlock: one xenshared per host, whatever its paths.  A second
# daemon with its own pidfile and control socket is refused with exit 1
# and the first one's pid named, both when it shares the first one's
# runtime directory (the lock file) and when it does not (the xenstore
# node /tool/xenshared/owner), daemonised or not, and it creates nothing:
# no socket, no pidfile, no mirror, no share.  The first daemon goes on
# unharmed.  After kill -9 of the first, a new daemon takes the stale node
# over; a clean stop removes it; a forged node of a live process refuses,
# a node from another boot does not.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

NODE=/tool/xenshared/owner
node() { "$XENSIM" xenstore-read "$NODE" 2>/dev/null; }
node_pid() { node | sed -n 's/^pid=\([0-9]*\) start=[0-9]* boot=[0-9a-f-]*$/\1/p'; }

sim_start --mem 512 --dom0-mem 64
guest h1 1 mem_sharing=on
guest h2 2 mem_sharing=on
write_conf </dev/null
xsd_start || fail "first daemon did not start"
A=$(xsd_pid)
[ "$(node_pid)" = "$A" ] || fail "node $NODE does not name the running daemon $A: '$(node)'"
wait_scans 1
freed0=$("$XENSIM" info --json | jq -r '.sharing_freed_pages')

# the second daemon: its own control socket and pidfile, in another directory
mkdir -p "$T/b"
sed -e "s|^control_socket = .*|control_socket = $T/b/run/control.sock|" \
    -e "s|^pidfile = .*|pidfile = $T/b/run/xenshared.pid|" "$CONF" > "$T/b.conf"
b_leftovers() { [ -e "$T/b/run/control.sock" ] || [ -e "$T/b/run/xenshared.pid" ]; }

# refused() HOW MSG: the last start exited 1 naming A and the lock that refused it
refused() {
	[ "$rc" -eq 1 ] || { cat "$T/b.err"; fail "$1: second daemon started (exit $rc)"; }
	grep -q "another xenshared is running (pid $A, $2" "$T/b.err" || { cat "$T/b.err"; fail "$1: no clear refusal naming pid $A"; }
	b_leftovers && fail "$1: the refused daemon left files"
	ctl ping | jtrue '.ok == true' || fail "$1: the first daemon suffered"
	[ "$(node_pid)" = "$A" ] || fail "$1: the refused daemon changed $NODE: '$(node)'"
}

# 1. same runtime directory: the lock file refuses it before it forks
xsd_env "$XSD" -d -f "$T/b.conf" 2>"$T/b.err"; rc=$?
refused "same runtime dir, -d" "holds $T/run/xenshared.lock"
xsd_env "$XSD" -f "$T/b.conf" 2>"$T/b.err"; rc=$?
refused "same runtime dir, daemonised" "holds $T/run/xenshared.lock"

# 2. its own runtime directory (as in another mount namespace): the
#    xenstore node refuses it, before it touches any Xen state
RUNTIME_DIRECTORY="$T/b/rt" xsd_env "$XSD" -d -f "$T/b.conf" 2>"$T/b.err"; rc=$?
refused "own runtime dir, -d" "owns xenstore $NODE"
RUNTIME_DIRECTORY="$T/b/rt" xsd_env "$XSD" -f "$T/b.conf" 2>"$T/b.err"; rc=$?
refused "own runtime dir, daemonised" "owns xenstore $NODE"
grep -q "engine\|control socket\|domain table" "$T/b.err" && { cat "$T/b.err"; fail "the refused daemon got as far as the engine"; }

# the first daemon is unharmed: it still shares, audits clean, pages intact
wait_scans 1
ctl audit | jtrue '.ok == true' || fail "audit of the first daemon after the refusals: $(ctl audit)"
stats_true '.domains | length == 2 and all(.in_engine)' || fail "the first daemon lost its domains"
# (the guests write, so the count moves a little; a second daemon
# racing the first would unshare or double-handle far more)
freed1=$("$XENSIM" info --json | jq -r '.sharing_freed_pages')
note "freed pages before the refusals: $freed0, after: $freed1"
[ "$freed1" -ge $((freed0 * 9 / 10)) ] || fail "shares were lost: $freed1 < 90% of $freed0"
"$XENSIM" verify >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "guest pages differ"; }

# 3. kill -9 of the first: the node is stale and the second daemon (own
#    runtime dir, so only the node stands in its way) takes it over
kill -9 "$A"
wait_for 5 dead "$A" || fail "kill -9 did not kill $A"
[ "$(node_pid)" = "$A" ] || fail "the killed daemon's node vanished by itself"
RUNTIME_DIRECTORY="$T/b/rt" xsd_env "$XSD" -d -f "$T/b.conf" 2>"$T/b.err" &
bjob=$!
bup() { "$XSD" -f "$T/b.conf" -C ping >/dev/null 2>&1; }
wait_for 20 bup || { cat "$T/b.err"; fail "no daemon could start after kill -9 of the first"; }
bpid=$(cat "$T/b/run/xenshared.pid")
[ "$(node_pid)" = "$bpid" ] || fail "$NODE does not name the new daemon $bpid: '$(node)'"
grep -q "xenstore $NODE was \"pid=$A .*whose daemon is gone.*taken over" "$T/b.err" ||
	{ cat "$T/b.err"; fail "the takeover of the stale node was not logged"; }

# 4. a clean stop removes the node (and the then empty /tool/xenshared)
kill -TERM "$bpid"
wait "$bjob" || fail "SIGTERM: exit status $?"
node >/dev/null && fail "a clean stop left $NODE: '$(node)'"
"$XENSIM" xenstore-read /tool/xenshared >/dev/null 2>&1 && fail "a clean stop left /tool/xenshared"

# 5. forged nodes: one naming a live process of this boot refuses (this
#    shell stands in for a daemon in another namespace), one from another
#    boot or with garbage does not
boot=$(cat /proc/sys/kernel/random/boot_id)
start=$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$$/stat)
"$XENSIM" xenstore-write "$NODE" "pid=$$ start=$start boot=$boot" || fail "xenstore-write"
A=$$
RUNTIME_DIRECTORY="$T/b/rt" xsd_env "$XSD" -d -f "$T/b.conf" 2>"$T/b.err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "another xenshared is running (pid $$, owns xenstore $NODE" "$T/b.err" ||
	{ cat "$T/b.err"; fail "a node of a live process did not refuse (exit $rc)"; }
for forged in "pid=$$ start=$start boot=00000000-0000-0000-0000-000000000000" \
	      "pid=$$ start=$((start + 1)) boot=$boot" "garbage"; do
	"$XENSIM" xenstore-write "$NODE" "$forged" || fail "xenstore-write"
	xsd_start || fail "a stale node ($forged) was not taken over"
	[ "$(node_pid)" = "$(xsd_pid)" ] || fail "node not taken over from '$forged': '$(node)'"
	kill -TERM "$(xsd_pid)"
	wait "$XSD_PID" || fail "SIGTERM after taking over '$forged': exit status $?"
done
pass daemon_hostlock
