/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reserve.c - keeping unshares from running the host out of memory.
 *
 * DOC: Overview
 *
 * Every page saved by sharing is a page the guests can ask back at any time
 * (a write to a shared page allocates a private copy).  When the host has
 * no free frame left, Xen 4.17 puts a request on the domain's sharing
 * vm_event ring and pauses the faulting vCPU, or, without a ring, crashes
 * the domain (the patched hypervisor pauses it and raises VIRQ_ENOMEM
 * instead).  The engine's part:
 *
 *  - Reserve: xc_physinfo() is read at most every 100 ms; while free host
 *    pages are below reserve_pages, the shortfall is published as
 *    pages_needed and passed to the daemon's need-memory callback (the
 *    daemon balloons dom0 down through xenstore, which is its business,
 *    not the engine's).  Sharing goes on below the reserve: each share
 *    frees one frame and puts one page at risk, so free memory plus the
 *    pages at risk stay what they were, and unsharing everything only
 *    returns the host to where it was before sharing.  The risk is taken
 *    by whoever uses the freed memory (a new guest, a balloon-up), which
 *    the reserve governs (docs/design.md section 7); a host filled before
 *    the daemon started converges like any other.  The only memory limit
 *    of sharing itself is Xen's heap for its metadata: a share that fails
 *    with ENOMEM while fewer than SHR_ENOMEM_MIN_PAGES are free pauses
 *    sharing until that much is free again.
 *  - Rings: for every scanned domain with a ring page
 *    (HVM_PARAM_SHARING_RING_PFN), the ring is enabled and its event
 *    channel bound.  A request pauses sharing, counts in memory_requests,
 *    asks for memory, and is answered (response + xc_memshr_domain_resume)
 *    as soon as the host has a free frame again.  Responding at once would
 *    only make the vCPU fault again.
 *  - VIRQ_ENOMEM (patched hypervisor, domains without a ring): same; the
 *    waiting domains are listed (xc_memshr_enomem_waiters) and resumed by
 *    id (xc_memshr_enomem_resume) once memory is back.
 *  - Unprotected domains (no ring, and a hypervisor without the batched op
 *    of hypervisor-patch/, which is also the one that would crash them
 *    instead of raising VIRQ_ENOMEM): their pages on shared frames are
 *    counted as unprotected_at_risk, and such a domain gets no new share while free
 *    pages < reserve_pages + unprotected_at_risk, i.e. while an unshare
 *    storm of those domains alone could exhaust the host.  Sharing itself
 *    does not move that balance (each share frees one page and puts one at
 *    risk); what moves it is memory other consumers take, and this is the
 *    check that keeps the engine from adding to a risk the host can no
 *    longer absorb; the shortfall is added to pages_needed so the daemon
 *    makes the room (ballooning dom0) before an unshare has to crash one.
 *
 *
 * Rings outlive scanning.  A domain removed from the engine while it lives
 * (opted out: its shared pages stay shared and can still run out of
 * memory) keeps its ring, served like the others, until it holds no shared
 * page and no request; a dead domain's ring is released at once (the
 * mapped ring page would keep the dead domain from being freed).
 *
 * The stop protocol (shr_reserve_fini(), when the engine is freed): what
 * can be answered is answered (a last reserve check), and every ring stays
 * ENABLED with what could not be answered still on it.  A vCPU that waits
 * keeps waiting, paused, instead of retrying an unshare with no helper
 * (which an unpatched Xen answers by crashing the domain), and a domain
 * that runs out of memory while no xenshared runs pauses on its ring the
 * same way.  The next xenshared takes each ring over (xen.h), answers the
 * requests its predecessor left, and lists the ring-less domains the
 * patched hypervisor paused (VIRQ_ENOMEM waiters) at start: a kill -9
 * leaves the same state as a stop, and a restart resumes every vCPU once
 * memory is there.
 *
 * Invariant: a ring with pending requests (or a ring-less domain with
 * resume_pending, or a VIRQ waiter) is answered by the first reserve check
 * that sees free pages, so no vCPU stays paused while memory exists.
 */
#include "reserve.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"

static void enomem_event(struct shr_reserve *r, uint32_t domid, unsigned int n,
			 bool new_waiter);
static bool virq_list_waiters(struct shr_reserve *r, bool guess);

struct shr_ring {
	struct shr_xen_ring *xr;
	uint32_t domid;
	struct shr_xen_ring_req pending[SHR_RING_MAX_PENDING];
	unsigned int nr_pending;     /* requests taken, not yet answered */
	bool kept;                   /* its domain is no longer scanned */
	struct shr_ring *next;       /* shr_reserve.rings */
};

