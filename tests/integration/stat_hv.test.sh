#!/bin/sh
# xenshare-stat against a scripted xensim host without the daemon:
#  - its hypervisor numbers (freed, used, per-domain shr_pages, free pages)
#    equal xensim's own counters (`xensim info --json`), before and after
#    pages were shared by another tool (libshare's shr-engine-run driver,
#    standing in for e.g. xen-memshare);
#  - the daemon absent / refused / silent / answering garbage / answering
#    a valid reply each give their state, a clear message and exit 1, a
#    valid reply exit 0 with the disagreement explained; no hypervisor
#    gives exit 3; bad arguments exit 2;
#  - -b -n, --json lines, --prometheus, -o (atomic file).
set -u
. "$(dirname "$0")/stat_common.sh"

start_host 1024
guest_cfg web1 on tenant-a 1
guest_cfg web2 on tenant-a 1
guest_cfg db zero tenant-b 7
nosock=$work/no-such.sock

crosscheck() { # what
	stat --json -s "$nosock" >"$work/s.json" 2>"$work/s.err"
	rc=$?
	[ $rc = 1 ] || fail "$1: exit $rc with the daemon absent, expected 1: $(cat "$work/s.err")"
	"$xensim" info --json >"$work/info.json" || fail "xensim info"
	for k in sharing_freed_pages sharing_used_frames; do
		a=$(jq ".hypervisor.$k" "$work/s.json") b=$(jq ".$k" "$work/info.json")
		[ "$a" = "$b" ] || fail "$1: $k: xenshare-stat $a, xensim $b"
	done
	a=$(jq '.hypervisor.free_pages' "$work/s.json") b=$(jq '.free_frames' "$work/info.json")
	[ "$a" = "$b" ] || fail "$1: free pages: xenshare-stat $a, xensim $b"
	a=$(jq -c '[.domains[] | {domid, name, tot_pages, shr_pages}]' "$work/s.json")
	b=$(jq -c '[.domains[] | {domid, name, tot_pages, shr_pages}]' "$work/info.json")
	[ "$a" = "$b" ] || fail "$1: domains differ: xenshare-stat $a, xensim $b"
	a=$(jq '.totals.sum_shr_pages' "$work/s.json") b=$(jq '.sum_shr_pages' "$work/info.json")
	[ "$a" = "$b" ] || fail "$1: sum of shr_pages: $a vs $b"
	[ "$(jq '.totals.saved_pages == .hypervisor.sharing_freed_pages' "$work/s.json")" = true ] ||
		fail "$1: saved is not the hypervisor's freed pages"
	[ "$(jq '.daemon.state' "$work/s.json")" = '"absent"' ] || fail "$1: daemon state not absent"
}

crosscheck "fresh host"
[ "$(jq '.hypervisor.sharing_freed_pages' "$work/s.json")" = 0 ] || fail "fresh host shares pages"
# policy from xenstore (written by xensim's xl from mem_sharing*)
[ "$(jq -r '.domains[] | select(.name=="db") | .mode + "/" + .group' "$work/s.json")" = zero/tenant-b ] ||
	fail "mode/group of db not read from xenstore: $(jq -c '.domains' "$work/s.json")"

if [ -x "$O/bin/shr-engine-run" ]; then
	ids=$(jq -r '.domains[] | select(.domid != 0) | "\(.domid):\(.group):\(.mode)"' "$work/s.json")
	# shellcheck disable=SC2086
	LD_LIBRARY_PATH=$simlib timeout 120 "$O/bin/shr-engine-run" --passes 2 --quiet $ids \
		>"$work/engine.out" 2>&1 || fail "shr-engine-run: $(tail -3 "$work/engine.out")"
	crosscheck "after sharing"
	saved=$(jq '.hypervisor.sharing_freed_pages' "$work/s.json")
	[ "$saved" -gt 0 ] || fail "nothing shared by shr-engine-run"
	echo "   shared by another tool: $saved pages saved, cross-checked with xensim"
else
	echo "   note: $O/bin/shr-engine-run not built; only the unshared host was cross-checked"
fi

# the table says the daemon is down and shows the hypervisor's saved pages
stat -s "$nosock" >"$work/table" 2>"$work/err"; rc=$?
[ $rc = 1 ] || fail "table: exit $rc"
grep -q 'daemon: DOWN (absent)' "$work/table" || fail "table does not say the daemon is down"
grep -q "no such socket" "$work/err" || fail "no message on stderr: $(cat "$work/err")"
saved=$(jq '.hypervisor.sharing_freed_pages' "$work/s.json")
grep -q "($saved pages, from the hypervisor)" "$work/table" || fail "table lacks the saved pages"

