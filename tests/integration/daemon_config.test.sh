#!/bin/sh
# daemon_config: bad command lines and config files give a clear message
# naming file and line and a non-zero exit, and change nothing: no daemon,
# no socket, no pidfile; a bad file on SIGHUP (or `reload`) keeps the
# running config, a good one is applied, restart-only settings are kept
# with a warning.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

# -- command line: exit 2 and a message
"$XSD" --bogus >/dev/null 2>"$T/out" && fail "--bogus accepted"
[ $? -eq 2 ] || fail "--bogus: exit status not 2"
grep -q "unknown option '--bogus'" "$T/out" || fail "--bogus: no clear message"
"$XSD" -f >/dev/null 2>&1; [ $? -eq 2 ] || fail "-f without a file: exit status not 2"
"$XSD" extra-arg >/dev/null 2>&1; [ $? -eq 2 ] || fail "stray argument: exit status not 2"
"$XSD" --print-settings=yaml >/dev/null 2>&1; [ $? -eq 2 ] || fail "--print-settings=yaml: exit status not 2"
"$XSD" --version | grep -q '^xenshared ' || fail "--version"
"$XSD" --help | grep -q 'max_sharers = N' || fail "--help does not list the settings"

# -- -n: check only
write_conf </dev/null
"$XSD" -n -f "$CONF" >/dev/null || fail "-n rejects a good file"
"$XSD" --print-settings=conf > "$T/default.conf" || fail "--print-settings=conf"
"$XSD" -n -f "$T/default.conf" >/dev/null || fail "-n rejects the generated default config"
"$XSD" -n -f "$T/missing.conf" 2>"$T/out"; [ $? -eq 1 ] || fail "-n with a missing file: exit status not 1"
grep -q "missing.conf: No such file" "$T/out" || fail "missing file: no clear message"
# a FIFO as the config file is refused at once (no wait for a writer)
mkfifo "$T/fifo.conf" || fail "mkfifo"
timeout 10 "$XSD" -n -f "$T/fifo.conf" 2>"$T/out"
rc=$?
[ $rc -eq 1 ] || fail "-n with a FIFO: exit status $rc, not 1 (124: it blocked)"
grep -q "not a regular file (a FIFO)" "$T/out" || fail "-n with a FIFO: $(cat "$T/out")"

check_bad() {  # check_bad 'file text' 'expected message'
	printf '%b' "$1" > "$T/bad.conf"
	"$XSD" -n -f "$T/bad.conf" >/dev/null 2>"$T/out"
	rc=$?
	[ $rc -eq 1 ] || fail "bad file accepted (exit $rc): $1"
	grep -qF "$T/bad.conf:$2" "$T/out" || { cat "$T/out"; fail "expected '$2'"; }
}
check_bad 'cpu_cap = 250\n' '1: cpu_cap: 250 is not in 1..100'
check_bad '# ok\nbogus = 1\n' '2: unknown setting'
check_bad 'cpu_cap 50\n' "1: expected 'name = value'"
check_bad 'reserve = 64\n' "1: reserve: '64' needs a unit"
check_bad 'protocol = fast\n' "1: protocol: 'fast' is not one of auto|upstream|batched"
check_bad 'domain web = maybe\n' "1: domain: 'maybe': expected on|off|zero"
check_bad 'max_sharers = 5\nmax_sharers = 6\n' '2: max_sharers: already set on line 1'
check_bad 'default_group = a/b\n' "1: default_group: 'a/b' is not a group name"
check_bad 'log_level = info\0\n' '1: line contains a NUL byte'

# -- starting with a bad file: exit 1, nothing created
sim_start --mem 512 --dom0-mem 64
guest g1 1 mem_sharing=on
guest g2 2 mem_sharing=on
{ cat "$CONF"; echo "batch_pages = 0"; } > "$T/bad-start.conf"
LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f "$T/bad-start.conf" 2>"$T/out"
[ $? -eq 1 ] || fail "daemon started with a bad config"
grep -q "bad-start.conf:7: batch_pages: 0 is not in 1..4096" "$T/out" || { cat "$T/out"; fail "no file:line message on start"; }
[ ! -e "$T/run/control.sock" ] && [ ! -e "$T/run/xenshared.pid" ] || fail "a failed start left files behind"
[ "$(shr_pages_of g1)" -eq 0 ] || fail "a failed start shared pages"

# -- running daemon: bad reloads keep the old config
write_conf <<CFG
default_group = alpha
CFG
xsd_start || fail "daemon did not start with a good config"
pid=$(xsd_pid)
# protocol auto on an unpatched hypervisor: said once, at start
[ "$(grep -c "warning: engine: no xenshare series in this hypervisor" "$T/daemon.err")" = 1 ] ||
	fail "no (or more than one) start-up warning about the stock hypervisor"