static void ring_release(struct shr_reserve *r, struct shr_ring *rg, bool disable)
{
	struct shr_ring **p;

	for (p = &r->rings; *p && *p != rg; p = &(*p)->next)
		;
	if (*p)
		*p = rg->next;
	shr_xen_ring_detach(r->xen, rg->xr, disable);
	free(rg);
}

/* Takes every request queued on a ring. */
static void ring_take(struct shr_reserve *r, struct shr_ring *rg)
{
	struct shr_xen_ring_req req;
	bool was_waiting = rg->nr_pending > 0;
	unsigned int n = 0;

	while (shr_xen_ring_take(rg->xr, &req) == 1) {
		n++;
		if (rg->nr_pending < SHR_RING_MAX_PENDING)
			rg->pending[rg->nr_pending++] = req;
		else
			shr_xen_ring_respond(r->xen, rg->xr, &req);
	}
	if (n)
		enomem_event(r, rg->domid, n, !was_waiting);
}

/* The ring bound to a local port, or NULL. */
static struct shr_ring *ring_of_port(const struct shr_reserve *r, uint32_t port)
{
	struct shr_ring *rg;

	for (rg = r->rings; rg && shr_xen_ring_port(rg->xr) != port; rg = rg->next)
		;
	return rg;
}

int shr_reserve_init(struct shr_reserve *r, const struct shr_params *params,
		     struct shr_xen *xen, struct shr_doms *doms)
{
	int rc;

	*r = (struct shr_reserve){ .params = params, .xen = xen, .doms = doms };
	rc = shr_xen_evtchn_bind_virq(r->xen, SHR_VIRQ_ENOMEM, &r->virq_port);
	if (rc == 0)
		r->virq_bound = true;
	else
		shr_info("reserve: VIRQ_ENOMEM not bound (errno %d)", -rc);
	/* domains a previous xenshared left paused on VIRQ_ENOMEM */
	if (r->virq_bound && virq_list_waiters(r, false))
		enomem_event(r, SHR_DOMID_VIRQ, r->virq_waiting, false);
	shr_reserve_check(r, true);
	return 0;
}

void shr_reserve_fini(struct shr_reserve *r)
{
	unsigned int left = 0;

	shr_reserve_check(r, true);
	while (r->rings) {
		left += r->rings->nr_pending;
		if (r->rings->nr_pending)
			shr_notice("d%u: %u vCPUs wait for memory: their requests stay on the "
				   "sharing ring for the next xenshared", r->rings->domid,
				   r->rings->nr_pending);
		ring_release(r, r->rings, false);
	}
	if (left || r->virq_waiting)
		shr_warn("stopping with %u ring requests and %u ring-less domains waiting for "
			 "memory: they stay paused until xenshared runs again", left,
			 r->virq_waiting);
	if (r->virq_bound)
		shr_xen_evtchn_unbind(r->xen, r->virq_port);
	r->virq_bound = false;
}

bool shr_reserve_allows_sharing(const struct shr_reserve *r)
{
	return !r->heap_paused && !r->enomem_paused;
}

void shr_reserve_enomem(struct shr_reserve *r, uint32_t domid, uint32_t gfn)
{
	double now = shr_now_s();

	if (now - r->enomem_warned_s >= 60) {
		shr_warn("d%u gfn 0x%x share: out of memory (ENOMEM: Xen's heap for sharing "
			 "metadata, or libxenctrl's buffers in dom0): retried next pass; "
			 "sharing pauses while fewer than %u pages are free", domid, gfn,
			 SHR_ENOMEM_MIN_PAGES);
		r->enomem_warned_s = now;
	}
	shr_reserve_check(r, true);
	if (r->host_free < SHR_ENOMEM_MIN_PAGES && !r->heap_paused) {
		shr_notice("reserve: a share found no memory with %llu free host pages: "
			   "sharing paused", (unsigned long long)r->host_free);
		r->heap_paused = true;
	}
}

bool shr_reserve_allows_domain(const struct shr_reserve *r, const struct shr_dom *d)
{
	if (d->ring || shr_xen_has_cmpshr(r->xen))
		return true;
	return r->host_free >= r->params->reserve_pages + r->unprotected_at_risk + 1;
}

static unsigned int pending_total(const struct shr_reserve *r)
{
	unsigned int n = 0;

	for (const struct shr_ring *rg = r->rings; rg; rg = rg->next)
		n += rg->nr_pending;
	for (unsigned int i = 0; i < r->doms->nr; i++)
		if (r->doms->v[i]->resume_pending)
			n++;
	return n + r->virq_waiting;
}

