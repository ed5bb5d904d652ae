/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * engine.c - the shr_engine_* API of engine.h: the engine's parts put
 * together, domains coming and going, passes and their schedule,
 * statistics.
 *
 * DOC: Overview
 *
 * The parts, each with its own state embedded here, and the one way data
 * flows through them:
 *
 *   engine -> scan -> merge -> reserve -> dom -> {page_state, index}
 *                          \-> xen (the only door to Xen, from every part)
 *
 * One pass visits every scanned domain's gfns 0 .. nr_gfns - 1 once, in
 * batches (scan.c).  Each page's fingerprint, mixed with its sharing
 * group's salt, is the key under which it is looked up in, and inserted
 * into, the index (index.c); a match becomes a merge pair (merge.c), and
 * pairs are verified and shared in batches by the upstream protocol or the
 * batched hypercall.  rate.c decides how long to sleep between slices so a
 * pass takes pass_target_s, and reserve.c keeps the host out of the
 * out-of-memory corner that unsharing can drive it into.  No part calls
 * back into one above it: what an upper part must do after a lower one
 * acts (flush the merge queue before a domain's refs change) it does
 * itself, first.
 *
 * Invariants: between two shr_engine_run() calls the merge queue is empty
 * and no mapping is live; every index entry names a page of a known domain
 * whose state byte says UNIQUE (unstable side) or SOURCE (stable side)
 * (audit.c checks all of it).
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "dom.h"
#include "fingerprint.h"
#include "log.h"
#include "merge.h"
#include "rate.h"
#include "reserve.h"
#include "scan.h"
#include "xen.h"

struct shr_engine {
	struct shr_params params;
	struct shr_xen *xen;
	struct shr_fp_key key;
	struct shr_doms doms;
	struct shr_reserve reserve;
	struct shr_merge merge;
	struct shr_scan scan;
	struct shr_rate rate;
	struct shr_stats st;         /* the counters the parts keep (get_stats adds readings) */
	double last_pass_s;          /* duration of the last complete pass */
	double lost_aged_s;          /* when the lost keys last aged (index.h) */
	bool settled;
	double cpu_s;
};

static int params_check(const struct shr_params *p)
{
	if (!p->batch_pages || p->batch_pages > 4096) {
		shr_err("engine: batch_pages %u out of range 1..4096", p->batch_pages);
		return -EINVAL;
	}
	if (p->max_sharers < 2 || p->max_sharers > UINT16_MAX) {
		shr_err("engine: max_sharers %u out of range 2..65535", p->max_sharers);
		return -EINVAL;
	}
	if (!(p->cpu_cap > 0 && p->cpu_cap <= 1)) {
		shr_err("engine: cpu_cap %g out of range (0, 1]", p->cpu_cap);
		return -EINVAL;
	}
	if (!(p->pass_target_s >= 0) || !(p->settle_ratio >= 0) || !(p->sweep_period_s >= 0)) {
		shr_err("engine: pass_target_s, settle_ratio and sweep_period_s must be >= 0");
		return -EINVAL;
	}
	return 0;
}

int shr_engine_alloc(const struct shr_params *params, struct shr_engine **out)
{
	struct shr_engine *e;
	int rc;

	rc = params_check(params);
	if (rc)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->params = *params;
	rc = shr_fp_key_init(&e->key);
	if (rc) {
		shr_err("engine: getrandom for the fingerprint secret failed: errno %d", -rc);
		free(e);
		return rc;
	}
	shr_doms_init(&e->doms, &e->key);
	rc = shr_xen_open(&e->xen);
	if (rc)
		goto out_doms;
	if (params->protocol == SHR_PROTO_BATCHED && !shr_xen_has_cmpshr(e->xen)) {
		shr_err("engine: protocol 'batched' requested but %s is not available "
			"(unpatched libxenctrl or hypervisor: see hypervisor-patch/)",
			XENSHARE_CMPSHR_SYMBOL);
		rc = -EOPNOTSUPP;
		goto out_xen;
	}
	rc = shr_reserve_init(&e->reserve, &e->params, e->xen, &e->doms);
	if (rc)
		goto out_xen;
	rc = shr_merge_init(&e->merge, &e->params, e->xen, &e->doms, &e->reserve, &e->key,
			    &e->st);
	if (rc)
		goto out_reserve;
	rc = shr_scan_init(&e->scan, &e->params, e->xen, &e->doms, &e->merge, &e->key, &e->st);
	if (rc)
		goto out_merge;
	e->rate = (struct shr_rate){ .target_s = params->pass_target_s,
				     .cpu_cap = params->cpu_cap };
	shr_info("engine: protocol %s, batch %u pages, max %u sharers, pass target %.1f s, "
		 "cpu cap %.0f%%, reserve %llu pages",
		 e->merge.proto == SHR_PROTO_BATCHED ? "batched" : "upstream",
		 params->batch_pages, params->max_sharers, params->pass_target_s,
		 params->cpu_cap * 100, (unsigned long long)params->reserve_pages);
	/* a host upgraded to a stock hypervisor (or libxenctrl) loses the
	 * series silently but for this: the operator must hear it at start */
	if (params->protocol == SHR_PROTO_AUTO && !shr_xen_has_cmpshr(e->xen))
		shr_warn("engine: no xenshare series in this hypervisor or libxenctrl (%s "
			 "missing or refused): sharing with the upstream protocol, and Xen "
			 "crashes a guest without a sharing ring that unshares with no free "
			 "memory; install the +xenshare Xen packages (docs/operations.md, "
			 "\"Patched Xen packages\")", XENSHARE_CMPSHR_SYMBOL);
	*out = e;
	return 0;

out_merge:
	shr_merge_fini(&e->merge);
out_reserve:
	shr_reserve_fini(&e->reserve);
out_xen:
	shr_xen_close(e->xen);
out_doms:
	shr_doms_fini(&e->doms);
	free(e);
	return rc;
}

void shr_engine_free(struct shr_engine *e)
{
	if (!e)
		return;
	shr_merge_flush(&e->merge);
	for (unsigned int i = 0; i < e->doms.nr; i++)
		shr_scan_forget_domain(&e->scan, e->doms.v[i]);
	/* the stop protocol (reserve.c): answer what can be, keep the rings */
	shr_reserve_fini(&e->reserve);
	shr_scan_fini(&e->scan);
	shr_merge_fini(&e->merge);
	shr_doms_fini(&e->doms);
	shr_xen_close(e->xen);
	free(e);
}

int shr_engine_set_params(struct shr_engine *e, const struct shr_params *params)
{
	int rc = params_check(params);

	if (rc)
		return rc;
	if (params->protocol == SHR_PROTO_BATCHED && !shr_xen_has_cmpshr(e->xen)) {
		shr_err("engine: protocol 'batched' requested but the hypervisor lacks it");
		return -EOPNOTSUPP;
	}
	rc = shr_scan_resize(&e->scan, params->batch_pages);
	if (rc)
		return rc;
	shr_merge_flush(&e->merge);
	e->params = *params;
	shr_merge_set_protocol(&e->merge, params->protocol);
	e->rate.target_s = params->pass_target_s;
	e->rate.cpu_cap = params->cpu_cap;
	return 0;
}

/* ---- domains -------------------------------------------------------------- */

/* Whether pages shared under held may stay shared under want: the same
 * group, and a mode that shares no more than want's (zero pages shared
 * under "zero" may stay under "on", content shared under "on" may not
 * stay under "zero"). */
static bool held_covers(const struct shr_domain_policy *held,
			const struct shr_domain_policy *want)
{
	return held->group[0] && !strncmp(held->group, want->group, sizeof(held->group)) &&
	       !(held->mode == SHR_MODE_ON && want->mode == SHR_MODE_ZERO);
}

static const char *mode_name(enum shr_mode m)
{
	return m == SHR_MODE_ON ? "on" : m == SHR_MODE_ZERO ? "zero" : "off";
}

/* Forgets d's pages; its queued pairs are settled first. */
static void dom_forget_pages(struct shr_engine *e, struct shr_dom *d)
{
	shr_merge_flush(&e->merge);
	shr_dom_reset_pages(&e->doms, d);
}

/*
 * Tenant isolation at a change of group or mode (and at a domain's first
 * sight, with the caller's record as held): a domain whose pages are on
 * shared frames it got under a policy that does not cover the new one
 * (another group's frames, or of unknown origin) is unshared completely
 * before anything of it is merged again: the eviction sweep (scan.c).
 * Merging it at once would put its new group's pages on frames that its
 * old group still holds.  A domain with nothing shared simply takes the
 * new policy.  Returns -ESRCH when the domain is gone.
 */
static int dom_held_check(struct shr_engine *e, struct shr_dom *d)
{
	struct shr_xen_dominfo info;
	int rc;

	if (d->policy.mode == SHR_MODE_OFF)
		return 0;
	if (held_covers(&d->held, &d->policy)) {
		d->held = d->policy;
		d->evicting = false;
		return 0;
	}
	if (d->evicting)
		return 0;
	rc = shr_xen_dominfo(e->xen, d->domid, &info);
	if (rc)
		return rc;
	d->info = info;
	if (!info.shr_pages && !d->pages.n_shared && !d->pages.n_source) {
		d->held = d->policy;
		return 0;
	}
	shr_notice("d%u: %llu pages shared under %s%s%s: unsharing them all before it "
		   "shares in group %s (mode %s)", d->domid,
		   (unsigned long long)info.shr_pages,
		   d->held.group[0] ? "group " : "an unknown group",
		   d->held.group[0] ? d->held.group : "",
		   d->held.group[0] ? (d->held.mode == SHR_MODE_ZERO ? " (mode zero)" :
				       " (mode on)") : "",
		   d->policy.group, mode_name(d->policy.mode));
	dom_forget_pages(e, d);
	d->evicting = true;
	return 0;
}

static int dom_policy_apply(struct shr_engine *e, struct shr_dom *d,
			    const struct shr_domain_policy *policy)
{
	uint32_t old_group = d->group;
	int rc;

	shr_merge_flush(&e->merge);
	rc = shr_dom_set_group(&e->doms, d, policy->group);
	if (rc)
		return rc;
	if (d->group != old_group || policy->mode != d->policy.mode) {
		/* Entries keyed with the old group's salt, or shares made under
		 * another mode, must not be matched any more. */
		shr_dom_reset_pages(&e->doms, d);
	}
	d->policy = *policy;
	snprintf(d->policy.group, sizeof(d->policy.group), "%s", e->doms.groups[d->group]);
	return dom_held_check(e, d);
}

/* Asks the hypervisor for a new domain's size and turns sharing on for it. */
static int dom_probe(struct shr_engine *e, uint32_t domid, const struct shr_domain_policy *policy,
		     struct shr_xen_dominfo *info, uint64_t *nr_gfns)
{
	int rc = shr_xen_dominfo(e->xen, domid, info);

	if (rc) {
		shr_warn("d%u add: domain info: errno %d", domid, -rc);
		return rc;
	}
	if (info->dying)
		return -ESRCH;
	rc = shr_xen_nr_gfns(e->xen, domid, nr_gfns);
	if (rc) {
		if (rc == -ESRCH)
			return rc;
		/* Some toolstacks' privcmd filters refuse XENMEM_maximum_gpfn;
		 * max_pages bounds a PV/PVH guest's populated gfns. */
		shr_notice("d%u add: maximum_gpfn failed (errno %d): scanning max_pages %llu gfns",
			   domid, -rc, (unsigned long long)info->max_pages);
		*nr_gfns = info->max_pages;
	}
	if (*nr_gfns == 0 || *nr_gfns > SHR_REF_MAX) {
		shr_err("d%u add: %llu gfns: out of range", domid, (unsigned long long)*nr_gfns);
		return -ERANGE;
	}
	if (policy->mode == SHR_MODE_OFF)
		return 0;
	rc = shr_xen_memshr_control(e->xen, domid, true);
	switch (rc) {
	case 0:
	case -ESRCH:
		return rc;
	case -ENOSYS:
		shr_err("d%u add: the hypervisor has no memory sharing (ENOSYS): it must be "
			"built with CONFIG_MEM_SHARING, see hypervisor-patch/", domid);
		return rc;
	case -EOPNOTSUPP:
	case -ENODEV:
	case -EXDEV:
		shr_warn("d%u add: sharing refused: %s", domid,
			 rc == -EXDEV ? "EXDEV (passthrough device)" :
			 rc == -ENODEV ? "ENODEV (no HAP: PV guest?)" : "EOPNOTSUPP (CPU without VMX)");
		return rc;
	default:
		shr_warn("d%u add: memshr_control: errno %d (sharing is also enabled implicitly "
			 "by the first nominate)", domid, -rc);
		return 0;
	}
}

int shr_engine_add_domain(struct shr_engine *e, uint32_t domid, const char *name,
			  const struct shr_domain_policy *policy,
			  const struct shr_domain_record *rec)
{
	struct shr_dom *d = shr_dom_find(&e->doms, domid);
	struct shr_xen_dominfo info;
	uint64_t nr_gfns, pfn = 0;
	int rc;

	if (d && !d->gone) {
		if (name)
			snprintf(d->name, sizeof(d->name), "%s", name);
		return dom_policy_apply(e, d, policy);
	}
	if (d)
		shr_engine_remove_domain(e, domid);
	rc = dom_probe(e, domid, policy, &info, &nr_gfns);
	if (rc)
		return rc;
	rc = shr_dom_insert(&e->doms, domid, name, nr_gfns, &d);
	if (rc)
		return rc;
	d->info = info;
	d->policy.mode = policy->mode;
	if (rec) {
		d->held = rec->held;
		d->logdirty_before = rec->logdirty;
	}
	rc = dom_policy_apply(e, d, policy);
	if (rc) {
		shr_engine_remove_domain(e, domid);
		return rc;
	}
	d->unshares_mark_s = shr_now_s();
	/* The vm_event ring page is Xen's, not guest RAM: never scanned. */
	if (shr_xen_ring_pfn(e->xen, domid, &pfn) == 0 && pfn)
		d->ring_gfn = pfn;
	if (policy->mode != SHR_MODE_OFF && !e->params.no_rings)
		shr_reserve_ring_attach(&e->reserve, d);
	if (e->scan.pages_total)
		e->scan.pages_total += d->pages.nr;
	shr_info("d%u (%s) added: %u gfns, group %s, mode %s%s", domid, d->name, d->pages.nr,
		 e->doms.groups[d->group], mode_name(policy->mode),
		 d->evicting ? ", evicting first" : "");
	return 0;
}

int shr_engine_domain_record(struct shr_engine *e, uint32_t domid,
			     struct shr_domain_record *rec)
{
	struct shr_dom *d = shr_dom_find(&e->doms, domid);

	if (!d)
		return -ESRCH;
	rec->held = d->held;
	/* a log inherited and not yet taken back is still to be released */
	rec->logdirty = d->logdirty || d->logdirty_before;
	return 0;
}

/*
 * The frames whose stable entry pointed into a removed domain live on with
 * their other sharers, and their SHARED pages adopt the entry when next
 * looked at (scan.c).  Resting pages are looked at up to 8 passes late (a
 * domain scanned from its dirty log: at its sweep), and meanwhile the new
 * twins of a domain created since would form a second frame of the same
 * content, which only the hypervisor's frame-to-frame merge can join to
 * the first (merge.c, shr_merge_rejoin), and only with the batched op.  So
 * every SHARED page is looked at in the next pass.
 */
static void wake_shared_pages(struct shr_engine *e)
{
	for (unsigned int i = 0; i < e->doms.nr; i++) {
		struct shr_dom *d = e->doms.v[i];

		if (!d->pages.n_shared)
			continue;
		/* setting the state again clears its rest count: due at once */
		for (uint32_t g = 0; g < d->pages.nr; g++)
			if (shr_ps_state(d->pages.pstate[g]) == SHR_PS_SHARED) {
				shr_ps_set_state(&d->pages.pstate[g], SHR_PS_SHARED);
				shr_pages_look_at(&d->pages, g);
			}
	}
}

/*
 * The lost keys (index.h) age once every page has surely been looked at
 * since: 9 passes (a resting page is looked at at least one pass in 8),
 * or a sweep period when a domain is scanned from its dirty log.
 */
static void age_lost_keys(struct shr_engine *e, double now)
{
	double period = 9 * (e->last_pass_s > e->params.pass_target_s ? e->last_pass_s
								       : e->params.pass_target_s);

	for (unsigned int i = 0; i < e->doms.nr; i++)
		if (e->doms.v[i]->logdirty && e->params.sweep_period_s > period)
			period = e->params.sweep_period_s;
	if (now - e->lost_aged_s < period)
		return;
	shr_index_age_lost(&e->doms.index);
	e->lost_aged_s = now;
}

void shr_engine_remove_domain(struct shr_engine *e, uint32_t domid)
{
	struct shr_dom *d = shr_dom_find(&e->doms, domid);
	bool had_sources;

	if (!d)
		return;
	/* Queued pairs name this domain's refs: resolve them first. */
	shr_merge_flush(&e->merge);
	shr_scan_forget_domain(&e->scan, d);
	shr_reserve_ring_detach(&e->reserve, d);
	if (e->scan.pages_total && d->cursor < d->pages.nr) {
		uint64_t left = d->pages.nr - d->cursor;

		e->scan.pages_total -= left < e->scan.pages_total ? left : e->scan.pages_total;
	}
	had_sources = d->pages.n_source > 0;
	shr_dom_delete(&e->doms, d);
	shr_info("d%u removed", domid);
	if (had_sources)
		wake_shared_pages(e);
}

/* ---- passes --------------------------------------------------------------- */

static void pass_start(struct shr_engine *e, double now)
{
	e->scan.pages_total = 0;
	e->scan.pages_done = 0;
	e->merge.merged = 0;
	for (unsigned int i = 0; i < e->doms.nr; i++) {
		struct shr_dom *d = e->doms.v[i];

		d->cursor = 0;
		if (shr_dom_scannable(d))
			e->scan.pages_total += d->pages.nr;
	}
	/* Nothing to scan uses no slot: the schedule must not run ahead
	 * while the host has no opted-in domain (the first real pass would
	 * then wait for a slot far in the future). */
	if (!e->scan.pages_total)
		return;
	/* With a target, a pass that finished early waits for its slot:
	 * passes start every target_s (converging on the target).  A slot
	 * not yet begun is kept, so it is never more than one target ahead. */
	if (e->rate.target_s > 0 && e->rate.pass_start_s > now)
		return;
	if (e->rate.target_s > 0 && e->rate.pass_start_s > 0 &&
	    e->rate.pass_start_s + e->rate.target_s > now)
		e->rate.pass_start_s += e->rate.target_s;
	else
		e->rate.pass_start_s = now;
}

static void pass_end(struct shr_engine *e, double now)
{
	uint64_t sharing = 0;
	bool was_settled = e->settled;

	for (unsigned int i = 0; i < e->doms.nr; i++)
		sharing += e->doms.v[i]->pages.n_shared;
	e->st.full_scans++;
	/* from the pass's slot (it does no work before it) to now */
	e->last_pass_s = now > e->rate.pass_start_s ? now - e->rate.pass_start_s : 0;
	e->settled = (double)e->merge.merged <
		     e->params.settle_ratio * (double)(sharing ? sharing : 1);
	/* a line per pass that changed something; quiet passes at debug */
	shr_log(e->merge.merged || e->settled != was_settled ? SHR_LOG_INFO : SHR_LOG_DEBUG,
		"pass %llu done in %.2f s: %llu pages merged, %llu sharing%s",
		(unsigned long long)e->scan.pass, e->last_pass_s,
		(unsigned long long)e->merge.merged, (unsigned long long)sharing,
		e->settled ? ", settled" : "");
	e->scan.pass++;
	e->scan.pages_total = 0;
	age_lost_keys(e, now);
}

static double pass_fraction(const struct shr_engine *e)
{
	if (!e->scan.pages_total)
		return 0;
	return (double)e->scan.pages_done / (double)e->scan.pages_total;
}

int64_t shr_engine_run(struct shr_engine *e, int64_t budget_ns)
{
	double cpu0 = shr_cpu_s(), cpu = 0, budget = (double)budget_ns * 1e-9;
	double now = shr_now_s();
	unsigned int batches = 0;
	bool rounds_left;
	int64_t sleep_ns;

	if (e->merge.no_sharing)
		return 1000000000;
	shr_reserve_check(&e->reserve, false);
	if (!shr_reserve_allows_sharing(&e->reserve)) {
		e->cpu_s += shr_cpu_s() - cpu0;
		return 200000000;
	}
	if (!e->scan.pages_total)
		pass_start(e, now);
	if (!e->scan.pages_total) {
		/* no domain to scan: nothing to do until one is added */
		e->cpu_s += shr_cpu_s() - cpu0;
		return 1000000000;
	}
	/* the log rounds due (their own period; the daemon never sleeps
	 * longer than a second), within the slice's budget */
	rounds_left = shr_scan_rounds(&e->scan, now, budget);
	while (cpu < budget) {
		int n;

		if (e->scan.pages_total &&
		    shr_rate_ahead(&e->rate, now, pass_fraction(e), 0.002))
			break;
		n = shr_scan_batch(&e->scan);
		now = shr_now_s();
		if (n == 0) {
			shr_merge_flush(&e->merge);
			pass_end(e, now);
			pass_start(e, now);
			if (!e->scan.pages_total)
				break;          /* nothing to scan */
		}
		if (++batches % 64 == 0) {
			shr_reserve_check(&e->reserve, false);
			if (!shr_reserve_allows_sharing(&e->reserve))
				break;
		}
		if (e->merge.no_sharing)
			break;
		cpu = shr_cpu_s() - cpu0;
	}
	shr_merge_flush(&e->merge);
	cpu = shr_cpu_s() - cpu0;
	e->cpu_s += cpu;
	if (!e->scan.pages_total)
		return 1000000000;
	/* log rounds left for the next slice wait only for the CPU cap, not
	 * for the pass's schedule */
	sleep_ns = rounds_left ? shr_rate_sleep_ns(&(struct shr_rate){ .cpu_cap = e->rate.cpu_cap },
						   0, 0, cpu)
			       : shr_rate_sleep_ns(&e->rate, shr_now_s(), pass_fraction(e), cpu);
	return sleep_ns;
}

/* ---- events, stats ------------------------------------------------------ */

int shr_engine_event_fd(struct shr_engine *e)
{
	return shr_xen_evtchn_fd(e->xen);
}

int shr_engine_handle_events(struct shr_engine *e)
{
	double cpu0 = shr_cpu_s();
	int rc = shr_reserve_handle_events(&e->reserve);

	e->cpu_s += shr_cpu_s() - cpu0;
	return rc;
}

void shr_engine_set_need_memory_fn(struct shr_engine *e,
				   void (*fn)(void *arg, uint64_t pages), void *arg)
{
	e->reserve.need_memory_fn = fn;
	e->reserve.need_memory_arg = arg;
}

void shr_engine_get_stats(struct shr_engine *e, struct shr_stats *out)
{
	const struct shr_xen_counters *xc = shr_xen_counters(e->xen);
	struct shr_reserve *r = &e->reserve;

	shr_reserve_check(r, false);
	if (shr_xen_sharing_counters(e->xen, &r->hv_freed, &r->hv_used))
		shr_debug("stats: sharing counters unavailable");
	*out = e->st;
	out->pages_shared = r->hv_used;
	out->pages_sharing = r->hv_freed;
	out->pages_unshared = out->pages_volatile = out->zero_pages_sharing = 0;
	out->engine_pages_sharing = 0;
	out->index_bytes = shr_index_bytes(&e->doms.index);
	out->pages_indexed = 0;
	for (unsigned int i = 0; i < e->doms.nr; i++) {
		const struct shr_dom *d = e->doms.v[i];

		out->pages_unshared += d->pages.n_unique;
		out->pages_volatile += d->pages.n_volatile;
		out->zero_pages_sharing += d->pages.n_zero_shared;
		out->engine_pages_sharing += d->pages.n_shared;
		out->index_bytes += (uint64_t)d->pages.nr * (sizeof(*d->pages.key_lo) + 1) +
				    sizeof(*d);
		out->pages_indexed += d->pages.nr;
	}
	out->hypercalls = xc->hypercalls;
	out->mappings = xc->mappings;
	out->mapped_pages = xc->mapped_pages;
	out->host_total_pages = r->host_total;
	out->host_free_pages = r->host_free;
	out->reserve_pages = e->params.reserve_pages;
	out->pages_at_risk = r->hv_freed;
	out->pages_needed = r->pages_needed;
	out->memory_requests = r->memory_requests;
	out->sharing_paused = !shr_reserve_allows_sharing(r);
	out->pass_time_s = e->last_pass_s;
	out->pass_progress = pass_fraction(e);
	out->settled = e->settled;
	out->protocol_in_use = e->merge.proto;
	out->cpu_s = e->cpu_s;
}

int shr_engine_foreach_domain(struct shr_engine *e,
			      int (*fn)(const struct shr_domain_stats *s, void *arg),
			      void *arg)
{
	double now = shr_now_s();

	for (unsigned int i = 0; i < e->doms.nr; i++) {
		struct shr_dom *d = e->doms.v[i];
		struct shr_domain_stats s = { 0 };
		int rc;

		if (!d->gone && shr_xen_dominfo(e->xen, d->domid, &d->info) == -ESRCH)
			shr_dom_mark_gone(d, -ESRCH, "stats");
		if (now - d->unshares_mark_s >= 1.0) {
			d->unshares_per_s = (double)(d->unshares - d->unshares_mark) /
					    (now - d->unshares_mark_s);
			d->unshares_mark = d->unshares;
			d->unshares_mark_s = now;
		}
		s.domid = d->domid;
		snprintf(s.name, sizeof(s.name), "%s", d->name);
		s.policy = d->policy;
		s.tot_pages = d->info.tot_pages;
		s.shr_pages = d->info.shr_pages;
		s.engine_pages_sharing = d->pages.n_shared;
		s.pages_volatile = d->pages.n_volatile;
		s.unshares = d->unshares;
		s.unshares_per_s = d->unshares_per_s;
		s.scan_progress = d->pages.nr ? (double)d->cursor / d->pages.nr : 0;
		s.held = d->held;
		s.evicting = d->evicting;
		s.logdirty = d->logdirty;
		s.full_why = d->full_why;
		rc = fn(&s, arg);
		if (rc)
			return rc;
	}
	return 0;
}

int shr_engine_audit(struct shr_engine *e)
{
	return shr_audit_walk(&e->doms, e->merge.nr_pairs,
			      shr_xen_counters(e->xen)->live_mappings);
}

int shr_engine_audit_frames(struct shr_engine *e, uint64_t *unaccounted)
{
	return shr_audit_frames(&e->doms, e->xen, unaccounted);
}