# stale socket: refused
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/stale.sock"
stat --json -s "$work/stale.sock" >"$work/r.json" 2>"$work/err"; rc=$?
[ $rc = 1 ] || fail "stale socket: exit $rc"
[ "$(jq -r .daemon.state "$work/r.json")" = refused ] || fail "stale socket: state $(jq .daemon "$work/r.json")"
grep -q "refused" "$work/err" || fail "stale socket: message: $(cat "$work/err")"

# a daemon that never answers: timeout after -t
fake_daemon "$work/silent.sock" silent
start=$(date +%s)
stat --json -t 0.5 -s "$work/silent.sock" >"$work/t.json" 2>"$work/err"; rc=$?
[ $rc = 1 ] || fail "silent daemon: exit $rc"
[ $(( $(date +%s) - start )) -le 5 ] || fail "silent daemon: -t 0.5 not honoured"
[ "$(jq -r .daemon.state "$work/t.json")" = timeout ] || fail "silent daemon: state $(jq .daemon "$work/t.json")"
stop_fake

# a daemon answering garbage: bad-reply
fake_daemon "$work/garbage.sock" garbage
stat --json -s "$work/garbage.sock" >"$work/g.json" 2>"$work/err"; rc=$?
[ $rc = 1 ] || fail "garbage reply: exit $rc"
[ "$(jq -r .daemon.state "$work/g.json")" = bad-reply ] || fail "garbage: state $(jq .daemon "$work/g.json")"
grep -q "not JSON" "$work/err" || fail "garbage: message: $(cat "$work/err")"
stop_fake

# a valid reply (docs/control-protocol.md) whose numbers differ from the
# hypervisor's: exit 0, daemon fields shown, the difference explained
freed=$(jq '.hypervisor.sharing_freed_pages' "$work/s.json")
cat >"$work/reply.json" <<JSON
{"version":"9.9.9","daemon":{"pid":4242,"uptime_s":10.5,"cpu_percent":3.5,"protocol":"upstream","full_scans":2,"pass_time_s":1.25,"pass_progress":0.5,"settled":false},"host":{"total_pages":262144,"free_pages":100000,"reserve_pages":16384,"pages_at_risk":1,"sharing_paused":false,"sharing_freed_pages":1,"sharing_used_frames":1},"counters":{"pages_shared":1,"pages_sharing":$((freed + 7)),"pages_unshared":5,"pages_volatile":3,"pages_scanned":99,"zero_pages_sharing":1,"share_attempts":9,"share_raced":1,"unshares":2},"domains":[{"domid":1,"name":"web1","group":"tenant-a","mode":"on","tot_pages":1,"shr_pages":1,"pages_sharing":12,"pages_volatile":3,"unshares_per_s":0.25,"scan_progress":0.5}]}
JSON
tr -d '\n' <"$work/reply.json" >"$work/reply.line" && echo >>"$work/reply.line"
fake_daemon "$work/ok.sock" "file:$work/reply.line"
stat --json -s "$work/ok.sock" >"$work/o.json" 2>"$work/err"; rc=$?
[ $rc = 0 ] || fail "valid reply: exit $rc: $(cat "$work/err")"
[ "$(jq -r '.daemon.state + " " + (.daemon.pid|tostring)' "$work/o.json")" = "up 4242" ] ||
	fail "valid reply: daemon $(jq -c .daemon "$work/o.json")"
[ "$(jq '.totals.saved_pages' "$work/o.json")" = "$freed" ] || fail "saved must stay the hypervisor's"
jq -r '.notes[]' "$work/o.json" | grep -q "the hypervisor counts $freed pages saved, the daemon $((freed + 7))" ||
	fail "disagreement not explained: $(jq -c .notes "$work/o.json")"
[ "$(jq '.domains[] | select(.domid==1) | .pages_sharing' "$work/o.json")" = 12 ] ||
	fail "per-domain daemon numbers not merged"
