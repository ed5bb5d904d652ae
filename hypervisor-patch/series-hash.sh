#!/bin/sh
# hypervisor-patch/series-hash.sh [PATCHDIR] - one sha256 naming a series:
# its patches' names and contents in series order.  deb.sh writes it into
# the packages' changelog entry ("xenshare series sha256 <hash>"), and the
# e2e (tests/e2e/build-xen.sh) compares the packages' with this checkout's.
set -eu
dir=${1:-$(cd "$(dirname "$0")" && pwd)/patches}
[ -r "$dir/series" ] || { echo "series-hash: no series file at $dir/series" >&2; exit 1; }
for p in $(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$dir/series"); do
	[ -r "$dir/$p" ] || { echo "series-hash: series names $p but $dir/$p is missing" >&2; exit 1; }
	printf '%s ' "$p"
	sha256sum <"$dir/$p"
done | sha256sum | cut -d' ' -f1
