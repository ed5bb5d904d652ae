/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * core_fixture.h - what the unit tests of libshare's core share: the
 * engine's parts put together over the fake Xen (fake_xen.h) as engine.c
 * puts them together, and a pass driven by hand (log_capture.h counts
 * what the engine logs).
 *
 * The module tests (scan_ut, merge_ut, reserve_ut, dom_ut, audit_ut) work
 * on these parts directly, below the engine's API, so they can look at
 * and plant state that the API does not show; engine_ut uses the API.
 */
#ifndef CORE_FIXTURE_H
#define CORE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "libshare/audit.h"
#include "libshare/dom.h"
#include "libshare/log.h"
#include "libshare/merge.h"
#include "libshare/reserve.h"
#include "libshare/scan.h"
#include "fake_xen.h"
#include "log_capture.h"

struct fix {
	struct shr_params params;
	struct shr_xen *xen;
	struct shr_fp_key key;
	struct shr_doms doms;
	struct shr_reserve reserve;
	struct shr_merge merge;
	struct shr_scan scan;
	struct shr_stats st;
	double clock;                /* the log rounds' clock: one round period a pass */
};

/* Small batches, KSM's sharer cap, no reserve, the upstream protocol. */
struct shr_params fix_params(void);
/* Opens the fake Xen and starts every part (CUnit-fatal on error); a fixed
 * fingerprint secret, so runs repeat. */
void fix_open(struct fix *f, const struct shr_params *params);
/* The engine's shutdown: flush, log-dirty given up, the stop protocol,
 * every part freed. */
void fix_close(struct fix *f);
/* The engine killed: its memory freed, nothing said to the hypervisor. */
void fix_kill(struct fix *f);
/* Adds a domain the fake host has, as shr_engine_add_domain() does for a
 * domain with nothing shared (its held policy is its policy); its ring (if
 * it has a ring page) is attached unless params.no_rings. */
struct shr_dom *fix_add(struct fix *f, uint32_t domid, enum shr_mode mode, const char *group);
/* One whole pass over every scanned domain, then the queue flushed. */
void fix_pass(struct fix *f);
void fix_passes(struct fix *f, unsigned int n);
/* shr_audit_walk() over the parts, as shr_engine_audit() calls it. */
int fix_audit(const struct fix *f);
/* The end of a scenario: the engine's audit finds nothing, the fake host
 * is consistent and saw nothing the engine must never do (a nominate
 * while a batch was mapped, the ring page in a batch, a bad unmap, a
 * panic); then fix_close(). */
void fix_done(struct fix *f);
/* Guest writes: gfn first + i of domid gets content c0 + i * step
 * (fake_xen.h: content 0 is the zero page). */
void fix_fill(uint32_t domid, uint64_t first, uint64_t n, uint64_t c0, uint64_t step);
/* A host of host_pages frames with domains 1 .. nr_doms of nr_gfns gfns
 * each (zero pages). */
void fix_host(uint64_t host_pages, bool patched, unsigned int nr_doms, uint64_t nr_gfns);
/* The state byte's state of domid's gfn. */
enum shr_pstate fix_state(const struct fix *f, uint32_t domid, uint32_t gfn);
uint8_t fix_byte(const struct fix *f, uint32_t domid, uint32_t gfn);

#endif /* CORE_FIXTURE_H */
