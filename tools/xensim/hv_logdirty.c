/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_logdirty.c - log-dirty mode of the simulated Xen 4.17 hypervisor:
 * XEN_DOMCTL_shadow_op's log-dirty operations (ENABLE_LOGDIRTY, OFF, CLEAN,
 * PEEK) and XEN_DMOP_modified_memory, as xen/arch/x86/mm/paging.c,
 * mm/hap/hap.c and hvm/dm.c run them for an HVM or PVH guest.
 *
 * DOC: Overview
 *
 * A domain in log-dirty mode (d->logdirty, paging_mode_log_dirty()) has a
 * bitmap with one bit per gfn, allocated at the first mark as Xen's
 * four-level tree is, and freed by OFF.  What sets a bit:
 *  - a guest write to a p2m_ram_logdirty entry (sim_p2m.logdirty): enable
 *    and every CLEAN write-protect all ram_rw entries of the p2m
 *    (p2m_change_entry_type_global(ram_rw -> logdirty)); the first write
 *    to such a page is a write fault that marks it and makes the entry
 *    ram_rw again (hvm_hap_nested_page_fault()), later writes cost
 *    nothing until the next CLEAN.  Those faults are counted per domain
 *    (logdirty_faults), the cost log-dirty mode puts on a guest;
 *  - any unshare of a shared gfn (mem_sharing.c's private_page_found path
 *    calls paging_mark_dirty()): a guest write to it, a writable foreign
 *    mapping of it, modified_memory, a balloon giving it back;
 *  - XEN_DMOP_modified_memory of a pfn the p2m maps as RAM, shared or not:
 *    a shared one is unshared first (get_page_from_gfn(P2M_UNSHARE)), and
 *    marked even when that unshare found no memory and it stays shared.
 * What does not: a write through a foreign mapping (dom0's own page
 * tables, not the guest's p2m: for a paging_mode_external() guest,
 * put_page_from_l1e() marks nothing, mm.c), nominate and share.
 *
 * CLEAN and PEEK follow paging_log_dirty_op(): the stats are the counters
 * (fault_count is the shadow code's, always 0 for a HAP guest;
 * dirty_count the bits that went 0 -> 1 since the last CLEAN); the bitmap
 * goes out a byte per 8 pfns for ceil(pages / 8) bytes (a null handle
 * copies nothing); pages comes back unchanged unless it exceeds what the
 * tree can address (2^42 pfns).  CLEAN then clears every bitmap leaf it
 * walked -- a 32768-pfn leaf is cleared whole even when pages ends inside
 * it -- zeroes both counters and write-protects the p2m again (ops->clean,
 * even when the domain is not in log-dirty mode).  OFF frees the bitmap
 * and makes the p2m ram_rw again, but leaves dirty_count alone: a CLEAN
 * after OFF still reports the old count.  The domain is paused for each op
 * in Xen; here the host lock keeps every guest write out of it, which is
 * the same to an observer.
 *
 * Errors, in paging_domctl()'s order: -ESRCH no such domain; -EINVAL dom0
 * (a paging op on the caller itself); enable: -EINVAL with a passthrough
 * device (the p2m is shared with the IOMMU) or when already in log-dirty
 * mode, -EOPNOTSUPP for a PV guest (Debian's hypervisor is built without
 * shadow paging, whose stub refuses); OFF of a PV guest: -EINVAL (the
 * shadow_domctl() stub, after the disable itself succeeded); CLEAN/PEEK
 * with a mode other than XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL: -EINVAL; CLEAN
 * and PEEK of a PV guest succeed with an empty bitmap.  The paging pool
 * ops (GET/SET_ALLOCATION) are not simulated: -ENOSYS.
 *
 * Invariant (sim_logdirty_audit()): while a domain is in log-dirty mode
 * and no mark was lost for want of memory, every ram_rw gfn is either
 * write-protected or has its bit set -- a page the guest may have written
 * since the last CLEAN is dirty.  The bitmap exists only in log-dirty mode.
 *
 * DOC: Where the model differs from Xen 4.17
 *
 *  - Intel PML (on by default where the CPU has it) logs first writes in
 *    hardware and exits once per 512 of them; logdirty_faults counts the
 *    first writes, what a CPU without PML takes as EPT faults.
 *  - FINAL's hvm_mapped_guest_frames_mark_dirty() marks nothing: Xen maps
 *    no guest frame of its own here (no vCPU state, no ioreq pages).
 *  - Ops are never preempted, so the -EBUSY of a continuation in progress
 *    and -ERESTART do not happen; a dying domain cannot be observed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_internal.h"
#include "hv_logdirty.h"
#include "hv_share.h"

#include <xen/domctl.h>   /* after hv_internal.h: it needs <stdint.h> and __XEN_TOOLS__ */