/* Answers every request taken from the ring, then lets Xen read them. */
static void ring_answer(struct shr_reserve *r, struct shr_ring *rg)
{
	int rc;

	for (unsigned int i = 0; i < rg->nr_pending; i++) {
		rc = shr_xen_ring_respond(r->xen, rg->xr, &rg->pending[i]);
		if (rc)
			shr_warn("d%u ring respond: errno %d", rg->domid, -rc);
	}
	rg->nr_pending = 0;
	rc = shr_xen_domain_resume(r->xen, rg->domid);
	if (rc)
		shr_warn("d%u resume: errno %d", rg->domid, -rc);
	else
		shr_info("d%u resumed after unshare ENOMEM", rg->domid);
}

/* A ring-less domain, without the patch's list (see virq_list_waiters). */
static void dom_resume(struct shr_reserve *r, struct shr_dom *d)
{
	int rc = shr_xen_domain_resume(r->xen, d->domid);

	if (rc)
		shr_debug("d%u resume (no ring): errno %d", d->domid, -rc);
	else
		shr_info("d%u resumed after unshare ENOMEM", d->domid);
	d->resume_pending = false;
}

/*
 * Kept rings (domains no longer scanned): released once the domain is dead,
 * or holds no shared page and waits for nothing (it cannot run out of
 * memory by unsharing any more).
 */
static void kept_rings_tidy(struct shr_reserve *r)
{
	struct shr_ring *rg = r->rings, *next;

	for (; rg; rg = next) {
		struct shr_xen_dominfo info;
		int rc;

		next = rg->next;
		if (!rg->kept || rg->nr_pending)
			continue;
		rc = shr_xen_dominfo(r->xen, rg->domid, &info);
		if (rc == -ESRCH || (rc == 0 && info.dying)) {
			ring_release(r, rg, false);
		} else if (rc == 0 && !info.shr_pages) {
			shr_info("d%u ring: released (not scanned, nothing shared)", rg->domid);
			ring_release(r, rg, true);
		}
	}
}

/*
 * VIRQ_ENOMEM: ask the patched hypervisor which ring-less domains wait.
 * Any domain may be listed, scanned by us or not (an opted-out domain keeps
 * its shared pages); they are resumed by id once memory is back.  Where
 * the list op is missing, every scanned ring-less domain is resumed
 * through the ring's resume instead (logged: that only works on xensim).
 */
/* Returns whether any domain may be waiting (true when it cannot tell).
 * guess: when the list op is missing, assume every scanned ring-less domain
 * waits (after a VIRQ); at start-up, without a VIRQ, assume none. */
static bool virq_list_waiters(struct shr_reserve *r, bool guess)
{
	uint16_t ids[SHR_VIRQ_MAX_WAITERS];
	unsigned int nr = SHR_VIRQ_MAX_WAITERS;
	int rc = shr_xen_enomem_waiters(r->xen, ids, &nr);

	if (rc && !guess) {
		r->virq_waiting = 0;
		return false;
	}
	if (rc) {
		shr_warn("VIRQ_ENOMEM: cannot list the waiting domains (errno %d): "
			 "resuming every scanned domain without a ring", -rc);
		for (unsigned int i = 0; i < r->doms->nr; i++)
			if (!r->doms->v[i]->ring && !r->doms->v[i]->gone)
				r->doms->v[i]->resume_pending = true;
		r->virq_waiting = 0;
		return true;
	}
	r->virq_waiting = nr;
	return nr > 0;
}

static void virq_resume_waiters(struct shr_reserve *r)
{
	uint16_t ids[SHR_VIRQ_MAX_WAITERS];
	unsigned int nr = SHR_VIRQ_MAX_WAITERS;
	int rc = shr_xen_enomem_waiters(r->xen, ids, &nr);

	if (rc) {
		shr_warn("VIRQ_ENOMEM: listing the waiting domains: errno %d", -rc);
		return;
	}
	/* More than fit: the rest are listed again at the next check. */
	for (unsigned int i = 0; i < nr && i < SHR_VIRQ_MAX_WAITERS; i++) {
		rc = shr_xen_enomem_resume(r->xen, ids[i]);
		if (rc < 0)
			shr_warn("d%u enomem resume: errno %d", ids[i], -rc);
		else
			shr_info("d%u resumed after unshare ENOMEM (%d vCPUs)", ids[i], rc);
	}
	r->virq_waiting = nr > SHR_VIRQ_MAX_WAITERS ? nr - SHR_VIRQ_MAX_WAITERS : 0;
}

