/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logdirty_ut.c - log-dirty mode of libsimhv (tools/xensim/hv_logdirty.c)
 * against Xen 4.17's paging.c, hap.c, dm.c and mem_sharing.c: one test per
 * rule.  Every test ends with the audit walk, whose log-dirty invariant
 * (a page the guest may have written since the last CLEAN is dirty) fails
 * a model that loses a mark.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../../tools/xensim/hv_internal.h"

#include <xen/domctl.h>

/* ---- helpers ------------------------------------------------------------- */

static struct sim_hv *mk_hv_frames(uint64_t frames)
{
	struct sim_hv_config cfg = {
		.nr_frames = frames, .dom0_pages = 16, .cpu_vmx = true, .debug_build = true,
	};
	struct sim_hv *hv = NULL;

	CU_ASSERT_FATAL(sim_hv_create(&cfg, &hv) == 0);
	return hv;
}

static uint32_t mk_dom_spec(struct sim_hv *hv, enum sim_dom_type type, uint64_t pages,
			    bool passthrough)
{
	static int n;
	struct sim_dom_spec spec;
	uint32_t domid = 0;

	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "ld-%d", n++);
	spec.type = type;
	spec.nr_pages = pages;
	spec.vcpus = 1;
	spec.passthrough = passthrough;
	CU_ASSERT_FATAL(sim_hv_domain_create(hv, &spec, &domid) == 0);
	return domid;
}

static uint32_t mk_dom(struct sim_hv *hv, uint64_t pages)
{
	return mk_dom_spec(hv, SIM_DOM_HVM, pages, false);
}

static void fill(struct sim_hv *hv, uint32_t dom, uint64_t gfn, int byte)
{
	uint8_t page[SIM_PAGE_SIZE];

	memset(page, byte, sizeof(page));
	CU_ASSERT(sim_hv_guest_write(hv, dom, 0, gfn, 0, page, sizeof(page)) == 0);
}

static int op(struct sim_hv *hv, uint32_t dom, uint32_t sop, uint32_t mode)
{
	struct sim_shadow_op sc = { .op = sop, .mode = mode };

	return sim_hv_shadow_op(hv, dom, &sc, NULL, NULL);
}

/*
 * CLEAN or PEEK of pages pages; the bitmap (ceil(pages/8) bytes, zero beyond
 * what the model sent) into bits, at most max bytes.  Returns the op's rc.
 */
static int logdirty(struct sim_hv *hv, uint32_t dom, uint32_t sop, uint64_t pages,
		    uint8_t *bits, size_t max, struct sim_shadow_op *out)
{
	struct sim_shadow_op sc = { .op = sop, .pages = pages };
	uint8_t *b = NULL;
	size_t len = 0;
	int rc = sim_hv_shadow_op(hv, dom, &sc, bits ? &b : NULL, &len);

	if (bits) {
		memset(bits, 0, max);
		CU_ASSERT(len <= (pages + 7) / 8);
		memcpy(bits, b, len < max ? len : max);
		free(b);
	}
	if (out)
		*out = sc;
	return rc;
}

static int bit(const uint8_t *bits, uint64_t pfn)
{
	return bits[pfn / 8] >> (pfn % 8) & 1;
}

static unsigned int popcount(const uint8_t *bits, size_t len)
{
	unsigned int n = 0;

	for (size_t i = 0; i < len; i++)
		n += (unsigned int)__builtin_popcount(bits[i]);
	return n;
}

static struct sim_dominfo info(struct sim_hv *hv, uint32_t dom)
{
	struct sim_dominfo di;

	memset(&di, 0, sizeof(di));
	CU_ASSERT(sim_hv_domain_getinfo(hv, dom, 1, &di) == 1 && di.domid == dom);
	return di;
}

static uint64_t nominate(struct sim_hv *hv, uint32_t dom, uint64_t gfn)
{
	uint64_t h = 0;

	CU_ASSERT(sim_hv_nominate_gfn(hv, dom, gfn, &h) == 0);
	return h;
}

static void share(struct sim_hv *hv, uint32_t a, uint64_t ga, uint32_t b, uint64_t gb)
{
	uint64_t ha = nominate(hv, a, ga), hb = nominate(hv, b, gb);

	CU_ASSERT(sim_hv_share(hv, a, ga, ha, b, gb, hb) == 0);
}

