/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * engine.c - the glue: the shr_engine_* API of engine.h, domains, passes,
 * statistics.
 *
 * DOC: Overview
 *
 * One pass visits every scanned domain's gfns 0 .. nr_gfns - 1 once, in
 * batches (scan.c).  Each page's fingerprint, mixed with its sharing
 * group's salt, is the key under which it is looked up in, and inserted
 * into, the index (index.c); a match becomes a merge pair (merge.c), and
 * pairs are verified and shared in batches by the upstream protocol or the
 * batched hypercall.  rate.c decides how long to sleep between slices so a
 * pass takes pass_target_s, and reserve.c keeps the host out of the
 * out-of-memory corner that unsharing can drive it into.
 *
 * Domains get a contiguous range of the 32-bit ref space (internal.h).
 * Groups are interned strings; each gets a random 64-bit salt XORed into
 * the keys, so equal pages of different groups land on different keys (and
 * the merge step checks the group ids anyway: pages of different groups are
 * never merged).
 *
 * Invariants: between two shr_engine_run() calls the merge queue is empty
 * and no mapping is live; every index entry names a page of a known domain
 * whose state byte says UNIQUE (unstable side) or SOURCE (stable side).
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

double shr_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double shr_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t engine_key_lo(uint32_t ref, void *arg)
{
	struct shr_engine *e = arg;
	uint32_t gfn;
	struct shr_dom *d = shr_dom_of_ref(e, ref, &gfn);

	return d ? d->key_lo[gfn] : 0;
}

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
	if (!(p->pass_target_s >= 0) || !(p->settle_ratio >= 0)) {
		shr_err("engine: pass_target_s and settle_ratio must be >= 0");
		return -EINVAL;
	}
	return 0;
}

static int batch_alloc(struct shr_engine *e, unsigned int n)
{
	if (n <= e->batch_cap)
		return 0;
	free(e->batch_gfns);
	free(e->batch_err);
	free(e->batch_fp);
	free(e->batch_zero);
	e->batch_gfns = calloc(n, sizeof(*e->batch_gfns));
	e->batch_err = calloc(n, sizeof(*e->batch_err));
	e->batch_fp = calloc(n, sizeof(*e->batch_fp));
	e->batch_zero = calloc(n, sizeof(*e->batch_zero));
	if (!e->batch_gfns || !e->batch_err || !e->batch_fp || !e->batch_zero) {
		e->batch_cap = 0;
		return -ENOMEM;
	}
	e->batch_cap = n;
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
	shr_index_init(&e->index, engine_key_lo, e);
	rc = shr_fp_key_init(&e->key);
	if (rc) {
		shr_err("engine: getrandom for the fingerprint secret failed: errno %d", -rc);
		goto out;
	}
	rc = batch_alloc(e, params->batch_pages);
	if (rc)
		goto out;
	rc = shr_xen_open(&e->xen);
	if (rc)
		goto out;
	rc = shr_merge_alloc(e);
	if (rc)
		goto out;
	if (params->protocol == SHR_PROTO_BATCHED && !shr_xen_has_cmpshr(e->xen)) {
		shr_err("engine: protocol 'batched' requested but %s is not available "
			"(unpatched libxenctrl or hypervisor: see hypervisor-patch/)",
			XENSHARE_CMPSHR_SYMBOL);
		rc = -EOPNOTSUPP;
		goto out;
	}
	e->proto = params->protocol == SHR_PROTO_UPSTREAM || !shr_xen_has_cmpshr(e->xen) ?
		   SHR_PROTO_UPSTREAM : SHR_PROTO_BATCHED;
	rc = shr_reserve_init(e);
	if (rc)
		goto out;
	e->rate = (struct shr_rate){ .target_s = params->pass_target_s,
				     .cpu_cap = params->cpu_cap };
	shr_info("engine: protocol %s, batch %u pages, max %u sharers, pass target %.1f s, "
		 "cpu cap %.0f%%, reserve %llu pages",
		 e->proto == SHR_PROTO_BATCHED ? "batched" : "upstream",
		 params->batch_pages, params->max_sharers, params->pass_target_s,
		 params->cpu_cap * 100, (unsigned long long)params->reserve_pages);
	*out = e;
	return 0;
out:
	shr_engine_free(e);
	return rc;
}

