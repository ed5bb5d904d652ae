#!/bin/sh
# engine_fullhost: a host whose free memory is below the reserve, because
# guests filled it, still converges to its savings (docs/design.md section
# 7: sharing goes on below the reserve; each share frees the frame it puts
# at risk).  dom0 cannot balloon (dom0_balloon = off), so the reserve is
# never met: the daemon asks for the memory and shares anyway.
#  - guests created before the daemon starts: >= 99% of the ideal;
#  - guests created back to back while the daemon runs: >= 99% of the
#    ideal once the last one is in;
#  - the daemon says it found the host below its reserve and shared on
#    (until the savings themselves met the reserve);
#  - verify finds no wrong page, no guest crashed.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB" "$IDEAL"

PROFILE="os=0.5,zero=0.15,dup=0.1,unique=0.25"

# fill: eight guests of 112 MiB on a 1 GiB host with a 64 MiB dom0 (free
# memory left: well below the 128 MiB reserve)
fill() {
	for i in 1 2 3 4 5 6 7 8; do
		guest "f$i" "$((i + 60))" type=hvm memory=112 sim_profile="$PROFILE" \
			mem_sharing=on sim_write_rate=0
	done
}
converged() {
	ids=$("$XENSIM" list --json | jq -r '.[] | select(.domid > 0) | .domid' | tr '\n' ' ')
	for pass in 1 2 3 4; do
		wait_scans 1
		# shellcheck disable=SC2086
		want=$(ideal $ids | jq -r .ideal) || fail "$1: shr-ideal"
		got=$(stat_value .host.sharing_freed_pages)
		at_least "$(ratio "$got" "$want")" 0.99 && break
	done
	note "$1: $got pages saved of the ideal $want ($(ratio "$got" "$want")) in $pass pass(es); free $("$XENSIM" info --json | jq -r .free_mib) MiB"
	at_least "$(ratio "$got" "$want")" 0.99 || fail "$1: savings $got below 99% of the ideal $want"
}
phase_end() {
	"$XENSIM" list --json | jq -e '[.[] | select(.crashed)] | length == 0' >/dev/null ||
		fail "$1: a guest crashed"
	verify_clean
	xsd_stop
	sim_stop
}

write_conf "reserve = 128M" "dom0_balloon = off" "pass_target = 1"

# the guests first, then the daemon
sim_start --mem 1024 --dom0-mem 64 --patched
fill
free0=$("$XENSIM" info --json | jq -r .free_mib)
[ "$free0" -lt 128 ] || fail "the host is not full: $free0 MiB free"
xsd_start || fail "daemon did not start"
wait_scans 1
grep -q "< reserve .*sharing goes on" "$T/daemon.err" ||
	fail "the daemon did not find the host below its reserve"
converged "created before the daemon ($free0 MiB free at its start)"
phase_end "before"

# the daemon first, then the guests back to back
sim_start --mem 1024 --dom0-mem 64 --patched
xsd_start || fail "daemon did not start"
fill
converged "created back to back while the daemon ran"
phase_end "back to back"
pass "engine_fullhost (a host below its reserve converges, guests created before or while the daemon runs)"