stat -s "$work/ok.sock" >"$work/table" 2>&1 || fail "valid reply: table exit $?"
grep -q 'daemon: up (pid 4242, upstream' "$work/table" || fail "table: daemon line: $(head -1 "$work/table")"
# batch: three JSON lines, exit 0
stat -b -n 3 -d 0.1 --json -s "$work/ok.sock" >"$work/b.json" 2>"$work/err" || fail "batch exit $?"
[ "$(wc -l <"$work/b.json")" = 3 ] || fail "batch: $(wc -l <"$work/b.json") lines, expected 3"
jq -e . "$work/b.json" >/dev/null || fail "batch: not JSON lines"
# prometheus to a file, atomically
stat --prometheus -b -n 2 -d 0.1 -s "$work/ok.sock" -o "$work/x.prom" 2>"$work/err" || fail "prom -o exit $?"
[ ! -e "$work/x.prom.tmp" ] || fail "temporary file left behind"
grep -q "^xenshare_saved_pages $freed\$" "$work/x.prom" || fail "prometheus saved pages"
grep -q '^xenshare_daemon_up 1$' "$work/x.prom" || fail "prometheus daemon_up"
grep -q '^xenshare_domain_saved_pages{domain="web1",domid="1"} 12$' "$work/x.prom" ||
	fail "prometheus per-domain saved pages"
stop_fake

# no hypervisor: exit 3, said on stderr (the daemon's state does not matter)
XENSIM_SOCKET=$work/no-host.sock stat --json -s "$nosock" >"$work/n.json" 2>"$work/err"; rc=$?
[ $rc = 3 ] || fail "no hypervisor: exit $rc, expected 3"
grep -q "hypervisor counters unreadable" "$work/err" || fail "no hypervisor: message: $(cat "$work/err")"
[ "$(jq .hypervisor.ok "$work/n.json")" = false ] || fail "no hypervisor: json"

# bad arguments: exit 2 with a message
for args in "--bogus" "-n 3" "-b -n 0" "-d abc" "-d 0" "-w" "extra" "--socket" "-b -w" \
	    "--json --prometheus" "--prometheus --json" "-b -n 1 --prometheus -o $work/p.prom --json"; do
	# shellcheck disable=SC2086
	stat $args >/dev/null 2>"$work/err" </dev/null; rc=$?
	[ $rc = 2 ] || fail "'$args': exit $rc, expected 2"
	[ -s "$work/err" ] || fail "'$args': no message"
done
stat --json --json -s "$nosock" >/dev/null 2>&1; [ $? = 1 ] || fail "--json twice is not one --json"
# an --output the user cannot have: a usage error (2) naming the path, not
# an internal error (4); nothing is left behind
stat --json -s "$nosock" -o /nonexistent/x.json >/dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] || fail "-o /nonexistent/x.json: exit $rc, expected 2"
grep -q "/nonexistent/x.json.tmp: No such file or directory" "$work/err" || fail "-o /nonexistent: message: $(cat "$work/err")"
mkdir -p "$work/ro" && touch "$work/ro/x.json"
stat --json -s "$nosock" -o "$work/ro/x.json/y" >/dev/null 2>"$work/err"; rc=$?
[ $rc = 2 ] || fail "-o through a file: exit $rc, expected 2"
stat --version | grep -q '^xenshare-stat ' || fail "--version"
stat --help | grep -q 'Exit status' || fail "--help lacks the exit status"

# watch mode on a pseudo-terminal: q and Ctrl-C both quit cleanly with exit 0.
# The key goes in only once the first view is drawn (each run has its own
# output file), so a loaded machine cannot make the test type before the
# program is listening. script(1) runs the command through $SHELL -c, and
# where that is dash (CI has no SHELL, so /bin/sh) the shell stays as a
# parent, is in the terminal's process group and dies of the Ctrl-C itself
# with 130: exec makes xenshare-stat the only process that gets the signal.
watch_then_type() {  # <output file> <key>
	(for _ in $(seq 300); do
		grep -q 'Press q to quit' "$1" 2>/dev/null && break
		sleep 0.1
	done; printf '%b' "$2") |
	script -qec "exec env LD_LIBRARY_PATH=$simlib XENSIM_SOCKET=$XENSIM_SOCKET $stat_bin -w 0.2 -s $nosock" \
		/dev/null >"$1" 2>&1
}
if command -v script >/dev/null; then
	watch_then_type "$work/watch-q.out" q; rc=$?
	[ $rc = 0 ] || fail "watch: exit $rc after q"
	grep -q 'Press q to quit' "$work/watch-q.out" || fail "watch: no live view drawn"
	echo "   watch: drew the live view and quit on q"
	watch_then_type "$work/watch-c.out" '\003'; rc=$?
	[ $rc = 0 ] || fail "watch: exit $rc after Ctrl-C"
	grep -q '?1049l' "$work/watch-c.out" || fail "watch: screen not restored after Ctrl-C"
fi
echo "stat_hv: ok"
