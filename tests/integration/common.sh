# shellcheck shell=sh
# common.sh - what every daemon/engine integration test shares (sourced by
# daemon_lib.sh and tools/engine_lib.sh, never run): where the binaries
# are, skipping when they were not built, and small helpers that only look.

: "${O:?O must name the build folder}"
XSD="$O/bin/xenshared"
XENSIM="$O/bin/xensim"
SIMLIB="$O/simlib"

skip() { echo "SKIP: $*"; exit 77; }
note() { echo "  $*"; }
alive() { kill -0 "$1" 2>/dev/null; }
domid_of() { "$XENSIM" list --json | jq -r ".[] | select(.name == \"$1\") | .domid"; }

# wait_for SECONDS CMD...: until CMD succeeds (polled every 0.2 s); 1 on timeout.
wait_for() {
	limit=$1
	shift
	i=0
	while [ "$i" -lt $((limit * 5)) ]; do
		"$@" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# shr_pages_of NAME: the hypervisor's count of NAME's gfns on shared frames.
shr_pages_of() { "$XENSIM" info --json | jq -r ".domains[] | select(.name == \"$1\") | .shr_pages"; }

# frames_across_groups: the shared frames of the host (`xensim frames
# --json`) whose sharers belong to two sharing groups or more, one JSON line
# each: empty output when tenants are isolated at the frame level.  A
# domain's group is its xenstore node /local/domain/<id>/memshare/group; a
# domain without one shows as "(no group node)" (the daemon then applies its
# configured default group, so tests give every guest a group).  Status 2
# when the host does not answer.
frames_across_groups() {
	_fr=$("$XENSIM" frames --json) || return 2
	_groups="{"
	for _id in $(printf '%s\n' "$_fr" | jq -r '[.frames[].gfns[].domid] | unique | .[]'); do
		_g=$("$XENSIM" xenstore-read "/local/domain/$_id/memshare/group" 2>/dev/null) ||
			_g="(no group node)"
		_groups="$_groups\"$_id\": $(printf '%s' "$_g" | jq -Rs .),"
	done
	_groups="${_groups%,}}"
	printf '%s\n' "$_fr" | jq -c --argjson g "$_groups" \
		'.frames[] | select(([.gfns[].domid | tostring | $g[.]] | unique | length) > 1)
		 | .groups = ([.gfns[].domid | tostring | $g[.]] | unique)'
}

[ -x "$XSD" ] || skip "$XSD not built"
[ -x "$XENSIM" ] || skip "$XENSIM not built"
[ -e "$SIMLIB/libxenctrl.so.4.17" ] && [ -e "$SIMLIB/libxenstore.so.4" ] || skip "xensim's drop-in libraries not built in $SIMLIB"
command -v jq >/dev/null || skip "jq not installed"
