#!/bin/sh
# daemon_policy: a guest cannot opt itself in or pick its group, and bad
# xenstore values opt a domain out -- each with a warning naming the domain,
# and nothing of that domain is shared; fixing or breaking the nodes of a
# running domain is picked up through the watches.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

sim_start --mem 512 --dom0-mem 64
guest g1 1 mem_sharing=on
guest g2 2 mem_sharing=on
guest g3 3 mem_sharing=on        # node handed to the guest, guest writes "on"
guest g4 4 mem_sharing=on        # bad value
guest g5 5                       # not opted in; guest granted write, writes "on"
guest g6 6 mem_sharing=on        # group longer than 63 characters
guest g7 7 mem_sharing=on        # group not UTF-8
guest g8 8                       # unpatched xl: opted in by a config rule
guest g9 9                       # config rule, but the guest can write its name
d2=$(domid_of g2) d3=$(domid_of g3) d4=$(domid_of g4) d5=$(domid_of g5) d6=$(domid_of g6) d7=$(domid_of g7)
d9=$(domid_of g9)
xs() { "$XENSIM" "$@" >/dev/null 2>&1 || fail "xensim $*"; }

xs xenstore-chmod "/local/domain/$d3/memshare/enabled" "b$d3"
xs xenstore-write --as "$d3" "/local/domain/$d3/memshare/enabled" on
xs xenstore-write "/local/domain/$d4/memshare/enabled" maybe
xs xenstore-write "/local/domain/$d5/memshare/enabled" off
xs xenstore-chmod "/local/domain/$d5/memshare/enabled" n0 "b$d5"
xs xenstore-write --as "$d5" "/local/domain/$d5/memshare/enabled" on
xs xenstore-write "/local/domain/$d6/memshare/group" "$(printf 'g%.0s' $(seq 1 64))"
xs xenstore-write "/local/domain/$d7/memshare/group" "$(printf 'caf\303')"
xs xenstore-chmod "/local/domain/$d9/name" "b$d9"
# the guest really did write its node (so the test is not vacuous)
[ "$("$XENSIM" xenstore-read "/local/domain/$d3/memshare/enabled")" = on ] || fail "guest write of g3 did not land"
[ "$("$XENSIM" xenstore-read "/local/domain/$d5/memshare/enabled")" = on ] || fail "guest write of g5 did not land"

write_conf <<CFG
domain g8 = on group rules
domain g9 = on
CFG
xsd_start || fail "daemon did not start"
wait_scans 2

for g in g1 g2; do
	[ "$(shr_pages_of $g)" -gt 0 ] || fail "$g opted in properly but nothing was shared"
done
[ "$(shr_pages_of g8)" -gt 0 ] || fail "g8, opted in by a config rule, shares nothing"
stats_true '.domains[] | select(.name == "g8") | .policy_source == "config" and .group == "rules" and .in_engine' ||
	fail "g8 not reported as opted in by the config"
for g in g3 g4 g5 g6 g7 g9; do
	[ "$(shr_pages_of $g)" -eq 0 ] || fail "$g must not share, has $(shr_pages_of $g) shared pages"
	stats_true ".domains[] | select(.name == \"$g\") | .in_engine == false and .mode == \"off\" and .policy_source == \"refused\"" ||
		fail "$g is not reported as refused"
done
grep -q "d$d3 (g3): memshare/enabled is writable by domain $d3" "$T/daemon.err" || fail "no warning for g3"
grep -q "d$d4 (g4): memshare/enabled = \"maybe\" is not on|off|zero" "$T/daemon.err" || fail "no warning for g4"
grep -q "d$d5 (g5): memshare/enabled is writable by domain $d5" "$T/daemon.err" || fail "no warning for g5"
grep -q "d$d6 (g6): memshare/group = .* longer than 63" "$T/daemon.err" || fail "no warning for g6"
grep -q "d$d7 (g7): memshare/group = \"caf\\\\xc3\"" "$T/daemon.err" || fail "no warning for g7"
grep -q "d$d9 (g9): name is writable by domain $d9" "$T/daemon.err" || fail "no warning for g9"
stats | jtrue '.domains[] | select(.name == "g7") | .note | contains("caf")' || fail "stats JSON broken by a non-UTF-8 value"

# -- while running: the toolstack fixes g4; a guest takes over g2's group
xs xenstore-write "/local/domain/$d4/memshare/enabled" on
xs xenstore-write "/local/domain/$d2/memshare/group" tenant-b
xs xenstore-chmod "/local/domain/$d2/memshare/group" "b$d2"
in_engine() { stats_true ".domains[] | select(.name == \"$1\") | .in_engine == $2"; }
wait_for 10 in_engine g4 true || fail "g4 not added after its node was fixed"
wait_for 10 in_engine g2 false || fail "g2 still in the engine after its group became guest-writable"
stats_true '.domains[] | select(.name == "g2") | .note | contains("memshare/group is writable by domain")' ||
	fail "g2's refusal has no reason"
wait_scans 2
[ "$(shr_pages_of g4)" -gt 0 ] || fail "g4 shares nothing after being fixed"
ctl audit | jtrue '.ok == true' || fail "audit found violations"

# a flood of changing bad values is logged at most once per 10 s per domain
before=$(grep -c "warning: d$d6 (g6)" "$T/daemon.err")
for v in 1 2 3 4 5 6 7 8 9 10 11 12; do
	xs xenstore-write "/local/domain/$d6/memshare/enabled" "bad$v"
	sleep 0.1
done
last_seen() { stats_true '.domains[] | select(.name == "g6") | .note | contains("bad12")'; }
wait_for 10 last_seen || fail "g6's latest value not picked up"
after=$(grep -c "warning: d$d6 (g6)" "$T/daemon.err")
[ $((after - before)) -le 2 ] || fail "$((after - before)) warnings for g6 in about a second"
pass daemon_policy
