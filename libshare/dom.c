/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dom.c - the domain table, its reference space, groups and index (see
 * dom.h).
 *
 * DOC: Overview
 *
 * The table is an array of domains sorted by ref_base, so a ref is
 * resolved to its domain with a binary search; a new domain takes the
 * lowest free range of the 32-bit ref space that fits it.  The index
 * stores only the high half of each key: when it rebuilds a table it asks
 * this module for an entry's low half (key_lo of the page the ref names).
 *
 * Invariants: ref ranges are sorted and disjoint, all below SHR_REF_MAX;
 * every index entry names a page of a domain in the table, in state UNIQUE
 * (unstable side) or SOURCE (stable and full sides), under its key_lo;
 * a domain leaves the table only after its index entries.
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "dom.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static uint32_t index_key_lo(uint32_t ref, void *arg)
{
	const struct shr_doms *t = arg;
	uint32_t gfn;
	struct shr_dom *d = shr_dom_of_ref(t, ref, &gfn);

	return d ? d->pages.key_lo[gfn] : 0;
}

void shr_doms_init(struct shr_doms *t, const struct shr_fp_key *key)
{
	memset(t, 0, sizeof(*t));
	t->key = key;
	shr_index_init(&t->index, index_key_lo, t);
}

static void dom_free(struct shr_dom *d)
{
	shr_pages_free(&d->pages);
	free(d);
}

void shr_doms_fini(struct shr_doms *t)
{
	for (unsigned int i = 0; i < t->nr; i++)
		dom_free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->nr = t->cap = 0;
	shr_index_fini(&t->index);
}

struct shr_dom *shr_dom_find(const struct shr_doms *t, uint32_t domid)
{
	for (unsigned int i = 0; i < t->nr; i++)
		if (t->v[i]->domid == domid)
			return t->v[i];
	return NULL;
}

struct shr_dom *shr_dom_of_ref(const struct shr_doms *t, uint32_t ref, uint32_t *gfn)
{
	unsigned int lo = 0, hi = t->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct shr_dom *d = t->v[mid];

		if (ref < d->ref_base)
			hi = mid;
		else if (ref - d->ref_base >= d->pages.nr)
			lo = mid + 1;
		else {
			*gfn = ref - d->ref_base;
			return d;
		}
	}
	return NULL;
}

/* Lowest free range of n refs and its position in the table, or
 * SHR_REF_NONE. */
static uint32_t ref_range_alloc(const struct shr_doms *t, uint32_t n, unsigned int *pos)
{
	uint64_t next = 0;
	unsigned int i;

	for (i = 0; i < t->nr; i++) {
		if (t->v[i]->ref_base - next >= n)
			break;
		next = (uint64_t)t->v[i]->ref_base + t->v[i]->pages.nr;
	}
	if (next + n > SHR_REF_MAX)
		return SHR_REF_NONE;
	*pos = i;
	return (uint32_t)next;
}

static void table_put(struct shr_doms *t, unsigned int pos, struct shr_dom *d)
{
	memmove(&t->v[pos + 1], &t->v[pos], (t->nr - pos) * sizeof(*t->v));
	t->v[pos] = d;
	t->nr++;
}

static void table_take(struct shr_doms *t, struct shr_dom *d)
{
	unsigned int i;

	for (i = 0; i < t->nr && t->v[i] != d; i++)
		;
	if (i == t->nr)
		return;
	memmove(&t->v[i], &t->v[i + 1], (t->nr - i - 1) * sizeof(*t->v));
	t->nr--;
}

int shr_dom_insert(struct shr_doms *t, uint32_t domid, const char *name, uint64_t nr_gfns,
		   struct shr_dom **out)
{
	struct shr_dom *d;
	unsigned int pos;