/*
 * What notifications may not have said.  Xen merges event notifications
 * (one for many requests) and the engine must not depend on every one
 * arriving anyway: each check reads every ring for requests, lists the
 * ring-less waiters of the patched hypervisor now and then, and retries
 * setting up a ring that failed for a reason that can pass.
 */
static void events_poll(struct shr_reserve *r, double now)
{
	for (struct shr_ring *rg = r->rings; rg; rg = rg->next)
		ring_take(r, rg);
	if (r->virq_bound && now - r->last_poll_s >= SHR_EVENTS_POLL_S) {
		unsigned int before = r->virq_waiting;

		r->last_poll_s = now;
		if (virq_list_waiters(r, false) && !before)
			enomem_event(r, SHR_DOMID_VIRQ, r->virq_waiting, false);
		for (unsigned int i = 0; i < r->doms->nr; i++) {
			struct shr_dom *d = r->doms->v[i];

			if (!d->ring && shr_ring_err_transient(d->ring_err) && !d->gone &&
			    d->policy.mode != SHR_MODE_OFF && !r->params->no_rings)
				shr_reserve_ring_attach(r, d);
		}
	}
}

void shr_reserve_check(struct shr_reserve *r, bool force)
{
	double now = shr_now_s();
	uint64_t total, free_pages, need, evict_short;
	unsigned int waiting;
	int rc;

	if (!force && now - r->last_check_s < SHR_RESERVE_CHECK_S)
		return;
	r->last_check_s = now;
	events_poll(r, now);
	rc = shr_xen_physinfo(r->xen, &total, &free_pages);
	if (rc) {
		shr_warn("reserve: physinfo: errno %d", -rc);
		return;
	}
	r->host_total = total;
	r->host_free = free_pages;
	if (shr_xen_sharing_counters(r->xen, &r->hv_freed, &r->hv_used))
		shr_debug("reserve: sharing counters unavailable");

	r->unprotected_at_risk = 0;
	evict_short = 0;
	for (unsigned int i = 0; i < r->doms->nr; i++) {
		const struct shr_dom *d = r->doms->v[i];

		if (!d->ring && !shr_xen_has_cmpshr(r->xen))
			r->unprotected_at_risk += d->pages.n_shared + d->pages.n_source;
		evict_short += d->evict_nomem;
	}
	waiting = pending_total(r);
	/* what the reserve lacks, or what unprotected domains could ask back
	 * beyond it, whichever is more; plus the copies that evictions could
	 * not make */
	need = r->params->reserve_pages + r->unprotected_at_risk + evict_short;
	need = free_pages < need ? need - free_pages : 0;
	if (waiting) {
		/* A domain that ran out unshares on: ask for room for what its
		 * shared pages could still take back (bounded), not just for the
		 * faulting vCPUs, or it pauses again at once. */
		uint64_t want = SHR_ENOMEM_MIN_PAGES + waiting;

		for (unsigned int i = 0; i < r->doms->nr; i++) {
			const struct shr_dom *d = r->doms->v[i];
			uint64_t risk = d->pages.n_shared + d->pages.n_source;

			if (d->resume_pending || (d->ring && d->ring->nr_pending))
				want += risk < SHR_ENOMEM_MAX_PAGES ? risk : SHR_ENOMEM_MAX_PAGES;
		}
		if (free_pages < want && want - free_pages > need)
			need = want - free_pages;
	}
	if (need && r->need_memory_fn)
		r->need_memory_fn(r->need_memory_arg, need);
	r->pages_needed = need;

	if (free_pages < r->params->reserve_pages) {
		if (!r->below_reserve)
			shr_notice("reserve: %llu free host pages < reserve %llu: asking for "
				   "memory (sharing goes on: each share frees a frame)",
				   (unsigned long long)free_pages,
				   (unsigned long long)r->params->reserve_pages);
		r->below_reserve = true;
	} else if (r->below_reserve) {
		shr_notice("reserve: %llu free host pages: the reserve is met again",
			   (unsigned long long)free_pages);
		r->below_reserve = false;
	}
	if (r->heap_paused && free_pages >= SHR_ENOMEM_MIN_PAGES) {
		shr_notice("reserve: %llu free host pages after a share ENOMEM: sharing resumed",
			   (unsigned long long)free_pages);
		r->heap_paused = false;
	}
	/* after an unshare ENOMEM, share again once the waiting vCPUs are
	 * served and some memory is back */
	if (r->enomem_paused && !waiting && free_pages >= SHR_ENOMEM_MIN_PAGES) {
		shr_notice("reserve: %llu free host pages after unshare ENOMEM: sharing resumed",
			   (unsigned long long)free_pages);
		r->enomem_paused = false;
	}
	if (waiting && free_pages > waiting) {
		for (struct shr_ring *rg = r->rings; rg; rg = rg->next)
			if (rg->nr_pending)
				ring_answer(r, rg);
		for (unsigned int i = 0; i < r->doms->nr; i++)
			if (r->doms->v[i]->resume_pending)
				dom_resume(r, r->doms->v[i]);
		if (r->virq_waiting)
			virq_resume_waiters(r);
	}
	kept_rings_tidy(r);
}