#define SIM_LD_LEAF_PFNS (SIM_PAGE_SIZE * 8ULL)   /* pfns per leaf page of the tree */
#define SIM_LD_NODE_ENTRIES 512ULL                /* LOGDIRTY_NODE_ENTRIES */
/* Every pfn the four-level tree can address: sc->pages is capped to it. */
#define SIM_LD_MAX_PFNS \
	(SIM_LD_NODE_ENTRIES * SIM_LD_NODE_ENTRIES * SIM_LD_NODE_ENTRIES * SIM_LD_LEAF_PFNS)

static bool sim_ld_test(const struct sim_dom *d, uint64_t gfn)
{
	return d->dirty_bitmap && (d->dirty_bitmap[gfn / 64] >> (gfn % 64) & 1);
}

/* p2m_change_entry_type_global(ram_rw <-> ram_logdirty) */
static void sim_ld_protect_all(struct sim_dom *d, bool protect)
{
	for (uint64_t g = 0; g < d->nr_gfns; g++)
		if (d->p2m[g].type == SIM_P2M_RAM_RW)
			d->p2m[g].logdirty = protect;
}

/* paging_log_dirty_enable(d, log_global = true) */
static int sim_ld_enable(struct sim_dom *d)
{
	if (d->passthrough)
		return -EINVAL;   /* the p2m is shared with the IOMMU */
	if (d->logdirty)
		return -EINVAL;
	if (d->type == SIM_DOM_PV)
		return -EOPNOTSUPP;   /* shadow/none.c: no shadow paging in Debian's build */
	d->logdirty = true;   /* hap_enable_log_dirty() */
	sim_ld_protect_all(d, true);
	return 0;
}

/* paging_log_dirty_disable(d, resuming = false) */
static void sim_ld_disable(struct sim_dom *d)
{
	if (d->logdirty) {
		d->logdirty = false;   /* hap_disable_log_dirty() */
		sim_ld_protect_all(d, false);
	}
	sim_logdirty_free(d);
}

/* What the op does after the log-dirty code: hap_domctl(), or the PV stub. */
static int sim_ld_paging_domctl(const struct sim_dom *d, uint32_t op)
{
	if (d->type == SIM_DOM_PV)
		return -EINVAL;   /* shadow_domctl() without CONFIG_SHADOW_PAGING */
	switch (op) {
	case XEN_DOMCTL_SHADOW_OP_OFF:
		return 0;
	case XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION:
	case XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION:
		return -ENOSYS;   /* the HAP paging pool is not simulated */
	default:
		return -EINVAL;   /* "Bad hap domctl op" */
	}
}

/* Clear bits [0, n) of the bitmap. */
static void sim_ld_clear(struct sim_dom *d, uint64_t n)
{
	if (!d->dirty_bitmap)
		return;
	if (n > d->nr_gfns)
		n = d->nr_gfns;
	memset(d->dirty_bitmap, 0, (size_t)(n / 64) * sizeof(*d->dirty_bitmap));
	if (n % 64)
		d->dirty_bitmap[n / 64] &= ~((1ULL << (n % 64)) - 1);
}

/* paging_log_dirty_op() */
static int sim_ld_op(struct sim_dom *d, struct sim_shadow_op *sc, uint8_t **bitmap,
		     size_t *bitmap_len)
{
	bool clean = sc->op == XEN_DOMCTL_SHADOW_OP_CLEAN;
	uint64_t pages = sc->pages < SIM_LD_MAX_PFNS ? sc->pages : SIM_LD_MAX_PFNS;
	uint64_t copied = (pages + 7) / 8;   /* bytes Xen copies to the handle */
	uint64_t present = (d->nr_gfns + 7) / 8;

	sc->fault_count = 0;   /* the shadow code's count; HAP never raises it */
	sc->dirty_count = d->dirty_count < UINT32_MAX ? (uint32_t)d->dirty_count : UINT32_MAX;
	if (d->dirty_failed_allocs) {
		fprintf(stderr, "xensim hv: %u failed page allocs while logging dirty pages of d%u\n",
			d->dirty_failed_allocs, d->domid);
		return -ENOMEM;
	}
	if (bitmap) {
		size_t n = (size_t)(copied < present ? copied : present);

		if (n) {
			*bitmap = calloc(n, 1);
			if (!*bitmap)
				return -ENOMEM;   /* before anything changed */
			/* x86: a bitmap of unsigned longs is this byte string */
			if (d->dirty_bitmap)
				memcpy(*bitmap, d->dirty_bitmap, n);
		}
		*bitmap_len = n;
	}
	sc->pages = pages;
	if (clean) {
		/* every leaf the walk touched is cleared whole */
		sim_ld_clear(d, (pages + SIM_LD_LEAF_PFNS - 1) / SIM_LD_LEAF_PFNS * SIM_LD_LEAF_PFNS);
		d->dirty_count = 0;
		if (d->type != SIM_DOM_PV)
			sim_ld_protect_all(d, true);   /* hap_clean_dirty_bitmap() */
	}
	return 0;
}

