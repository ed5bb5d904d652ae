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
 *    pages are below reserve_pages, no new share is made (sharing only adds
 *    pages at risk), and the shortfall is published as pages_needed and
 *    passed to the daemon's need-memory callback (the daemon balloons dom0
 *    down through xenstore, which is its business, not the engine's).
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
 * Invariant: a domain with resume_pending is resumed by the first reserve
 * check that sees free pages, so no vCPU stays paused while memory exists.
 */
#include "internal.h"
#include "reserve.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

struct shr_ring {
	struct shr_xen_ring *xr;
	struct shr_xen_ring_req pending[SHR_RING_MAX_PENDING];
	unsigned int nr_pending;
};

int shr_reserve_init(struct shr_engine *e)
{
	int rc = shr_xen_evtchn_bind_virq(e->xen, SHR_VIRQ_ENOMEM, &e->virq_port);

	if (rc == 0)
		e->virq_bound = true;
	else
		shr_info("reserve: VIRQ_ENOMEM not bound (errno %d)", -rc);
	shr_reserve_check(e, true);
	return 0;
}

void shr_reserve_fini(struct shr_engine *e)
{
	if (e->virq_bound)
		shr_xen_evtchn_unbind(e->xen, e->virq_port);
	e->virq_bound = false;
}

bool shr_reserve_allows_sharing(const struct shr_engine *e)
{
	return !e->reserve_paused && !e->enomem_paused;
}

bool shr_reserve_allows_domain(const struct shr_engine *e, const struct shr_dom *d)
{
	if (d->ring || shr_xen_has_cmpshr(e->xen))
		return true;
	return e->host_free >= e->params.reserve_pages + e->unprotected_at_risk + 1;
}

static unsigned int pending_total(const struct shr_engine *e)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < e->nr_doms; i++)
		if (e->doms[i]->resume_pending)
			n += e->doms[i]->ring ? e->doms[i]->ring->nr_pending : 1;
	return n + e->virq_waiting;
}

static void dom_resume(struct shr_engine *e, struct shr_dom *d)
{
	int rc;

	if (d->ring) {
		for (unsigned int i = 0; i < d->ring->nr_pending; i++) {
			rc = shr_xen_ring_respond(e->xen, d->ring->xr, &d->ring->pending[i]);
			if (rc)
				shr_warn("d%u ring respond: errno %d", d->domid, -rc);
		}
		d->ring->nr_pending = 0;
	}
	rc = shr_xen_domain_resume(e->xen, d->domid);
	if (rc && d->ring)
		shr_warn("d%u resume: errno %d", d->domid, -rc);
	else if (rc)
		shr_debug("d%u resume (no ring): errno %d", d->domid, -rc);
	else
		shr_info("d%u resumed after unshare ENOMEM", d->domid);
	d->resume_pending = false;
}

/*
 * VIRQ_ENOMEM: ask the patched hypervisor which ring-less domains wait.
 * Any domain may be listed, scanned by us or not (an opted-out domain keeps
 * its shared pages); they are resumed by id once memory is back.  Where
 * the list op is missing, every scanned ring-less domain is resumed
 * through the ring's resume instead (logged: that only works on xensim).
 */
/* Returns whether any domain may be waiting (true when it cannot tell). */
static bool virq_list_waiters(struct shr_engine *e)
{
	uint16_t ids[SHR_VIRQ_MAX_WAITERS];
	unsigned int nr = SHR_VIRQ_MAX_WAITERS;
	int rc = shr_xen_enomem_waiters(e->xen, ids, &nr);

	if (rc) {
		shr_warn("VIRQ_ENOMEM: cannot list the waiting domains (errno %d): "
			 "resuming every scanned domain without a ring", -rc);
		for (unsigned int i = 0; i < e->nr_doms; i++)
			if (!e->doms[i]->ring && !e->doms[i]->gone)
				e->doms[i]->resume_pending = true;
		e->virq_waiting = 0;
		return true;
	}
	e->virq_waiting = nr;
	return nr > 0;
}