static void dom_free(struct shr_dom *d)
{
	free(d->key_lo);
	free(d->pstate);
	free(d);
}

void shr_engine_free(struct shr_engine *e)
{
	if (!e)
		return;
	if (e->xen && e->nr_pairs)
		shr_merge_flush(e);
	/* the stop protocol (reserve.c): answer what can be, keep the rings */
	if (e->xen)
		shr_reserve_fini(e);
	for (unsigned int i = 0; i < e->nr_doms; i++)
		dom_free(e->doms[i]);
	free(e->doms);
	shr_merge_free(e);
	shr_index_fini(&e->index);
	shr_xen_close(e->xen);
	free(e->batch_gfns);
	free(e->batch_err);
	free(e->batch_fp);
	free(e->batch_zero);
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
	rc = batch_alloc(e, params->batch_pages);
	if (rc)
		return rc;
	shr_merge_flush(e);
	e->params = *params;
	e->proto = params->protocol == SHR_PROTO_UPSTREAM || !shr_xen_has_cmpshr(e->xen) ?
		   SHR_PROTO_UPSTREAM : SHR_PROTO_BATCHED;
	e->rate.target_s = params->pass_target_s;
	e->rate.cpu_cap = params->cpu_cap;
	return 0;
}

/* ---- domains -------------------------------------------------------------- */

struct shr_dom *shr_dom_find(struct shr_engine *e, uint32_t domid)
{
	for (unsigned int i = 0; i < e->nr_doms; i++)
		if (e->doms[i]->domid == domid)
			return e->doms[i];
	return NULL;
}

struct shr_dom *shr_dom_of_ref(struct shr_engine *e, uint32_t ref, uint32_t *gfn)
{
	unsigned int lo = 0, hi = e->nr_doms;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct shr_dom *d = e->doms[mid];

		if (ref < d->ref_base)
			hi = mid;
		else if (ref - d->ref_base >= d->nr_gfns)
			lo = mid + 1;
		else {
			*gfn = ref - d->ref_base;
			return d;
		}
	}
	return NULL;
}

void shr_dom_mark_gone(struct shr_engine *e, struct shr_dom *d, int err, const char *op)
{
	if (d->gone)
		return;
	shr_info("d%u %s: domain %s (%d): no longer scanned", d->domid, op,
		 err == -EBUSY ? "dying" : "gone", err);
	d->gone = true;
	(void)e;
}

void shr_dom_mark_refused(struct shr_engine *e, struct shr_dom *d, int err, const char *op)
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
	(void)e;
}

void shr_page_forget(struct shr_engine *e, struct shr_dom *d, uint32_t gfn,
		     enum shr_pstate new_state)
{
	uint32_t ref = d->ref_base + gfn;

	switch (shr_ps_state(d->pstate[gfn])) {
	case SHR_PS_UNIQUE:
		shr_index_remove(&e->index, SHR_UNSTABLE, d->key_lo[gfn], ref);
		break;
	case SHR_PS_SOURCE:
		if (!shr_index_remove(&e->index, SHR_STABLE, d->key_lo[gfn], ref))
			shr_index_remove(&e->index, SHR_FULL, d->key_lo[gfn], ref);
		break;
	default:
		break;
	}
	shr_ps_set(e, d, gfn, new_state);
}

