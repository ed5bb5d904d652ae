/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * estimate.c - counting zero, within-guest and across-guest duplicates per
 * sharing group.  See estimate.h for the model and the formulas.
 *
 * Mechanism: the guests of one group are scanned one after the other.  The
 * index is an open-addressing hash table keyed by fingerprint (the keyed
 * XXH3 is uniformly distributed, so its low bits index the table directly);
 * each entry remembers the first page seen with its content and the last
 * guest that had it.  For a non-zero page of guest g:
 *   - no entry with equal fingerprint and equal bytes: a new content of the
 *     group and of g;
 *   - an entry last seen in another guest: a content g has that an earlier
 *     guest had too (new for g, not for the group); the entry moves to g;
 *   - an entry last seen in g: a duplicate within g.
 * Because guests are scanned one at a time, "last seen in g" is exactly
 * "already seen in g".  Probing goes on past entries with an equal
 * fingerprint but different bytes, so a collision splits contents instead
 * of merging them.  The table doubles at 70% load (entries keep their
 * fingerprint, so rehashing reads no page).
 */
#include "estimate.h"

#include <errno.h>
#include <stdio.h>

#include "headroom.h"
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
#define NO_GUEST UINT32_MAX
#define PROGRESS_EVERY 4096u

/* In a content's slot: more than one page has it (they share one frame).
 * Slots are page numbers, far below 2^63. */
#define SLOT_SHARED (1ull << 63)

struct content {
	uint64_t fp;
	uint64_t slot;        /* page of the first occurrence: (first_guest, slot), | SLOT_SHARED */
	uint32_t first_guest; /* NO_GUEST: empty entry */
	uint32_t last_guest;
};

struct index {
	struct content *tab;
	uint64_t mask, used;
};

static int index_init(struct index *ix, uint64_t cap)
{
	ix->tab = malloc(cap * sizeof(*ix->tab));
	if (!ix->tab)
		return -ENOMEM;
	for (uint64_t i = 0; i < cap; i++)
		ix->tab[i].first_guest = NO_GUEST;
	ix->mask = cap - 1;
	ix->used = 0;
	return 0;
}

static int index_grow(struct index *ix)
{
	struct index bigger;
	int r = index_init(&bigger, (ix->mask + 1) * 2);

	if (r < 0)
		return r;
	for (uint64_t i = 0; i <= ix->mask; i++) {
		uint64_t h;

		if (ix->tab[i].first_guest == NO_GUEST)
			continue;
		for (h = ix->tab[i].fp & bigger.mask; bigger.tab[h].first_guest != NO_GUEST;
		     h = (h + 1) & bigger.mask)
			;
		bigger.tab[h] = ix->tab[i];
	}
	bigger.used = ix->used;
	free(ix->tab);
	*ix = bigger;
	return 0;
}

struct scan {
	struct index ix;
	const struct xse_guest *guests;
	const struct xse_fp_ops *ops;
	uint64_t collisions;
	uint64_t zero_seen;   /* zero pages of the group so far */
};

/* A page of a content seen before joins its frame: it is on a shared frame
 * now, and so is the first page if it was alone until now. */
static uint64_t joined(bool was_alone)
{
	return was_alone ? 2 : 1;
}

/* Looks the page up; inserts it if new.  Returns the entry. */
static struct content *lookup(struct scan *s, uint64_t fp, const void *page,
			      uint32_t guest, uint64_t slot, bool *is_new)
{
	struct index *ix = &s->ix;
	uint64_t h = fp & ix->mask;

	for (;; h = (h + 1) & ix->mask) {
		struct content *c = &ix->tab[h];

		if (c->first_guest == NO_GUEST) {
			c->fp = fp;
			c->slot = slot;
			c->first_guest = guest;
			c->last_guest = NO_GUEST;
			ix->used++;
			*is_new = true;
			return c;
		}
		if (c->fp != fp)
			continue;
		if (s->ops->equal(page, xse_image_slot(s->guests[c->first_guest].img,
						       c->slot & ~SLOT_SHARED))) {
			*is_new = false;
			return c;
		}
		s->collisions++;
	}
}

