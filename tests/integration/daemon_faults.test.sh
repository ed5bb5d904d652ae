#!/bin/sh
# daemon_faults: `make soak` in short (tests/soak/soak.sh, about 45 s): the
# daemon against a host that injects faults -- hypercalls fail as Xen 4.17
# can fail them and foreign maps fail whole or per page (rate 0.02), ring
# and VIRQ_ENOMEM notifications are lost or doubled (rate 0.5: the ENOMEM
# phase raises only a few, and each must be survived) -- with four writing guests
# in two sharing groups and a memory hog (ENOMEM) in the middle.  Proves: no
# guest page wrong (verify), no guest crashed or frozen on an unanswered
# ENOMEM, no frame shared across the groups, the daemon alive, answering and
# audit-clean, no foreign mapping left once it stopped, and that faults were
# really injected.  The seed is printed; DAEMON_FAULTS_SEED reproduces a run.
set -u
. "$(dirname "$0")/common.sh"
SOAK_SECONDS=${DAEMON_FAULTS_SECONDS:-45} SOAK_SEED=${DAEMON_FAULTS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d " ")} \
SOAK_RATE=0.02 SOAK_KINDS="all,events=0.5" SOAK_GUESTS=4 SOAK_GUEST_MIB=48 SOAK_WRITE_RATE=600 SOAK_FROZEN=10 \
SOAK_SAMPLE=1 \
	"$TOP/tests/soak/soak.sh" >/dev/null
