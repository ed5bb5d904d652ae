#!/bin/sh
# daemon_balloon: when free host memory is below the reserve the engine asks
# for memory (and goes on sharing) and the daemon lowers dom0's
# memory/target (dom0_balloon), by what is needed and never below
# dom0_min_memory; with dom0_balloon = off dom0 is left alone.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"

sim_start --mem 512 --dom0-mem 256
guest b1 1 mem_sharing=on
guest b2 2 mem_sharing=on
target() { "$XENSIM" xenstore-read /local/domain/0/memory/target; }
t0=$(target)
free_mib=$("$XENSIM" info --json | jq -r '.free_mib')
note "dom0 target $t0 KiB, host free $free_mib MiB"

# reserve above what is free: the engine asks for memory, sharing goes on
write_conf <<CFG
reserve = $((free_mib + 64))M
dom0_balloon = off
CFG
xsd_start || fail "daemon did not start"
asking() { stats_true '.host.sharing_paused == false and .host.pages_needed > 0'; }
wait_for 30 asking || fail "engine does not ask for memory below the reserve, or stopped sharing: $(ctl stats | jq -c .host)"
[ "$(target)" = "$t0" ] || fail "dom0_balloon = off, yet dom0's target changed to $(target)"

# and no memory/target node at all (libxl writes dom0's only when first
# asked, so a host booted with dom0_mem= may have none): the daemon must
# start from what dom0 holds, as libxl does, and create the node
"$XENSIM" xenstore-rm /local/domain/0/memory/target || fail "xenstore-rm"
"$XENSIM" xenstore-read /local/domain/0/memory/target >/dev/null 2>&1 && fail "the target node is still there"
write_conf <<CFG
reserve = $((free_mib + 64))M
dom0_balloon = on
dom0_min_memory = 224M
CFG
ctl reload | jtrue '.ok == true' || fail "reload"
lowered() { t=$(target); [ -n "$t" ] && [ "$t" -lt "$t0" ]; }
wait_for 10 lowered || fail "dom0's target was not lowered"
t1=$(target)
note "dom0 target lowered to $t1 KiB"
[ "$t1" -ge $((224 * 1024)) ] || fail "dom0 taken below dom0_min_memory: $t1 KiB"
stats_true ".host.dom0_balloon_pages == $(( (t0 - t1) / 4 ))" || fail "stats do not count the ballooned pages"
sleep 3
[ "$(target)" -ge $((224 * 1024)) ] || fail "dom0 shrunk again below the floor"
"$XENSIM" verify >/dev/null 2>&1 || fail "verify"
pass daemon_balloon