static int mark(struct sim_hv *hv, uint32_t dom, uint64_t first, uint32_t nr)
{
	struct sim_dm_extent x = { .first_pfn = first, .nr = nr };

	return sim_hv_modified_memory(hv, dom, &x, 1);
}

static void done(struct sim_hv *hv)
{
	CU_ASSERT(sim_hv_audit(hv) == 0);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	sim_hv_destroy(hv);
}

/* ---- the shadow op's errors ---------------------------------------------- */

/*
 * paging_domctl()'s answers: enable twice is -EINVAL (someone holds it),
 * OFF works whatever the mode, ENABLE needs the LOG_DIRTY mode flag, CLEAN
 * and PEEK take no mode but FINAL, dom0 is the caller itself (-EINVAL), a
 * missing domain -ESRCH, a passthrough guest cannot log (-EINVAL), and the
 * paging pool ops are not simulated (-ENOSYS).
 */
static void test_shadow_op_errors(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t d = mk_dom(hv, 16), pt = mk_dom_spec(hv, SIM_DOM_PVH, 16, true);

	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	CU_ASSERT(info(hv, d).logdirty == 1);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == -EINVAL);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE, XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY) == -EINVAL);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_OFF, 0) == 0);
	CU_ASSERT(info(hv, d).logdirty == 0);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_OFF, 0) == 0);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE, 0) == -EINVAL);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE, XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY) == 0);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 2) == -EINVAL);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 2) == -EINVAL);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL) == 0);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION, 0) == -ENOSYS);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_TEST, 0) == -EINVAL);
	CU_ASSERT(op(hv, 0, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == -EINVAL);
	CU_ASSERT(op(hv, 0, XEN_DOMCTL_SHADOW_OP_CLEAN, 0) == -EINVAL);
	CU_ASSERT(op(hv, 0, XEN_DOMCTL_SHADOW_OP_OFF, 0) == -EINVAL);
	CU_ASSERT(op(hv, 77, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == -ESRCH);
	CU_ASSERT(op(hv, pt, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == -EINVAL);
	CU_ASSERT(info(hv, pt).logdirty == 0);
	done(hv);
}

/*
 * A PV guest on Debian's hypervisor (no shadow paging): enable gives
 * -EOPNOTSUPP, OFF -EINVAL (the shadow_domctl() stub), CLEAN and PEEK
 * succeed with an empty bitmap, and its writes never fault.
 */
static void test_pv_guest(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t d = mk_dom_spec(hv, SIM_DOM_PV, 16, false);
	uint8_t bits[4];
	struct sim_shadow_op sc;

	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == -EOPNOTSUPP);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_OFF, 0) == -EINVAL);
	fill(hv, d, 3, 0x11);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 16, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(sc.pages == 16 && sc.dirty_count == 0 && popcount(bits, sizeof(bits)) == 0);
	fill(hv, d, 3, 0x12);
	CU_ASSERT(info(hv, d).logdirty_faults == 0);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 16, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(popcount(bits, sizeof(bits)) == 0);
	done(hv);
}

/* ---- what marks a page ---------------------------------------------------- */

/*
 * The first write to a page after enable faults and marks it; later writes
 * cost nothing.  PEEK copies without clearing; CLEAN copies, clears the
 * bitmap and the counts, and write-protects again, so the next write faults
 * again.  dirty_count is the bits that went 0 -> 1; fault_count stays 0.
 */
static void test_writes_fault_once_per_round(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t d = mk_dom(hv, 64);
	uint8_t bits[8];
	struct sim_shadow_op sc;

	fill(hv, d, 3, 1);   /* before enable: no fault */
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 64, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(popcount(bits, sizeof(bits)) == 0 && sc.dirty_count == 0);
	fill(hv, d, 3, 2);
	fill(hv, d, 3, 3);
	fill(hv, d, 40, 4);
	CU_ASSERT(info(hv, d).logdirty_faults == 2);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 64, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 3) && bit(bits, 40) && popcount(bits, sizeof(bits)) == 2);
	CU_ASSERT(sc.dirty_count == 2 && sc.fault_count == 0 && sc.pages == 64);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 64, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 3) && bit(bits, 40) && popcount(bits, sizeof(bits)) == 2);
	CU_ASSERT(sc.dirty_count == 2);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 64, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(popcount(bits, sizeof(bits)) == 0 && sc.dirty_count == 0);
	fill(hv, d, 3, 5);
	CU_ASSERT(info(hv, d).logdirty_faults == 3);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 64, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 3) && popcount(bits, sizeof(bits)) == 1 && sc.dirty_count == 1);
	done(hv);
}

