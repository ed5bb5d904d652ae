/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * audit.c - shr_engine_audit(): the engine checks its own invariants.
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
 *  - no foreign mapping is live.
 */
#include "internal.h"

#include "log.h"

struct audit_walk {
	struct shr_engine *e;
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
	d = shr_dom_of_ref(w->e, ref, &gfn);
	if (!d) {
		shr_err("audit: %s entry ref %u names no domain", names[w->side], ref);
		w->bad++;
		return 0;
	}
	if (shr_ps_state(d->pstate[gfn]) != want) {
		shr_err("audit: d%u gfn 0x%x: %s entry but state %d", d->domid, gfn,
			names[w->side], shr_ps_state(d->pstate[gfn]));
		w->bad++;
	}
	if (shr_index_slot_of(&w->e->index, w->side, d->key_lo[gfn], ref) < 0) {
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

int shr_engine_audit(struct shr_engine *e)
{
	uint64_t unique = 0, source = 0;
	struct audit_walk w = { .e = e };
	int bad = 0;

	if (e->nr_pairs) {
		shr_err("audit: %u merge pairs queued between runs", e->nr_pairs);
		bad++;
	}
	if (shr_xen_counters(e->xen)->live_mappings) {
		shr_err("audit: %llu foreign mappings live",
			(unsigned long long)shr_xen_counters(e->xen)->live_mappings);
		bad++;
	}
	for (unsigned int i = 0; i < e->nr_doms; i++) {
		struct shr_dom *d = e->doms[i];
		uint64_t n[8] = { 0 }, vol = 0, zero = 0;

		if (i && (uint64_t)e->doms[i - 1]->ref_base + e->doms[i - 1]->nr_gfns >
			 d->ref_base) {
			shr_err("audit: d%u ref range overlaps d%u's", d->domid,
				e->doms[i - 1]->domid);
			bad++;
		}
		for (uint32_t g = 0; g < d->nr_gfns; g++) {
			enum shr_pstate s = shr_ps_state(d->pstate[g]);

			n[s]++;
			if (shr_ps_level(d->pstate[g]) && shr_ps_counts_volatile(s))
				vol++;
			if (s == SHR_PS_SHARED && d->key_lo[g] == shr_zero_lo(e, d))
				zero++;
		}
		if (n[SHR_PS_UNIQUE] != d->n_unique || n[SHR_PS_SOURCE] != d->n_source ||
		    n[SHR_PS_SHARED] != d->n_shared || vol != d->n_volatile ||
		    zero != d->n_zero_shared) {
			shr_err("audit: d%u counts: unique %llu/%llu source %llu/%llu shared "
				"%llu/%llu volatile %llu/%llu zero %llu/%llu (recount/kept)",
				d->domid,
				(unsigned long long)n[SHR_PS_UNIQUE], (unsigned long long)d->n_unique,
				(unsigned long long)n[SHR_PS_SOURCE], (unsigned long long)d->n_source,
				(unsigned long long)n[SHR_PS_SHARED], (unsigned long long)d->n_shared,
				(unsigned long long)vol, (unsigned long long)d->n_volatile,
				(unsigned long long)zero, (unsigned long long)d->n_zero_shared);
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
			shr_index_foreach(&e->index, w.side, audit_entry, &w);
			n[side] = w.entries;
			if (w.entries != shr_index_count(&e->index, w.side)) {
				shr_err("audit: side %d holds %llu entries, counts %u", side,
					(unsigned long long)w.entries,
					shr_index_count(&e->index, w.side));
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
