#!/bin/sh
# module_graph_check.sh: the module graphs of libshare, the daemon,
# xenshare-stat and xensim have no cycle, and docs/design.md's copy of libshare's graph
# is what scripts/module-graph.sh draws from the code today.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
for dir in libshare dom0-daemon tools/xenshare-stat tools/xensim; do
	"$top/scripts/module-graph.sh" "$dir" >/dev/null || { echo "FAIL: $dir has a module cycle"; exit 1; }
done
want=$("$top/scripts/module-graph.sh" libshare)
have=$(awk '/<!-- module-graph libshare -->/ { on = 1; next } /<!-- end module-graph -->/ { on = 0 }
	    on && !/^```/' "$top/docs/design.md")
if [ "$want" != "$have" ]; then
	echo "FAIL: docs/design.md's module graph is stale; scripts/module-graph.sh draws:"
	echo "$want"
	exit 1
fi
echo "module graph: no cycle; docs/design.md is current"