int sim_hv_shadow_op(struct sim_hv *hv, uint32_t domid, struct sim_shadow_op *sc,
		     uint8_t **bitmap, size_t *bitmap_len)
{
	struct sim_dom *d;
	int rc;

	if (bitmap) {
		*bitmap = NULL;
		*bitmap_len = 0;
	}
	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d) {
		rc = -ESRCH;
		goto out;
	}
	if (domid == 0) {
		rc = -EINVAL;   /* "Tried to do a paging op on itself" */
		goto out;
	}
	switch (sc->op) {
	case XEN_DOMCTL_SHADOW_OP_ENABLE:
		if (!(sc->mode & XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY)) {
			rc = sim_ld_paging_domctl(d, sc->op);
			break;
		}
		/* fall through */
	case XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY:
		rc = sim_ld_enable(d);
		break;
	case XEN_DOMCTL_SHADOW_OP_OFF:
		sim_ld_disable(d);
		rc = sim_ld_paging_domctl(d, sc->op);
		break;
	case XEN_DOMCTL_SHADOW_OP_CLEAN:
	case XEN_DOMCTL_SHADOW_OP_PEEK:
		rc = sc->mode & ~XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL ? -EINVAL :
		     sim_ld_op(d, sc, bitmap, bitmap_len);
		break;
	default:
		rc = sim_ld_paging_domctl(d, sc->op);
		break;
	}
out:
	sim_unlock(hv);
	return rc;
}

/* get_page_from_gfn(P2M_UNSHARE) and the mark of modified_memory(), for one pfn. */
static void sim_ld_modified(struct sim_hv *hv, struct sim_dom *d, uint64_t pfn)
{
	struct sim_p2m *e = &d->p2m[pfn];

	if (e->type == SIM_P2M_HOLE)
		return;   /* no page: nothing marked */
	if (e->type == SIM_P2M_SHARED && sim_share_unshare(hv, d, pfn) == -ENOMEM)
		/* still shared: the helper is told (no vCPU waits), the page is marked */
		sim_share_enomem(hv, d, 0, pfn, false);
	sim_logdirty_mark(d, pfn);
}

int sim_hv_modified_memory(struct sim_hv *hv, uint32_t domid,
			   const struct sim_dm_extent *extents, unsigned int n)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d) {
		rc = -ESRCH;
		goto out;
	}
	if (domid == 0) {
		rc = -EPERM;   /* rcu_lock_remote_domain_by_id() of the caller */
		goto out;
	}
	if (d->type == SIM_DOM_PV) {
		rc = -EINVAL;   /* dm_op is for HVM guests */
		goto out;
	}
	if (!d->logdirty)
		goto out;
	/* the last extent first, as Xen walks them */
	for (unsigned int r = n; r > 0; r--) {
		const struct sim_dm_extent *x = &extents[r - 1];
		uint64_t end = x->first_pfn + x->nr;

		/* domain_get_maximum_gpfn(): the highest gfn, which cannot be marked */
		if (x->pad || end <= x->first_pfn || !d->nr_gfns || end > d->nr_gfns - 1) {
			rc = -EINVAL;
			goto out;
		}
		for (uint64_t pfn = x->first_pfn; pfn < end; pfn++)
			sim_ld_modified(hv, d, pfn);
	}
out:
	sim_unlock(hv);
	return rc;
}

#define LD_AUDIT_ERR(...) do { errors++; fprintf(stderr, "xensim hv: audit: " __VA_ARGS__); } while (0)

/* The invariants of the overview, for sim_hv_audit(); returns the errors found. */
int sim_logdirty_audit(const struct sim_dom *d)
{
	int errors = 0;

	if (d->dirty_bitmap && !d->logdirty)
		LD_AUDIT_ERR("d%u has a dirty bitmap outside log-dirty mode\n", d->domid);
	for (uint64_t g = 0; g < d->nr_gfns; g++) {
		const struct sim_p2m *e = &d->p2m[g];

		if (e->logdirty && e->type != SIM_P2M_RAM_RW)
			LD_AUDIT_ERR("d%u gfn 0x%llx: logdirty type on a non-ram_rw entry\n",
				     d->domid, (unsigned long long)g);
		if (d->logdirty && !d->dirty_failed_allocs && e->type == SIM_P2M_RAM_RW &&
		    !e->logdirty && !sim_ld_test(d, g))
			LD_AUDIT_ERR("d%u gfn 0x%llx: writable but not dirty (a lost dirty page)\n",
				     d->domid, (unsigned long long)g);
	}
	return errors;
}
