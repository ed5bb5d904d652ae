/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scan.h - the scanner: the pass over every scanned domain's gfns, batch by
 * batch (see scan.c).  It fingerprints pages and hands them to the merge
 * step.
 */
#ifndef SHR_SCAN_H
#define SHR_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "dom.h"
#include "fingerprint.h"
#include "merge.h"
#include "params.h"
#include "stats.h"
#include "xen.h"

/* gfns examined per batch at most (due or not), in batch_pages: bounds a
 * slice's latency when most pages of a stretch are backed off or holes.
 * Passing over a gfn costs a load; a mapping call costs dom0 an mmap, an
 * ioctl and an munmap with its TLB flush whatever the pages in it, so the
 * bound is wide enough that resting pages, holes and a dirty log's few
 * bits still fill whole batches (1024 x 256 gfns: a 1 GiB stretch). */
#define SHR_SCAN_EXAMINE_FACTOR 1024u
/* pages left nominated released per batch at most (the rest next look) */
#define SHR_RELEASE_MAX 64u

struct shr_scan {
	const struct shr_params *params;
	struct shr_xen *xen;
	struct shr_doms *doms;
	struct shr_merge *merge;
	const struct shr_fp_key *key;
	struct shr_stats *st;        /* pages_scanned, unshares, ... are counted here */
	/* batch buffers, allocated once: no allocation per page */
	uint64_t *gfns;
	int *err;
	uint64_t *fp;
	uint8_t *zero;
	bool *hole;
	unsigned int cap;
	bool no_types;               /* the hypervisor cannot tell holes: map them */
	bool known_lost;             /* the batch: shared pages Xen says are private */
	const uint64_t *round_dirty; /* the batch is a log round's: the log it read */
	/* the pass (its start, end and schedule are the engine's) */
	uint64_t pass;               /* number of the current pass */
	uint64_t pages_total;        /* gfns in the pass (0: no pass running) */
	uint64_t pages_done;         /* gfns examined so far */
};

int shr_scan_init(struct shr_scan *sc, const struct shr_params *params, struct shr_xen *xen,
		  struct shr_doms *doms, struct shr_merge *merge, const struct shr_fp_key *key,
		  struct shr_stats *st);
void shr_scan_fini(struct shr_scan *sc);
/* Batch buffers for batch_pages gfns (they only grow): -ENOMEM. */
int shr_scan_resize(struct shr_scan *sc, unsigned int batch_pages);
/* Scans the next batch of the pass; returns gfns examined, 0 at the end of
 * the pass. */
int shr_scan_batch(struct shr_scan *sc);
/* Runs the log rounds due at `now`, within about budget_s of CPU (see
 * scan.c); true when it stopped for the budget (rounds are left). */
bool shr_scan_rounds(struct shr_scan *sc, double now, double budget_s);
/* d leaves the engine: its log-dirty mode is turned off if it is ours. */
void shr_scan_forget_domain(struct shr_scan *sc, struct shr_dom *d);

#endif /* SHR_SCAN_H */
