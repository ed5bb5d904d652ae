/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * headroom.h - how much of a host's memory sharing has freed, how much of
 * it the guests could take back, and how many more guests of a profile fit
 * while the reserve is kept against a burst of unshares.  Pure arithmetic
 * on page counts, shared by xenshare-stat (a live host) and
 * xenshare-estimate (a host of a given size, from images).
 *
 * At risk.  A shared frame backing k guest pages saves k - 1 frames; if
 * all k pages are written, k - 1 of them need a private frame again (the
 * last sharer takes the shared frame back without a copy).  So the worst
 * case is exactly the memory sharing freed:
 *     at_risk = sum(shr_pages) - shared frames in use = freed pages
 * A burst in which a fraction b of the pages on shared frames are written
 * needs, in the worst order (last sharers last), min(ceil(b * sum(shr_pages)),
 * freed) new frames.
 *
 * Admission.  A guest like domain d needs d's full memory
 * (tot_pages + shr_pages) free when it is created: Xen populates it whole,
 * before anything of it is shared.  Once the daemon has converged on it,
 * it is assumed to share like d: shr_pages of d on shared frames, saving
 * shr_pages * freed / sum(shr_pages) frames, the host's saving per page on
 * a shared frame (the hypervisor does not say which of d's pages are the
 * first of their frame; a copy of d joins d's frames and saves more).
 * Guests are admitted one after another, each once the previous one has
 * converged; after each creation and after each convergence the host must
 * keep free >= reserve + burst.  N is the largest count for which every
 * step holds, never more than Xen's domain ids allow.  A profile that does
 * not share (the daemon is down, the domain opted out) saves 0 and adds
 * nothing at risk: N is then the count without sharing.
 *
 * Offline (xenshare-estimate), a host of a given size starts empty and the
 * guests come from a set of images, in turn: each image's profile is what
 * it saved and put on shared frames when it joined the images before it
 * in its group (headroom of a guest like the first image: only its own
 * zero pages and duplicates).
 */
#ifndef XST_HEADROOM_H
#define XST_HEADROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The burst the admission figure keeps the reserve against, in percent of
 * the pages on shared frames; xenshare-stat(1) says why this default. */
#define XST_BURST_DEFAULT_PERCENT 50.0
/* Xen's domain ids below DOMID_FIRST_RESERVED: no host holds more domains. */
#define XST_MAX_DOMAINS 0x7FF0u

/* The host now, in pages. */
struct xst_room {
	uint64_t free_pages;
	uint64_t reserve_pages;
	uint64_t shared_pages;        /* sum of shr_pages over every domain */
	uint64_t freed_pages;         /* xc_sharing_freed_pages */
	double burst_percent;         /* 0..100 */
};

/* A new guest like an existing domain, in pages. */
struct xst_profile {
	uint64_t mem_pages;           /* needed free at creation */
	uint64_t shared_pages;        /* on shared frames once converged */
	uint64_t saved_pages;         /* frames that frees once converged */
};

/* Frames a burst of burst_percent of the shared pages needs, worst case. */
uint64_t xst_burst_pages(uint64_t shared_pages, uint64_t freed_pages, double burst_percent);

/* free - reserve - burst: negative when the host is already short. */
int64_t xst_room_pages(const struct xst_room *r);

/* The profile of a guest like one with tot_pages and shr_pages on the host
 * r describes; shares false: nobody will share it (saves 0, risks 0). */
void xst_profile_of(const struct xst_room *r, uint64_t tot_pages, uint64_t shr_pages,
		    bool shares, struct xst_profile *p);

/*
 * How many guests fit now (see above), at most max_guests: guests of the
 * profiles p[0..nr) in turn, p[0] first and again after p[nr - 1].
 */
uint64_t xst_admit(const struct xst_room *r, const struct xst_profile *p, size_t nr,
		   uint64_t max_guests);

/* Valid --burst argument: a number 0..100.  0 and *pct set, or -EINVAL. */
int xst_parse_burst(const char *arg, double *pct);

#endif /* XST_HEADROOM_H */
