#!/bin/sh
# End-to-end test against a real Xen 4.17 booted under QEMU (TCG): see
# docs/e2e.md.  Exit 0 pass, 1 fail, 77 skip (no QEMU, no package archive
# reachable, or a variant whose binaries cannot run in the dom0 image).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${O:?O must name the (absolute) build folder}"

case "${VARIANT:-release}" in
release) ;;
*)
	# One boot per `make check` is the budget (~10 min of CI); ASan
	# binaries would also need their runtime inside dom0.
	echo "e2e_qemu: skipped in VARIANT=${VARIANT}: runs once, in the release variant"
	exit 77 ;;
esac
# Several minutes of a 2-core machine: CI (CI=true) runs it on every
# submission; on a developer's machine it runs when asked with E2E=1.
# E2E=0 skips it everywhere, CI included.
if [ "${E2E:-}" = 0 ]; then
	echo "e2e_qemu: skipped: E2E=0"
	exit 77
fi
if [ "${CI:-}" != true ] && [ "${E2E:-0}" != 1 ]; then
	echo "e2e_qemu: skipped: runs in CI (CI=true) or with E2E=1 (several minutes; see docs/e2e.md)"
	exit 77
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "e2e_qemu: skipped: qemu-system-x86_64 not installed (scripts/setup.sh installs scripts/packages/e2e.txt)"
	exit 77
fi
for t in cpio gzip timeout flock apt-get dpkg-deb; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "e2e_qemu: skipped: '$t' not installed"
		exit 77
	fi
done
# The .debs come from the package archive (cached in $O/e2e-cache): if
# they cannot be fetched, the machine has no network to the archive.
if ! "$top/tests/e2e/fetch.sh" >/dev/null 2>"$O/e2e-fetch.err"; then
	tail -n 5 "$O/e2e-fetch.err"
	echo "e2e_qemu: skipped: cannot download the Debian packages (no network to the archive?)"
	exit 77
fi
# Up to three boots.  This emulated AMD SVM/NPT machine (QEMU 7.2 TCG)
# loses vCPU state now and then, pinned or not: a guest dies of it, with
# its pages shared or not, or a dom0 program crashes (docs/e2e.md, "Known
# emulator problems").  A failure that repeats three times fails the
# test; each failed attempt's serial log, with its E2E DIAG evidence, is
# kept and every retry is printed, so the intermittent failure stays
# visible.
work=${E2E_WORK:-$O/e2e}
attempt=1
while :; do
	"$top/tests/e2e/run.sh" && exit 0
	[ "$attempt" -lt 3 ] || exit 1
	cp "$work/serial.log" "$work/serial-attempt$attempt.log" 2>/dev/null
	cp "$work/result.txt" "$work/result-attempt$attempt.txt" 2>/dev/null
	echo "e2e_qemu: RETRY: boot $attempt failed ($(grep -c '^E2E CHECK [^ ]* FAIL' "$work/result-attempt$attempt.txt" 2>/dev/null) checks;" \
		"log kept in $work/serial-attempt$attempt.log); booting again"
	attempt=$((attempt + 1))
done