int shr_reserve_ring_attach(struct shr_reserve *r, struct shr_dom *d)
{
	unsigned int answered = 0;
	struct shr_ring *rg;
	int rc, prev;

	if (d->ring)
		return 0;
	for (rg = r->rings; rg && rg->domid != d->domid; rg = rg->next)
		;
	if (rg) {
		/* kept since the domain left the engine: it is scanned again */
		rg->kept = false;
		d->ring = rg;
		return 0;
	}
	rg = calloc(1, sizeof(*rg));
	if (!rg)
		return -ENOMEM;
	rg->domid = d->domid;
	rc = shr_xen_ring_attach(r->xen, d->domid, &rg->xr, &answered);
	prev = d->ring_err;
	d->ring_err = rc;
	if (rc && rc == prev) {
		free(rg);
		return rc;          /* tried again, failed the same way: said already */
	}
	if (rc) {
		shr_info("d%u ring: no sharing ring (errno %d%s): an unshare without memory "
			 "%s", d->domid, -rc, shr_ring_err_transient(rc) ? ", tried again" : "",
			 r->virq_bound ? "pauses it (patched) or crashes it: the reserve must hold"
				       : "crashes it: the reserve must hold");
		free(rg);
		return rc;
	}
	rg->next = r->rings;
	r->rings = rg;
	d->ring = rg;
	shr_info("d%u ring: sharing ring enabled (port %u)", d->domid,
		 shr_xen_ring_port(rg->xr));
	if (answered)
		shr_notice("d%u ring: taken over; %u requests the previous xenshared left "
			   "were answered (a vCPU still short of memory asks again)", d->domid,
			   answered);
	return 0;
}

void shr_reserve_ring_detach(struct shr_reserve *r, struct shr_dom *d)
{
	struct shr_ring *rg = d->ring;

	if (!rg)
		return;
	d->ring = NULL;
	if (d->gone) {
		/* the ring goes with the domain */
		ring_release(r, rg, false);
		return;
	}
	/* still alive: its shared pages may still need memory (kept_rings_tidy) */
	rg->kept = true;
}

/*
 * domid: the ring's domain, or SHR_DOMID_VIRQ for ring-less waiters.
 * new_waiter: a ring that had no request left unanswered: while sharing is
 * already paused for another domain, the log still names each domain that
 * starts waiting, once per wait.
 */
static void enomem_event(struct shr_reserve *r, uint32_t domid, unsigned int n,
			 bool new_waiter)
{
	r->memory_requests += n;
	if (!r->enomem_paused)
		shr_warn("%s%u unshare ENOMEM: host out of memory: sharing paused, "
			 "asking dom0 for memory",
			 domid == SHR_DOMID_VIRQ ? "VIRQ_ENOMEM, domains waiting: " : "d",
			 domid == SHR_DOMID_VIRQ ? pending_total(r) : domid);
	else if (new_waiter)
		shr_warn("d%u unshare ENOMEM: waits on its sharing ring too (sharing "
			 "already paused)", domid);
	r->enomem_paused = true;
}

int shr_reserve_handle_events(struct shr_reserve *r)
{
	int port;

	while ((port = shr_xen_evtchn_pending(r->xen)) >= 0) {
		if (r->virq_bound && (uint32_t)port == r->virq_port) {
			/* Xen also raises VIRQ_ENOMEM as its own low-heap warning
			 * (more VIRQs than pauses): only a waiting domain is a
			 * memory request; the reserve check below sees the low
			 * memory either way. */
			if (virq_list_waiters(r, true))
				enomem_event(r, SHR_DOMID_VIRQ, 1, false);
			else
				shr_debug("VIRQ_ENOMEM with no domain waiting: a low-memory "
					  "warning from Xen");
		} else {
			struct shr_ring *rg = ring_of_port(r, (uint32_t)port);

			if (rg)
				ring_take(r, rg);
		}
		shr_xen_evtchn_unmask(r->xen, (uint32_t)port);
	}
	if (port != -EAGAIN) {
		shr_warn("events: evtchn pending: errno %d", -port);
		return port;
	}
	shr_reserve_check(r, true);
	return 0;
}
