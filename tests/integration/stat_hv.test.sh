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
. "$(dirname "$0")/common.sh"
need_tool jq
need_tool python3
need_built "$XST" "$XENSIM" "$SIMLIB" "$O/bin/shr-engine-run"
need_tool script bsdutils

sim_start --mem 1024
guest web1 1 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=tenant-a
guest web2 1 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=on mem_sharing_group=tenant-a
guest db 7 memory=64 sim_profile=os=0.4,zero=0.3,dup=0.05,unique=0.25 sim_write_rate=0 mem_sharing=zero mem_sharing_group=tenant-b
nosock=$T/no-such.sock

crosscheck() { # what
	xst --json -s "$nosock" >"$T/s.json" 2>"$T/s.err"
	rc=$?
	[ $rc = 1 ] || fail "$1: exit $rc with the daemon absent, expected 1: $(cat "$T/s.err")"
	"$XENSIM" info --json >"$T/info.json" || fail "xensim info"
	for k in sharing_freed_pages sharing_used_frames; do
		a=$(jq ".hypervisor.$k" "$T/s.json") b=$(jq ".$k" "$T/info.json")
		[ "$a" = "$b" ] || fail "$1: $k: xenshare-stat $a, xensim $b"
	done
	a=$(jq '.hypervisor.free_pages' "$T/s.json") b=$(jq '.free_frames' "$T/info.json")
	[ "$a" = "$b" ] || fail "$1: free pages: xenshare-stat $a, xensim $b"
	a=$(jq -c '[.domains[] | {domid, name, tot_pages, shr_pages}]' "$T/s.json")
	b=$(jq -c '[.domains[] | {domid, name, tot_pages, shr_pages}]' "$T/info.json")
	[ "$a" = "$b" ] || fail "$1: domains differ: xenshare-stat $a, xensim $b"
	a=$(jq '.totals.sum_shr_pages' "$T/s.json") b=$(jq '.sum_shr_pages' "$T/info.json")
	[ "$a" = "$b" ] || fail "$1: sum of shr_pages: $a vs $b"
	[ "$(jq '.totals.saved_pages == .hypervisor.sharing_freed_pages' "$T/s.json")" = true ] ||
		fail "$1: saved is not the hypervisor's freed pages"
	[ "$(jq '.daemon.state' "$T/s.json")" = '"absent"' ] || fail "$1: daemon state not absent"
}

crosscheck "fresh host"
[ "$(jq '.hypervisor.sharing_freed_pages' "$T/s.json")" = 0 ] || fail "fresh host shares pages"
# policy from xenstore (written by xensim's xl from mem_sharing*)
[ "$(jq -r '.domains[] | select(.name=="db") | .mode + "/" + .group' "$T/s.json")" = zero/tenant-b ] ||
	fail "mode/group of db not read from xenstore: $(jq -c '.domains' "$T/s.json")"

ids=$(jq -r '.domains[] | select(.domid != 0) | "\(.domid):\(.group):\(.mode)"' "$T/s.json")
# shellcheck disable=SC2086
LD_LIBRARY_PATH=$SIMLIB timeout 120 "$O/bin/shr-engine-run" --passes 2 --quiet $ids \
	>"$T/engine.out" 2>&1 || fail "shr-engine-run: $(tail -3 "$T/engine.out")"
crosscheck "after sharing"
saved=$(jq '.hypervisor.sharing_freed_pages' "$T/s.json")
[ "$saved" -gt 0 ] || fail "nothing shared by shr-engine-run"
echo "   shared by another tool: $saved pages saved, cross-checked with xensim"

# the table says the daemon is down and shows the hypervisor's saved pages
xst -s "$nosock" >"$T/table" 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "table: exit $rc"
grep -q 'daemon: DOWN (absent)' "$T/table" || fail "table does not say the daemon is down"
grep -q "no such socket" "$T/err" || fail "no message on stderr: $(cat "$T/err")"
saved=$(jq '.hypervisor.sharing_freed_pages' "$T/s.json")
grep -q "($saved pages, from the hypervisor)" "$T/table" || fail "table lacks the saved pages"

# stale socket: refused
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
xst --json -s "$T/stale.sock" >"$T/r.json" 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "stale socket: exit $rc"
[ "$(jq -r .daemon.state "$T/r.json")" = refused ] || fail "stale socket: state $(jq .daemon "$T/r.json")"
grep -q "refused" "$T/err" || fail "stale socket: message: $(cat "$T/err")"

