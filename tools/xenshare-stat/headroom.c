/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * headroom.c - memory at risk and the admission figure.  See headroom.h for
 * the formulas and the assumptions behind them.
 *
 * The admission figure is found by admitting guests one at a time, not by
 * a closed formula: the burst is capped by the memory freed, so the
 * constraint changes shape along the way, and both moments of each guest
 * (just created, nothing of it shared; converged) are checked.  Each step
 * is a few additions and the count is bounded by XST_MAX_DOMAINS.  Every
 * subtraction is checked first, so no count wraps.
 */
#include "headroom.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

uint64_t xst_burst_pages(uint64_t shared_pages, uint64_t freed_pages, double burst_percent)
{
	double want = ceil((double)shared_pages * burst_percent / 100.0);
	uint64_t b = want >= (double)shared_pages ? shared_pages : (uint64_t)want;

	return b < freed_pages ? b : freed_pages;
}

int64_t xst_room_pages(const struct xst_room *r)
{
	return (int64_t)r->free_pages - (int64_t)r->reserve_pages -
	       (int64_t)xst_burst_pages(r->shared_pages, r->freed_pages, r->burst_percent);
}

void xst_profile_of(const struct xst_room *r, uint64_t tot_pages, uint64_t shr_pages,
		    bool shares, struct xst_profile *p)
{
	p->mem_pages = tot_pages + shr_pages;
	p->shared_pages = shares ? shr_pages : 0;
	p->saved_pages = 0;
	/* freed <= sum(shr_pages), so the saving never exceeds shr_pages */
	if (shares && r->shared_pages && r->freed_pages <= r->shared_pages)
		p->saved_pages = (uint64_t)floor((double)shr_pages * (double)r->freed_pages /
						 (double)r->shared_pages);
}

/* free >= reserve + burst on a host of free pages, shared and freed. */
static bool keeps_reserve(const struct xst_room *r, uint64_t free_pages, uint64_t shared,
			  uint64_t freed)
{
	uint64_t need = r->reserve_pages + xst_burst_pages(shared, freed, r->burst_percent);

	return free_pages >= need;
}

uint64_t xst_admit(const struct xst_room *r, const struct xst_profile *p, size_t nr,
		   uint64_t max_guests)
{
	uint64_t free_pages = r->free_pages, shared = r->shared_pages, freed = r->freed_pages;
	uint64_t n = 0;

	for (size_t i = 0; i < nr; i++)
		if (!p[i].mem_pages || p[i].saved_pages > p[i].mem_pages)
			return 0;
	for (const struct xst_profile *g = p; nr && n < max_guests; g = g + 1 < p + nr ? g + 1 : p) {
		/* created: its whole memory taken, nothing of it shared yet */
		if (free_pages < g->mem_pages)
			break;
		free_pages -= g->mem_pages;
		if (!keeps_reserve(r, free_pages, shared, freed))
			break;
		/* converged: its saving back, its shared pages at risk */
		free_pages += g->saved_pages;
		shared += g->shared_pages;
		freed += g->saved_pages;
		if (!keeps_reserve(r, free_pages, shared, freed))
			break;
		n++;
	}
	return n;
}

int xst_parse_burst(const char *arg, double *pct)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > 100)
		return -EINVAL;
	*pct = v;
	return 0;
}
