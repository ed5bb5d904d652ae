#!/bin/sh
# module-graph.sh [DIR]: the module graph of a C folder (default libshare),
# drawn from its own #include "..." lines: a module is a .c file and its
# .h, and "a -> b c" means module a includes b's and c's headers.  Printed
# top (nothing includes it) to bottom, one module per line.  Exit 1 and
# say where when the graph has a cycle (data must flow one way).
set -eu
dir=${1:-libshare}
cd "$(dirname "$0")/.."
edges=$(for f in "$dir"/*.c "$dir"/*.h; do
	[ -e "$f" ] || continue
	m=$(basename "$f"); m=${m%.*}
	for to in $(sed -n 's/^#include "\([^"/]*\)\.h".*/\1/p' "$f"); do
		if [ -e "$dir/$to.h" ] && [ "$to" != "$m" ]; then echo "$m $to"; fi
	done
	echo "$m $m"
done | sort -u)
if ! order=$(echo "$edges" | tsort 2>/tmp/module-graph.$$); then
	cat /tmp/module-graph.$$ >&2
	rm -f /tmp/module-graph.$$
	echo "module-graph: $dir has a cycle (above)" >&2
	exit 1
fi
rm -f /tmp/module-graph.$$
for m in $order; do
	to=$(echo "$edges" | awk -v m="$m" '$1 == m && $2 != m { printf "%s ", $2 }')
	printf '%-16s -> %s\n' "$m" "${to% }"
done