# a daemon that never answers: timeout after -t
fake_daemon "$T/silent.sock" silent
start=$(date +%s)
xst --json -t 0.5 -s "$T/silent.sock" >"$T/t.json" 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "silent daemon: exit $rc"
[ $(( $(date +%s) - start )) -le 5 ] || fail "silent daemon: -t 0.5 not honoured"
[ "$(jq -r .daemon.state "$T/t.json")" = timeout ] || fail "silent daemon: state $(jq .daemon "$T/t.json")"
stop_fake

# a daemon answering garbage: bad-reply
fake_daemon "$T/garbage.sock" garbage
xst --json -s "$T/garbage.sock" >"$T/g.json" 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "garbage reply: exit $rc"
[ "$(jq -r .daemon.state "$T/g.json")" = bad-reply ] || fail "garbage: state $(jq .daemon "$T/g.json")"
grep -q "not JSON" "$T/err" || fail "garbage: message: $(cat "$T/err")"
stop_fake

# a valid reply (docs/control-protocol.md) whose numbers differ from the
# hypervisor's: exit 0, daemon fields shown, the difference explained once
# it lasts (the one-shot run reads three times), while a difference of a
# few pages (motion between the reads) is not a note
freed=$(jq '.hypervisor.sharing_freed_pages' "$T/s.json")
diff=5000
cat >"$T/reply.json" <<JSON
{"version":"9.9.9","daemon":{"pid":4242,"uptime_s":10.5,"cpu_percent":3.5,"protocol":"upstream","full_scans":2,"pass_time_s":1.25,"pass_progress":0.5,"settled":false},"host":{"total_pages":262144,"free_pages":100000,"reserve_pages":16384,"pages_at_risk":1,"sharing_paused":false,"sharing_freed_pages":1,"sharing_used_frames":1},"counters":{"pages_shared":1,"pages_sharing":$((freed + diff)),"pages_unshared":5,"pages_volatile":3,"pages_scanned":99,"zero_pages_sharing":1,"share_attempts":9,"share_raced":1,"unshares":2},"domains":[{"domid":1,"name":"web1","group":"tenant-a","mode":"on","tot_pages":1,"shr_pages":1,"pages_sharing":12,"pages_volatile":3,"unshares_per_s":0.25,"scan_progress":0.5}]}
JSON
tr -d '\n' <"$T/reply.json" >"$T/reply.line" && echo >>"$T/reply.line"
fake_daemon "$T/ok.sock" "file:$T/reply.line" "$T/ok.count"
xst --json -s "$T/ok.sock" >"$T/o.json" 2>"$T/err"; rc=$?
[ $rc = 0 ] || fail "valid reply: exit $rc: $(cat "$T/err")"
[ "$(wc -l <"$T/ok.count")" = 3 ] || fail "one-shot json with a difference in doubt: $(wc -l <"$T/ok.count") reads, expected 3"
# Prometheus prints no notes: one read, of one instant
rm -f "$T/ok.count"
xst --prometheus -s "$T/ok.sock" >/dev/null 2>"$T/err" || fail "prometheus one-shot: exit $?: $(cat "$T/err")"
[ "$(wc -l <"$T/ok.count")" = 1 ] || fail "one-shot prometheus: $(wc -l <"$T/ok.count") reads, expected 1"
[ "$(jq -r '.daemon.state + " " + (.daemon.pid|tostring)' "$T/o.json")" = "up 4242" ] ||
	fail "valid reply: daemon $(jq -c .daemon "$T/o.json")"
[ "$(jq '.totals.saved_pages' "$T/o.json")" = "$freed" ] || fail "saved must stay the hypervisor's"
jq -r '.notes[]' "$T/o.json" | grep -q "the hypervisor counts $freed pages saved, the daemon $((freed + diff))" ||
	fail "disagreement not explained: $(jq -c .notes "$T/o.json")"
[ "$(jq '.domains[] | select(.domid==1) | .pages_sharing' "$T/o.json")" = 12 ] ||
	fail "per-domain daemon numbers not merged"