static void virq_resume_waiters(struct shr_engine *e)
{
	uint16_t ids[SHR_VIRQ_MAX_WAITERS];
	unsigned int nr = SHR_VIRQ_MAX_WAITERS;
	int rc = shr_xen_enomem_waiters(e->xen, ids, &nr);

	if (rc) {
		shr_warn("VIRQ_ENOMEM: listing the waiting domains: errno %d", -rc);
		return;
	}
	/* More than fit: the rest are listed again at the next check. */
	for (unsigned int i = 0; i < nr && i < SHR_VIRQ_MAX_WAITERS; i++) {
		rc = shr_xen_enomem_resume(e->xen, ids[i]);
		if (rc < 0)
			shr_warn("d%u enomem resume: errno %d", ids[i], -rc);
		else
			shr_info("d%u resumed after unshare ENOMEM (%d vCPUs)", ids[i], rc);
	}
	e->virq_waiting = nr > SHR_VIRQ_MAX_WAITERS ? nr - SHR_VIRQ_MAX_WAITERS : 0;
}

void shr_reserve_check(struct shr_engine *e, bool force)
{
	double now = shr_now_s();
	uint64_t total, free_pages, need;
	unsigned int waiting;
	int rc;

	if (!force && now - e->last_host_check_s < SHR_RESERVE_CHECK_S)
		return;
	e->last_host_check_s = now;
	rc = shr_xen_physinfo(e->xen, &total, &free_pages);
	if (rc) {
		shr_warn("reserve: physinfo: errno %d", -rc);
		return;
	}
	e->host_total = total;
	e->host_free = free_pages;
	if (shr_xen_sharing_counters(e->xen, &e->hv_freed, &e->hv_used))
		shr_debug("reserve: sharing counters unavailable");

	e->unprotected_at_risk = 0;
	if (!shr_xen_has_cmpshr(e->xen))
		for (unsigned int i = 0; i < e->nr_doms; i++)
			if (!e->doms[i]->ring)
				e->unprotected_at_risk += e->doms[i]->n_shared +
							  e->doms[i]->n_source;
	waiting = pending_total(e);
	/* what the reserve lacks, or what unprotected domains could ask back
	 * beyond it, whichever is more */
	need = e->params.reserve_pages + e->unprotected_at_risk;
	need = free_pages < need ? need - free_pages : 0;
	if (waiting) {
		/* A domain that ran out unshares on: ask for room for what its
		 * shared pages could still take back (bounded), not just for the
		 * faulting vCPUs, or it pauses again at once. */
		uint64_t want = SHR_ENOMEM_MIN_PAGES + waiting;

		for (unsigned int i = 0; i < e->nr_doms; i++) {
			const struct shr_dom *d = e->doms[i];
			uint64_t risk = d->n_shared + d->n_source;

			if (d->resume_pending)
				want += risk < SHR_ENOMEM_MAX_PAGES ? risk : SHR_ENOMEM_MAX_PAGES;
		}
		if (free_pages < want && want - free_pages > need)
			need = want - free_pages;
	}
	if (need && e->need_memory_fn)
		e->need_memory_fn(e->need_memory_arg, need);
	e->pages_needed = need;

	if (free_pages < e->params.reserve_pages) {
		if (!e->reserve_paused)
			shr_notice("reserve: %llu free host pages < reserve %llu: sharing paused",
				   (unsigned long long)free_pages,
				   (unsigned long long)e->params.reserve_pages);
		e->reserve_paused = true;
	} else if (e->reserve_paused) {
		shr_notice("reserve: %llu free host pages: sharing resumed",
			   (unsigned long long)free_pages);
		e->reserve_paused = false;
	}
	/* after an unshare ENOMEM, share again only once memory is back */
	if (e->enomem_paused && !waiting &&
	    free_pages >= e->params.reserve_pages + SHR_ENOMEM_MIN_PAGES) {
		shr_notice("reserve: %llu free host pages after unshare ENOMEM: sharing resumed",
			   (unsigned long long)free_pages);
		e->enomem_paused = false;
	}
	if (waiting && free_pages > waiting) {
		for (unsigned int i = 0; i < e->nr_doms; i++)
			if (e->doms[i]->resume_pending)
				dom_resume(e, e->doms[i]);
		if (e->virq_waiting)
			virq_resume_waiters(e);
	}
}