static int scan_guest(struct scan *s, struct xse_guest *g, uint32_t gi,
		      xse_progress_fn *progress, void *parg, uint64_t *done, uint64_t total)
{
	const struct xse_image *img = g->img;

	g->pages = g->zero_pages = g->distinct_nonzero = g->dup_within = 0;
	g->new_contents = g->shared_added = 0;
	for (uint64_t i = 0; i < img->nr_slots; i++) {
		const void *page = xse_image_slot(img, i);
		struct content *c;
		bool zero, is_new;
		uint64_t fp;

		if (!page)
			continue;
		g->pages++;
		if (progress && ++*done % PROGRESS_EVERY == 0)
			progress(parg, *done, total);
		fp = s->ops->fp(s->ops->arg, page, &zero);
		if (zero) {
			g->zero_pages++;
			if (s->zero_seen)
				g->shared_added += joined(s->zero_seen == 1);
			else
				g->new_contents++;
			s->zero_seen++;
			continue;
		}
		if ((s->ix.used + 1) * 10 > (s->ix.mask + 1) * 7) {
			int r = index_grow(&s->ix);

			if (r < 0)
				return r;
		}
		c = lookup(s, fp, page, gi, i, &is_new);
		if (is_new) {
			g->new_contents++;
		} else {
			g->shared_added += joined(!(c->slot & SLOT_SHARED));
			c->slot |= SLOT_SHARED;
		}
		if (c->last_guest == gi) {
			g->dup_within++;
		} else {
			g->distinct_nonzero++;
			c->last_guest = gi;
		}
	}
	return 0;
}

static struct xse_group *group_of(struct xse_report *rep, const char *name)
{
	for (size_t i = 0; i < rep->nr_groups; i++)
		if (strcmp(rep->groups[i].name, name) == 0)
			return &rep->groups[i];
	return NULL;
}

int xse_estimate(struct xse_guest *guests, size_t n, const struct xse_fp_ops *ops,
		 xse_progress_fn *progress, void *progress_arg, struct xse_report *rep)
{
	struct scan s = { .guests = guests, .ops = ops };
	uint64_t total = 0, done = 0;
	int r = 0;

	memset(rep, 0, sizeof(*rep));
	if (n >= NO_GUEST)
		return -E2BIG;
	rep->groups = calloc(n ? n : 1, sizeof(*rep->groups));
	if (!rep->groups)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		total += guests[i].img->nr_pages;
		if (!group_of(rep, guests[i].group))
			snprintf(rep->groups[rep->nr_groups++].name, XSE_GROUP_LEN, "%s",
				 guests[i].group);
	}
	for (size_t gr = 0; gr < rep->nr_groups; gr++) {
		struct xse_group *G = &rep->groups[gr];
		uint64_t sum_distinct = 0;

		r = index_init(&s.ix, 1u << 16);
		if (r < 0)
			goto out;
		s.zero_seen = 0;
		for (size_t i = 0; i < n; i++) {
			struct xse_guest *g = &guests[i];

			if (strcmp(g->group, G->name) != 0)
				continue;
			r = scan_guest(&s, g, (uint32_t)i, progress, progress_arg, &done, total);
			if (r < 0) {
				free(s.ix.tab);
				goto out;
			}
			G->nr_guests++;
			G->pages += g->pages;
			G->zero_pages += g->zero_pages;
			G->saved_within += g->dup_within;
			sum_distinct += g->distinct_nonzero;
		}
		G->distinct_nonzero = s.ix.used;
		G->saved_zero = G->zero_pages ? G->zero_pages - 1 : 0;
		G->saved_across = sum_distinct - G->distinct_nonzero;
		rep->pages += G->pages;
		rep->saved_zero += G->saved_zero;
		rep->saved_within += G->saved_within;
		rep->saved_across += G->saved_across;
		free(s.ix.tab);
		s.ix.tab = NULL;
	}
	rep->fp_collisions = s.collisions;
	if (progress)
		progress(progress_arg, total, total);
out:
	if (r < 0)
		xse_report_free(rep);
	return r;
}

int xse_admission(const struct xse_guest *guests, size_t n, uint64_t host_pages,
		  uint64_t reserve_pages, double burst_percent, struct xse_report *rep)
{
	struct xse_admission *a = &rep->admission;
	struct xst_room r = { .free_pages = host_pages, .reserve_pages = reserve_pages,
			      .burst_percent = burst_percent };
	struct xst_profile *with = calloc(n ? n : 1, sizeof(*with));
	struct xst_profile *without = calloc(n ? n : 1, sizeof(*without));

	*a = (struct xse_admission){ .asked = true, .host_pages = host_pages,
				     .reserve_pages = reserve_pages, .burst_percent = burst_percent };
	if (!with || !without) {
		free(with);
		free(without);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		with[i] = (struct xst_profile){ .mem_pages = guests[i].pages,
						.shared_pages = guests[i].shared_added,
						.saved_pages = guests[i].pages - guests[i].new_contents };
		without[i] = (struct xst_profile){ .mem_pages = guests[i].pages };
	}
	/* dom0 holds one of Xen's domain ids */
	a->guests = xst_admit(&r, with, n, XST_MAX_DOMAINS - 1);
	a->without_sharing = xst_admit(&r, without, n, XST_MAX_DOMAINS - 1);
	free(with);
	free(without);
	return 0;
}

void xse_report_free(struct xse_report *rep)
{
	free(rep->groups);
	memset(rep, 0, sizeof(*rep));
}