xst -s "$T/ok.sock" >"$T/table" 2>&1 || fail "valid reply: table exit $?"
grep -q 'daemon: up (pid 4242, upstream' "$T/table" || fail "table: daemon line: $(head -1 "$T/table")"
# batch: three JSON lines, exit 0
xst -b -n 3 -d 0.1 --json -s "$T/ok.sock" >"$T/b.json" 2>"$T/err" || fail "batch exit $?"
[ "$(wc -l <"$T/b.json")" = 3 ] || fail "batch: $(wc -l <"$T/b.json") lines, expected 3"
jq -e . "$T/b.json" >/dev/null || fail "batch: not JSON lines"
# prometheus to a file, atomically
xst --prometheus -b -n 2 -d 0.1 -s "$T/ok.sock" -o "$T/x.prom" 2>"$T/err" || fail "prom -o exit $?"
[ ! -e "$T/x.prom.tmp" ] || fail "temporary file left behind"
grep -q "^xenshare_saved_pages $freed\$" "$T/x.prom" || fail "prometheus saved pages"
grep -q '^xenshare_daemon_up 1$' "$T/x.prom" || fail "prometheus daemon_up"
grep -q '^xenshare_domain_saved_pages{domain="web1",domid="1"} 12$' "$T/x.prom" ||
	fail "prometheus per-domain saved pages"
stop_fake
# the same reply 7 pages apart: motion, no note about it
sed "s/\"pages_sharing\":$((freed + diff)),/\"pages_sharing\":$((freed + 7)),/" "$T/reply.line" >"$T/near.line"
grep -q "\"pages_sharing\":$((freed + 7))," "$T/near.line" || fail "near reply not made"
fake_daemon "$T/near.sock" "file:$T/near.line"
xst --json -s "$T/near.sock" >"$T/near.json" 2>"$T/err" || fail "near reply: exit $?: $(cat "$T/err")"
if jq -r '.notes[]' "$T/near.json" | grep -q "pages saved"; then
	fail "a 7-page difference made a note: $(jq -c .notes "$T/near.json")"
fi
stop_fake

# no hypervisor: exit 3, said on stderr (the daemon's state does not matter)
XENSIM_SOCKET=$T/no-host.sock xst --json -s "$nosock" >"$T/n.json" 2>"$T/err"; rc=$?
[ $rc = 3 ] || fail "no hypervisor: exit $rc, expected 3"
grep -q "hypervisor counters unreadable" "$T/err" || fail "no hypervisor: message: $(cat "$T/err")"
[ "$(jq .hypervisor.ok "$T/n.json")" = false ] || fail "no hypervisor: json"

# bad arguments: exit 2 with a message
for args in "--bogus" "-n 3" "-b -n 0" "-d abc" "-d 0" "-w" "extra" "--socket" "-b -w" \
	    "--json --prometheus" "--prometheus --json" "-b -n 1 --prometheus -o $T/p.prom --json"; do
	# shellcheck disable=SC2086
	xst $args >/dev/null 2>"$T/err" </dev/null; rc=$?
	[ $rc = 2 ] || fail "'$args': exit $rc, expected 2"
	[ -s "$T/err" ] || fail "'$args': no message"
done
xst --json --json -s "$nosock" >/dev/null 2>&1; [ $? = 1 ] || fail "--json twice is not one --json"
# an --output the user cannot have: a usage error (2) naming the path, not
# an internal error (4); nothing is left behind
xst --json -s "$nosock" -o /nonexistent/x.json >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "-o /nonexistent/x.json: exit $rc, expected 2"
grep -q "/nonexistent/x.json.tmp: No such file or directory" "$T/err" || fail "-o /nonexistent: message: $(cat "$T/err")"
mkdir -p "$T/ro" && touch "$T/ro/x.json"
xst --json -s "$nosock" -o "$T/ro/x.json/y" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] || fail "-o through a file: exit $rc, expected 2"
xst --version | grep -q '^xenshare-stat ' || fail "--version"
xst --help | grep -q 'Exit status' || fail "--help lacks the exit status"

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
	script -qec "exec env LD_LIBRARY_PATH=$SIMLIB XENSIM_SOCKET=$XENSIM_SOCKET $XST -w 0.2 -s $nosock" \
		/dev/null >"$1" 2>&1
}
watch_then_type "$T/watch-q.out" q; rc=$?
[ $rc = 0 ] || fail "watch: exit $rc after q"
grep -q 'Press q to quit' "$T/watch-q.out" || fail "watch: no live view drawn"
echo "   watch: drew the live view and quit on q"
watch_then_type "$T/watch-c.out" '\003'; rc=$?
[ $rc = 0 ] || fail "watch: exit $rc after Ctrl-C"
grep -q '?1049l' "$T/watch-c.out" || fail "watch: screen not restored after Ctrl-C"
echo "stat_hv: ok"
