/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_share.c - memory sharing of the simulated Xen 4.17 hypervisor:
 * XENMEM_sharing_op_* (nominate, share, add_physmap, range_share,
 * debug_gfn), XEN_DOMCTL_mem_sharing_op (control), unshare on write,
 * the sharing vm_event ring, and the patched hypervisor's batched
 * compare-and-share.
 *
 * DOC: Overview
 *
 * Follows xen/arch/x86/mm/mem_sharing.c of Xen 4.17 step by step, with the
 * same error values in the same order:
 *  - every memop first looks the domain up as "live remote": -ESRCH none,
 *    -EPERM dom0 (the caller itself), -EINVAL dying; then enables sharing
 *    implicitly (mem_sharing_control(): PV or no VMX -> -EOPNOTSUPP,
 *    passthrough -> -EXDEV).  The brief's "-ENODEV for PV" is the HAP check,
 *    which the code reaches only for HVM guests without HAP; a PV guest
 *    fails is_hvm_domain() first and gets -EOPNOTSUPP.  Share, add_physmap
 *    and range_share do not enable the client: a client without sharing
 *    gives -EINVAL.
 *  - nominate_page(): already shared -> its handle; not ram_rw -> -EINVAL;
 *    page_make_sharable(): dying -> -EBUSY; any extra reference -> -E2BIG,
 *    a foreign mapping read-only or writable alike (a writable one takes
 *    no type reference on an HVM/PVH guest's page; only a type conflict,
 *    such as a writable grant mapping, gives -EINVAL, and xensim has no
 *    grant mappings).
 *  - share_pages(): both gfns on the same mfn -> 0 (this includes two
 *    holes, both INVALID_MFN: Xen returns success there too); the frame
 *    with the lower mfn is looked up first, so which handle error comes
 *    first depends on mfn order; then source handle, then client handle.
 *  - unshare: last sharer -> page_make_private() (ignores read-only
 *    mapping references: it checks only the type count), else a new frame
 *    charged to the domain (fails when the pool is empty or tot_pages has
 *    reached max_pages, as assign_pages() does) and a copy.
 *  - share_pages() moves every gfn of the client frame but holds the p2m
 *    locks of the two domains of the call only: a client frame that also
 *    backs a gfn of a third domain hits Xen's lock-order BUG() and panics
 *    the host (modelled: sim_share_pages, hv->panic, the server exits);
 *    the patched hypervisor refuses it with -EDEADLK (hypervisor-patch/
 *    0008) and range_share skips such a page.
 *  - the batched op merges two frames that both back gfns of third
 *    domains one gfn at a time (hypervisor-patch/ 0009,
 *    sim_merge_spanned()): each step re-checks under the lock that both
 *    frames are shared and equal and that the gfn is still on the frame
 *    being emptied, and every 64 gfns the lock is dropped and taken again
 *    (the hypercall's preemption point), so guests' writes, unshares and
 *    destroys interleave with a long merge as they do on Xen.
 *  - the accounting: nr_shared_mfns, nr_saved_mfns and per-domain
 *    shr_pages move exactly where Xen moves them, so the invariant
 *    sum(shr_pages) == nr_saved + nr_shared holds after every operation.
 *
 * Fault injection (fault.h): nominate, share and each pair of the batched
 * op fire an armed fault only where they would succeed, which they find out
 * without side effects first (sim_memop_check(), sim_nominate_would(),
 * sim_share_pages(validate)), so an injected error leaves the host exactly
 * as it was -- not even sharing's implicit enabling happens.
 *
 * ENOMEM on unshare (sim_share_enomem): with the sharing ring, a
 * VM_EVENT_REASON_MEM_SHARING request is produced into the ring page
 * (Xen is the front end) and the faulting vCPU paused until a response
 * with VM_EVENT_FLAG_VCPU_PAUSED is consumed by sim_hv_domain_resume();
 * without a ring an unpatched Xen crashes the domain (hvm.c: "ENOMEM and no
 * helper") and the patched one pauses the vCPU and raises VIRQ_ENOMEM.
 */
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_internal.h"
#include "hv_gen.h"
#include "hv_share.h"
#include "hypervisor-patch/include/xenshare_cmpshr.h"

/* p2m_ram_shared of xen/arch/x86/include/asm/p2m.h, reported in requests. */
#define SIM_XEN_P2M_RAM_SHARED 12

/* ---- sharing info and reverse maps -------------------------------------- */

static struct sim_shared *sim_shared_alloc(struct sim_hv *hv, uint32_t *idx)
{
	struct sim_shared *s;

	if (hv->shared_free == SIM_MFN_NONE) {
		uint32_t cap = hv->shared_cap ? hv->shared_cap * 2 : 1024;
		struct sim_shared *arr = realloc(hv->shared, cap * sizeof(*arr));

		if (!arr)
			return NULL;
		hv->shared = arr;
		for (uint32_t i = hv->shared_cap; i < cap; i++) {
			memset(&arr[i], 0, sizeof(arr[i]));
			arr[i].next_free = i + 1 < cap ? i + 1 : SIM_MFN_NONE;
		}
		hv->shared_free = hv->shared_cap;
		hv->shared_cap = cap;
	}
	*idx = hv->shared_free;
	s = &hv->shared[*idx];
	hv->shared_free = s->next_free;
	s->nr = 0;
	s->next_free = SIM_MFN_NONE;
	return s;
}

/* page_sharing_dispose(): the frame is no longer shared. */
static void sim_shared_dispose(struct sim_hv *hv, uint32_t idx)
{
	struct sim_shared *s = &hv->shared[idx];

	s->handle = 0;
	s->nr = 0;
	s->merged = false;
	if (s->cap > 16) {   /* keep small rmaps for reuse, give big ones back */
		free(s->rmap);
		s->rmap = NULL;
		s->cap = 0;
	}
	s->next_free = hv->shared_free;
	hv->shared_free = idx;
}

/* rmap_add() + mem_sharing_gfn_alloc(): shr_pages of the domain rises. */
static int sim_rmap_add(struct sim_hv *hv, struct sim_shared *s, struct sim_dom *d, uint64_t gfn)
{
	if (s->nr == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 2;
		struct sim_gref *r = realloc(s->rmap, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		s->rmap = r;
		s->cap = cap;
	}
	s->rmap[s->nr].domid = d->domid;
	s->rmap[s->nr].pad = 0;
	s->rmap[s->nr].gfn = gfn;
	d->p2m[gfn].rmap_idx = s->nr;
	s->nr++;
	s->merged |= s->nr > 1;
	d->shr_pages++;
	(void)hv;
	return 0;
}

/* mem_sharing_gfn_destroy(): swap-remove (d, gfn) from the frame's rmap. */
static void sim_rmap_del(struct sim_hv *hv, struct sim_shared *s, struct sim_dom *d, uint64_t gfn)
{
	uint32_t i = d->p2m[gfn].rmap_idx;
	uint32_t last = s->nr - 1;

	if (i != last) {
		struct sim_gref *moved = &s->rmap[last];
		struct sim_dom *md = sim_dom_get(hv, moved->domid);

		s->rmap[i] = *moved;
		md->p2m[moved->gfn].rmap_idx = i;
	}
	s->nr--;
	d->shr_pages--;
}

/* __grab_shared_page(): the sharing info of a frame if it is shared. */
static struct sim_shared *sim_grab(struct sim_hv *hv, uint64_t mfn)
{
	if (mfn >= hv->nr_frames || hv->frames[mfn].state != SIM_FRAME_SHARED)
		return NULL;
	return &hv->shared[hv->frames[mfn].owner];
}

static uint64_t sim_gfn_mfn(const struct sim_dom *d, uint64_t gfn)
{
	if (gfn >= d->nr_gfns || d->p2m[gfn].type == SIM_P2M_HOLE)
		return SIM_INVALID_MFN;
	return d->p2m[gfn].mfn;
}

/* ---- unshare ---------------------------------------------------------------- */

/*
 * __mem_sharing_unshare_page(d, gfn, destroy=false).  0 or -ENOMEM; the
 * caller decides what an ENOMEM means (sim_share_enomem()).
 */
int sim_share_unshare(struct sim_hv *hv, struct sim_dom *d, uint64_t gfn)
{
	struct sim_p2m *e = &d->p2m[gfn];
	uint32_t old = e->mfn, idx, mfn;
	struct sim_shared *s;

	if (e->type != SIM_P2M_SHARED)
		return 0;   /* someone already unshared it */
	idx = hv->frames[old].owner;
	s = &hv->shared[idx];
	if (s->nr == 1) {
		/* Last sharer: page_make_private(), no allocation. */
		sim_rmap_del(hv, s, d, gfn);
		sim_shared_dispose(hv, idx);
		hv->nr_shared--;
		hv->frames[old].state = SIM_FRAME_DOM;
		hv->frames[old].owner = d->domid;
		hv->frames[old].gfn = gfn;
		d->tot_pages++;
		e->type = SIM_P2M_RAM_RW;
		e->logdirty = 0;
		sim_logdirty_mark(d, gfn);   /* private_page_found: paging_mark_dirty() */
		return 0;
	}
	/* alloc_domheap_page(d): the pool and the domain's max_pages. */
	if (d->tot_pages >= d->max_pages)
		return -ENOMEM;
	mfn = sim_frame_alloc(hv);
	if (mfn == SIM_MFN_NONE)
		return -ENOMEM;
	if (hv->frames[old].gen) {
		/* generated content: the copy is the key (sim_frame_alloc() zeroed gen_mat) */
		hv->frames[mfn].gen = hv->frames[old].gen;
		hv->nr_gen++;
	} else {
		memcpy(sim_frame_ptr(hv, mfn), sim_frame_ptr(hv, old), SIM_PAGE_SIZE);
	}
	hv->frames[mfn].state = SIM_FRAME_DOM;
	hv->frames[mfn].owner = d->domid;
	hv->frames[mfn].gfn = gfn;
	sim_rmap_del(hv, s, d, gfn);
	hv->nr_saved--;
	d->tot_pages++;
	e->mfn = mfn;
	e->type = SIM_P2M_RAM_RW;
	e->logdirty = 0;
	sim_logdirty_mark(d, gfn);
	return 0;
}

/*
 * __mem_sharing_unshare_page(d, gfn, destroy=true): the domain's reference
 * goes (domain destruction, balloon); the frame is freed with its last
 * sharer unless a foreign mapping still holds it.  The caller clears the p2m.
 */
void sim_share_drop(struct sim_hv *hv, struct sim_dom *d, uint64_t gfn)
{
	uint32_t mfn = d->p2m[gfn].mfn;
	uint32_t idx = hv->frames[mfn].owner;
	struct sim_shared *s = &hv->shared[idx];

	sim_rmap_del(hv, s, d, gfn);
	if (s->nr == 0) {
		sim_shared_dispose(hv, idx);
		hv->nr_shared--;
		sim_frame_release(hv, mfn);
	} else {
		hv->nr_saved--;
	}
}

/* ---- ENOMEM and the sharing ring ------------------------------------------ */

/* vm_event_ring_available() */
static int sim_ring_available(struct sim_dom *d)
{
	return (int)RING_FREE_REQUESTS(&d->ring) - d->ring_target_producers -
	       d->ring_foreign_producers;
}

/*
 * mem_sharing_notify_enomem() after a failed unshare, and for a guest vCPU
 * the fault handler's "no helper" crash.  guest: the write came from vCPU
 * vcpu of d itself (else it is a foreign access: no pause).  Returns 0 when
 * a request was queued.
 */
int sim_share_enomem(struct sim_hv *hv, struct sim_dom *d, uint32_t vcpu,
		     uint64_t gfn, bool guest)
{
	vm_event_request_t req;

	hv->nr_unshare_enomem++;
	if (!d->ring_enabled) {
		if (!guest)
			return -EOPNOTSUPP;   /* notify_enomem without ring: nothing */
		if (hv->cfg.patched) {
			sim_vcpu_pausing(&d->vcpus[vcpu]);
			d->vcpus[vcpu].enomem_paused = true;
			d->enomem_waiter = true;
			sim_queue_notify(hv, 0, 0);   /* VIRQ_ENOMEM */
		} else {
			fprintf(stderr, "xensim hv: d%u attempt to unshare gfn 0x%llx, ENOMEM and no helper\n",
				d->domid, (unsigned long long)gfn);
			sim_dom_crash(hv, d);
		}
		return -EOPNOTSUPP;
	}
	/* __vm_event_claim_slot(allow_sleep=false) -> vm_event_grab_slot() */
	if (sim_ring_available(d) <= 0)
		return -EBUSY;
	memset(&req, 0, sizeof(req));
	req.version = VM_EVENT_INTERFACE_VERSION;
	req.reason = VM_EVENT_REASON_MEM_SHARING;
	req.vcpu_id = guest ? vcpu : 0;
	req.u.mem_sharing.gfn = gfn;
	req.u.mem_sharing.p2mt = SIM_XEN_P2M_RAM_SHARED;
	if (guest) {
		req.flags = VM_EVENT_FLAG_VCPU_PAUSED;
		sim_vcpu_pausing(&d->vcpus[vcpu]);
		d->vcpus[vcpu].vm_event_pause_count++;   /* vm_event_vcpu_pause() */
	} else {
		req.flags = VM_EVENT_FLAG_FOREIGN;
	}
	/* vm_event_put_request() */
	memcpy(RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt), &req, sizeof(req));
	d->ring.req_prod_pvt++;
	RING_PUSH_REQUESTS(&d->ring);
	/*
	 * The "black eye" pause of a vCPU that fills the ring does not apply:
	 * the vCPU has just been paused by the request itself.
	 */
	sim_queue_notify(hv, d->domid, d->ring_port);
	return 0;
}

/* vm_event_wake_blocked(): vCPUs waiting for ring room run again. */
static void sim_ring_wake_blocked(struct sim_hv *hv, struct sim_dom *d)
{
	int avail = sim_ring_available(d);

	for (uint32_t v = 0; v < d->nr_vcpus && avail > 0 && d->ring_blocked; v++) {
		if (d->vcpus[v].blocked) {
			d->vcpus[v].blocked = false;
			sim_vcpu_resumed(d, &d->vcpus[v]);
			d->ring_blocked--;
			avail--;
		}
	}
	sim_wake_vcpus(hv);
}

/*
 * The ring goes away with its domain or by vm_event_disable(): blocked
 * vCPUs are released; vCPUs paused by a request stay paused, as in Xen
 * (only a resume can release them).
 */
void sim_ring_teardown(struct sim_hv *hv, struct sim_dom *d)
{
	for (uint32_t v = 0; v < d->nr_vcpus; v++) {
		d->vcpus[v].blocked = false;
		sim_vcpu_resumed(d, &d->vcpus[v]);
	}
	d->ring_blocked = 0;
	d->ring_enabled = false;
	d->ring_target_producers = d->ring_foreign_producers = 0;
	memset(&d->ring, 0, sizeof(d->ring));
	sim_wake_vcpus(hv);
}

/* Common checks of vm_event_domctl(); 1 = "dying: return 0 now". */
static int sim_vm_event_lookup(struct sim_hv *hv, uint32_t domid, struct sim_dom **out)
{
	struct sim_dom *d = sim_dom_get(hv, domid);

	if (!d)
		return -ESRCH;
	if (domid == 0)
		return -EINVAL;   /* "Tried to do a memory event op on itself" */
	if (d->dying)
		return 1;
	if (!d->nr_vcpus)
		return -EINVAL;
	*out = d;
	return 0;
}

int sim_hv_ring_enable(struct sim_hv *hv, uint32_t domid, uint32_t *port)
{
	struct sim_dom *d = NULL;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	if (!port)
		return -EINVAL;
	sim_lock(hv);
	rc = sim_vm_event_lookup(hv, domid, &d);
	if (rc) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	/* dom0 is always PV here, so the "HVM hardware domain" refusal never applies. */
	if (d->type == SIM_DOM_PV) {
		rc = -ENODEV;   /* "Only HAP is supported" */
		goto out;
	}
	if (d->ring_enabled) {
		/* vm_event_enable(): -EBUSY (xenctrl.h's comment says EINVAL; the code wins) */
		rc = -EBUSY;
		goto out;
	}
	if (!d->ring_gfn) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	FRONT_RING_INIT(&d->ring, (vm_event_sring_t *)sim_frame_ptr(hv, d->p2m[d->ring_gfn].mfn),
			SIM_PAGE_SIZE);
	d->ring_enabled = true;
	d->ring_target_producers = d->ring_foreign_producers = 0;
	d->ring_blocked = 0;
	d->ring_port = d->next_port++;
	*port = d->ring_port;
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_ring_disable(struct sim_hv *hv, uint32_t domid)
{
	struct sim_dom *d = NULL;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	sim_lock(hv);
	rc = sim_vm_event_lookup(hv, domid, &d);
	if (rc) {
		rc = rc > 0 ? 0 : rc;
	} else if (!d->ring_enabled) {
		rc = -EINVAL;
	} else {
		sim_ring_teardown(hv, d);
		rc = 0;
	}
	sim_unlock(hv);
	return rc;
}

/*
 * vm_event_resume(): consume every response on the ring; a response with
 * VM_EVENT_FLAG_VCPU_PAUSED for a vCPU paused by a request unpauses it.
 * At most one ring's worth per call, so a consumer that writes a garbage
 * rsp_prod cannot make the hypervisor loop (Xen does not bound this).
 * Without a ring it fails with -ENODEV, patched or not: vCPUs paused on an
 * ENOMEM without a ring are released by sim_hv_enomem_resume() only.
 */
int sim_hv_domain_resume(struct sim_hv *hv, uint32_t domid)
{
	struct sim_dom *d = NULL;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	sim_lock(hv);
	rc = sim_vm_event_lookup(hv, domid, &d);
	if (rc) {
		rc = rc > 0 ? 0 : rc;
		goto out;
	}
	if (!d->ring_enabled) {
		/* vm_event resume needs a ring; ring-less ENOMEM waiters of the
		 * patched hypervisor are released by sim_hv_enomem_resume() only. */
		rc = -ENODEV;
		goto out;
	}
	for (unsigned int i = 0; i < RING_SIZE(&d->ring) &&
	     RING_HAS_UNCONSUMED_RESPONSES(&d->ring); i++) {
		vm_event_response_t rsp;
		struct sim_vcpu *v;

		memcpy(&rsp, RING_GET_RESPONSE(&d->ring, d->ring.rsp_cons), sizeof(rsp));
		d->ring.rsp_cons++;
		d->ring.sring->rsp_event = d->ring.rsp_cons + 1;
		sim_ring_wake_blocked(hv, d);
		if (rsp.version != VM_EVENT_INTERFACE_VERSION || rsp.vcpu_id >= d->nr_vcpus)
			continue;
		v = &d->vcpus[rsp.vcpu_id];
		if (v->vm_event_pause_count > 0 && (rsp.flags & VM_EVENT_FLAG_VCPU_PAUSED)) {
			v->vm_event_pause_count--;
			sim_vcpu_resumed(d, v);
		}
	}
	sim_wake_vcpus(hv);
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_enomem_waiters(struct sim_hv *hv, uint32_t *domids, unsigned int max)
{
	unsigned int n = 0;

	if (!hv->cfg.patched)
		return -ENOSYS;
	sim_lock(hv);
	for (uint32_t id = 1; id < SIM_DOMID_MAX && n < max; id++)
		if (hv->doms[id] && hv->doms[id]->enomem_waiter)
			domids[n++] = id;
	sim_unlock(hv);
	return (int)n;
}

int sim_hv_enomem_resume(struct sim_hv *hv, uint32_t domid)
{
	struct sim_dom *d;
	int rc = 0;

	if (!hv->cfg.patched)
		return -ENOSYS;
	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d) {
		rc = -ESRCH;
		goto out;
	}
	if (d->enomem_waiter) {
		for (uint32_t v = 0; v < d->nr_vcpus; v++) {
			if (d->vcpus[v].enomem_paused) {
				d->vcpus[v].enomem_paused = false;
				sim_vcpu_resumed(d, &d->vcpus[v]);
				rc++;
			}
		}
		d->enomem_waiter = false;
		sim_wake_vcpus(hv);
	}
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_get_param(struct sim_hv *hv, uint32_t domid, int param, uint64_t *value)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d)
		rc = -ESRCH;
	else if (d->type == SIM_DOM_PV || param < 0 || param >= HVM_NR_PARAMS)
		rc = -EINVAL;
	else
		*value = param == HVM_PARAM_SHARING_RING_PFN ? d->ring_gfn : 0;
	sim_unlock(hv);
	return rc;
}

/* ---- sharing ops -------------------------------------------------------------- */

/* The checks of mem_sharing_control(d, true): whether d may share. */
static int sim_sharing_allowed(struct sim_hv *hv, const struct sim_dom *d)
{
	bool hw_ok = hv->cfg.cpu_vmx || (hv->cfg.patched && hv->cfg.allow_svm_sharing);

	if (d->type == SIM_DOM_PV || !hw_ok)
		return -EOPNOTSUPP;
	/* HAP is always on for HVM/PVH guests here: no -ENODEV. */
	if (d->passthrough)
		return -EXDEV;
	return 0;
}

/* mem_sharing_control() */
static int sim_sharing_control(struct sim_hv *hv, struct sim_dom *d, bool enable)
{
	int rc = enable ? sim_sharing_allowed(hv, d) : 0;

	if (!rc)
		d->sharing_enabled = enable;
	return rc;
}

int sim_hv_memshr_control(struct sim_hv *hv, uint32_t domid, bool enable)
{
	struct sim_dom *d;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	rc = d ? sim_sharing_control(hv, d, enable) : -ESRCH;
	sim_unlock(hv);
	return rc;
}

/* rcu_lock_live_remote_domain_by_id() as called by dom0. */
static int sim_live_remote(struct sim_hv *hv, uint32_t domid, struct sim_dom **out)
{
	struct sim_dom *d = sim_dom_get(hv, domid);

	if (!d)
		return -ESRCH;
	if (domid == 0)
		return -EPERM;
	if (d->dying)
		return -EINVAL;
	*out = d;
	return 0;
}

/* The start of mem_sharing_memop(): look the domain up, enable implicitly. */
static int sim_memop_domain(struct sim_hv *hv, uint32_t domid, struct sim_dom **out)
{
	int rc = sim_live_remote(hv, domid, out);

	if (rc)
		return rc;
	if (!(*out)->sharing_enabled)
		return sim_sharing_control(hv, *out, true);
	return 0;
}

/* sim_memop_domain() without its side effect (enabling): what it would return. */
static int sim_memop_check(struct sim_hv *hv, uint32_t domid, struct sim_dom **out)
{
	int rc = sim_live_remote(hv, domid, out);

	if (rc || (*out)->sharing_enabled)
		return rc;
	return sim_sharing_allowed(hv, *out);
}

/* The client domain of share / add_physmap / range_share: must be enabled. */
static int sim_memop_client(struct sim_hv *hv, uint32_t domid, struct sim_dom **out)
{
	int rc = sim_live_remote(hv, domid, out);

	if (rc)
		return rc;
	return (*out)->sharing_enabled ? 0 : -EINVAL;
}

/* Remember gfn in d's ring of recent nominations (sim_write_aim's targets). */
static void sim_recent_nominated(struct sim_dom *d, uint64_t gfn)
{
	d->recent_nom[d->recent_pos] = gfn;
	d->recent_pos = (d->recent_pos + 1) % SIM_RECENT_NOMINATIONS;
	if (d->recent_n < SIM_RECENT_NOMINATIONS)
		d->recent_n++;
}

/*
 * What nominate_page() of (d, gfn) would do, for fault injection: 0 it
 * would fail; SIM_FC_CALL it would return the handle of an already shared
 * page; SIM_FC_CALL | SIM_FC_FRESH it would create a shared frame.
 */
static unsigned int sim_nominate_would(struct sim_hv *hv, const struct sim_dom *d, uint64_t gfn)
{
	const struct sim_p2m *e;

	if (gfn >= d->nr_gfns)
		return 0;
	e = &d->p2m[gfn];
	if (e->type == SIM_P2M_SHARED)
		return SIM_FC_CALL;
	if (e->type != SIM_P2M_RAM_RW || d->dying || hv->frames[e->mfn].map_refs)
		return 0;
	return SIM_FC_CALL | SIM_FC_FRESH;
}

/* nominate_page(d, gfn, expected_refcnt=0, validate_only=false) */
static int sim_nominate(struct sim_hv *hv, struct sim_dom *d, uint64_t gfn, uint64_t *handle)
{
	struct sim_p2m *e;
	struct sim_frame *f;
	struct sim_shared *s;
	uint32_t idx;

	*handle = 0;
	if (gfn >= d->nr_gfns || d->p2m[gfn].type == SIM_P2M_HOLE)
		return -EINVAL;
	e = &d->p2m[gfn];
	if (e->type == SIM_P2M_SHARED) {
		*handle = hv->shared[hv->frames[e->mfn].owner].handle;
		sim_recent_nominated(d, gfn);
		return 0;
	}
	if (e->type != SIM_P2M_RAM_RW)
		return -EINVAL;   /* p2m_is_sharable() / is_special_page() */
	f = &hv->frames[e->mfn];
	/* page_make_sharable() */
	if (d->dying)
		return -EBUSY;
	if (f->map_refs)
		return -E2BIG;   /* count_info beyond PGC_allocated + our own reference */
	s = sim_shared_alloc(hv, &idx);
	if (!s)
		return -ENOMEM;
	if (sim_rmap_add(hv, s, d, gfn)) {
		sim_shared_dispose(hv, idx);
		return -ENOMEM;
	}
	s->handle = hv->next_handle++;
	s->mfn = e->mfn;
	f->state = SIM_FRAME_SHARED;
	f->owner = idx;
	f->gfn = 0;
	d->tot_pages--;
	e->type = SIM_P2M_SHARED;
	e->logdirty = 0;
	hv->nr_shared++;
	*handle = s->handle;
	sim_recent_nominated(d, gfn);
	return 0;
}

/* share_pages() */
/* Whether a shared frame backs a gfn of a domain other than a and b. */
static bool sim_spans_other(const struct sim_shared *s, uint32_t a, uint32_t b)
{
	for (uint32_t i = 0; i < s->nr; i++)
		if (s->rmap[i].domid != a && s->rmap[i].domid != b)
			return true;
	return false;
}

/*
 * share_pages(), with Xen 4.17's lock-order BUG modelled: it holds the p2m
 * locks of sd and cd only (get_two_gfns) and the two page locks, then moves
 * every gfn of the client frame, so a client frame that also backs a gfn of
 * a third domain makes set_shared_p2m_entry() take that domain's p2m lock
 * under a page lock: "mm locking order violation: 24 > 16", BUG(), and the
 * host panics (release builds too).  Here: -EHOSTDOWN and hv->panic set,
 * which the server turns into the host going away.
 *
 * validate: check only, change nothing; 1 when the merge would happen, 0
 * when the two gfns are on one frame already, or the error.
 *
 * compare: the patched compare-and-share op (hypervisor-patch/ 0002) merges
 * the source frame into the client frame instead when only the client frame
 * spans other domains, and merges nothing here (XENSHARE_CMPSHR_SPANNED)
 * when both do: sim_merge_spanned() (0009) then moves the gfns one by one.  The plain share of a patched hypervisor (0008) cannot swap (the
 * caller expects the client gfns to move) and returns -EDEADLK.
 */
static int sim_share_pages(struct sim_hv *hv, struct sim_dom *sd, uint64_t sgfn, uint64_t sh,
			   struct sim_dom *cd, uint64_t cgfn, uint64_t ch, bool compare,
			   bool validate)
{
	uint64_t smfn = sim_gfn_mfn(sd, sgfn), cmfn = sim_gfn_mfn(cd, cgfn);
	struct sim_shared *sp, *cp;
	uint32_t cidx;

	if (smfn == cmfn)
		return 0;   /* "the pages are already 'shared'" (also two holes) */
	if (smfn < cmfn) {
		if (!(sp = sim_grab(hv, smfn)))
			return XENMEM_SHARING_OP_S_HANDLE_INVALID;
		if (!(cp = sim_grab(hv, cmfn)))
			return XENMEM_SHARING_OP_C_HANDLE_INVALID;
	} else {
		if (!(cp = sim_grab(hv, cmfn)))
			return XENMEM_SHARING_OP_C_HANDLE_INVALID;
		if (!(sp = sim_grab(hv, smfn)))
			return XENMEM_SHARING_OP_S_HANDLE_INVALID;
	}
	if (sp->handle != sh)
		return XENMEM_SHARING_OP_S_HANDLE_INVALID;
	if (cp->handle != ch)
		return XENMEM_SHARING_OP_C_HANDLE_INVALID;

	if (sim_spans_other(cp, sd->domid, cd->domid)) {
		if (!compare) {
			if (hv->cfg.patched)
				return -EDEADLK;
			if (validate)
				return -EHOSTDOWN;
			snprintf(hv->panic, sizeof(hv->panic),
				 "mm locking order violation: 24 > 16; Xen BUG at "
				 "arch/x86/mm/mm-locks.h:80 (share_pages: d%u gfn 0x%" PRIx64
				 " into d%u gfn 0x%" PRIx64 ": the client frame backs a gfn of "
				 "a third domain, whose p2m is not locked)",
				 cd->domid, cgfn, sd->domid, sgfn);
			return -EHOSTDOWN;
		}
		if (sim_spans_other(sp, sd->domid, cd->domid))
			return XENSHARE_CMPSHR_SPANNED;
		/* merge the source frame into the client frame */
		struct sim_shared *t = sp;

		sp = cp;
		cp = t;
		smfn = cmfn;
		cmfn = sim_gfn_mfn(sd, sgfn);
	}

	if (validate)
		return 1;   /* the merge would happen now */
	/* Make room first so the merge cannot fail half way. */
	if (sp->nr + cp->nr > sp->cap) {
		uint32_t cap = sp->cap ? sp->cap : 2;
		struct sim_gref *r;

		while (cap < sp->nr + cp->nr)
			cap *= 2;
		r = realloc(sp->rmap, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		sp->rmap = r;
		sp->cap = cap;
	}
	/* Merge the client's rmap into the source's; every client gfn moves over. */
	for (uint32_t i = 0; i < cp->nr; i++) {
		struct sim_gref *g = &cp->rmap[i];
		struct sim_dom *d = sim_dom_get(hv, g->domid);
		struct sim_p2m *e = &d->p2m[g->gfn];

		sp->rmap[sp->nr] = *g;
		e->rmap_idx = sp->nr;
		e->mfn = (uint32_t)smfn;
		sp->nr++;
	}
	sp->merged |= sp->nr > 1;
	cidx = hv->frames[cmfn].owner;
	cp->nr = 0;
	sim_shared_dispose(hv, cidx);
	sim_frame_release(hv, (uint32_t)cmfn);
	hv->nr_shared--;
	hv->nr_saved++;
	return 0;
}

int sim_hv_nominate_gfn(struct sim_hv *hv, uint32_t domid, uint64_t gfn, uint64_t *handle)
{
	struct sim_dom *d;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	*handle = 0;
	sim_lock(hv);
	/* a fault only where the nomination would succeed, before anything changes */
	if (!sim_memop_check(hv, domid, &d) && sim_nominate_would(hv, d, gfn)) {
		rc = sim_fault_fire(hv->faults, SIM_FOP_NOMINATE, sim_nominate_would(hv, d, gfn),
				    "d%u gfn 0x%" PRIx64, domid, gfn);
		if (rc)
			goto out;
	}
	rc = sim_memop_domain(hv, domid, &d);
	if (!rc)
		rc = sim_nominate(hv, d, gfn, handle);
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_share(struct sim_hv *hv, uint32_t sdom, uint64_t sgfn, uint64_t sh,
		 uint32_t cdom, uint64_t cgfn, uint64_t ch)
{
	struct sim_dom *sd, *cd;
	int rc = 0;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	sim_lock(hv);
	/* a fault only where the share would succeed, before anything changes */
	if (!sim_memop_check(hv, sdom, &sd) && !sim_memop_client(hv, cdom, &cd)) {
		int would = sim_share_pages(hv, sd, sgfn, sh, cd, cgfn, ch, false, true);

		if (would >= 0)
			rc = sim_fault_fire(hv->faults, SIM_FOP_SHARE,
					    SIM_FC_CALL | (would ? SIM_FC_MERGE : 0),
					    "d%u gfn 0x%" PRIx64 " into d%u gfn 0x%" PRIx64,
					    cdom, cgfn, sdom, sgfn);
		if (rc)
			goto out;
	}
	rc = sim_memop_domain(hv, sdom, &sd);
	if (!rc)
		rc = sim_memop_client(hv, cdom, &cd);
	if (!rc)
		rc = sim_share_pages(hv, sd, sgfn, sh, cd, cgfn, ch, false, false);
out:
	sim_unlock(hv);
	return rc;
}

/* add_to_physmap(): plug a hole of the client with the source's shared frame. */
int sim_hv_add_to_physmap(struct sim_hv *hv, uint32_t sdom, uint64_t sgfn,
			  uint64_t sh, uint32_t cdom, uint64_t cgfn)
{
	struct sim_dom *sd, *cd;
	struct sim_shared *sp;
	uint64_t smfn;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	sim_lock(hv);
	rc = sim_memop_domain(hv, sdom, &sd);
	if (!rc)
		rc = sim_memop_client(hv, cdom, &cd);
	if (rc)
		goto out;
	smfn = sim_gfn_mfn(sd, sgfn);
	sp = sim_grab(hv, smfn);
	if (!sp || sp->handle != sh) {
		rc = XENMEM_SHARING_OP_S_HANDLE_INVALID;
		goto out;
	}
	if (sim_gfn_mfn(cd, cgfn) != SIM_INVALID_MFN) {
		rc = XENMEM_SHARING_OP_C_HANDLE_INVALID;   /* not a hole */
		goto out;
	}
	rc = sim_p2m_grow(cd, cgfn + 1);
	if (rc)
		goto out;
	if (sim_oracle_is_gen(sd, sgfn) && !cd->oracle_gen) {
		/* the client will expect a generated key: it needs the bitmap */
		cd->oracle_gen = calloc((cd->nr_gfns + 63) / 64, sizeof(*cd->oracle_gen));
		if (!cd->oracle_gen) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = sim_rmap_add(hv, sp, cd, cgfn);
	if (rc)
		goto out;
	cd->p2m[cgfn].mfn = (uint32_t)smfn;
	cd->p2m[cgfn].type = SIM_P2M_SHARED;
	cd->nr_holes--;
	/* The client now reads what the source's guest last wrote there. */
	cd->oracle[cgfn] = sd->oracle[sgfn];
	sim_oracle_set_gen(cd, cgfn, sim_oracle_is_gen(sd, sgfn));
	hv->nr_saved++;
out:
	sim_unlock(hv);
	return rc;
}

/* range_share(): no content check at all (meant for clones of a paused parent). */
int sim_hv_range_share(struct sim_hv *hv, uint32_t sdom, uint32_t cdom,
		       uint64_t first_gfn, uint64_t last_gfn)
{
	struct sim_dom *sd, *cd;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	sim_lock(hv);
	rc = sim_memop_domain(hv, sdom, &sd);
	if (!rc)
		rc = sim_memop_client(hv, cdom, &cd);
	if (rc)
		goto out;
	/* "the client should keep the domains paused for the duration of this op" */
	if (!sd->pause_count || !cd->pause_count) {
		rc = -EINVAL;
		goto out;
	}
	/* domain_get_maximum_gpfn(): the highest gfn of the p2m */
	if (sd->nr_gfns == 0 || cd->nr_gfns == 0 ||
	    sd->nr_gfns - 1 < first_gfn || sd->nr_gfns - 1 < last_gfn ||
	    cd->nr_gfns - 1 < first_gfn || cd->nr_gfns - 1 < last_gfn) {
		rc = -EINVAL;
		goto out;
	}
	for (uint64_t g = first_gfn; g <= last_gfn; g++) {
		uint64_t h_s, h_c;

		rc = sim_nominate(hv, sd, g, &h_s);
		if (rc == -ENOMEM)
			break;
		if (!rc) {
			rc = sim_nominate(hv, cd, g, &h_c);
			if (rc == -ENOMEM)
				break;
			if (!rc)
				rc = sim_share_pages(hv, sd, g, h_s, cd, g, h_c, false, false);
		}
		if (rc == -EHOSTDOWN || g == UINT64_MAX)
			break;  /* the host panicked: nothing runs after that */
	}
	/* "The last page may fail with -EINVAL, and for range sharing we don't
	 * care"; patched, -EDEADLK (a client frame spanning a third domain) too */
	if (rc == -EINVAL || rc == -EDEADLK)
		rc = 0;
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_debug_gfn(struct sim_hv *hv, uint32_t domid, uint64_t gfn)
{
	struct sim_dom *d;
	struct sim_shared *s;
	int rc;

	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	sim_lock(hv);
	rc = sim_memop_domain(hv, domid, &d);
	if (!rc) {
		s = sim_grab(hv, sim_gfn_mfn(d, gfn));
		rc = s ? (int)s->nr : -EINVAL;
	}
	sim_unlock(hv);
	return rc;
}

const char *sim_hv_panic_reason(struct sim_hv *hv)
{
	const char *p;

	sim_lock(hv);
	p = hv->panic[0] ? hv->panic : NULL;
	sim_unlock(hv);
	return p;
}

long sim_hv_sharing_freed_pages(struct sim_hv *hv)
{
	long n;

	sim_lock(hv);
	n = hv->nr_saved;
	sim_unlock(hv);
	return n;
}

long sim_hv_sharing_used_frames(struct sim_hv *hv)
{
	long n;

	sim_lock(hv);
	n = hv->nr_shared;
	sim_unlock(hv);
	return n;
}

int sim_hv_recent_nominations(struct sim_hv *hv, uint32_t domid, uint64_t *gfns,
			      unsigned int max)
{
	struct sim_dom *d;
	unsigned int n = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d) {
		sim_unlock(hv);
		return -ESRCH;
	}
	for (; n < max && n < d->recent_n; n++)
		gfns[n] = d->recent_nom[(d->recent_pos + SIM_RECENT_NOMINATIONS - 1 - n) %
					SIM_RECENT_NOMINATIONS];
	sim_unlock(hv);
	return (int)n;
}

long sim_hv_shared_gfns(struct sim_hv *hv, uint32_t domid, uint64_t **gfns)
{
	struct sim_dom *d;
	uint64_t *out = NULL;
	long n = 0;

	*gfns = NULL;
	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d) {
		n = -ESRCH;
		goto out;
	}
	if (!d->shr_pages)
		goto out;
	out = malloc(d->shr_pages * sizeof(*out));
	if (!out) {
		n = -ENOMEM;
		goto out;
	}
	for (uint64_t gfn = 0; gfn < d->nr_gfns && (uint64_t)n < d->shr_pages; gfn++)
		if (d->p2m[gfn].type == SIM_P2M_SHARED)
			out[n++] = gfn;
	*gfns = out;
out:
	sim_unlock(hv);
	return n;
}

void sim_hv_get_residue(struct sim_hv *hv, struct sim_hv_residue *out)
{
	memset(out, 0, sizeof(*out));
	sim_lock(hv);
	for (const struct sim_map_owner *o = hv->owners; o; o = o->next)
		out->foreign_mappings += o->used;
	for (uint32_t i = 0; i < hv->shared_cap; i++)
		if (hv->shared[i].handle && hv->shared[i].nr == 1) {
			out->nominated_unshared++;
			out->nominated_unmerged += !hv->shared[i].merged;
		}
	out->freed_pages = (uint64_t)hv->nr_saved;
	out->used_frames = (uint64_t)hv->nr_shared;
	out->unshare_enomem = hv->nr_unshare_enomem;
	out->frame_merge_preemptions = hv->frame_merge_preemptions;
	for (uint32_t id = 0; id < SIM_DOMID_MAX; id++)
		if (hv->doms[id])
			out->sum_shr_pages += hv->doms[id]->shr_pages;
	sim_unlock(hv);
}

/* ---- the list of shared frames ------------------------------------------------ */

struct sim_slot_key { uint32_t mfn, idx; };

static int sim_slot_key_cmp(const void *a, const void *b)
{
	const struct sim_slot_key *x = a, *y = b;

	return x->mfn < y->mfn ? -1 : x->mfn > y->mfn;
}

static int sim_sharer_cmp(const void *a, const void *b)
{
	const struct sim_hv_sharer *x = a, *y = b;

	if (x->domid != y->domid)
		return x->domid < y->domid ? -1 : 1;
	return x->gfn < y->gfn ? -1 : x->gfn > y->gfn;
}

long sim_hv_shared_frames(struct sim_hv *hv, void **out, size_t *len)
{
	struct sim_slot_key *keys = NULL;
	uint8_t *buf = NULL, *p;
	size_t size;
	long n = 0;

	*out = NULL;
	*len = 0;
	sim_lock(hv);
	/* every rmap entry is a sharer: sum(shr_pages) = saved + shared */
	size = (size_t)hv->nr_shared * sizeof(struct sim_hv_frame_rec) +
	       (size_t)(hv->nr_saved + hv->nr_shared) * sizeof(struct sim_hv_sharer);
	keys = malloc(((size_t)hv->nr_shared + 1) * sizeof(*keys));
	buf = malloc(size ? size : 1);
	if (!keys || !buf) {
		n = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < hv->shared_cap && n < hv->nr_shared; i++)
		if (hv->shared[i].handle)
			keys[n++] = (struct sim_slot_key){ hv->shared[i].mfn, i };
	qsort(keys, (size_t)n, sizeof(*keys), sim_slot_key_cmp);
	p = buf;
	for (long k = 0; k < n; k++) {
		const struct sim_shared *s = &hv->shared[keys[k].idx];
		struct sim_hv_frame_rec rec = { .mfn = s->mfn, .handle = s->handle,
						.nr_sharers = s->nr };
		struct sim_hv_sharer *sh;

		memcpy(p, &rec, sizeof(rec));
		p += sizeof(rec);
		sh = (struct sim_hv_sharer *)p;
		for (uint32_t j = 0; j < s->nr; j++)
			sh[j] = (struct sim_hv_sharer){ .domid = s->rmap[j].domid,
							.gfn = s->rmap[j].gfn };
		qsort(sh, s->nr, sizeof(*sh), sim_sharer_cmp);
		p += (size_t)s->nr * sizeof(*sh);
	}
	*len = (size_t)(p - buf);
	*out = buf;
	buf = NULL;
out:
	sim_unlock(hv);
	free(keys);
	free(buf);
	return n;
}

/* ---- the patched hypervisor's batched compare-and-share --------------------- */

/* Full 4 KiB compare; generated frames with the same key are equal unseen. */
static bool sim_frames_equal(struct sim_hv *hv, uint32_t a, uint32_t b)
{
	static _Thread_local uint8_t buf_a[SIM_PAGE_SIZE], buf_b[SIM_PAGE_SIZE];

	if (hv->frames[a].gen && hv->frames[a].gen == hv->frames[b].gen)
		return true;
	return memcmp(sim_frame_content(hv, a, buf_a), sim_frame_content(hv, b, buf_b),
		      SIM_PAGE_SIZE) == 0;
}

#define SIM_SPANNED_PREEMPT_EVERY 64   /* 0009's SPANNED_PREEMPT_EVERY */

/* The frame a pair's gfn is on, if that gfn is shared; else SIM_INVALID_MFN. */
static uint64_t sim_pair_frame(struct sim_hv *hv, uint32_t domid, uint64_t gfn)
{
	struct sim_dom *d = sim_dom_get(hv, domid);

	if (!d || gfn >= d->nr_gfns || d->p2m[gfn].type != SIM_P2M_SHARED)
		return SIM_INVALID_MFN;
	return d->p2m[gfn].mfn;
}

/*
 * One step of 0009's move_one_shared_gfn(), under the lock: move one gfn
 * of frame from (the pair's own gfn there last) to frame to.  0 with
 * *emptied, or the pair's result.
 */
static int sim_move_one_gfn(struct sim_hv *hv, uint64_t from, uint64_t to,
			    uint32_t pair_dom, uint64_t pair_gfn, int from_gone,
			    int to_gone, bool *emptied)
{
	struct sim_shared *fs = sim_grab(hv, from), *ts = sim_grab(hv, to);
	struct sim_gref g = { .domid = pair_dom, .gfn = pair_gfn };
	struct sim_dom *d;
	uint32_t fidx;

	if (!fs)
		return from_gone;
	if (!ts)
		return to_gone;
	if (!sim_frames_equal(hv, (uint32_t)from, (uint32_t)to))
		return XENSHARE_CMPSHR_DIFFERENT;
	for (uint32_t i = 0; i < fs->nr; i++)
		if (fs->rmap[i].domid != pair_dom || fs->rmap[i].gfn != pair_gfn) {
			g = fs->rmap[i];
			break;
		}
	d = sim_dom_get(hv, g.domid);
	if (!d || g.gfn >= d->nr_gfns || d->p2m[g.gfn].type != SIM_P2M_SHARED ||
	    d->p2m[g.gfn].mfn != from)
		return from_gone;
	if (ts->nr == ts->cap) {
		/* room first, so that the move cannot fail half way */
		uint32_t cap = ts->cap ? ts->cap * 2 : 2;
		struct sim_gref *r = realloc(ts->rmap, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		ts->rmap = r;
		ts->cap = cap;
	}
	sim_rmap_del(hv, fs, d, g.gfn);
	(void)sim_rmap_add(hv, ts, d, g.gfn);
	d->p2m[g.gfn].mfn = (uint32_t)to;
	*emptied = fs->nr == 0;
	if (*emptied) {
		fidx = hv->frames[from].owner;
		sim_shared_dispose(hv, fidx);
		sim_frame_release(hv, (uint32_t)from);
		hv->nr_shared--;
		hv->nr_saved++;
	}
	return 0;
}

/*
 * 0009's share_spanned_frames(): the frame with fewer gfns is emptied into
 * the other one gfn at a time; the lock is dropped every
 * SIM_SPANNED_PREEMPT_EVERY gfns, and each step looks both frames up again
 * through the pair's gfns.  Called and returning with the lock held.
 */
static int sim_merge_spanned(struct sim_hv *hv, const xenshare_cmpshr_pair_t *p)
{
	uint32_t from_dom = p->client_domain, to_dom = p->source_domain;
	uint64_t from_gfn = p->client_gfn, to_gfn = p->source_gfn;
	int from_gone = XENMEM_SHARING_OP_C_HANDLE_INVALID;
	int to_gone = XENMEM_SHARING_OP_S_HANDLE_INVALID;
	uint64_t smfn = sim_pair_frame(hv, to_dom, to_gfn);
	uint64_t cmfn = sim_pair_frame(hv, from_dom, from_gfn);
	unsigned long moved = 0;

	if (smfn == SIM_INVALID_MFN)
		return to_gone;
	if (cmfn == SIM_INVALID_MFN)
		return from_gone;
	if (sim_grab(hv, cmfn)->nr > sim_grab(hv, smfn)->nr) {
		from_dom = p->source_domain;
		from_gfn = p->source_gfn;
		to_dom = p->client_domain;
		to_gfn = p->client_gfn;
		from_gone = XENMEM_SHARING_OP_S_HANDLE_INVALID;
		to_gone = XENMEM_SHARING_OP_C_HANDLE_INVALID;
	}
	for (;;) {
		uint64_t from = sim_pair_frame(hv, from_dom, from_gfn);
		uint64_t to = sim_pair_frame(hv, to_dom, to_gfn);
		bool emptied = false;
		int rc;

		if (from == SIM_INVALID_MFN)
			return from_gone;
		if (to == SIM_INVALID_MFN)
			return to_gone;
		if (from == to)
			return XENSHARE_CMPSHR_SHARED;
		rc = sim_move_one_gfn(hv, from, to, from_dom, from_gfn, from_gone, to_gone,
				      &emptied);
		if (rc)
			return rc;
		if (emptied)
			return XENSHARE_CMPSHR_SHARED;
		if (!(++moved % SIM_SPANNED_PREEMPT_EVERY)) {
			/* hypercall_preempt_check(): other work runs meanwhile */
			bool punching = hv->punch_batch;

			hv->frame_merge_preemptions++;
			/* no frame may sit unpunched on the free list unlocked */
			if (punching)
				sim_punch_flush(hv);
			sim_unlock(hv);
			sched_yield();
			sim_lock(hv);
			if (punching)
				sim_punch_begin(hv, hv->punch_cap);
		}
	}
}

static int sim_cmpshr_one(struct sim_hv *hv, xenshare_cmpshr_pair_t *p)
{
	struct sim_dom *sd, *cd;
	uint64_t sh, ch;
	uint64_t smfn, cmfn;
	int rc;

	/*
	 * A fault (armed per pair by sim_hv_compare_share()) as one of the
	 * pair's two nominations would fail, before the first that would
	 * create a shared frame: the pair leaves no trace.
	 */
	if (!sim_memop_check(hv, p->source_domain, &sd) &&
	    !sim_memop_check(hv, p->client_domain, &cd)) {
		unsigned int s_would = sim_nominate_would(hv, sd, p->source_gfn);
		unsigned int c_would = sim_nominate_would(hv, cd, p->client_gfn);
		bool s_fresh = s_would & SIM_FC_FRESH;

		rc = 0;
		if (s_would && c_would && (s_fresh || (c_would & SIM_FC_FRESH)))
			rc = sim_fault_fire(hv->faults, SIM_FOP_COMPARE_SHARE_PAIR, SIM_FC_FRESH,
					    "nominate of d%u gfn 0x%" PRIx64,
					    s_fresh ? p->source_domain : p->client_domain,
					    s_fresh ? (uint64_t)p->source_gfn : (uint64_t)p->client_gfn);
		if (rc)
			return rc;
	}
	rc = sim_memop_domain(hv, p->source_domain, &sd);
	if (!rc)
		rc = sim_memop_domain(hv, p->client_domain, &cd);
	if (!rc)
		rc = sim_nominate(hv, sd, p->source_gfn, &sh);
	if (!rc)
		rc = sim_nominate(hv, cd, p->client_gfn, &ch);
	if (rc)
		return rc;
	smfn = sim_gfn_mfn(sd, p->source_gfn);
	cmfn = sim_gfn_mfn(cd, p->client_gfn);
	if (smfn == cmfn)
		return XENSHARE_CMPSHR_SHARED;
	/* Both frames are shared (read-only to every guest) and we hold the lock. */
	if (!sim_frames_equal(hv, (uint32_t)smfn, (uint32_t)cmfn))
		return XENSHARE_CMPSHR_DIFFERENT;
	rc = sim_share_pages(hv, sd, p->source_gfn, sh, cd, p->client_gfn, ch, true, false);
	if (rc == XENSHARE_CMPSHR_SPANNED)
		return sim_merge_spanned(hv, p);
	return rc ? rc : XENSHARE_CMPSHR_SHARED;
}

int sim_hv_compare_share(struct sim_hv *hv, struct xenshare_cmpshr_pair *pairs, unsigned int n)
{
	if (hv->cfg.no_mem_sharing)
		return -ENOSYS;
	if (!hv->cfg.patched)
		return -ENOSYS;
	if (n > XENSHARE_CMPSHR_MAX_BATCH || (n && !pairs))
		return -EINVAL;
	sim_lock(hv);
	/* A pair frees at most its client's frame and allocates none: the
	 * batch's frames are punched together, in sorted runs. */
	sim_punch_begin(hv, n);
	for (unsigned int i = 0; i < n; i++) {
		sim_fault_arm(hv->faults, SIM_FOP_COMPARE_SHARE_PAIR);
		pairs[i].result = sim_cmpshr_one(hv, &pairs[i]);
		sim_fault_disarm(hv->faults);
	}
	sim_punch_flush(hv);
	sim_unlock(hv);
	return 0;
}