wait_for 10 stats_true '.domains | length == 2 and all(.group == "alpha")' || fail "domains not in group alpha"

cp "$CONF" "$T/good.conf"
{ cat "$T/good.conf"; echo "default_group = beta"; echo "batch_pages = 0"; } | grep -v alpha > "$CONF"
kill -HUP "$pid"
sleep 1
alive "$pid" || fail "a bad config on SIGHUP killed the daemon"
stats_true '.domains | length == 2 and all(.group == "alpha")' || fail "a bad SIGHUP reload changed the config"
ans=$(ctl reload) && fail "reload of a bad file answered ok: $ans"
echo "$ans" | jtrue '.ok == false and (.error | contains("xenshared.conf:8: batch_pages: 0 is not in 1..4096"))' ||
	fail "reload answer does not name file and line: $ans"
stats_true '.domains | length == 2 and all(.group == "alpha")' || fail "a bad reload command changed the config"

# -- a good reload applies; a restart-only change is kept with a warning,
# in the log and in the answer (the operator who typed `xenshared -C reload`
# sees it, not only whoever reads the journal)
{ grep -v alpha "$T/good.conf"; echo "default_group = beta"; echo "protocol = batched"; } > "$CONF"
ans=$(ctl reload) || fail "good reload refused: $ans"
echo "$ans" | jtrue '.ok == true and (.warnings | length == 1) and
	(.warnings[0] | test("xenshared.conf: protocol changed, but it needs a restart: keeping the running value$"))' ||
	fail "reload answer does not carry the restart-only warning: $ans"
ctl reload | jtrue '.ok == true and (.warnings | length == 1)' || fail "the warning is not repeated while the file still differs"
{ grep -v alpha "$T/good.conf"; echo "default_group = beta"; } > "$CONF"
ctl reload | jtrue '.ok == true and has("warnings") == false' || fail "a reload without restart-only change still warns"
{ grep -v alpha "$T/good.conf"; echo "default_group = beta"; echo "protocol = batched"; } > "$CONF"
ctl reload | jtrue '.ok == true' || fail "good reload refused"
stats_true '.domains | length == 2 and all(.group == "beta")' || fail "good reload not applied"
grep -q "warning: .*xenshared.conf: protocol changed, but it needs a restart" "$T/daemon.err" ||
	fail "no warning about the restart-only setting"
grep -q "error: reload failed, keeping the running config: .*xenshared.conf:8: batch_pages" "$T/daemon.err" ||
	fail "the failed SIGHUP reload was not logged with file and line"
stats_true '.daemon.protocol == "upstream"' || fail "restart-only protocol changed by reload"

# -- SIGTERM: clean stop
kill -TERM "$pid"
wait_for 10 dead "$pid" || fail "SIGTERM did not stop the daemon"
[ ! -e "$T/run/control.sock" ] && [ ! -e "$T/run/xenshared.pid" ] || fail "SIGTERM left socket or pidfile"

# -- a relative -f: the daemon chdirs to /, yet finds its file on reload
# (SIGHUP and the reload command) because the path was made absolute
{ grep -v alpha "$T/good.conf"; echo "default_group = gamma"; } > "$CONF"
(cd "$T" && xsd_env "$XSD" -f ./xenshared.conf 2>>"$T/daemon.err") || fail "daemonised start with a relative -f"
pid=$(xsd_pid)
[ "$(readlink "/proc/$pid/cwd")" = / ] || fail "the daemon did not chdir to /"
sed -i 's/^default_group = gamma$/default_group = delta/' "$CONF"
ans=$(ctl reload) || fail "reload after a relative -f: $ans"
echo "$ans" | jtrue '.ok == true' || fail "reload after a relative -f: $ans"
wait_for 10 stats_true '.domains | length == 2 and all(.group == "delta")' || fail "reload after a relative -f not applied"
sed -i 's/^default_group = delta$/default_group = epsilon/' "$CONF"
kill -HUP "$pid"
wait_for 10 stats_true '.domains | length == 2 and all(.group == "epsilon")' || fail "SIGHUP after a relative -f not applied"
kill -TERM "$pid"
wait_for 10 dead "$pid" || fail "SIGTERM did not stop the daemon"
# a relative path whose directory does not exist: refused at once, clearly
(cd "$T" && LD_LIBRARY_PATH="$SIMLIB" "$XSD" -f nodir/x.conf 2>"$T/out"); rc=$?
[ $rc -eq 1 ] || fail "relative -f in a missing directory: exit $rc"
grep -q "cannot make the config path 'nodir/x.conf' absolute: nodir: No such file or directory" "$T/out" ||
	{ cat "$T/out"; fail "relative -f in a missing directory: no clear message"; }
pass daemon_config