/*
 * OFF frees the bitmap and unprotects the p2m (writes stop faulting) but
 * leaves dirty_count: the next CLEAN reports it with an empty bitmap.  A
 * CLEAN with a null bitmap handle still clears.
 */
static void test_off_keeps_dirty_count(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t d = mk_dom(hv, 32);
	uint8_t bits[4];
	struct sim_shadow_op sc;

	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	fill(hv, d, 1, 1);
	fill(hv, d, 2, 1);
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_OFF, 0) == 0);
	fill(hv, d, 5, 1);
	CU_ASSERT(info(hv, d).logdirty_faults == 2);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 32, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(sc.dirty_count == 2 && popcount(bits, sizeof(bits)) == 0);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 32, NULL, 0, &sc) == 0);
	CU_ASSERT(sc.dirty_count == 2);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 32, NULL, 0, &sc) == 0);
	CU_ASSERT(sc.dirty_count == 0);

	/* with log-dirty on, a null-handle CLEAN forgets the marks */
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	fill(hv, d, 7, 1);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 32, NULL, 0, &sc) == 0);
	CU_ASSERT(sc.dirty_count == 1);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 32, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(popcount(bits, sizeof(bits)) == 0);
	done(hv);
}

/*
 * pages comes back as asked (the toolstack checks it equals its p2m size),
 * capped only at what the tree addresses (2^42 pfns); the bitmap is
 * ceil(pages/8) bytes, so a page count ending mid-byte still copies that
 * byte's other bits.  CLEAN clears every 32768-pfn leaf it walked whole:
 * a mark beyond pages in the same leaf is lost, one in the next leaf stays.
 */
static void test_clean_pages_and_leaves(void)
{
	struct sim_hv *hv = mk_hv_frames(70000);
	uint32_t d = mk_dom(hv, 66000);
	static uint8_t bits[66000 / 8 + 1];
	struct sim_shadow_op sc;

	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	fill(hv, d, 3, 1);
	fill(hv, d, 12, 1);
	fill(hv, d, 20000, 1);
	fill(hv, d, 40000, 1);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 1ULL << 50, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(sc.pages == 1ULL << 42);
	CU_ASSERT(popcount(bits, sizeof(bits)) == 4);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 100000, NULL, 0, &sc) == 0);
	CU_ASSERT(sc.pages == 100000);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 10, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(sc.pages == 10 && sc.dirty_count == 4);
	CU_ASSERT(bit(bits, 3) && bit(bits, 12) && popcount(bits, sizeof(bits)) == 2);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 66001, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 40000) && popcount(bits, sizeof(bits)) == 1);
	CU_ASSERT(sc.dirty_count == 0);
	done(hv);
}

/*
 * Sharing and log-dirty: nominate and share mark nothing; every unshare
 * marks -- a guest write to a shared page (not a log-dirty fault: the
 * sharing fault), a writable foreign mapping of one, a balloon giving one
 * back -- while a writable foreign mapping of a private page marks nothing
 * (dom0's writes do not go through the guest's p2m).
 */
