#!/bin/sh
# Print the hypervisor boot option that allows memory sharing on AMD SVM,
# as named by hypervisor-patch/ (the emulated CPU under TCG is AMD; upstream
# Xen 4.17 refuses sharing there with EOPNOTSUPP).  Prints nothing while the
# patch series does not add one: the e2e then reports the EOPNOTSUPP.
set -eu
. "$(dirname "$0")/common.sh"
f=$E2E_TOP/hypervisor-patch/e2e-boot-option
if [ -r "$f" ]; then
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$f" | head -n1
fi