int shr_reserve_ring_attach(struct shr_engine *e, struct shr_dom *d)
{
	struct shr_ring *r;
	int rc;

	if (d->ring)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	rc = shr_xen_ring_attach(e->xen, d->domid, &r->xr);
	if (rc) {
		shr_info("d%u ring: no sharing ring (errno %d): an unshare without memory "
			 "%s", d->domid, -rc,
			 e->virq_bound ? "pauses it (patched) or crashes it: the reserve must hold"
				       : "crashes it: the reserve must hold");
		free(r);
		return rc;
	}
	d->ring = r;
	shr_info("d%u ring: sharing ring enabled (port %u)", d->domid,
		 shr_xen_ring_port(r->xr));
	return 0;
}

void shr_reserve_ring_detach(struct shr_engine *e, struct shr_dom *d)
{
	if (!d->ring)
		return;
	/* Answer what is queued: a domain must never stay paused on us. */
	if (d->ring->nr_pending && !d->gone)
		dom_resume(e, d);
	shr_xen_ring_detach(e->xen, d->ring->xr);
	free(d->ring);
	d->ring = NULL;
}

static void enomem_event(struct shr_engine *e, struct shr_dom *d, unsigned int n)
{
	e->memory_requests += n;
	if (!e->enomem_paused)
		shr_warn("%s%u unshare ENOMEM: host out of memory: sharing paused, "
			 "asking dom0 for memory", d ? "d" : "VIRQ_ENOMEM, domains waiting: ",
			 d ? d->domid : pending_total(e));
	e->enomem_paused = true;
}

int shr_reserve_handle_events(struct shr_engine *e)
{
	int port;

	while ((port = shr_xen_evtchn_pending(e->xen)) >= 0) {
		if (e->virq_bound && (uint32_t)port == e->virq_port) {
			/* Xen also raises VIRQ_ENOMEM as its own low-heap warning
			 * (seen on the real hypervisor: 25 VIRQs for 3 pauses):
			 * only a waiting domain is a memory request; the reserve
			 * check below sees the low memory either way. */
			if (virq_list_waiters(e))
				enomem_event(e, NULL, 1);
			else
				shr_debug("VIRQ_ENOMEM with no domain waiting: a low-memory "
					  "warning from Xen");
		} else {
			for (unsigned int i = 0; i < e->nr_doms; i++) {
				struct shr_dom *d = e->doms[i];
				struct shr_xen_ring_req req;
				unsigned int n = 0;

				if (!d->ring || shr_xen_ring_port(d->ring->xr) != (uint32_t)port)
					continue;
				while (shr_xen_ring_take(d->ring->xr, &req) == 1) {
					n++;
					if (d->ring->nr_pending < SHR_RING_MAX_PENDING)
						d->ring->pending[d->ring->nr_pending++] = req;
					else
						shr_xen_ring_respond(e->xen, d->ring->xr, &req);
				}
				if (n) {
					d->resume_pending = true;
					enomem_event(e, d, n);
				}
				break;
			}
		}
		shr_xen_evtchn_unmask(e->xen, (uint32_t)port);
	}
	if (port != -EAGAIN) {
		shr_warn("events: evtchn pending: errno %d", -port);
		return port;
	}
	shr_reserve_check(e, true);
	return 0;
}
