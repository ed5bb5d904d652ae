#!/bin/sh
# daemon_stats: the lists of statistics are the one definition of what the
# daemon reports.  The lists are read from the source here (libshare/stats.h,
# dom0-daemon/schema.h), independently of the C that expands them, and
# compared with what a running daemon and xenshare-stat really print: every
# line is in the `stats` reply under its section and key, every mirrored
# line is a xenstore node, every line but the hypervisor's own counts is in
# xenshare-stat --json and every line with a metric is a family of its kind
# in xenshare-stat --prometheus; and the other way round, the reply's
# daemon/host/counters objects and the mirror hold nothing that is not a
# line.  So a line added to a list is shown everywhere, or this fails.
set -u
. "$(dirname "$0")/common.sh"
need_tool jq
need_built "$XSD" "$XENSIM" "$SIMLIB"
top=$(cd "$(dirname "$0")/../.." && pwd)

# lists FILE MACRO: one line per list line, "name section key prom flags"
# (prom "-" for none; flags as SHR_MIRROR|SHR_HV|SHR_REQUIRED or 0)
lists() {
	awk -v m="#define $2(X)" 'index($0, m) == 1 { on = 1; next } on && /^$/ { exit } on' "$1" |
		tr -d '\\\n\t' | sed 's/X(/\nX(/g' |
		sed -n 's/^X(\([a-z0-9_]*\), *[A-Z0-9]*, *[A-Z]*, *[A-Z_]*, *\([A-Z]*\), *"\([a-z0-9_]*\)", *\([^,]*\), *"\([^"]*\)",.*/\1;\2;\3;\5;\4/p' |
		awk -F';' '{ gsub(/ /, "", $5); print $1, tolower($2), $3, $4 == "" ? "-" : $4, $5 }'
}
lists "$top/dom0-daemon/schema.h" XSD_STATS >"$T/global"
lists "$top/libshare/stats.h" SHR_STATS >>"$T/global"
lists "$top/libshare/stats.h" SHR_DOMAIN_STATS >"$T/domain"
ng=$(wc -l <"$T/global") nd=$(wc -l <"$T/domain")
note "lists: $ng global lines, $nd per-domain lines"
[ "$ng" -ge 30 ] && [ "$nd" -ge 5 ] || fail "could not read the lists from the source ($ng, $nd lines)"
# every line of the lists was read (a line this sed cannot read is a line unchecked)
for f in "$top/dom0-daemon/schema.h" "$top/libshare/stats.h"; do
	want=$(grep -c '^	X(' "$f")
	case $f in *schema.h) got=$(grep -c . <"$T/global"); got=$((got - $(lists "$top/libshare/stats.h" SHR_STATS | wc -l))) ;;
		   *) got=$(($(lists "$f" SHR_STATS | wc -l) + nd)) ;; esac
	[ "$got" = "$want" ] || fail "$f has $want list lines, $got were read"
done

sim_start --mem 512 --dom0-mem 64
guest s1 11 mem_sharing=on
guest s2 12 mem_sharing=on
write_conf </dev/null
xsd_start || fail "daemon did not start"
wait_scans 1
stats >"$T/stats.json" || fail "stats"
jq -e . "$T/stats.json" >/dev/null || fail "stats is not JSON"
[ "$(jq '.domains | length' "$T/stats.json")" -ge 2 ] || fail "stats lists fewer than 2 domains"

# -- the `stats` reply: each line under its section, nothing else there
while read -r name sec key prom flags; do
	jq -e --arg s "$sec" --arg k "$key" '.[$s] | has($k)' "$T/stats.json" >/dev/null ||
		fail "stats: .$sec.$key (line $name) missing"
done <"$T/global"
while read -r name sec key prom flags; do
	jq -e --arg k "$key" '[.domains[] | has($k)] | all' "$T/stats.json" >/dev/null ||
		fail "stats: domains[].$key (line $name) missing"
done <"$T/domain"
for sec in daemon host counters; do
	for k in $(jq -r ".$sec | keys[]" "$T/stats.json"); do
		awk -v s="$sec" -v k="$k" '$2 == s && $3 == k { f = 1 } END { exit !f }' "$T/global" ||
			fail "stats: .$sec.$k is in no list"
	done
done
identity=" domid name group mode policy_source note in_engine held_group full_why "
for k in $(jq -r '.domains[0] | keys[]' "$T/stats.json"); do
	case $identity in *" $k "*) continue ;; esac
	awk -v k="$k" '$3 == k { f = 1 } END { exit !f }' "$T/domain" || fail "stats: domains[].$k is in no list"
done

