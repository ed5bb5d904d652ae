/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * audit.c - the engine checks its own invariants (see audit.h).
 *
 * DOC: Overview
 *
 * A walk over everything the engine holds, meant for tests and for the
 * daemon's debug command: O(pages + index), no hypercall.  Each violation
 * is logged with its context and counted.  Checked:
 *  - domains' ref ranges are sorted and disjoint;
 *  - per-domain counts (unique, source, shared, volatile, zero shared)
 *    equal a recount of the state bytes;
 *  - no page is PENDING and the merge queue is empty (between runs);
 *  - every index entry names a known domain's gfn whose state matches its
 *    side (UNIQUE unstable, SOURCE stable), is reachable from its home slot
 *    by the key_lo the page records, and a stable or full entry has 2 to
 *    65535 sharers; the entry counts equal the state counts;
 *  - no foreign mapping is live;
 *  - a domain that is evicting (unsharing what it holds of another group)
 *    has nothing indexed or believed shared.
 *
 * shr_audit_frames() is the hypervisor-side half: the frame census.
 * It asks, for every page the engine believes shared, the handle of its
 * frame (XENMEM_sharing_op_debug_gfn first: -EINVAL for a page that is
 * private again; then nominate, which for a shared gfn only returns its
 * frame's handle) and checks that no handle is held by pages of two
 * groups.  The one race it cannot close: a guest that rewrites the page
 * between the two calls gets it nominated (a frame with one sharer, as an
 * interrupted merge leaves; the scan finds and merges or releases it).
 */
#include "audit.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

struct audit_walk {
	const struct shr_doms *t;
	enum shr_side side;
	int bad;
	uint64_t entries;
};

static int audit_entry(uint32_t ref, uint32_t tag, uint16_t sharers, void *arg)
{
	struct audit_walk *w = arg;
	enum shr_pstate want = w->side == SHR_UNSTABLE ? SHR_PS_UNIQUE : SHR_PS_SOURCE;
	static const char *const names[] = { "unstable", "stable", "full" };
	struct shr_dom *d;
	uint32_t gfn;

	(void)tag;
	w->entries++;
	d = shr_dom_of_ref(w->t, ref, &gfn);
	if (!d) {
		shr_err("audit: %s entry ref %u names no domain", names[w->side], ref);
		w->bad++;
		return 0;
	}
	if (shr_ps_state(d->pages.pstate[gfn]) != want) {
		shr_err("audit: d%u gfn 0x%x: %s entry but state %d", d->domid, gfn,
			names[w->side], shr_ps_state(d->pages.pstate[gfn]));
		w->bad++;
	}
	if (shr_index_slot_of(&w->t->index, w->side, d->pages.key_lo[gfn], ref) < 0) {
		shr_err("audit: d%u gfn 0x%x: entry unreachable from its key", d->domid, gfn);
		w->bad++;
	}
	if (w->side != SHR_UNSTABLE && sharers < 2) {
		shr_err("audit: d%u gfn 0x%x: stable entry with %u sharers", d->domid, gfn,
			sharers);
		w->bad++;
	}
	return 0;
}

int shr_audit_walk(const struct shr_doms *t, unsigned int queued_pairs,
		   uint64_t live_mappings)
{
	uint64_t unique = 0, source = 0;
	struct audit_walk w = { .t = t };
	int bad = 0;

	if (queued_pairs) {
		shr_err("audit: %u merge pairs queued between runs", queued_pairs);
		bad++;
	}
	if (live_mappings) {
		shr_err("audit: %llu foreign mappings live", (unsigned long long)live_mappings);
		bad++;
	}
	for (unsigned int i = 0; i < t->nr; i++) {
		struct shr_dom *d = t->v[i];
		uint64_t n[SHR_NR_PSTATES] = { 0 }, vol = 0, zero = 0;

		if (i && (uint64_t)t->v[i - 1]->ref_base + t->v[i - 1]->pages.nr >
			 d->ref_base) {
			shr_err("audit: d%u ref range overlaps d%u's", d->domid,
				t->v[i - 1]->domid);
			bad++;
		}
		for (uint32_t g = 0; g < d->pages.nr; g++) {
			enum shr_pstate s = shr_ps_state(d->pages.pstate[g]);

			n[s]++;
			if (shr_ps_level(d->pages.pstate[g]) && shr_ps_counts_volatile(s))
				vol++;
			if (s == SHR_PS_SHARED && d->pages.key_lo[g] == d->pages.zero_lo)
				zero++;
		}
		if (n[SHR_PS_UNIQUE] != d->pages.n_unique || n[SHR_PS_SOURCE] != d->pages.n_source ||
		    n[SHR_PS_SHARED] != d->pages.n_shared || vol != d->pages.n_volatile ||
		    zero != d->pages.n_zero_shared) {
			shr_err("audit: d%u counts: unique %llu/%llu source %llu/%llu shared "
				"%llu/%llu volatile %llu/%llu zero %llu/%llu (recount/kept)",
				d->domid,
				(unsigned long long)n[SHR_PS_UNIQUE], (unsigned long long)d->pages.n_unique,
				(unsigned long long)n[SHR_PS_SOURCE], (unsigned long long)d->pages.n_source,
				(unsigned long long)n[SHR_PS_SHARED], (unsigned long long)d->pages.n_shared,
				(unsigned long long)vol, (unsigned long long)d->pages.n_volatile,
				(unsigned long long)zero, (unsigned long long)d->pages.n_zero_shared);
			bad++;
		}
		if (d->evicting && (n[SHR_PS_UNIQUE] || n[SHR_PS_SOURCE] || n[SHR_PS_SHARED])) {
			shr_err("audit: d%u is evicting but has %llu pages indexed or shared",
				d->domid, (unsigned long long)(n[SHR_PS_UNIQUE] +
							       n[SHR_PS_SOURCE] +
							       n[SHR_PS_SHARED]));
			bad++;
		}
		if (n[SHR_PS_PENDING]) {
			shr_err("audit: d%u: %llu pages pending outside a flush", d->domid,
				(unsigned long long)n[SHR_PS_PENDING]);
			bad++;
		}
		unique += n[SHR_PS_UNIQUE];
		source += n[SHR_PS_SOURCE];
	}
	{
		uint64_t n[SHR_NR_SIDES];

		for (int side = 0; side < SHR_NR_SIDES; side++) {
			w.side = (enum shr_side)side;
			w.entries = 0;
			shr_index_foreach(&t->index, w.side, audit_entry, &w);
			n[side] = w.entries;
			if (w.entries != shr_index_count(&t->index, w.side)) {
				shr_err("audit: side %d holds %llu entries, counts %u", side,
					(unsigned long long)w.entries,
					shr_index_count(&t->index, w.side));
				bad++;
			}
		}
		if (n[SHR_UNSTABLE] != unique || n[SHR_STABLE] + n[SHR_FULL] != source) {
			shr_err("audit: %llu unstable / %llu stable+full entries, pages say "
				"%llu unique / %llu sources",
				(unsigned long long)n[SHR_UNSTABLE],
				(unsigned long long)(n[SHR_STABLE] + n[SHR_FULL]),
				(unsigned long long)unique, (unsigned long long)source);
			bad++;
		}
	}
	bad += w.bad;
	if (bad)
		shr_err("audit: %d violation(s)", bad);
	return bad;
}

#define SHR_AUDIT_LOG_MAX 16     /* frames spanning groups logged one by one */

/* One page of the frame census. */
struct census_page {
	uint64_t handle;             /* its frame's handle */
	uint32_t domid, gfn;
	uint32_t group;              /* index into shr_engine.groups */
	int frame_gfns;              /* the hypervisor's count of gfns on the frame */
};

static int census_cmp(const void *a, const void *b)
{
	const struct census_page *x = a, *y = b;

	if (x->handle != y->handle)
		return x->handle < y->handle ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

int shr_audit_frames(const struct shr_doms *t, struct shr_xen *x, uint64_t *unaccounted)
{
	struct census_page *pages;
	uint64_t n = 0, cap = 0, extra = 0;
	int bad = 0;

	for (unsigned int i = 0; i < t->nr; i++)
		cap += t->v[i]->pages.n_shared + t->v[i]->pages.n_source;
	pages = calloc(cap ? cap : 1, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nr; i++) {
		struct shr_dom *d = t->v[i];

		if (d->gone)
			continue;
		for (uint32_t g = 0; g < d->pages.nr && n < cap; g++) {
			enum shr_pstate s = shr_ps_state(d->pages.pstate[g]);
			uint64_t h;
			int refs;

			if (s != SHR_PS_SHARED && s != SHR_PS_SOURCE)
				continue;
			refs = shr_xen_gfn_shared(x, d->domid, g);
			if (refs < 0 || shr_xen_nominate(x, d->domid, g, &h))
				continue;     /* private again, or gone: nothing to check */
			pages[n++] = (struct census_page){ .handle = h, .domid = d->domid, .gfn = g,
							   .group = d->group, .frame_gfns = refs };
		}
	}
	qsort(pages, n, sizeof(*pages), census_cmp);
	for (uint64_t i = 0, j; i < n; i = j) {
		int most = pages[i].frame_gfns;

		for (j = i + 1; j < n && pages[j].handle == pages[i].handle; j++)
			if (pages[j].frame_gfns > most)
				most = pages[j].frame_gfns;
		/* sorted by group within a frame: the ends differ iff it spans */
		if (pages[j - 1].group != pages[i].group && ++bad <= SHR_AUDIT_LOG_MAX) {
			shr_err("audit: frame 0x%llx holds d%u gfn 0x%x of group %s and d%u gfn "
				"0x%x of group %s", (unsigned long long)pages[i].handle,
				pages[i].domid, pages[i].gfn, t->groups[pages[i].group],
				pages[j - 1].domid, pages[j - 1].gfn,
				t->groups[pages[j - 1].group]);
		}
		if ((uint64_t)most > j - i)
			extra++;
	}
	if (bad > SHR_AUDIT_LOG_MAX)
		shr_err("audit: %d more frames hold pages of two groups", bad - SHR_AUDIT_LOG_MAX);
	if (extra)
		shr_info("audit: %llu shared frames hold gfns the engine does not know "
			 "(domains it does not scan, or another tool's shares)",
			 (unsigned long long)extra);
	if (unaccounted)
		*unaccounted = extra;
	free(pages);
	return bad;
}
