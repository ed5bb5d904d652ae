# xenshare top-level Makefile: one non-recursive build.
#
# Every directory that builds something has a <name>.mk fragment that calls
# the macros of mk/rules.mk; this file only sets the toolchain, the variants
# and the top-level targets.  Output goes to $(O) (default build/<VARIANT>),
# so a release build, a sanitizer build and a clang build can sit side by side.
#
#   make                 release build of everything
#   make check           unit + integration tests, then the same under
#                        ASan+UBSan, then a clang -Werror build; ends with
#                        every skipped test and why (tests/skip-list.txt)
#   make check-unit      the unit binaries of one VARIANT (also: make unit)
#   make check-integration  the integration scripts of one VARIANT
#   make check-variant   both, for one VARIANT
#   make bench           benchmarks (not part of check), JSON lines on stdout
#   make soak            soak-faults, then soak-churn (not part of check)
#   make soak-faults     the daemon against a fault-injecting host for
#                        SOAK_SECONDS (default 600; tests/soak/soak.sh),
#                        JSON lines on stdout
#   make soak-churn      500+ random guest lifecycle events under the daemon
#                        (tests/soak/churn.sh, docs/soak.md), JSON lines on
#                        stdout and in $(O)/soak/churn.jsonl, plotted into
#                        $(O)/soak/churn.svg when gnuplot is there
#   make install         DESTDIR=... PREFIX=/usr/local
#   make <module>        build one module (libshare, xensim, xenshared, ...)

VARIANT ?= release
O ?= build/$(VARIANT)
CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
AR ?= ar
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= /lib/systemd/system

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -fPIC -pthread $(WARN)
BASE_LDFLAGS := -pthread

# What Debian's dpkg-buildflags asks of a package (lintian's hardening
# checks): fortified libc calls, a stack protector, a read-only GOT bound
# at start.  Not in the sanitizer build, whose runtime does its own checks.
HARDEN_CFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
HARDEN_LDFLAGS := -Wl,-z,relro -Wl,-z,now

ifeq ($(VARIANT),release)
OPT := -O2 $(HARDEN_CFLAGS)
BASE_LDFLAGS += $(HARDEN_LDFLAGS)
else ifeq ($(VARIANT),san)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BASE_LDFLAGS += -fsanitize=address,undefined
else ifeq ($(VARIANT),clang)
OPT := -O2 $(HARDEN_CFLAGS)
BASE_LDFLAGS += $(HARDEN_LDFLAGS)
else
$(error unknown VARIANT '$(VARIANT)' (release, san, clang))
endif

# The release, defined once in the file VERSION: the programs get it from
# the generated $(O)/include/xenshare_version.h (XENSHARE_VERSION), the man
# pages and the .deb from this variable.
XENSHARE_VERSION := $(shell cat VERSION)
ifeq ($(shell printf '%s\n' '$(XENSHARE_VERSION)' | grep -Ex '[0-9][0-9A-Za-z.+~]*'),)
$(error VERSION must hold one Debian upstream version (digits first, then [0-9A-Za-z.+~]), not '$(XENSHARE_VERSION)')
endif

CFLAGS_ALL = $(BASE_CFLAGS) $(OPT) $(INCLUDES) $(CFLAGS)
LDFLAGS_ALL = $(BASE_LDFLAGS) $(LDFLAGS)

# The generated headers, and the top of the tree: a file includes another
# module's header by its path from the top ("libshare/engine.h"), its own
# module's by name alone.
INCLUDES := -I$(O)/include -I.
ALL_TARGETS :=
UNIT_TESTS :=
INSTALL_RULES :=

.PHONY: all check check-variant check-unit check-integration check-build unit bench soak soak-faults soak-churn install clean
all:

# The fragments, each named once: a fragment that is missing is an error,
# never a part of the build silently left out.
FRAGMENTS := libshare/libshare.mk dom0-daemon/daemon.mk \
	tools/xensim/hv.mk tools/xensim/xensim.mk tools/xensim/client/client.mk \
	tools/xenshare-stat/stat.mk hypervisor-patch/hvpatch.mk docs/man/man.mk \
	tests/fuzz/fuzz.mk tests/bench/bench.mk tests/e2e/e2e.mk mk/deb.mk \
	monitoring/monitoring.mk

include mk/rules.mk $(FRAGMENTS)

all: $(ALL_TARGETS)

# Tests of one variant: every unit binary, then the integration scripts.
check-variant: check-unit check-integration

check-unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

# `make unit`: the name helpers' instructions use for check-unit
unit: check-unit

# everything a variant's checks run, built (on every core under -j)
check-build: all $(UNIT_TESTS)

# SKIP_REPORT (set by `make check`): the file the skips are collected in
check-integration: all
	@O=$(abspath $(O)) VARIANT=$(VARIANT) SKIP_REPORT=$(SKIP_REPORT) tests/integration/run-all.sh

# Both variants, the clang build, then the skips of every variant with
# their reasons: the last lines say what was not tested here.  Each variant
# is built on every core, then its tests run without -j: under -j the
# unit and integration halves of check-variant would run side by side.
CHECK_SKIPS := $(abspath build)/check-skips.txt
NPROC := $(shell nproc)
check:
	@mkdir -p $(dir $(CHECK_SKIPS)) && : >$(CHECK_SKIPS)
	$(MAKE) -j$(NPROC) VARIANT=release check-build
	$(MAKE) VARIANT=release check-variant SKIP_REPORT=$(CHECK_SKIPS)
	$(MAKE) -j$(NPROC) VARIANT=san check-build
	$(MAKE) VARIANT=san check-variant SKIP_REPORT=$(CHECK_SKIPS)
	$(MAKE) -j$(NPROC) VARIANT=clang CC=clang all
	@tests/integration/run-all.sh --report $(CHECK_SKIPS)

# Build output goes to stderr: stdout carries only the JSON result lines.
bench:
	@$(MAKE) --no-print-directory all >&2
	@O=$(abspath $(O)) tests/bench/run-all.sh

# Build output goes to stderr: stdout carries only the JSON lines.
# one after the other even under -j: both load the machine
soak:
	@$(MAKE) --no-print-directory soak-faults
	@$(MAKE) --no-print-directory soak-churn
soak-faults:
	@$(MAKE) --no-print-directory all >&2
	@O=$(abspath $(O)) VARIANT=$(VARIANT) tests/soak/soak.sh
soak-churn:
	@$(MAKE) --no-print-directory all >&2
	@mkdir -p $(O)/soak && rm -f $(O)/soak/churn.jsonl
	@O=$(abspath $(O)) VARIANT=$(VARIANT) CHURN_OUT=$(abspath $(O))/soak/churn.jsonl tests/soak/churn.sh
	@if command -v gnuplot >/dev/null; then tests/soak/plot-churn.sh $(O)/soak/churn.jsonl $(O)/soak/churn.svg >&2; \
	 else echo "gnuplot not installed: no plot of $(O)/soak/churn.jsonl" >&2; fi

install: all $(INSTALL_RULES)

clean:
	rm -rf build
