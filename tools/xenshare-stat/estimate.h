/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * estimate.h - what xenshared would save on a set of guests, computed from
 * their memory images (xenshare-estimate).
 *
 * The model is the daemon's end state once it has settled: within one
 * sharing group, every set of pages with identical contents is backed by a
 * single frame; pages of different groups are never merged.  So for a group
 *     saved = pages - distinct contents
 * and it is split, additively, into
 *     zero:   zero pages - 1 (all zero pages of the group share one frame)
 *     within: per guest, non-zero pages - distinct non-zero contents of that guest
 *     across: sum over guests of their distinct non-zero contents
 *             - distinct non-zero contents of the group
 * The zero line alone is what mem_sharing="zero" (zero-only mode) saves.
 *
 * Identity is decided the way the daemon decides it: shr_fp_page (keyed
 * XXH3, libshare/fingerprint.h) picks candidates, and shr_page_equal (all
 * 4096 bytes) confirms them.  Fingerprint equality alone never counts:
 * pages whose fingerprints collide but whose bytes differ are distinct
 * contents (counted in fp_collisions).
 *
 * Each guest's part is also counted as it joins the guests before it in
 * its group (command-line order): the contents it brings that the group
 * had not seen (its saving is its pages less those) and the pages that
 * came onto shared frames with it.  These are the profiles of the
 * admission figure (xse_admission, headroom.h).
 *
 * The index holds one 24-byte entry per distinct non-zero content of the
 * group being counted (a reference to the first page with that content,
 * not a copy) and is emptied between groups; images stay mapped.
 */
#ifndef XSE_ESTIMATE_H
#define XSE_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define XSE_GROUP_LEN 64

/* A fingerprint function (the daemon's; tests may substitute a weaker one). */
struct xse_fp_ops {
	uint64_t (*fp)(void *arg, const void *page, bool *is_zero);
	bool (*equal)(const void *a, const void *b);
	void *arg;
};

struct xse_guest {
	const char *path;
	char group[XSE_GROUP_LEN];
	const struct xse_image *img;
	/* results */
	uint64_t pages;              /* guest pages (dump-core padding excluded) */
	uint64_t zero_pages;
	uint64_t distinct_nonzero;   /* distinct non-zero contents in this guest */
	uint64_t dup_within;         /* non-zero pages - distinct_nonzero */
	/* joining the guests before it in its group (command-line order): */
	uint64_t new_contents;       /* contents (the zero page one of them) not seen before */
	uint64_t shared_added;       /* pages that came onto shared frames (its, and
					the first page of a content it repeats) */
};

struct xse_group {
	char name[XSE_GROUP_LEN];
	unsigned int nr_guests;
	uint64_t pages, zero_pages, distinct_nonzero;
	uint64_t saved_zero, saved_within, saved_across;
};

/* How many guests like the images fit on a host of a given size
 * (xse_admission; headroom.h has the model). */
struct xse_admission {
	bool asked;
	uint64_t host_pages, reserve_pages;
	double burst_percent;
	uint64_t guests, without_sharing;
};

struct xse_report {
	size_t nr_groups;
	struct xse_group *groups;    /* in order of first appearance */
	uint64_t pages;
	uint64_t saved_zero, saved_within, saved_across;
	uint64_t fp_collisions;      /* equal fingerprints, different bytes */
	struct xse_admission admission;  /* asked: filled by xse_admission */
};

/* Called about every 4096 pages with the pages done so far and the total. */
typedef void xse_progress_fn(void *arg, uint64_t done, uint64_t total);

/*
 * Counts guests[0..n) (their img set, results filled in).  Returns 0, or
 * -ENOMEM; the report's groups array is malloc'd (xse_report_free).
 */
int xse_estimate(struct xse_guest *guests, size_t n, const struct xse_fp_ops *ops,
		 xse_progress_fn *progress, void *progress_arg, struct xse_report *rep);
void xse_report_free(struct xse_report *rep);

/*
 * Fills rep->admission: guests like guests[0..n) (counted), in turn, that
 * fit one after another on an empty host of host_pages free, keeping
 * reserve_pages against a burst of burst_percent of the shared pages,
 * with sharing (each image's saving when it joined the images before it
 * in its group) and without.  0, or -ENOMEM.
 */
int xse_admission(const struct xse_guest *guests, size_t n, uint64_t host_pages,
		  uint64_t reserve_pages, double burst_percent, struct xse_report *rep);

static inline uint64_t xse_group_saved(const struct xse_group *g)
{
	return g->saved_zero + g->saved_within + g->saved_across;
}

#endif /* XSE_ESTIMATE_H */