static void test_unshare_marks(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t a = mk_dom(hv, 32), b = mk_dom(hv, 32);
	uint64_t gfn, mfn;
	uint8_t bits[4];
	struct sim_shadow_op sc;
	int err;

	CU_ASSERT(op(hv, a, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	share(hv, a, 1, b, 1);
	share(hv, a, 2, b, 2);
	share(hv, a, 31, b, 31);
	nominate(hv, a, 4);
	CU_ASSERT(logdirty(hv, a, XEN_DOMCTL_SHADOW_OP_PEEK, 32, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(popcount(bits, sizeof(bits)) == 0 && sc.dirty_count == 0);

	fill(hv, a, 1, 0x21);
	CU_ASSERT(info(hv, a).logdirty_faults == 0);
	gfn = 2;
	CU_ASSERT(sim_hv_map(hv, 7, a, &gfn, 1, true, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(sim_hv_unmap(hv, 7, &mfn, 1) == 0);
	gfn = 10;
	CU_ASSERT(sim_hv_map(hv, 7, a, &gfn, 1, true, &mfn, &err) == 0 && err == 0);
	memset(sim_frame_ptr(hv, (uint32_t)mfn), 0x5a, SIM_PAGE_SIZE);   /* dom0 writes */
	CU_ASSERT(sim_hv_unmap(hv, 7, &mfn, 1) == 0);
	CU_ASSERT(sim_hv_decrease_reservation(hv, a, 1) == 1);   /* gfn 31, shared */
	CU_ASSERT(logdirty(hv, a, XEN_DOMCTL_SHADOW_OP_PEEK, 32, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 1) && bit(bits, 2) && bit(bits, 31));
	CU_ASSERT(popcount(bits, sizeof(bits)) == 3 && sc.dirty_count == 3);
	done(hv);
}

/*
 * modified_memory: a no-op outside log-dirty mode; marks each pfn of each
 * extent (a shared one unshared first); the extent must end at or below
 * the highest gfn, so that gfn itself cannot be marked; empty extents and
 * a non-zero pad are -EINVAL; extents run last first and those done before
 * a bad one stay marked; PV -EINVAL, dom0 -EPERM, no domain -ESRCH.
 */
static void test_modified_memory(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t d = mk_dom(hv, 32), e = mk_dom(hv, 32), pv = mk_dom_spec(hv, SIM_DOM_PV, 8, false);
	uint64_t max = info(hv, d).nr_gfns - 1;   /* the sharing ring page, above RAM */
	struct sim_dm_extent two[2];
	uint8_t bits[8];
	struct sim_shadow_op sc;

	CU_ASSERT(mark(hv, d, 2, 3) == 0);   /* off: nothing, no error */
	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 64, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(popcount(bits, sizeof(bits)) == 0);

	share(hv, d, 9, e, 9);
	CU_ASSERT(mark(hv, d, 2, 3) == 0);
	CU_ASSERT(mark(hv, d, 9, 1) == 0);
	CU_ASSERT(info(hv, d).shr_pages == 0 && info(hv, e).shr_pages == 1);
	CU_ASSERT(mark(hv, d, max - 1, 1) == 0);
	CU_ASSERT(mark(hv, d, max, 1) == -EINVAL);
	CU_ASSERT(mark(hv, d, 20, 0) == -EINVAL);
	CU_ASSERT(mark(hv, d, UINT64_MAX, 2) == -EINVAL);
	two[0] = (struct sim_dm_extent){ .first_pfn = 12, .nr = 1, .pad = 1 };
	CU_ASSERT(sim_hv_modified_memory(hv, d, two, 1) == -EINVAL);
	two[0] = (struct sim_dm_extent){ .first_pfn = 13, .nr = 1 };
	two[1] = (struct sim_dm_extent){ .first_pfn = max, .nr = 1 };
	CU_ASSERT(sim_hv_modified_memory(hv, d, two, 2) == -EINVAL);   /* bad one first: 13 untouched */
	two[0] = (struct sim_dm_extent){ .first_pfn = max, .nr = 1 };
	two[1] = (struct sim_dm_extent){ .first_pfn = 14, .nr = 2 };
	CU_ASSERT(sim_hv_modified_memory(hv, d, two, 2) == -EINVAL);   /* 14, 15 marked first */
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 64, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 2) && bit(bits, 3) && bit(bits, 4) && bit(bits, 9));
	CU_ASSERT(bit(bits, max - 1) && bit(bits, 14) && bit(bits, 15) && !bit(bits, 13));
	CU_ASSERT(popcount(bits, sizeof(bits)) == 7 && sc.dirty_count == 7);
	CU_ASSERT(info(hv, d).logdirty_faults == 0);

	CU_ASSERT(mark(hv, pv, 1, 1) == -EINVAL);
	CU_ASSERT(mark(hv, 0, 1, 1) == -EPERM);
	CU_ASSERT(mark(hv, 99, 1, 1) == -ESRCH);
	done(hv);
}

/*
 * modified_memory of a shared page when the host has no free frame: the
 * unshare fails, the page stays shared (a foreign request on the ring, no
 * vCPU paused), and it is marked dirty all the same.
 */
static void test_modified_memory_unshare_enomem(void)
{
	struct sim_hv *hv = mk_hv_frames(1100);
	uint32_t a = mk_dom(hv, 500), b = mk_dom(hv, 500), c;
	struct sim_hv_residue res;
	uint8_t bits[64];
	struct sim_shadow_op sc;
	uint64_t total, nfree;
	uint32_t port;

	share(hv, a, 1, b, 1);
	sim_hv_physinfo(hv, &total, &nfree);
	c = mk_dom(hv, nfree - SIM_NR_SPECIAL_PAGES);   /* with its special pages: every free frame */
	sim_hv_physinfo(hv, &total, &nfree);
	CU_ASSERT_FATAL(nfree == 0 && c != 0);
	CU_ASSERT(sim_hv_ring_enable(hv, a, &port) == 0);
	CU_ASSERT(op(hv, a, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	CU_ASSERT(mark(hv, a, 1, 1) == 0);
	CU_ASSERT(sim_hv_debug_gfn(hv, a, 1) == 2);
	sim_hv_get_residue(hv, &res);
	CU_ASSERT(res.unshare_enomem == 1);
	CU_ASSERT(info(hv, a).paused_vcpus == 0);
	CU_ASSERT(logdirty(hv, a, XEN_DOMCTL_SHADOW_OP_PEEK, 500, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 1) && popcount(bits, sizeof(bits)) == 1);
	done(hv);
}

/*
 * A gfn added beyond the p2m (add_to_physmap) gets a bit too: its first
 * write unshares it, which marks it.
 */
static void test_bitmap_grows_with_p2m(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t a = mk_dom(hv, 16), b = mk_dom(hv, 16);
	uint8_t bits[32];
	struct sim_shadow_op sc;
	uint64_t h;

	CU_ASSERT(op(hv, b, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	fill(hv, b, 0, 1);   /* the bitmap exists now */
	h = nominate(hv, a, 3);
	CU_ASSERT(sim_hv_memshr_control(hv, b, true) == 0);
	CU_ASSERT(sim_hv_add_to_physmap(hv, a, 3, h, b, 200) == 0);
	fill(hv, a, 3, 9);     /* b's gfn 200 is the frame's last sharer now ... */
	fill(hv, b, 200, 2);   /* ... so this unshare needs no frame beyond b's max */
	CU_ASSERT(logdirty(hv, b, XEN_DOMCTL_SHADOW_OP_PEEK, 256, bits, sizeof(bits), &sc) == 0);
	CU_ASSERT(bit(bits, 0) && bit(bits, 200) && popcount(bits, sizeof(bits)) == 2);
	done(hv);
}

/*
 * A CLEAN while log-dirty is off still write-protects the p2m (hap.c's
 * clean hook runs unconditionally): the next writes fault without marking.
 */
static void test_clean_while_off_protects(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t d = mk_dom(hv, 16);
	struct sim_shadow_op sc;

	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_CLEAN, 16, NULL, 0, &sc) == 0);
	fill(hv, d, 4, 1);
	fill(hv, d, 4, 2);
	CU_ASSERT(info(hv, d).logdirty_faults == 1);
	CU_ASSERT(logdirty(hv, d, XEN_DOMCTL_SHADOW_OP_PEEK, 16, NULL, 0, &sc) == 0);
	CU_ASSERT(sc.dirty_count == 0);
	done(hv);
}

/* The audit finds a lost mark: a written page whose bit is gone. */
static void test_audit_finds_lost_mark(void)
{
	struct sim_hv *hv = mk_hv_frames(1024);
	uint32_t d = mk_dom(hv, 16);

	CU_ASSERT(op(hv, d, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, 0) == 0);
	fill(hv, d, 5, 1);
	CU_ASSERT(sim_hv_audit(hv) == 0);
	hv->doms[d]->dirty_bitmap[0] &= ~(1ULL << 5);
	CU_ASSERT(sim_hv_audit(hv) == 1);
	hv->doms[d]->dirty_bitmap[0] |= 1ULL << 5;
	done(hv);
}

int main(void)
{
	static const struct { const char *name; CU_TestFunc fn; } tests[] = {
#define T(f) { #f, f }
		T(test_shadow_op_errors), T(test_pv_guest), T(test_writes_fault_once_per_round),
		T(test_off_keeps_dirty_count), T(test_clean_pages_and_leaves), T(test_unshare_marks),
		T(test_modified_memory), T(test_modified_memory_unshare_enomem),
		T(test_bitmap_grows_with_p2m), T(test_clean_while_off_protects),
		T(test_audit_finds_lost_mark),
#undef T
	};
	CU_pSuite suite;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite("logdirty", NULL, NULL);
	for (size_t i = 0; suite && i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return 2;
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