static unsigned int group_of(struct shr_engine *e, const char *name)
{
	for (unsigned int i = 0; i < e->nr_groups; i++)
		if (!strncmp(e->groups[i], name, sizeof(e->groups[i])))
			return i;
	if (e->nr_groups == SHR_MAX_GROUPS)
		return UINT32_MAX;
	snprintf(e->groups[e->nr_groups], sizeof(e->groups[0]), "%s", name);
	/* A salt no guest can predict: the group name hashed with our secret. */
	e->group_salt[e->nr_groups] = XXH3_64bits_withSecret(name, strnlen(name, 63),
							     e->key.secret,
							     sizeof(e->key.secret));
	return e->nr_groups++;
}

/* Lowest free range of n refs, or SHR_REF_NONE. */
static uint32_t ref_range_alloc(struct shr_engine *e, uint32_t n, unsigned int *pos)
{
	uint64_t next = 0;
	unsigned int i;

	for (i = 0; i < e->nr_doms; i++) {
		if (e->doms[i]->ref_base - next >= n)
			break;
		next = (uint64_t)e->doms[i]->ref_base + e->doms[i]->nr_gfns;
	}
	if (next + n > SHR_REF_MAX)
		return SHR_REF_NONE;
	*pos = i;
	return (uint32_t)next;
}

/* Forgets everything the engine knows about d's pages (the hypervisor's
 * shares stay: they unshare lazily). */
static void dom_reset_pages(struct shr_engine *e, struct shr_dom *d)
{
	shr_merge_flush(e);
	if (d->n_unique || d->n_source)
		shr_index_remove_range(&e->index, d->ref_base, d->nr_gfns);
	memset(d->pstate, 0, d->nr_gfns);
	d->n_unique = d->n_source = d->n_shared = d->n_volatile = d->n_zero_shared = 0;
}

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
	if (!info.shr_pages && !d->n_shared && !d->n_source) {
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
	dom_reset_pages(e, d);
	d->evicting = true;
	return 0;
}

static int dom_policy_apply(struct shr_engine *e, struct shr_dom *d,
			    const struct shr_domain_policy *policy)
{
	unsigned int g = group_of(e, policy->group[0] ? policy->group : "default");

	if (g == UINT32_MAX) {
		shr_err("d%u: too many sharing groups (max %d)", d->domid, SHR_MAX_GROUPS);
		return -ENOSPC;
	}
	if (g != d->group || policy->mode != d->policy.mode) {
		/* Entries keyed with the old group's salt, or shares made under
		 * another mode, must not be matched any more. */
		dom_reset_pages(e, d);
	}
	d->policy = *policy;
	snprintf(d->policy.group, sizeof(d->policy.group), "%s", e->groups[g]);
	d->group = g;
	d->salt = e->group_salt[g];
	return dom_held_check(e, d);
}

