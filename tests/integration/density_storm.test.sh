#!/bin/sh
# density_storm: a host packed with sharing guests survives a storm of
# unshares (the short version of tests/bench/density.bench.sh).
#
# A patched 2 GiB host, dom0 of 512 MiB that the daemon may balloon down to
# 256 MiB; five 256 MiB guests (the two corpus images and generated
# profiles of distinct seeds) that fit only because they share.  Once the
# daemon has shared them, a guest that does not share takes free memory
# down to less than the storm will need, then every guest's vCPU rewrites
# half of the gfns it shares at once (`xensim storm`).
#  1. reserve 0, dom0_balloon on: vCPUs find no frame and pause; the
#     daemon balloons dom0 and resumes them: every storm runs to its end,
#     xensim recorded waits (vcpu_pauses, vcpu_pause_max_us), no vCPU is
#     left paused, dom0 gave memory, no guest crashed, verify is clean.
#  2. dom0_balloon off (config reload), a second hog, a second storm: the
#     guests pause and stay paused (no memory to be had, none is invented);
#     once the operator destroys the hogs they all resume and finish, and
#     the waits recorded are at least as long as they were stuck.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_tool zstd
need_corpus idle pagecache
need_built "$XSD" "$XENSIM" "$SIMLIB"

zstd -q -d -c "$CORPUS/idle.raw.zst" > "$T/idle.raw" || fail "zstd idle"
zstd -q -d -c "$CORPUS/pagecache.raw.zst" > "$T/pagecache.raw" || fail "zstd pagecache"

# mk NAME KIND SEED: a 256 MiB PVH guest, opted in
mk() {
	case $2 in
	idle|pagecache) src="sim_image = \"$T/$2.raw\"" ;;
	web) src='sim_profile = "os=0.5,zero=0.15,dup=0.1,unique=0.25"' ;;
	app) src='sim_profile = "os=0.3,zero=0.3,dup=0.1,unique=0.3"' ;;
	esac
	printf 'name = "%s"\ntype = "pvh"\nmemory = 256\nvcpus = 1\nmem_sharing = "on"\n%s\nsim_seed = %s\n' \
		"$1" "$src" "$3" > "$T/$1.cfg"
	"$XENSIM" create "$T/$1.cfg" >>"$T/create.log" 2>&1 || fail "create $1: $(tail -1 "$T/create.log")"
}
# hog NAME FREE_MIB: a guest that does not share, leaving FREE_MIB free
hog_to() {
	_mib=$(( $(free_mib) - $2 ))
	[ "$_mib" -gt 0 ] || fail "free memory already below $2 MiB"
	printf 'name = "%s"\ntype = "pvh"\nmemory = %s\nvcpus = 1\n' "$1" "$_mib" > "$T/$1.cfg"
	"$XENSIM" create "$T/$1.cfg" >>"$T/create.log" 2>&1 || fail "create $1"
}
guests() { "$XENSIM" list --json | jq '[.[] | select(.domid > 0 and (.name | startswith("hog") | not))]'; }
storms_done() { guests | jtrue '[.[] | .storm_running == false and .storm_written == .storm_pages] | all'; }
none_paused() { guests | jtrue '[.[] | .paused_vcpus] | add == 0'; }
some_paused() { guests | jtrue '[.[] | .paused_vcpus] | add > 0'; }
no_crash() {
	"$XENSIM" list --json | jtrue '[.[] | select(.crashed)] | length == 0' || fail "$1: a guest crashed"
}
# need_mib: what a storm over half of every guest's shared gfns asks for
# at most (one frame per rewritten gfn)
need_mib() { guests | jq '[.[] | .shr_pages] | add / 2 / 256 | floor'; }
storm_all() {
	# shellcheck disable=SC2046
	"$XENSIM" storm $(guests | jq -r '.[].name') > "$T/storm.out" || fail "xensim storm"
}

sim_start --mem 2048 --dom0-mem 512 --patched
write_conf "reserve = 0" "dom0_balloon = on" "dom0_min_memory = 256M" "pass_target = 1" "protocol = batched"
xsd_start || fail "daemon did not start"
mk idle1 idle 1
mk web2 web 2
mk pagecache3 pagecache 3
mk app4 app 4
mk idle5 idle 5
[ "$(free_mib)" -lt 600 ] || fail "the guests do not fill the host: $(free_mib) MiB free"
note "$(date +%T) guests created"
wait_scans 2
wait_for 60 stats_true '.daemon.settled' || fail "the daemon did not settle"
note "$(date +%T) settled"
need=$(need_mib)
note "shared: $(stat_value .host.sharing_freed_pages) pages saved, free $(free_mib) MiB; the storm needs up to $need MiB"
[ "$need" -ge 200 ] || fail "too little shared for a storm: $need MiB"

# 1. short of memory by up to 160 MiB; dom0 can give 256 MiB
hog_to hog1 $((need - 160))
bal0=$(stat_value .host.dom0_balloon_pages)
storm_all
wait_for 60 storms_done || fail "storm 1 not over in 60 s: $(guests | jq -c '[.[] | {name, paused_vcpus, storm_written, storm_pages}]')"
wait_for 10 none_paused || fail "storm 1: vCPUs left paused"
no_crash "storm 1"
paused=$(guests | jq '[.[] | select(.vcpu_pauses > 0)] | length')
note "storm 1: $paused guests waited, longest $(guests | jq '[.[] | .vcpu_pause_max_us] | max') us; dom0 gave $(( ($(stat_value .host.dom0_balloon_pages) - bal0) / 256 )) MiB"
[ "$paused" -ge 1 ] || fail "storm 1: no guest had to wait (the host was not short of memory)"
[ "$(stat_value .host.dom0_balloon_pages)" -gt "$bal0" ] || fail "storm 1: dom0 was not ballooned"
verify_clean
note "$(date +%T) storm 1 done"

# 2. dom0_balloon off: paused guests stay paused until the operator frees memory
write_conf "reserve = 0" "dom0_balloon = off" "dom0_min_memory = 256M" "pass_target = 1" "protocol = batched"
kill -HUP "$XSD_PID" || fail "reload"
sleep 1
waits0=$(guests | jq '[.[] | .vcpu_pauses] | add')
need=$(need_mib)
[ "$need" -ge 64 ] || fail "too little shared for a second storm: $need MiB"
hog_to hog2 $((need / 4))
storm_all
wait_for 30 some_paused || fail "storm 2: no guest paused with $(free_mib) MiB free"
sleep 3
some_paused || fail "storm 2: paused guests resumed with no memory given"
storms_done && fail "storm 2 ended without memory"
stuck=$(guests | jq '[.[] | select(.paused_vcpus > 0)] | length')
for h in hog1 hog2; do "$XENSIM" destroy "$h" >/dev/null || fail "destroy $h"; done
wait_for 60 storms_done || fail "storm 2 not over in 60 s after the hogs went"
wait_for 10 none_paused || fail "storm 2: vCPUs left paused"
no_crash "storm 2"
longest=$(guests | jq '[.[] | .vcpu_pause_max_us] | max')
note "storm 2: $stuck guests stuck until the hogs went, longest wait $longest us"
[ "$(guests | jq '[.[] | .vcpu_pauses] | add')" -gt "$waits0" ] || fail "storm 2: no wait recorded"
[ "$longest" -ge 3000000 ] || fail "storm 2: the longest wait recorded ($longest us) is shorter than the stall"
verify_clean
xsd_stop
pass "density_storm (guests paused by a storm of unshares are resumed once memory is made; none crashes)"