	if (nr_gfns == 0 || nr_gfns > SHR_REF_MAX)
		return -ERANGE;
	if (t->nr == t->cap) {
		unsigned int cap = t->cap ? 2 * t->cap : 16;
		struct shr_dom **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (shr_pages_alloc(&d->pages, (uint32_t)nr_gfns)) {
		free(d);
		return -ENOMEM;
	}
	d->domid = domid;
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");
	d->group = UINT32_MAX;
	d->ring_gfn = UINT64_MAX;
	d->ref_base = ref_range_alloc(t, d->pages.nr, &pos);
	if (d->ref_base == SHR_REF_NONE) {
		shr_err("d%u add: no room for %u more pages in the index", domid, d->pages.nr);
		dom_free(d);
		return -ENOSPC;
	}
	table_put(t, pos, d);
	*out = d;
	return 0;
}

void shr_dom_delete(struct shr_doms *t, struct shr_dom *d)
{
	if (d->pages.n_unique || d->pages.n_source)
		shr_index_remove_range(&t->index, d->ref_base, d->pages.nr);
	table_take(t, d);
	dom_free(d);
}

int shr_dom_set_group(struct shr_doms *t, struct shr_dom *d, const char *name)
{
	unsigned int g;

	if (!name[0])
		name = "default";
	for (g = 0; g < t->nr_groups; g++)
		if (!strncmp(t->groups[g], name, sizeof(t->groups[g])))
			break;
	if (g == t->nr_groups) {
		if (t->nr_groups == SHR_MAX_GROUPS) {
			shr_err("d%u: too many sharing groups (max %d)", d->domid, SHR_MAX_GROUPS);
			return -ENOSPC;
		}
		snprintf(t->groups[g], sizeof(t->groups[g]), "%s", name);
		/* A salt no guest can predict: the group name hashed with our secret. */
		t->group_salt[g] = XXH3_64bits_withSecret(name, strnlen(name, 63),
							  t->key->secret, sizeof(t->key->secret));
		t->nr_groups++;
	}
	d->group = g;
	d->salt = t->group_salt[g];
	d->pages.zero_lo = (uint32_t)(t->key->zero_fp ^ d->salt);
	return 0;
}

void shr_dom_reset_pages(struct shr_doms *t, struct shr_dom *d)
{
	if (d->pages.n_unique || d->pages.n_source)
		shr_index_remove_range(&t->index, d->ref_base, d->pages.nr);
	shr_pages_reset(&d->pages);
}

int shr_dom_regrow(struct shr_doms *t, struct shr_dom *d, uint64_t nr_gfns)
{
	struct shr_pages grown;
	unsigned int pos = 0;
	uint32_t base, old_nr = d->pages.nr;

	if (nr_gfns <= d->pages.nr || nr_gfns > SHR_REF_MAX)
		return 0;
	if (shr_pages_alloc(&grown, (uint32_t)nr_gfns)) {
		shr_warn("d%u grew to %llu gfns: no memory to track them; the new gfns are "
			 "not scanned", d->domid, (unsigned long long)nr_gfns);
		return -ENOMEM;
	}
	shr_dom_reset_pages(t, d);
	table_take(t, d);
	base = ref_range_alloc(t, grown.nr, &pos);
	if (base == SHR_REF_NONE) {
		/* no room: keep the old size (its range is still free) */
		base = ref_range_alloc(t, d->pages.nr, &pos);
		shr_pages_free(&grown);
		shr_warn("d%u grew: no room in the ref space; the new gfns are not scanned",
			 d->domid);
	} else {
		bool look = d->pages.look != NULL;

		grown.zero_lo = d->pages.zero_lo;
		shr_pages_free(&d->pages);
		d->pages = grown;
		/* scanned from the dirty log: the new table is looked at whole */
		if (look && shr_pages_look_alloc(&d->pages))
			d->logdirty = false;
		shr_info("d%u grew from %u to %llu gfns", d->domid, old_nr,
			 (unsigned long long)nr_gfns);
	}
	d->ref_base = base;
	table_put(t, pos, d);
	return 0;
}

void shr_page_forget(struct shr_doms *t, struct shr_dom *d, uint32_t gfn,
		     enum shr_pstate new_state)
{
	uint32_t ref = d->ref_base + gfn, lo = d->pages.key_lo[gfn];

	switch (shr_ps_state(d->pages.pstate[gfn])) {
	case SHR_PS_UNIQUE:
		shr_index_remove(&t->index, SHR_UNSTABLE, lo, ref);
		break;
	case SHR_PS_SOURCE:
		shr_index_drop_frame(&t->index, lo, ref);
		break;
	default:
		break;
	}
	shr_pages_set(&d->pages, gfn, new_state);
}

void shr_dom_mark_gone(struct shr_dom *d, int err, const char *op)
{
	if (d->gone)
		return;
	shr_info("d%u %s: domain %s (%d): no longer scanned", d->domid, op,
		 err == -EBUSY ? "dying" : "gone", err);
	d->gone = true;
}

void shr_dom_mark_refused(struct shr_dom *d, int err, const char *op)
{
	if (d->refused)
		return;
	shr_warn("d%u %s: the hypervisor refuses sharing for this domain (%s): no "
		 "longer scanned", d->domid, op,
		 err == -EXDEV ? "EXDEV: passthrough device" :
		 err == -ENODEV ? "ENODEV: no HAP" :
		 err == -EOPNOTSUPP ? "EOPNOTSUPP: CPU without VMX or sharing disabled" :
		 "error");
	d->refused = true;
}