int shr_engine_add_domain(struct shr_engine *e, uint32_t domid, const char *name,
			  const struct shr_domain_policy *policy,
			  const struct shr_domain_policy *held)
{
	struct shr_dom *d = shr_dom_find(e, domid);
	struct shr_xen_dominfo info;
	uint64_t nr_gfns;
	unsigned int pos;
	int rc;

	if (d && !d->gone) {
		if (name)
			snprintf(d->name, sizeof(d->name), "%s", name);
		return dom_policy_apply(e, d, policy);
	}
	if (d)
		shr_engine_remove_domain(e, domid);
	rc = shr_xen_dominfo(e->xen, domid, &info);
	if (rc) {
		shr_warn("d%u add: domain info: errno %d", domid, -rc);
		return rc;
	}
	if (info.dying)
		return -ESRCH;
	rc = shr_xen_nr_gfns(e->xen, domid, &nr_gfns);
	if (rc) {
		if (rc == -ESRCH)
			return rc;
		/* Some toolstacks' privcmd filters refuse XENMEM_maximum_gpfn;
		 * max_pages bounds a PV/PVH guest's populated gfns. */
		shr_notice("d%u add: maximum_gpfn failed (errno %d): scanning max_pages %llu gfns",
			   domid, -rc, (unsigned long long)info.max_pages);
		nr_gfns = info.max_pages;
	}
	if (nr_gfns == 0 || nr_gfns > SHR_REF_MAX) {
		shr_err("d%u add: %llu gfns: out of range", domid, (unsigned long long)nr_gfns);
		return -ERANGE;
	}
	if (policy->mode != SHR_MODE_OFF) {
		rc = shr_xen_memshr_control(e->xen, domid, true);
		if (rc == -ESRCH)
			return rc;
		if (rc == -ENOSYS) {
			shr_err("d%u add: the hypervisor has no memory sharing (ENOSYS): "
				"it must be built with CONFIG_MEM_SHARING, see hypervisor-patch/",
				domid);
			return rc;
		}
		if (rc == -EOPNOTSUPP || rc == -ENODEV || rc == -EXDEV) {
			shr_warn("d%u add: sharing refused: %s", domid,
				 rc == -EXDEV ? "EXDEV (passthrough device)" :
				 rc == -ENODEV ? "ENODEV (no HAP: PV guest?)" :
				 "EOPNOTSUPP (CPU without VMX)");
			return rc;
		}
		if (rc)
			shr_warn("d%u add: memshr_control: errno %d (sharing is also "
				 "enabled implicitly by the first nominate)", domid, -rc);
	}
	if (e->nr_doms == e->cap_doms) {
		unsigned int cap = e->cap_doms ? 2 * e->cap_doms : 16;
		struct shr_dom **n = realloc(e->doms, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		e->doms = n;
		e->cap_doms = cap;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->domid = domid;
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");
	d->nr_gfns = (uint32_t)nr_gfns;
	d->info = info;
	d->key_lo = calloc(nr_gfns, sizeof(*d->key_lo));
	d->pstate = calloc(nr_gfns, 1);
	d->group = UINT32_MAX;
	d->policy.mode = policy->mode;
	if (held)
		d->held = *held;
	if (!d->key_lo || !d->pstate) {
		dom_free(d);
		return -ENOMEM;
	}
	d->ref_base = ref_range_alloc(e, d->nr_gfns, &pos);
	if (d->ref_base == SHR_REF_NONE) {
		shr_err("d%u add: no room for %u more pages in the index", domid, d->nr_gfns);
		dom_free(d);
		return -ENOSPC;
	}
	memmove(&e->doms[pos + 1], &e->doms[pos], (e->nr_doms - pos) * sizeof(*e->doms));
	e->doms[pos] = d;
	e->nr_doms++;
	rc = dom_policy_apply(e, d, policy);
	if (rc) {
		shr_engine_remove_domain(e, domid);
		return rc;
	}
	d->unshares_mark_s = shr_now_s();
	d->ring_gfn = UINT64_MAX;
	{
		uint64_t pfn = 0;

		/* The vm_event ring page is Xen's, not guest RAM: never scanned. */
		if (shr_xen_ring_pfn(e->xen, domid, &pfn) == 0 && pfn)
			d->ring_gfn = pfn;
	}
	if (policy->mode != SHR_MODE_OFF && !e->params.no_rings)
		shr_reserve_ring_attach(e, d);
	if (e->pass_pages_total)
		e->pass_pages_total += d->nr_gfns;
	shr_info("d%u (%s) added: %u gfns, group %s, mode %s%s", domid, d->name, d->nr_gfns,
		 e->groups[d->group], mode_name(policy->mode),
		 d->evicting ? ", evicting first" : "");
	return 0;
}

int shr_engine_domain_held(struct shr_engine *e, uint32_t domid,
			   struct shr_domain_policy *held)
{
	struct shr_dom *d = shr_dom_find(e, domid);

	if (!d)
		return -ESRCH;
	if (d->evicting)
		return -EBUSY;
	*held = d->held;
	return 0;
}

/*
 * The frames whose stable entry pointed into a removed domain live on with
 * their other sharers, and their SHARED pages adopt the entry when next
 * looked at (scan.c).  Resting pages are looked at up to 8 passes late,
 * and meanwhile the new twins of a domain created since would form a
 * second frame of the same content; the two can then never be merged, as
 * merging a frame that backs gfns of more than two domains would panic Xen
 * (merge.c).  So every SHARED page is looked at in the next pass.
 */
static void wake_shared_pages(struct shr_engine *e)
{
	for (unsigned int i = 0; i < e->nr_doms; i++) {
		struct shr_dom *d = e->doms[i];

		if (!d->n_shared)
			continue;
		/* setting the state again clears its rest count: due at once */
		for (uint32_t g = 0; g < d->nr_gfns; g++)
			if (shr_ps_state(d->pstate[g]) == SHR_PS_SHARED)
				shr_ps_set_state(&d->pstate[g], SHR_PS_SHARED);
	}
}

void shr_engine_remove_domain(struct shr_engine *e, uint32_t domid)
{
	unsigned int i;
	struct shr_dom *d;
	bool had_sources;

	for (i = 0; i < e->nr_doms; i++)
		if (e->doms[i]->domid == domid)
			break;
	if (i == e->nr_doms)
		return;
	d = e->doms[i];
	/* Queued pairs name this domain's refs: resolve them first. */
	shr_merge_flush(e);
	shr_reserve_ring_detach(e, d);
	if (d->n_unique || d->n_source)
		shr_index_remove_range(&e->index, d->ref_base, d->nr_gfns);
	if (e->pass_pages_total && d->cursor < d->nr_gfns) {
		uint64_t left = d->nr_gfns - d->cursor;

		e->pass_pages_total -= left < e->pass_pages_total ? left : e->pass_pages_total;
	}
	memmove(&e->doms[i], &e->doms[i + 1], (e->nr_doms - i - 1) * sizeof(*e->doms));
	e->nr_doms--;
	had_sources = d->n_source > 0;
	shr_info("d%u removed", domid);
	dom_free(d);
	if (had_sources)
		wake_shared_pages(e);
}

/*
 * The domain's p2m grew past the gfns we track (memory hot-added or
 * ballooned up beyond its size at start): its state is rebuilt for the new
 * size under a new ref range.  What the hypervisor shares stays shared;
 * the engine relearns it on the next look (a share of two gfns already on
 * one frame succeeds without doing anything).
 */
int shr_dom_regrow(struct shr_engine *e, struct shr_dom *d, uint64_t nr_gfns)
{
	uint32_t *key_lo;
	uint8_t *pstate;
	unsigned int i, pos = 0;
	uint32_t base;

	if (nr_gfns <= d->nr_gfns || nr_gfns > SHR_REF_MAX)
		return 0;
	key_lo = calloc(nr_gfns, sizeof(*key_lo));
	pstate = calloc(nr_gfns, 1);
	if (!key_lo || !pstate) {
		free(key_lo);
		free(pstate);
		shr_warn("d%u grew to %llu gfns: no memory to track them; the new gfns are "
			 "not scanned", d->domid, (unsigned long long)nr_gfns);
		return -ENOMEM;
	}
	dom_reset_pages(e, d);
	for (i = 0; i < e->nr_doms && e->doms[i] != d; i++)
		;
	memmove(&e->doms[i], &e->doms[i + 1], (e->nr_doms - i - 1) * sizeof(*e->doms));
	e->nr_doms--;
	base = ref_range_alloc(e, (uint32_t)nr_gfns, &pos);
	if (base == SHR_REF_NONE) {
		/* no room: keep the old size (its range is still free) */
		base = ref_range_alloc(e, d->nr_gfns, &pos);
		free(key_lo);
		free(pstate);
		nr_gfns = d->nr_gfns;
		key_lo = d->key_lo;
		pstate = d->pstate;
		shr_warn("d%u grew: no room in the ref space; the new gfns are not scanned",
			 d->domid);
	} else {
		free(d->key_lo);
		free(d->pstate);
	}
	memmove(&e->doms[pos + 1], &e->doms[pos], (e->nr_doms - pos) * sizeof(*e->doms));
	e->doms[pos] = d;
	e->nr_doms++;
	if (e->pass_pages_total)
		e->pass_pages_total += nr_gfns - d->nr_gfns;
	shr_info("d%u grew from %u to %llu gfns", d->domid, d->nr_gfns,
		 (unsigned long long)nr_gfns);
	d->ref_base = base;
	d->nr_gfns = (uint32_t)nr_gfns;
	d->key_lo = key_lo;
	d->pstate = pstate;
	return 0;
}

/* ---- passes --------------------------------------------------------------- */

static bool dom_scannable(const struct shr_dom *d)
{
	return !d->gone && !d->refused && d->policy.mode != SHR_MODE_OFF;
}

static void pass_start(struct shr_engine *e, double now)
{
	e->pass_pages_total = 0;
	e->pass_pages_done = 0;
	e->pass_merged = 0;
	for (unsigned int i = 0; i < e->nr_doms; i++) {
		struct shr_dom *d = e->doms[i];

		d->cursor = 0;
		if (dom_scannable(d))
			e->pass_pages_total += d->nr_gfns;
	}
	/* Nothing to scan uses no slot: the schedule must not run ahead
	 * while the host has no opted-in domain (it did, one target per
	 * call, and the first real pass then waited minutes for its slot). */
	if (!e->pass_pages_total)
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

	for (unsigned int i = 0; i < e->nr_doms; i++)
		sharing += e->doms[i]->n_shared;
	bool was_settled = e->settled;

	e->st.full_scans++;
	/* from the pass's slot (it does no work before it) to now */
	e->last_pass_s = now > e->rate.pass_start_s ? now - e->rate.pass_start_s : 0;
	e->settled = (double)e->pass_merged <
		     e->params.settle_ratio * (double)(sharing ? sharing : 1);
	/* a line per pass that changed something; quiet passes at debug */
	shr_log(e->pass_merged || e->settled != was_settled ? SHR_LOG_INFO : SHR_LOG_DEBUG,
		"pass %llu done in %.2f s: %llu pages merged, %llu sharing%s",
		(unsigned long long)e->pass, e->last_pass_s,
		(unsigned long long)e->pass_merged, (unsigned long long)sharing,
		e->settled ? ", settled" : "");
	e->pass++;
	e->pass_pages_total = 0;
}

static double pass_fraction(const struct shr_engine *e)
{
	if (!e->pass_pages_total)
		return 0;
	return (double)e->pass_pages_done / (double)e->pass_pages_total;
}

int64_t shr_engine_run(struct shr_engine *e, int64_t budget_ns)
{
	double cpu0 = shr_cpu_s(), cpu = 0, budget = (double)budget_ns * 1e-9;
	double now = shr_now_s();
	unsigned int batches = 0;
	int64_t sleep_ns;

	if (e->no_sharing)
		return 1000000000;
	shr_reserve_check(e, false);
	if (!shr_reserve_allows_sharing(e)) {
		e->cpu_s += shr_cpu_s() - cpu0;
		return 200000000;
	}
	if (!e->pass_pages_total)
		pass_start(e, now);
	if (!e->pass_pages_total) {
		/* no domain to scan: nothing to do until one is added */
		e->cpu_s += shr_cpu_s() - cpu0;
		return 1000000000;
	}
	while (cpu < budget) {
		int n;

		if (e->pass_pages_total &&
		    shr_rate_ahead(&e->rate, now, pass_fraction(e), 0.002))
			break;
		n = shr_scan_batch(e);
		if (n < 0) {
			shr_merge_flush(e);
			e->cpu_s += shr_cpu_s() - cpu0;
			return n;
		}
		now = shr_now_s();
		if (n == 0) {
			shr_merge_flush(e);
			pass_end(e, now);
			pass_start(e, now);
			if (!e->pass_pages_total)
				break;          /* nothing to scan */
		}
		if (++batches % 64 == 0) {
			shr_reserve_check(e, false);
			if (!shr_reserve_allows_sharing(e))
				break;
		}
		if (e->no_sharing)
			break;
		cpu = shr_cpu_s() - cpu0;
	}
	shr_merge_flush(e);
	cpu = shr_cpu_s() - cpu0;
	e->cpu_s += cpu;
	if (!e->pass_pages_total)
		return 1000000000;
	sleep_ns = shr_rate_sleep_ns(&e->rate, shr_now_s(), pass_fraction(e), cpu);
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
	int rc = shr_reserve_handle_events(e);

	e->cpu_s += shr_cpu_s() - cpu0;
	return rc;
}

void shr_engine_set_need_memory_fn(struct shr_engine *e,
				   void (*fn)(void *arg, uint64_t pages), void *arg)
{
	e->need_memory_fn = fn;
	e->need_memory_arg = arg;
}

void shr_engine_get_stats(struct shr_engine *e, struct shr_stats *out)
{
	const struct shr_xen_counters *xc = shr_xen_counters(e->xen);

	shr_reserve_check(e, false);
	if (shr_xen_sharing_counters(e->xen, &e->hv_freed, &e->hv_used))
		shr_debug("stats: sharing counters unavailable");
	*out = e->st;
	out->pages_shared = e->hv_used;
	out->pages_sharing = e->hv_freed;
	out->pages_unshared = out->pages_volatile = out->zero_pages_sharing = 0;
	out->engine_pages_sharing = 0;
	for (unsigned int i = 0; i < e->nr_doms; i++) {
		const struct shr_dom *d = e->doms[i];

		out->pages_unshared += d->n_unique;
		out->pages_volatile += d->n_volatile;
		out->zero_pages_sharing += d->n_zero_shared;
		out->engine_pages_sharing += d->n_shared;
		out->index_bytes += (uint64_t)d->nr_gfns * (sizeof(*d->key_lo) + 1) + sizeof(*d);
		out->pages_indexed += d->nr_gfns;
	}
	out->index_bytes += shr_index_bytes(&e->index);
	out->hypercalls = xc->hypercalls;
	out->mappings = xc->mappings;
	out->mapped_pages = xc->mapped_pages;
	out->host_total_pages = e->host_total;
	out->host_free_pages = e->host_free;
	out->reserve_pages = e->params.reserve_pages;
	out->pages_at_risk = e->hv_freed;
	out->pages_needed = e->pages_needed;
	out->memory_requests = e->memory_requests;
	out->sharing_paused = !shr_reserve_allows_sharing(e);
	out->pass_time_s = e->last_pass_s;
	out->pass_progress = pass_fraction(e);
	out->settled = e->settled;
	out->protocol_in_use = e->proto;
	out->cpu_s = e->cpu_s;
}

int shr_engine_foreach_domain(struct shr_engine *e,
			      int (*fn)(const struct shr_domain_stats *s, void *arg),
			      void *arg)
{
	double now = shr_now_s();

	for (unsigned int i = 0; i < e->nr_doms; i++) {
		struct shr_dom *d = e->doms[i];
		struct shr_domain_stats s = { 0 };
		int rc;

		if (!d->gone && shr_xen_dominfo(e->xen, d->domid, &d->info) == -ESRCH)
			shr_dom_mark_gone(e, d, -ESRCH, "stats");
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
		s.pages_sharing = d->n_shared;
		s.pages_volatile = d->n_volatile;
		s.unshares = d->unshares;
		s.unshares_per_s = d->unshares_per_s;
		s.scan_progress = d->nr_gfns ? (double)d->cursor / d->nr_gfns : 0;
		s.held = d->held;
		s.evicting = d->evicting;
		rc = fn(&s, arg);
		if (rc)
			return rc;
	}
	return 0;
}