# -- the xenstore mirror: each mirrored line a node, no other node
mirrored() { "$XENSIM" xenstore-read /local/domain/0/xenshared/pid >/dev/null 2>&1; }
wait_for 10 mirrored || fail "no xenstore mirror"
root=/local/domain/0/xenshared
d1=$(jq -r '.domains[] | select(.in_engine) | .domid' "$T/stats.json" | head -n 1)
[ -n "$d1" ] || fail "no domain in the engine"
while read -r name sec key prom flags; do
	case $flags in *SHR_MIRROR*) ;; *) continue ;; esac
	"$XENSIM" xenstore-read "$root/$key" >/dev/null 2>&1 || fail "mirror: $root/$key (line $name) missing"
done <"$T/global"
while read -r name sec key prom flags; do
	case $flags in *SHR_MIRROR*) ;; *) continue ;; esac
	"$XENSIM" xenstore-read "$root/domain/$d1/$key" >/dev/null 2>&1 ||
		fail "mirror: $root/domain/$d1/$key (line $name) missing"
done <"$T/domain"
"$XENSIM" xenstore-ls "$root" >"$T/mirror.ls" || fail "xenstore-ls $root"
for node in $(sed -n 's/^\([a-z0-9_]*\) = .*/\1/p' "$T/mirror.ls"); do
	case $node in version | domain) continue ;; esac
	awk -v k="$node" '$3 == k && $5 ~ /SHR_MIRROR/ { f = 1 } END { exit !f }' "$T/global" ||
		fail "mirror: $root/$node is no mirrored line"
done
nm=$(grep -c 'SHR_MIRROR' "$T/global")
[ "$(sed -n 's/^\([a-z0-9_]*\) = .*/\1/p' "$T/mirror.ls" | wc -l)" -eq $((nm + 2)) ] ||
	fail "mirror: $root holds not exactly version, domain and the $nm mirrored lines"
"$XENSIM" xenstore-ls "$root/domain/$d1" >"$T/mirror-dom.ls" || fail "xenstore-ls $root/domain/$d1"
for node in $(sed -n 's/^\([a-z0-9_]*\) = .*/\1/p' "$T/mirror-dom.ls"); do
	case $node in name | mode | group) continue ;; esac
	awk -v k="$node" '$3 == k && $5 ~ /SHR_MIRROR/ { f = 1 } END { exit !f }' "$T/domain" ||
		fail "mirror: $root/domain/$d1/$node is no mirrored line"
done
[ "$(grep -c ' = ' "$T/mirror-dom.ls")" -ge 4 ] || fail "mirror: $root/domain/$d1 has too few nodes"
[ "$("$XENSIM" xenstore-read "$root/pid")" = "$(jq -r .daemon.pid "$T/stats.json")" ] || fail "mirror: pid differs"

# -- xenshare-stat: JSON and Prometheus
sock=$(sed -n 's/^control_socket = //p' "$CONF")
LD_LIBRARY_PATH="$SIMLIB" "$O/bin/xenshare-stat" --json -s "$sock" >"$T/xst.json" 2>"$T/xst.err"
[ $? -le 3 ] || fail "xenshare-stat --json: $(cat "$T/xst.err")"
LD_LIBRARY_PATH="$SIMLIB" "$O/bin/xenshare-stat" --prometheus -s "$sock" >"$T/xst.prom" 2>"$T/xst.err"
[ $? -le 3 ] || fail "xenshare-stat --prometheus: $(cat "$T/xst.err")"
jq -e '.daemon.state == "up"' "$T/xst.json" >/dev/null || fail "xenshare-stat: daemon not up: $(jq -c .daemon "$T/xst.json")"
while read -r name sec key prom flags; do
	case $flags in *SHR_HV*) continue ;; esac
	case $sec in counters) path=".daemon.counters" ;; *) path=".daemon" ;; esac
	jq -e --arg k "$key" "$path | has(\$k) and .[\$k] != null" "$T/xst.json" >/dev/null ||
		fail "xenshare-stat --json: $path.$key (line $name) missing"
done <"$T/global"
while read -r name sec key prom flags; do
	jq -e --arg k "$key" --argjson d "$d1" '.domains[] | select(.domid == $d) | has($k) and .[$k] != null' \
		"$T/xst.json" >/dev/null || fail "xenshare-stat --json: domains[].$key (line $name) missing"
done <"$T/domain"
cat "$T/global" "$T/domain" | while read -r name sec key prom flags; do
	[ "$prom" = - ] && continue
	case $prom in *_total) type=counter ;; *) type=gauge ;; esac
	grep -qx "# TYPE $prom $type" "$T/xst.prom" || fail "xenshare-stat --prometheus: no $type $prom (line $name)"
	grep -q "^$prom[ {]" "$T/xst.prom" || fail "xenshare-stat --prometheus: no sample of $prom"
done || exit 1
pass daemon_stats
