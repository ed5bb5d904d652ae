/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge.h - verify and share: the merge queue and the two protocols (see
 * merge.c).  The scanner offers pages; the queue turns matches into pairs
 * and flushes them to the hypervisor.
 */
#ifndef SHR_MERGE_H
#define SHR_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "dom.h"
#include "fingerprint.h"
#include "params.h"
#include "reserve.h"
#include "stats.h"
#include "xen.h"

/* pairs per flush of the upstream protocol (bounds the queue's latency) */
#define SHR_MERGE_UPSTREAM_QUEUE 256u
/* pairs whose pages are mapped together (one mapping call per domain) */
#define SHR_MERGE_CHUNK 64u

/* A queued merge: the client page joins the source page's frame. */
struct shr_pair {
	uint64_t key;                /* the client's key (= the source's, if equal) */
	uint32_t src, cli;           /* refs */
	uint16_t frame_gfns;         /* a frame pair (shr_merge_rejoin): the gfns on
				      * the client's frame; 0 for a plain pair */
};

struct shr_merge {
	const struct shr_params *params;
	struct shr_xen *xen;
	struct shr_doms *doms;
	struct shr_reserve *reserve;
	const struct shr_fp_key *key;
	struct shr_stats *st;        /* share_attempts, share_raced, ... are counted here */
	struct shr_pair *pairs;      /* the queue */
	xenshare_cmpshr_pair_t *cmp; /* the batched op's argument, parallel to pairs */
	unsigned int nr_pairs, cap_pairs;
	enum shr_protocol proto;     /* UPSTREAM or BATCHED, as in use */
	bool no_sharing;             /* the hypervisor has no sharing at all (ENOSYS) */
	bool no_frame_merge;         /* the batched op answers SPANNED: no frame pairs */
	/* the upstream path's handle chain (merge.c, "fresh handles"): the
	 * last handle known to be drawn in this flush, if any */
	uint64_t fresh_handle;
	bool fresh_valid;
	uint64_t merged;             /* pages merged (saved) since the owner last reset it */
};

int shr_merge_init(struct shr_merge *m, const struct shr_params *params, struct shr_xen *xen,
		   struct shr_doms *doms, struct shr_reserve *reserve,
		   const struct shr_fp_key *key, struct shr_stats *st);
void shr_merge_fini(struct shr_merge *m);
/* The protocol in use for what the caller wants (AUTO: batched if the
 * hypervisor has it). */
void shr_merge_set_protocol(struct shr_merge *m, enum shr_protocol wanted);

/* A page fingerprinted under key (zero: all bytes zero): queue a pair with
 * a twin, or index it as unique. */
void shr_merge_consider(struct shr_merge *m, struct shr_dom *d, uint32_t gfn,
			uint64_t key, bool zero);
/* d's gfn just became the stable source of its frame: queue its unique twins. */
void shr_merge_adopted(struct shr_merge *m, struct shr_dom *d, uint32_t gfn, uint64_t key);
/* d's gfn, SHARED and unchanged, whose key lost a stable entry while
 * another entry exists: if its frame is a second one of that content,
 * queue a frame pair (the hypervisor moves the smaller frame's gfns). */
void shr_merge_rejoin(struct shr_merge *m, struct shr_dom *d, uint32_t gfn, uint64_t key);
/* Verifies and shares every queued pair. */
void shr_merge_flush(struct shr_merge *m);

#endif /* SHR_MERGE_H */
