/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_ut.c - one test per rule of the Xen 4.17 sharing semantics that
 * libsimhv (tools/xensim/hv_*.c) reproduces.  Every test ends by
 * checking the counters invariant and the audit walk, so a rule that is
 * "obeyed" by corrupting the bookkeeping still fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "tools/xensim/hv_internal.h"
#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "ut_common.h"

/* ---- helpers ------------------------------------------------------------- */

static struct sim_hv_config base_cfg(void)
{
	struct sim_hv_config cfg = {
		.nr_frames = 1024,
		.dom0_pages = 16,
		.cpu_vmx = true,
		.debug_build = true,
	};
	return cfg;
}

static struct sim_hv *mk_hv_cfg(struct sim_hv_config cfg)
{
	struct sim_hv *hv = NULL;

	CU_ASSERT_FATAL(sim_hv_create(&cfg, &hv) == 0);
	CU_ASSERT_FATAL(hv != NULL);
	return hv;
}

static struct sim_hv *mk_hv(void)
{
	return mk_hv_cfg(base_cfg());
}

static uint32_t mk_dom_spec(struct sim_hv *hv, enum sim_dom_type type, uint64_t pages,
			    uint64_t max_pages, bool passthrough)
{
	struct sim_dom_spec spec;
	uint32_t domid = 0;

	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "guest-%d", (int)type);
	spec.type = type;
	spec.nr_pages = pages;
	spec.max_pages = max_pages;
	spec.vcpus = 2;
	spec.passthrough = passthrough;
	CU_ASSERT_FATAL(sim_hv_domain_create(hv, &spec, &domid) == 0);
	return domid;
}

static uint32_t mk_dom(struct sim_hv *hv, uint64_t pages)
{
	return mk_dom_spec(hv, SIM_DOM_HVM, pages, 0, false);
}

static void fill(struct sim_hv *hv, uint32_t dom, uint64_t gfn, int byte)
{
	uint8_t page[SIM_PAGE_SIZE];

	memset(page, byte, sizeof(page));
	CU_ASSERT(sim_hv_guest_write(hv, dom, 0, gfn, 0, page, sizeof(page)) == 0);
}

static int page_is(struct sim_hv *hv, uint32_t dom, uint64_t gfn, int byte)
{
	uint8_t page[SIM_PAGE_SIZE];

	if (sim_hv_guest_read(hv, dom, gfn, page))
		return 0;
	for (size_t i = 0; i < sizeof(page); i++)
		if (page[i] != (uint8_t)byte)
			return 0;
	return 1;
}

static struct sim_dominfo info(struct sim_hv *hv, uint32_t dom)
{
	struct sim_dominfo di;

	memset(&di, 0xff, sizeof(di));
	CU_ASSERT(sim_hv_domain_getinfo(hv, dom, 1, &di) == 1);
	CU_ASSERT(di.domid == dom);
	return di;
}

static uint64_t free_frames(struct sim_hv *hv)
{
	uint64_t total, nfree;

	sim_hv_physinfo(hv, &total, &nfree);
	return nfree;
}

static uint64_t nominate(struct sim_hv *hv, uint32_t dom, uint64_t gfn)
{
	uint64_t h = 0;

	CU_ASSERT(sim_hv_nominate_gfn(hv, dom, gfn, &h) == 0);
	CU_ASSERT(h != 0);
	return h;
}

static void share(struct sim_hv *hv, uint32_t a, uint64_t ga, uint32_t b, uint64_t gb)
{
	uint64_t ha = nominate(hv, a, ga), hb = nominate(hv, b, gb);

	CU_ASSERT(sim_hv_share(hv, a, ga, ha, b, gb, hb) == 0);
}

/* The counters invariant, the audit and the oracle: run at the end of every test. */
static void check_consistent(struct sim_hv *hv)
{
	struct sim_dominfo di[16];
	uint64_t sum = 0;
	int n = sim_hv_domain_getinfo(hv, 0, 16, di);

	for (int i = 0; i < n; i++)
		sum += di[i].shr_pages;
	CU_ASSERT((long)sum == sim_hv_sharing_freed_pages(hv) + sim_hv_sharing_used_frames(hv));
	CU_ASSERT(sim_hv_audit(hv) == 0);
}

static void done(struct sim_hv *hv)
{
	check_consistent(hv);
	sim_hv_destroy(hv);
}

static uint64_t mfn_of(struct sim_hv *hv, uint32_t dom, uint64_t gfn)
{
	uint64_t mfn = SIM_INVALID_MFN;
	int err = 1;

	CU_ASSERT(sim_hv_map(hv, 99, dom, &gfn, 1, false, &mfn, &err) == 0);
	CU_ASSERT(err == 0);
	CU_ASSERT(sim_hv_unmap(hv, 99, &mfn, 1) == 0);
	return mfn;
}

struct notified { int count; uint32_t domid, port; };

static void on_notify(void *arg, uint32_t domid, uint32_t port)
{
	struct notified *n = arg;

	n->count++;
	n->domid = domid;
	n->port = port;
}

/* ---- host and domains -------------------------------------------------------- */

/* dom0 exists from the start (PV, dom0_pages); domids count up and are not reused at once. */
static void test_domain_ids_and_dom0(void)
{
	struct sim_hv *hv = mk_hv();
	struct sim_dominfo d0 = info(hv, 0);
	uint32_t a, b, c;

	CU_ASSERT(d0.tot_pages == 16);
	CU_ASSERT(!(d0.flags & SIM_DOMF_HVM));
	CU_ASSERT(strcmp(d0.name, "Domain-0") == 0);
	a = mk_dom(hv, 8);
	b = mk_dom(hv, 8);
	CU_ASSERT(a == 1 && b == 2);
	CU_ASSERT(sim_hv_domain_destroy(hv, a) == 0);
	c = mk_dom(hv, 8);
	CU_ASSERT(c == 3);
	CU_ASSERT(sim_hv_domain_destroy(hv, a) == -ESRCH);
	CU_ASSERT(sim_hv_domain_destroy(hv, 0) == -EINVAL);
	done(hv);
}

/* getinfo fills every field: pages, p2m size with the special pages above RAM (the
 * sharing ring the third of them), flags, vcpus, name. */
static void test_getinfo_fields(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom_spec(hv, SIM_DOM_PVH, 10, 12, false);
	struct sim_dominfo di = info(hv, d);
	uint64_t ring = 0;

	CU_ASSERT(di.tot_pages == 10);
	CU_ASSERT(di.max_pages == 12);
	CU_ASSERT(di.shr_pages == 0);
	CU_ASSERT(di.nr_gfns == 12 + SIM_NR_SPECIAL_PAGES);
	CU_ASSERT(di.flags & SIM_DOMF_HVM);
	CU_ASSERT(di.flags & SIM_DOMF_RUNNING);
	CU_ASSERT(di.nr_online_vcpus == 2 && di.paused_vcpus == 0);
	CU_ASSERT(strcmp(di.name, "guest-1") == 0);
	CU_ASSERT(sim_hv_get_param(hv, d, HVM_PARAM_SHARING_RING_PFN, &ring) == 0);
	CU_ASSERT(ring == 12 + SIM_SPECIALPAGE_SHARING);
	CU_ASSERT(sim_hv_get_param(hv, 0, HVM_PARAM_SHARING_RING_PFN, &ring) == -EINVAL);
	CU_ASSERT(sim_hv_domain_pause(hv, d) == 0);
	CU_ASSERT(info(hv, d).flags & SIM_DOMF_PAUSED);
	CU_ASSERT(sim_hv_domain_unpause(hv, d) == 0);
	CU_ASSERT(sim_hv_domain_unpause(hv, d) == -EINVAL);
	done(hv);
}

/* New guest memory reads as zero, writes read back, physinfo counts frames. */
static void test_guest_write_read(void)
{
	struct sim_hv *hv = mk_hv();
	uint64_t before = free_frames(hv);
	uint32_t d = mk_dom(hv, 8);
	uint8_t page[SIM_PAGE_SIZE];

	CU_ASSERT(free_frames(hv) == before - 8 - SIM_NR_SPECIAL_PAGES);
	CU_ASSERT(page_is(hv, d, 3, 0));
	CU_ASSERT(sim_hv_guest_write(hv, d, 0, 3, 100, "abc", 3) == 0);
	CU_ASSERT(sim_hv_guest_read(hv, d, 3, page) == 0);
	CU_ASSERT(memcmp(page + 100, "abc", 3) == 0 && page[99] == 0 && page[103] == 0);
	CU_ASSERT(sim_hv_guest_write(hv, d, 0, 3, 4095, "ab", 2) == -EINVAL);
	CU_ASSERT(sim_hv_guest_write(hv, d, 0, 8, 0, "ab", 2) == -EINVAL);   /* not RAM: the ring */
	CU_ASSERT(sim_hv_guest_write(hv, d, 5, 3, 0, "ab", 2) == -EINVAL);   /* no vCPU 5 */
	CU_ASSERT(sim_hv_guest_write(hv, 77, 0, 3, 0, "ab", 2) == -ESRCH);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* A paused domain's vCPUs do not write (-EAGAIN); the loader pseudo-vCPU still can. */
static void test_paused_domain_does_not_write(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);

	CU_ASSERT(sim_hv_domain_pause(hv, d) == 0);
	CU_ASSERT(sim_hv_guest_write(hv, d, 0, 1, 0, "x", 1) == -EAGAIN);
	CU_ASSERT(sim_hv_guest_write(hv, d, SIM_HV_LOADER_VCPU, 1, 0, "x", 1) == 0);
	CU_ASSERT(sim_hv_domain_unpause(hv, d) == 0);
	CU_ASSERT(sim_hv_guest_write(hv, d, 0, 1, 0, "y", 1) == 0);
	done(hv);
}

/* Destroy frees every frame, and freed frames are punched out of the memfd (RSS drops). */
static void test_destroy_frees_and_punches(void)
{
	struct sim_hv *hv = mk_hv();
	uint64_t before = free_frames(hv);
	uint32_t d = mk_dom(hv, 64);
	struct stat st1, st2;

	for (uint64_t g = 0; g < 64; g++)
		fill(hv, d, g, 0x11);
	CU_ASSERT(fstat(sim_hv_frames_fd(hv), &st1) == 0);
	CU_ASSERT(sim_hv_domain_destroy(hv, d) == 0);
	CU_ASSERT(fstat(sim_hv_frames_fd(hv), &st2) == 0);
	CU_ASSERT(free_frames(hv) == before);
	/* 64 written pages = 512 blocks of 512 bytes given back to the kernel */
	CU_ASSERT(st1.st_blocks - st2.st_blocks >= 512);
	d = mk_dom(hv, 64);
	CU_ASSERT(page_is(hv, d, 10, 0));   /* a reused frame reads as zero */
	done(hv);
}

/* Balloon: decrease_reservation frees frames and leaves holes. */
static void test_decrease_reservation(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 8);
	uint64_t before = free_frames(hv);
	uint8_t page[SIM_PAGE_SIZE];

	CU_ASSERT(sim_hv_decrease_reservation(hv, d, 3) == 3);
	CU_ASSERT(free_frames(hv) == before + 3);
	CU_ASSERT(info(hv, d).tot_pages == 5);
	CU_ASSERT(sim_hv_guest_read(hv, d, 7, page) == -EINVAL);
	CU_ASSERT(sim_hv_guest_read(hv, d, 4, page) == 0);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* ---- enabling sharing ---------------------------------------------------------- */

/* PV guests: -EOPNOTSUPP from is_hvm_domain() in mem_sharing_control (the brief says ENODEV). */
static void test_pv_refused(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom_spec(hv, SIM_DOM_PV, 4, 0, false);
	uint64_t h;

	CU_ASSERT(sim_hv_memshr_control(hv, d, true) == -EOPNOTSUPP);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 0, &h) == -EOPNOTSUPP);
	CU_ASSERT(sim_hv_memshr_control(hv, d, false) == 0);
	done(hv);
}

/* No VMX: -EOPNOTSUPP, unless the patched hypervisor allows SVM sharing. */
static void test_no_vmx(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;
	uint32_t d;

	cfg.cpu_vmx = false;
	hv = mk_hv_cfg(cfg);
	d = mk_dom(hv, 4);
	CU_ASSERT(sim_hv_memshr_control(hv, d, true) == -EOPNOTSUPP);
	done(hv);
	cfg.patched = true;
	cfg.allow_svm_sharing = true;
	hv = mk_hv_cfg(cfg);
	d = mk_dom(hv, 4);
	CU_ASSERT(sim_hv_memshr_control(hv, d, true) == 0);
	done(hv);
}

/* Passthrough devices: -EXDEV. */
static void test_passthrough_exdev(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom_spec(hv, SIM_DOM_HVM, 4, 0, true);
	uint64_t h;

	CU_ASSERT(sim_hv_memshr_control(hv, d, true) == -EXDEV);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 0, &h) == -EXDEV);
	done(hv);
}

/* No such domain: -ESRCH; dom0 (the caller itself) in a memop: -EPERM. */
static void test_no_such_domain(void)
{
	struct sim_hv *hv = mk_hv();
	uint64_t h;

	CU_ASSERT(sim_hv_memshr_control(hv, 42, true) == -ESRCH);
	CU_ASSERT(sim_hv_nominate_gfn(hv, 42, 0, &h) == -ESRCH);
	CU_ASSERT(sim_hv_nominate_gfn(hv, 0, 0, &h) == -EPERM);
	done(hv);
}

/* The first sharing op enables sharing; share to a client never enabled gives -EINVAL. */
static void test_implicit_enable_and_client_enabled(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t ha = nominate(hv, a, 0);

	CU_ASSERT(sim_hv_share(hv, a, 0, ha, b, 0, 1) == -EINVAL);
	CU_ASSERT(sim_hv_memshr_control(hv, b, true) == 0);
	CU_ASSERT(sim_hv_share(hv, a, 0, ha, b, 0, 12345) == XENMEM_SHARING_OP_C_HANDLE_INVALID);
	done(hv);
}

/* ---- nominate ---------------------------------------------------------------- */

/* Nominate: frame to dom_cow, tot-1, shr+1, used+1, read-only; again: same handle. */
static void test_nominate(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);
	uint64_t h1, h2, h3;

	fill(hv, d, 1, 0x42);
	h1 = nominate(hv, d, 1);
	CU_ASSERT(info(hv, d).tot_pages == 3);
	CU_ASSERT(info(hv, d).shr_pages == 1);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 1);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 0);
	h2 = nominate(hv, d, 1);
	CU_ASSERT(h1 == h2);
	h3 = nominate(hv, d, 2);
	CU_ASSERT(h3 > h1);   /* a fresh handle from the global counter */
	CU_ASSERT(page_is(hv, d, 1, 0x42));
	CU_ASSERT(sim_hv_debug_gfn(hv, d, 1) == 1);
	done(hv);
}

/* Only ram_rw is sharable: holes, out-of-range gfns and the special pages
 * (the sharing ring among them) give -EINVAL. */
static void test_nominate_not_sharable(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);
	uint64_t h = 7;

	CU_ASSERT(sim_hv_decrease_reservation(hv, d, 1) == 1);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 3, &h) == -EINVAL);   /* ballooned hole */
	CU_ASSERT(h == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 4, &h) == -EINVAL);   /* a special page */
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 4 + SIM_SPECIALPAGE_SHARING, &h) == -EINVAL);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 1000, &h) == -EINVAL);
	done(hv);
}

/* A read-only foreign mapping is an extra reference: -E2BIG until unmapped. */
static void test_nominate_mapped_e2big(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);
	uint64_t gfn = 2, mfn, h;
	int err;

	CU_ASSERT(sim_hv_map(hv, 1, d, &gfn, 1, false, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 2, &h) == -E2BIG);
	CU_ASSERT(sim_hv_unmap(hv, 1, &mfn, 1) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 2, &h) == 0);
	done(hv);
}

/*
 * A writable foreign mapping of an HVM/PVH guest's page takes no writable
 * type reference (get_page_from_l1e(), paging_mode_external), only a
 * reference: nominate gives -E2BIG, as for a read-only one.  A writable
 * mapping of a shared page unshares it first; the private page it then
 * holds cannot be nominated again until it is unmapped.
 */
static void test_nominate_writable_mapped_e2big(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4), e = mk_dom(hv, 4);
	uint64_t gfn = 2, mfn, h, h2;
	int err;

	CU_ASSERT(sim_hv_map(hv, 1, d, &gfn, 1, true, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 2, &h) == -E2BIG);
	sim_hv_unmap_owner(hv, 1);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 2, &h) == 0);

	share(hv, d, 3, e, 3);
	h = nominate(hv, d, 3);
	gfn = 3;
	CU_ASSERT(sim_hv_map(hv, 1, d, &gfn, 1, true, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(info(hv, d).shr_pages == 1);   /* gfn 2 still nominated, 3 unshared */
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 3, &h2) == -E2BIG);
	sim_hv_unmap_owner(hv, 1);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 3, &h2) == 0 && h2 != h);
	done(hv);
}

/* ---- share --------------------------------------------------------------------- */

/* Share: client gfn now maps the source frame, client frame freed, used-1 saved+1. */
static void test_share(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t before;

	fill(hv, a, 1, 0x5a);
	fill(hv, b, 2, 0x5a);
	nominate(hv, a, 1);
	nominate(hv, b, 2);
	before = free_frames(hv);
	share(hv, a, 1, b, 2);
	CU_ASSERT(free_frames(hv) == before + 1);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 1);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 1);
	CU_ASSERT(mfn_of(hv, a, 1) == mfn_of(hv, b, 2));
	CU_ASSERT(sim_hv_debug_gfn(hv, b, 2) == 2);
	CU_ASSERT(info(hv, a).shr_pages == 1 && info(hv, b).shr_pages == 1);
	CU_ASSERT(info(hv, b).tot_pages == 3);
	CU_ASSERT(page_is(hv, b, 2, 0x5a));
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* A guest write after nominate invalidates the handle: share fails with C / S handle invalid. */
static void test_share_after_write_fails(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t ha = nominate(hv, a, 1), hb = nominate(hv, b, 1);

	fill(hv, b, 1, 0x01);   /* client written: its gfn is private again */
	CU_ASSERT(sim_hv_share(hv, a, 1, ha, b, 1, hb) == XENMEM_SHARING_OP_C_HANDLE_INVALID);
	hb = nominate(hv, b, 1);
	fill(hv, a, 1, 0x02);   /* source written */
	CU_ASSERT(sim_hv_share(hv, a, 1, ha, b, 1, hb) == XENMEM_SHARING_OP_S_HANDLE_INVALID);
	CU_ASSERT(mfn_of(hv, a, 1) != mfn_of(hv, b, 1));
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/*
 * With neither gfn shared, the error names the one with the lower mfn:
 * share_pages() grabs the pages in mfn order.
 */
static void test_share_error_order_by_mfn(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);   /* a's frames come first */

	CU_ASSERT(sim_hv_memshr_control(hv, b, true) == 0);
	CU_ASSERT(mfn_of(hv, a, 1) < mfn_of(hv, b, 1));
	CU_ASSERT(sim_hv_share(hv, a, 1, 1, b, 1, 2) == XENMEM_SHARING_OP_S_HANDLE_INVALID);
	CU_ASSERT(sim_hv_memshr_control(hv, a, true) == 0);
	CU_ASSERT(sim_hv_share(hv, b, 1, 1, a, 1, 2) == XENMEM_SHARING_OP_C_HANDLE_INVALID);
	/* Both shared but handles wrong: source is checked first. */
	nominate(hv, a, 1);
	nominate(hv, b, 1);
	CU_ASSERT(sim_hv_share(hv, a, 1, 999, b, 1, 998) == XENMEM_SHARING_OP_S_HANDLE_INVALID);
	done(hv);
}

/* Both gfns already on one frame: success, nothing changes (also for two holes, as in Xen). */
static void test_share_same_frame_noop(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t h;

	share(hv, a, 1, b, 1);
	h = nominate(hv, a, 1);
	CU_ASSERT(sim_hv_share(hv, a, 1, h, b, 1, 0) == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 1);
	CU_ASSERT(sim_hv_share(hv, a, 100, 0, b, 200, 0) == 0);
	done(hv);
}

/* Sharing merges reverse maps: a third sharer joins and one handle covers all. */
static void test_share_three_way(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4), c = mk_dom(hv, 4);
	uint64_t ha, hc;

	share(hv, a, 0, b, 0);
	share(hv, c, 3, c, 2);   /* two gfns of c first */
	ha = nominate(hv, a, 0);
	hc = nominate(hv, c, 2);
	CU_ASSERT(sim_hv_share(hv, a, 0, ha, c, 2, hc) == 0);
	CU_ASSERT(sim_hv_debug_gfn(hv, b, 0) == 4);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 1);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 3);
	CU_ASSERT(info(hv, c).shr_pages == 2);
	CU_ASSERT(nominate(hv, c, 3) == ha);   /* the client handle died */
	done(hv);
}

/* ---- unshare --------------------------------------------------------------------- */

/* Unsharing the last sharer allocates nothing: the frame becomes private again. */
static void test_unshare_last_sharer_no_alloc(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);
	uint64_t before, mfn = mfn_of(hv, d, 1);

	nominate(hv, d, 1);
	before = free_frames(hv);
	fill(hv, d, 1, 0x33);
	CU_ASSERT(free_frames(hv) == before);
	CU_ASSERT(mfn_of(hv, d, 1) == mfn);
	CU_ASSERT(info(hv, d).tot_pages == 4 && info(hv, d).shr_pages == 0);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 0);
	done(hv);
}

/* Unshare of one of several sharers: new frame, copy, tot+1, saved-1; the others keep the frame. */
static void test_unshare_copy(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint8_t page[SIM_PAGE_SIZE];
	uint64_t before;

	fill(hv, a, 1, 0x77);
	fill(hv, b, 1, 0x77);
	share(hv, a, 1, b, 1);
	before = free_frames(hv);
	CU_ASSERT(sim_hv_guest_write(hv, b, 1, 1, 10, "Z", 1) == 0);
	CU_ASSERT(free_frames(hv) == before - 1);
	CU_ASSERT(info(hv, b).tot_pages == 4 && info(hv, b).shr_pages == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 0);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 1);
	CU_ASSERT(page_is(hv, a, 1, 0x77));   /* the source did not see b's write */
	/* The copy kept the rest of the page (the oracle alone cannot tell: it hashes the result). */
	CU_ASSERT(sim_hv_guest_read(hv, b, 1, page) == 0);
	CU_ASSERT(page[0] == 0x77 && page[9] == 0x77 && page[10] == 'Z' && page[4095] == 0x77);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* Unshare needs tot_pages < max_pages (assign_pages), so extra gfns from add_to_physmap can ENOMEM. */
static void test_unshare_respects_max_pages(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t h = nominate(hv, a, 0);

	CU_ASSERT(sim_hv_memshr_control(hv, b, true) == 0);
	CU_ASSERT(sim_hv_add_to_physmap(hv, a, 0, h, b, 20) == 0);   /* b: 4 private + 1 shared */
	CU_ASSERT(sim_hv_guest_write(hv, b, SIM_HV_LOADER_VCPU, 20, 0, "x", 1) == -ENOMEM);
	/* Ballooning a shared gfn unshares it first in Xen: the same limit applies. */
	CU_ASSERT(sim_hv_decrease_reservation(hv, b, 1) == -ENOMEM);
	/* Once b is the last sharer, page_make_private() does not check max_pages. */
	CU_ASSERT(sim_hv_domain_destroy(hv, a) == 0);
	CU_ASSERT(sim_hv_guest_write(hv, b, SIM_HV_LOADER_VCPU, 20, 0, "x", 1) == 0);
	CU_ASSERT(info(hv, b).shr_pages == 0 && info(hv, b).tot_pages == 5);
	done(hv);
}

/* ENOMEM with a ring: a request is queued, the vCPU paused, the port notified; resume releases it. */
static void test_enomem_with_ring(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct notified n = { 0, 0, 0 };
	struct sim_hv *hv;
	uint32_t a, b, filler, port = 0;
	vm_event_back_ring_t back;
	vm_event_sring_t *sring;
	vm_event_request_t req;
	vm_event_response_t rsp;
	uint64_t ring_gfn, ring_mfn;
	int err;

	cfg.nr_frames = 16 + 2 * (4 + SIM_NR_SPECIAL_PAGES) + 40;
	hv = mk_hv_cfg(cfg);
	sim_hv_set_notify(hv, on_notify, &n);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	share(hv, a, 1, b, 1);
	filler = mk_dom_spec(hv, SIM_DOM_PV, free_frames(hv), 0, false);   /* eat the pool */
	CU_ASSERT(free_frames(hv) == 0);
	CU_ASSERT(sim_hv_ring_enable(hv, b, &port) == 0);
	CU_ASSERT(sim_hv_ring_enable(hv, b, &port) == -EBUSY);
	CU_ASSERT(sim_hv_get_param(hv, b, HVM_PARAM_SHARING_RING_PFN, &ring_gfn) == 0);
	CU_ASSERT(sim_hv_map(hv, 5, b, &ring_gfn, 1, true, &ring_mfn, &err) == 0 && err == 0);
	sring = (vm_event_sring_t *)sim_frame_ptr(hv, (uint32_t)ring_mfn);
	SHARED_RING_INIT(sring);
	BACK_RING_INIT(&back, sring, SIM_PAGE_SIZE);

	CU_ASSERT(sim_hv_guest_write(hv, b, 1, 1, 0, "w", 1) == -ENOMEM);
	CU_ASSERT(info(hv, b).paused_vcpus == 1);
	CU_ASSERT(n.count == 1 && n.domid == b && n.port == port);
	CU_ASSERT_FATAL(RING_HAS_UNCONSUMED_REQUESTS(&back));
	memcpy(&req, RING_GET_REQUEST(&back, back.req_cons), sizeof(req));
	back.req_cons++;
	CU_ASSERT(req.reason == VM_EVENT_REASON_MEM_SHARING);
	CU_ASSERT(req.vcpu_id == 1 && req.u.mem_sharing.gfn == 1);
	CU_ASSERT(req.flags & VM_EVENT_FLAG_VCPU_PAUSED);
	CU_ASSERT(sim_hv_guest_write(hv, b, 1, 1, 0, "w", 1) == -EAGAIN);
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 2, 0, "v", 1) == 0);   /* other vCPUs run */

	/* The helper makes memory available and answers. */
	CU_ASSERT(sim_hv_decrease_reservation(hv, filler, 1) == 1);
	memset(&rsp, 0, sizeof(rsp));
	rsp.version = VM_EVENT_INTERFACE_VERSION;
	rsp.vcpu_id = req.vcpu_id;
	rsp.flags = req.flags & VM_EVENT_FLAG_VCPU_PAUSED;
	rsp.reason = req.reason;
	memcpy(RING_GET_RESPONSE(&back, back.rsp_prod_pvt), &rsp, sizeof(rsp));
	back.rsp_prod_pvt++;
	RING_PUSH_RESPONSES(&back);
	CU_ASSERT(info(hv, b).vcpu_pauses == 0);   /* still waiting: not recorded yet */
	CU_ASSERT(sim_hv_domain_resume(hv, b) == 0);
	CU_ASSERT(info(hv, b).paused_vcpus == 0);
	CU_ASSERT(info(hv, b).vcpu_pauses == 1 && info(hv, b).pause_max_ns > 0);
	CU_ASSERT(sim_hv_wait_resumed(hv, b, 1) == 0);
	CU_ASSERT(sim_hv_guest_write(hv, b, 1, 1, 0, "w", 1) == 0);
	sim_hv_unmap_owner(hv, 5);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* ENOMEM without a ring on an unpatched hypervisor crashes the domain (memory kept until destroy). */
static void test_enomem_no_ring_crashes(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;
	uint32_t a, b;
	uint64_t before;

	cfg.nr_frames = 16 + 2 * (4 + SIM_NR_SPECIAL_PAGES) + 3;
	hv = mk_hv_cfg(cfg);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	share(hv, a, 1, b, 1);
	mk_dom_spec(hv, SIM_DOM_PV, free_frames(hv), 0, false);
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 1, 0, "w", 1) == -ENOMEM);
	CU_ASSERT((info(hv, b).flags & (SIM_DOMF_CRASHED | SIM_DOMF_SHUTDOWN)) ==
		  (SIM_DOMF_CRASHED | SIM_DOMF_SHUTDOWN));
	CU_ASSERT(!(info(hv, b).flags & SIM_DOMF_DYING));
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 2, 0, "w", 1) == -ESRCH);
	CU_ASSERT(sim_hv_wait_resumed(hv, b, 0) == -ESRCH);
	before = free_frames(hv);
	CU_ASSERT(sim_hv_domain_destroy(hv, b) == 0);
	CU_ASSERT(free_frames(hv) == before + 3 + SIM_NR_SPECIAL_PAGES); /* the shared frame stays with a */
	done(hv);
}

/* Patched, no ring: the vCPU pauses, the domain joins the ENOMEM waiters, VIRQ_ENOMEM (0,0) fires. */
static void test_enomem_no_ring_patched(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct notified n = { 0, 99, 99 };
	struct sim_hv *hv;
	uint32_t a, b, w[4];

	cfg.nr_frames = 16 + 2 * (4 + SIM_NR_SPECIAL_PAGES) + 3;
	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	sim_hv_set_notify(hv, on_notify, &n);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	share(hv, a, 1, b, 1);
	mk_dom_spec(hv, SIM_DOM_PV, free_frames(hv), 0, false);
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 1, 0, "w", 1) == -ENOMEM);
	CU_ASSERT(!(info(hv, b).flags & SIM_DOMF_CRASHED));
	CU_ASSERT(info(hv, b).paused_vcpus == 1);
	CU_ASSERT(sim_hv_enomem_waiters(hv, w, 4) == 1 && w[0] == b);
	CU_ASSERT(n.count == 1 && n.domid == 0 && n.port == 0);
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 1, 0, "w", 1) == -EAGAIN);
	/* only the patch's own op releases it: not the ring's resume, not unpause */
	CU_ASSERT(sim_hv_domain_resume(hv, b) == -ENODEV);
	CU_ASSERT(sim_hv_domain_unpause(hv, b) == -EINVAL);
	CU_ASSERT(sim_hv_enomem_waiters(hv, w, 4) == 1);
	CU_ASSERT(sim_hv_enomem_resume(hv, b) == 1);
	CU_ASSERT(sim_hv_enomem_waiters(hv, w, 4) == 0);
	CU_ASSERT(sim_hv_wait_resumed(hv, b, 0) == 0);
	done(hv);
}

/*
 * The patch's own resume op (XENMEM_sharing_op_enomem_resume) releases the
 * waiting vCPUs and says how many; a second call finds none.  getinfo
 * times the longest wait (longest_pause_ns), from its start to its end.  An unpatched
 * hypervisor has neither op (-ENOSYS), as libxenctrl callers probe for.
 * The ended wait is recorded: one pause, its length in the total, the
 * maximum and the histogram bucket of its microseconds.
 */
static void test_enomem_resume_op(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv_residue res;
	struct sim_hv *hv;
	uint32_t a, b, w[4];

	CU_ASSERT(sim_hv_create(&cfg, &hv) == 0);
	CU_ASSERT(sim_hv_enomem_waiters(hv, w, 4) == -ENOSYS);
	CU_ASSERT(sim_hv_enomem_resume(hv, 0) == -ENOSYS);
	sim_hv_destroy(hv);

	cfg.nr_frames = 16 + 2 * (4 + SIM_NR_SPECIAL_PAGES) + 3;
	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	share(hv, a, 1, b, 1);
	mk_dom_spec(hv, SIM_DOM_PV, free_frames(hv), 0, false);
	CU_ASSERT(sim_hv_enomem_resume(hv, 77) == -ESRCH);
	CU_ASSERT(info(hv, b).longest_pause_ns == 0);
	CU_ASSERT(info(hv, b).vcpu_pauses == 0 && info(hv, b).pause_max_ns == 0);
	sim_hv_get_residue(hv, &res);
	CU_ASSERT(res.unshare_enomem == 0);
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 1, 0, "w", 1) == -ENOMEM);
	sim_hv_get_residue(hv, &res);
	CU_ASSERT(res.unshare_enomem == 1);   /* the host counts the unshare that found no frame */
	CU_ASSERT(sim_hv_enomem_waiters(hv, w, 4) == 1 && w[0] == b);
	/* the wait is timed from its start, and the time ends with it */
	{
		uint64_t t1 = info(hv, b).longest_pause_ns, t2;

		usleep(20000);
		t2 = info(hv, b).longest_pause_ns;
		CU_ASSERT(t1 > 0 && t2 >= t1 + 20000000ULL);
		CU_ASSERT(sim_hv_guest_write(hv, b, 0, 1, 0, "w", 1) == -EAGAIN);
		CU_ASSERT(info(hv, b).longest_pause_ns >= t2);   /* a retry does not restart it */
	}
	CU_ASSERT(sim_hv_enomem_resume(hv, b) == 1);
	CU_ASSERT(info(hv, b).paused_vcpus == 0);
	CU_ASSERT(info(hv, b).longest_pause_ns == 0);
	{
		struct sim_dominfo di = info(hv, b);
		uint64_t in_hist = 0;
		unsigned int bucket = 0;

		CU_ASSERT(di.vcpu_pauses == 1);
		CU_ASSERT(di.pause_max_ns >= 20000000ULL && di.pause_max_ns < 10000000000ULL);
		CU_ASSERT(di.pause_total_ns == di.pause_max_ns);
		for (unsigned int i = 0; i < SIM_PAUSE_BUCKETS; i++) {
			in_hist += di.pause_hist[i];
			if (di.pause_hist[i])
				bucket = i;
		}
		/* [2^i, 2^(i+1)) microseconds */
		CU_ASSERT(in_hist == 1);
		CU_ASSERT((1ULL << bucket) <= di.pause_max_ns / 1000 &&
			  di.pause_max_ns / 1000 < (2ULL << bucket));
		CU_ASSERT(info(hv, a).vcpu_pauses == 0);
	}
	CU_ASSERT(sim_hv_enomem_waiters(hv, w, 4) == 0);
	CU_ASSERT(sim_hv_enomem_resume(hv, b) == 0);
	CU_ASSERT(info(hv, b).vcpu_pauses == 1);   /* nothing was waiting: nothing recorded */
	CU_ASSERT(sim_hv_wait_resumed(hv, b, 0) == 0);
	done(hv);
}

/*
 * A full ring takes no request: the faulting vCPU is not paused and simply
 * faults again (-ENOMEM), as with Xen's non-sleeping claim_slot.  Foreign
 * ENOMEMs (a writable map) queue requests flagged FOREIGN without pausing.
 */
static void test_enomem_ring_full(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct notified n = { 0, 0, 0 };
	struct sim_hv *hv;
	uint32_t a, b, port;
	vm_event_front_ring_t probe;
	static uint8_t probe_page[SIM_PAGE_SIZE];
	unsigned int ring_size, queued = 0;
	uint64_t gfn = 1, mfn;
	int err;

	FRONT_RING_INIT(&probe, (vm_event_sring_t *)probe_page, SIM_PAGE_SIZE);
	ring_size = RING_SIZE(&probe);
	cfg.nr_frames = 16 + 2 * (4 + SIM_NR_SPECIAL_PAGES) + 3;
	hv = mk_hv_cfg(cfg);
	sim_hv_set_notify(hv, on_notify, &n);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	share(hv, a, 1, b, 1);
	mk_dom_spec(hv, SIM_DOM_PV, free_frames(hv), 0, false);
	CU_ASSERT(sim_hv_ring_enable(hv, b, &port) == 0);
	for (unsigned int i = 0; i < ring_size + 2; i++) {
		CU_ASSERT(sim_hv_map(hv, 4, b, &gfn, 1, true, &mfn, &err) == 0);
		CU_ASSERT(err == -ENOMEM);
		queued++;
	}
	CU_ASSERT(queued > ring_size);
	CU_ASSERT(info(hv, b).paused_vcpus == 0);   /* foreign: nobody paused */
	CU_ASSERT(n.count >= 1 && n.port == port);
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 1, 0, "w", 1) == -ENOMEM);
	CU_ASSERT(info(hv, b).paused_vcpus == 0);   /* ring full: no request, no pause */
	CU_ASSERT(!(info(hv, b).flags & SIM_DOMF_CRASHED));
	CU_ASSERT(sim_hv_wait_resumed(hv, b, 0) == 0);
	done(hv);
}

struct writer { struct sim_hv *hv; uint32_t dom; int seed; atomic_bool stop; atomic_long writes; };

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	uint8_t page[SIM_PAGE_SIZE];
	unsigned int x = (unsigned int)w->seed;

	while (!atomic_load(&w->stop)) {
		x = x * 1103515245u + 12345u;
		memset(page, (int)(x >> 16) % 4, sizeof(page));   /* few contents: many twins */
		if (sim_hv_guest_write(w->hv, w->dom, 0, (x >> 8) % 32, 0, page, sizeof(page)) == 0)
			atomic_fetch_add(&w->writes, 1);
	}
	return NULL;
}

/*
 * The daemon's safe order under concurrent guest writes: nominate both,
 * compare through read-only mappings, unmap, share with the handles.  Any
 * write in between invalidates a handle, so no page is ever wrongly shared:
 * verify() stays 0 and the invariant holds, with writers running in threads.
 */
static void test_concurrent_writes_safe_share(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;
	struct writer w[2];
	pthread_t t[2];
	long shared = 0, stale = 0;
	uint8_t *mem;

	cfg.nr_frames = 4096;
	hv = mk_hv_cfg(cfg);
	mem = sim_frame_ptr(hv, 0);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct writer){ hv, mk_dom(hv, 32), 17 + i, false, 0 };
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, writer_thread, &w[i]) == 0);
	}
	/* 20000 rounds, and on until both writers have run (a loaded machine
	 * may not give a new thread the CPU before the rounds are over) */
	for (int it = 0; it < 20000 || ((!atomic_load(&w[0].writes) || !atomic_load(&w[1].writes)) &&
					it < 20000000); it++) {
		uint64_t g[2] = { (uint64_t)(it * 7) % 32, (uint64_t)(it * 13) % 32 }, h[2], m[2];
		int err[2], rc;

		if (sim_hv_nominate_gfn(hv, w[0].dom, g[0], &h[0]) ||
		    sim_hv_nominate_gfn(hv, w[1].dom, g[1], &h[1]))
			continue;
		if (sim_hv_map(hv, 21, w[0].dom, &g[0], 1, false, &m[0], &err[0]) ||
		    sim_hv_map(hv, 21, w[1].dom, &g[1], 1, false, &m[1], &err[1]))
			continue;
		rc = err[0] || err[1] ||
		     memcmp(mem + m[0] * SIM_PAGE_SIZE, mem + m[1] * SIM_PAGE_SIZE, SIM_PAGE_SIZE);
		sim_hv_unmap_owner(hv, 21);
		if (rc)
			continue;
		rc = sim_hv_share(hv, w[0].dom, g[0], h[0], w[1].dom, g[1], h[1]);
		if (rc == 0)
			shared++;
		else if (rc == XENMEM_SHARING_OP_S_HANDLE_INVALID ||
			 rc == XENMEM_SHARING_OP_C_HANDLE_INVALID)
			stale++;
		else
			CU_FAIL("unexpected share error");
	}
	for (int i = 0; i < 2; i++) {
		atomic_store(&w[i].stop, true);
		pthread_join(t[i], NULL);
	}
	CU_ASSERT(shared > 0);
	CU_ASSERT(atomic_load(&w[0].writes) > 0 && atomic_load(&w[1].writes) > 0);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	printf("\n  concurrent: %ld shared, %ld stale handles, %ld+%ld guest writes\n", shared, stale,
	       atomic_load(&w[0].writes), atomic_load(&w[1].writes));
	done(hv);
}

struct waiter { struct sim_hv *hv; uint32_t dom; int rc; };

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->rc = sim_hv_wait_resumed(w->hv, w->dom, 0);
	return NULL;
}

/* wait_resumed blocks while paused and returns on unpause (0) or destroy (-ESRCH). */
static void test_wait_resumed(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);
	struct waiter w = { hv, d, 1 };
	pthread_t t;

	CU_ASSERT(sim_hv_domain_pause(hv, d) == 0);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, wait_thread, &w) == 0);
	usleep(20000);
	CU_ASSERT(w.rc == 1);   /* still blocked */
	CU_ASSERT(sim_hv_domain_unpause(hv, d) == 0);
	pthread_join(t, NULL);
	CU_ASSERT(w.rc == 0);
	CU_ASSERT(sim_hv_domain_pause(hv, d) == 0);
	w.rc = 1;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, wait_thread, &w) == 0);
	usleep(20000);
	CU_ASSERT(sim_hv_domain_destroy(hv, d) == 0);
	pthread_join(t, NULL);
	CU_ASSERT(w.rc == -ESRCH);
	done(hv);
}

/* The ring: PV -ENODEV, dom0 -EINVAL, disable/resume without ring -EINVAL/-ENODEV. */
static void test_ring_errors(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t pv = mk_dom_spec(hv, SIM_DOM_PV, 4, 0, false), d = mk_dom(hv, 4), port;

	CU_ASSERT(sim_hv_ring_enable(hv, pv, &port) == -ENODEV);
	CU_ASSERT(sim_hv_ring_enable(hv, 0, &port) == -EINVAL);
	CU_ASSERT(sim_hv_ring_enable(hv, 50, &port) == -ESRCH);
	CU_ASSERT(sim_hv_ring_disable(hv, d) == -EINVAL);
	CU_ASSERT(sim_hv_domain_resume(hv, d) == -ENODEV);
	CU_ASSERT(sim_hv_ring_enable(hv, d, &port) == 0);
	CU_ASSERT(sim_hv_domain_resume(hv, d) == 0);
	CU_ASSERT(sim_hv_ring_disable(hv, d) == 0);
	done(hv);
}

/* ---- destroy and mappings ---------------------------------------------------------- */

/* Destroy drops the domain's shared references: counters fall back, frames freed with the last sharer. */
static void test_destroy_drops_shared_refs(void)
{
	struct sim_hv *hv = mk_hv();
	uint64_t start = free_frames(hv);
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);

	share(hv, a, 1, b, 1);
	share(hv, a, 2, b, 2);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 2);
	CU_ASSERT(sim_hv_domain_destroy(hv, b) == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 0);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 2);
	check_consistent(hv);
	CU_ASSERT(sim_hv_domain_destroy(hv, a) == 0);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 0);
	CU_ASSERT(free_frames(hv) == start);
	done(hv);
}

/* A writable mapping of a shared gfn unshares it first; a read-only one does not. */
static void test_writable_map_unshares(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t gfn = 1, shared_mfn, mfn;
	int err;

	fill(hv, a, 1, 0x21);
	fill(hv, b, 1, 0x21);
	share(hv, a, 1, b, 1);
	shared_mfn = mfn_of(hv, a, 1);
	CU_ASSERT(sim_hv_map(hv, 7, b, &gfn, 1, false, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(mfn == shared_mfn && info(hv, b).shr_pages == 1);
	CU_ASSERT(sim_hv_map(hv, 7, b, &gfn, 1, true, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(mfn != shared_mfn && info(hv, b).shr_pages == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 0);
	/* A write through the writable mapping becomes the guest's content at unmap. */
	sim_frame_ptr(hv, (uint32_t)mfn)[0] = 0x99;
	sim_hv_unmap_owner(hv, 7);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* A read-only mapping keeps an orphaned shared frame alive until unmapped. */
static void test_ro_map_keeps_orphan(void)
{
	struct sim_hv *hv = mk_hv();
	uint64_t start = free_frames(hv);
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t gfn = 1, mfn;
	int err;

	fill(hv, a, 1, 0x3c);
	fill(hv, b, 1, 0x3c);
	share(hv, a, 1, b, 1);
	CU_ASSERT(sim_hv_map(hv, 8, a, &gfn, 1, false, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(sim_hv_domain_destroy(hv, a) == 0);
	CU_ASSERT(sim_hv_domain_destroy(hv, b) == 0);
	CU_ASSERT(sim_hv_sharing_used_frames(hv) == 0);
	CU_ASSERT(free_frames(hv) == start - 1);   /* the orphan */
	CU_ASSERT(sim_frame_ptr(hv, (uint32_t)mfn)[7] == 0x3c);   /* still readable by the mapper */
	check_consistent(hv);
	CU_ASSERT(sim_hv_unmap(hv, 8, &mfn, 1) == 0);
	CU_ASSERT(free_frames(hv) == start);
	CU_ASSERT(sim_hv_unmap(hv, 8, &mfn, 1) == -EINVAL);   /* not mapped any more */
	done(hv);
}

/* The share's client frame, still mapped read-only, survives the share as an orphan. */
static void test_share_client_frame_mapped(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t ha = nominate(hv, a, 1), hb = nominate(hv, b, 1), gfn = 1, mfn, before;
	int err;

	CU_ASSERT(sim_hv_map(hv, 3, b, &gfn, 1, false, &mfn, &err) == 0 && err == 0);
	before = free_frames(hv);
	CU_ASSERT(sim_hv_share(hv, a, 1, ha, b, 1, hb) == 0);
	CU_ASSERT(free_frames(hv) == before);
	sim_hv_unmap_owner(hv, 3);
	CU_ASSERT(free_frames(hv) == before + 1);
	done(hv);
}

/* privcmd-style err[]: holes give -EINVAL and SIM_INVALID_MFN; unmap_owner releases everything. */
static void test_map_errors_and_owner_release(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);
	uint64_t gfns[4] = { 0, 1, 3000, 0 }, mfns[4];
	int err[4];
	uint64_t h;

	CU_ASSERT(sim_hv_map(hv, 11, d, gfns, 4, false, mfns, err) == 0);
	CU_ASSERT(err[0] == 0 && err[1] == 0 && err[2] == -EINVAL && err[3] == 0);
	CU_ASSERT(mfns[2] == SIM_INVALID_MFN && mfns[0] == mfns[3]);
	CU_ASSERT(sim_hv_map(hv, 11, 99, gfns, 1, false, mfns, err) == -ESRCH);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 0, &h) == -E2BIG);
	check_consistent(hv);
	sim_hv_unmap_owner(hv, 11);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 0, &h) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 1, &h) == 0);
	done(hv);
}

/* ---- add_to_physmap, range_share, debug, audit -------------------------------------- */

/* add_to_physmap plugs a client hole with the shared frame (saved+1); non-hole -9, bad handle -10. */
static void test_add_to_physmap(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	uint64_t h;

	fill(hv, a, 2, 0x6b);
	h = nominate(hv, a, 2);
	CU_ASSERT(sim_hv_memshr_control(hv, b, true) == 0);
	CU_ASSERT(sim_hv_add_to_physmap(hv, a, 2, h, b, 1) == XENMEM_SHARING_OP_C_HANDLE_INVALID);
	CU_ASSERT(sim_hv_add_to_physmap(hv, a, 2, h + 1, b, 20) == XENMEM_SHARING_OP_S_HANDLE_INVALID);
	CU_ASSERT(sim_hv_add_to_physmap(hv, a, 3, h, b, 20) == XENMEM_SHARING_OP_S_HANDLE_INVALID);
	CU_ASSERT(sim_hv_add_to_physmap(hv, a, 2, h, b, 20) == 0);
	CU_ASSERT(page_is(hv, b, 20, 0x6b));
	CU_ASSERT(info(hv, b).shr_pages == 1 && info(hv, b).tot_pages == 4);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 1);
	CU_ASSERT(sim_hv_debug_gfn(hv, a, 2) == 2);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* range_share needs both domains paused (-EINVAL) and shares without looking at contents. */
static void test_range_share(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 6), b = mk_dom(hv, 6);
	struct sim_mismatch mm[4];

	fill(hv, a, 2, 0x01);
	fill(hv, b, 2, 0x02);   /* different: range_share does not care */
	CU_ASSERT(sim_hv_memshr_control(hv, b, true) == 0);
	CU_ASSERT(sim_hv_range_share(hv, a, b, 0, 5) == -EINVAL);
	CU_ASSERT(sim_hv_domain_pause(hv, a) == 0);
	CU_ASSERT(sim_hv_range_share(hv, a, b, 0, 5) == -EINVAL);
	CU_ASSERT(sim_hv_domain_pause(hv, b) == 0);
	CU_ASSERT(sim_hv_range_share(hv, a, b, 0, 50) == -EINVAL);   /* beyond the p2m */
	CU_ASSERT(sim_hv_range_share(hv, a, b, 0, 5) == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 6);
	CU_ASSERT(info(hv, b).shr_pages == 6);
	/* The oracle sees what the guest would: b's gfn 2 now reads a's data. */
	CU_ASSERT(sim_hv_verify(hv, mm, 4) == 1);
	CU_ASSERT(mm[0].domid == b && mm[0].gfn == 2);
	done(hv);
}

/* debug_gfn counts the sharers of a shared gfn; a private gfn gives -EINVAL. */
static void test_debug_gfn(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);

	share(hv, a, 0, b, 3);
	CU_ASSERT(sim_hv_debug_gfn(hv, a, 0) == 2);
	CU_ASSERT(sim_hv_debug_gfn(hv, a, 1) == -EINVAL);
	done(hv);
}

/* A hypervisor built without CONFIG_MEM_SHARING (Debian's stock one)
 * answers every sharing op and the sharing ring with -ENOSYS, touches
 * nothing, and its sharing counters stay 0. */
static void test_no_mem_sharing(void)
{
	struct sim_hv_config cfg = base_cfg();
	xenshare_cmpshr_pair_t pair = { 0 };
	struct sim_hv *hv;
	uint64_t h = 1;
	uint32_t a, b, port;

	cfg.no_mem_sharing = true;
	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	CU_ASSERT(sim_hv_memshr_control(hv, a, true) == -ENOSYS);
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 0, &h) == -ENOSYS);
	CU_ASSERT(sim_hv_share(hv, a, 0, 1, b, 0, 2) == -ENOSYS);
	CU_ASSERT(sim_hv_debug_gfn(hv, a, 0) == -ENOSYS);
	CU_ASSERT(sim_hv_compare_share(hv, &pair, 1) == -ENOSYS);
	CU_ASSERT(sim_hv_ring_enable(hv, a, &port) == -ENOSYS);
	CU_ASSERT(sim_hv_audit(hv) == -ENOSYS);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 0);
	sim_hv_destroy(hv);
}

/* The audit op exists in debug builds only. */
static void test_audit_debug_only(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;

	cfg.debug_build = false;
	hv = mk_hv_cfg(cfg);
	CU_ASSERT(sim_hv_audit(hv) == -EOPNOTSUPP);
	sim_hv_destroy(hv);
}

/* The audit finds broken bookkeeping (here: a shr_pages counter off by one). */
static void test_audit_finds_errors(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4);

	nominate(hv, a, 0);
	CU_ASSERT(sim_hv_audit(hv) == 0);
	hv->doms[a]->shr_pages++;
	CU_ASSERT(sim_hv_audit(hv) >= 2);   /* per-domain count and the global invariant */
	hv->doms[a]->shr_pages--;
	done(hv);
}

/* ---- compare_share (patched) --------------------------------------------------------- */

/* compare_share: -ENOSYS unpatched; patched: equal pages shared, different ones not. */
static void test_compare_share(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv = mk_hv();
	xenshare_cmpshr_pair_t p[3];
	uint32_t a, b;

	CU_ASSERT(sim_hv_compare_share(hv, p, 0) == -ENOSYS);
	sim_hv_destroy(hv);
	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	fill(hv, a, 1, 0x10);
	fill(hv, b, 1, 0x10);
	fill(hv, b, 2, 0x20);
	memset(p, 0, sizeof(p));
	p[0] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = 1,
					 .client_domain = b, .client_gfn = 1 };
	p[1] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = 2,
					 .client_domain = b, .client_gfn = 2 };
	p[2] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = 3,
					 .client_domain = 77, .client_gfn = 2 };
	CU_ASSERT(sim_hv_compare_share(hv, p, 0) == 0);   /* the probe */
	CU_ASSERT(sim_hv_compare_share(hv, p, XENSHARE_CMPSHR_MAX_BATCH + 1) == -EINVAL);
	CU_ASSERT(sim_hv_compare_share(hv, p, 3) == 0);
	CU_ASSERT(p[0].result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(p[1].result == XENSHARE_CMPSHR_DIFFERENT);
	CU_ASSERT(p[2].result == -ESRCH);
	CU_ASSERT(mfn_of(hv, a, 1) == mfn_of(hv, b, 1));
	CU_ASSERT(mfn_of(hv, a, 2) != mfn_of(hv, b, 2));
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 1);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* One compare_share call of 64 pairs frees 64 client frames: they are
 * given back to the kernel by the end of the call (the memfd's blocks
 * drop), and a frame reused after it reads as zeros. */
static void test_compare_share_batch_punches(void)
{
	struct sim_hv_config cfg = base_cfg();
	xenshare_cmpshr_pair_t p[64];
	struct stat st1, st2;
	struct sim_hv *hv;
	uint32_t a, b, c;

	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	a = mk_dom(hv, 64);
	b = mk_dom(hv, 64);
	for (uint64_t g = 0; g < 64; g++) {
		fill(hv, a, g, 0x40 + (int)g);
		fill(hv, b, g, 0x40 + (int)g);
		p[g] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = g,
						 .client_domain = b, .client_gfn = g };
	}
	CU_ASSERT(fstat(sim_hv_frames_fd(hv), &st1) == 0);
	CU_ASSERT(sim_hv_compare_share(hv, p, 64) == 0);
	CU_ASSERT(fstat(sim_hv_frames_fd(hv), &st2) == 0);
	for (unsigned int i = 0; i < 64; i++)
		CU_ASSERT(p[i].result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 64);
	CU_ASSERT(st1.st_blocks - st2.st_blocks >= 64 * 8);
	c = mk_dom(hv, 64);
	for (uint64_t g = 0; g < 64; g++)
		CU_ASSERT(page_is(hv, c, g, 0));
	for (uint64_t g = 0; g < 64; g++)
		CU_ASSERT(page_is(hv, b, g, 0x40 + (int)g));
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* Xen 4.17's share_pages() locks the p2m of its two domains only, yet moves
 * every gfn of the client frame: a client frame that also backs a gfn of a
 * third domain is a lock-order BUG() and a host panic.  The model refuses
 * the op with -EHOSTDOWN and records the panic; before that, a client frame
 * spanning only the call's two domains merges normally. */
static void test_share_third_domain_panics(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4), c = mk_dom(hv, 4);
	uint64_t ha, hb;

	fill(hv, a, 1, 0x33);
	fill(hv, b, 1, 0x33);
	fill(hv, b, 2, 0x33);
	fill(hv, c, 1, 0x33);
	share(hv, b, 1, b, 2);                    /* a frame of b only */
	share(hv, a, 1, b, 1);                    /* client spans a and b only: fine */
	CU_ASSERT(sim_hv_panic_reason(hv) == NULL);
	/* c's private page as source, a's gfn as client: the client frame also
	 * backs b's gfns, and b's p2m is not locked */
	ha = nominate(hv, c, 1);
	hb = nominate(hv, a, 1);
	CU_ASSERT(sim_hv_share(hv, c, 1, ha, a, 1, hb) == -EHOSTDOWN);
	CU_ASSERT(sim_hv_panic_reason(hv) != NULL);
	sim_hv_destroy(hv);

	hv = mk_hv();
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	c = mk_dom(hv, 4);
	fill(hv, a, 1, 0x44);
	fill(hv, b, 1, 0x44);
	fill(hv, c, 1, 0x44);
	share(hv, a, 1, b, 1);
	ha = nominate(hv, a, 1);
	hb = nominate(hv, c, 1);
	/* the safe direction: the private page is the client */
	CU_ASSERT(sim_hv_share(hv, a, 1, ha, c, 1, hb) == 0);
	CU_ASSERT(sim_hv_panic_reason(hv) == NULL);
	CU_ASSERT(sim_hv_debug_gfn(hv, c, 1) == 3);
	done(hv);
}

/* The patched plain share (hypervisor-patch/ 0008): the client frame that
 * would panic an unpatched host (it backs a gfn of a third domain) is
 * refused with -EDEADLK and nothing changes; the pair shared the other way
 * round still works; range_share over such a page skips it and succeeds. */
static void test_patched_share_third_domain_refused(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;
	uint32_t a, b, c;
	uint64_t ha, hc, before;

	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	c = mk_dom(hv, 4);
	for (uint32_t dom = a; dom <= c; dom++)
		for (uint64_t g = 0; g < 4; g++)
			fill(hv, dom, g, 0x66);
	share(hv, a, 1, b, 1);                    /* frame F: a:1, b:1 */
	before = (uint64_t)sim_hv_sharing_freed_pages(hv);
	hc = nominate(hv, c, 1);
	ha = nominate(hv, a, 1);
	CU_ASSERT(sim_hv_share(hv, c, 1, hc, a, 1, ha) == -EDEADLK);
	CU_ASSERT(sim_hv_panic_reason(hv) == NULL);
	CU_ASSERT((uint64_t)sim_hv_sharing_freed_pages(hv) == before);
	CU_ASSERT(mfn_of(hv, a, 1) == mfn_of(hv, b, 1));
	CU_ASSERT(mfn_of(hv, c, 1) != mfn_of(hv, a, 1));
	/* the other way round: c's private frame is the client */
	CU_ASSERT(sim_hv_share(hv, a, 1, ha, c, 1, hc) == 0);
	CU_ASSERT(sim_hv_debug_gfn(hv, c, 1) == 3);

	/* range_share c -> a over gfns 0..3 (both paused): a:1 and c:1 are
	 * already one frame, the rest private: all of it merges, no panic */
	CU_ASSERT(sim_hv_domain_pause(hv, a) == 0);
	CU_ASSERT(sim_hv_domain_pause(hv, c) == 0);
	share(hv, b, 2, b, 3);                    /* frame G: b:2, b:3 */
	/* c -> b over 2..3: the client frame G spans only b, but c's gfn 2
	 * joins it; then a -> c over 2..2: c:2's frame now backs b's gfns */
	CU_ASSERT(sim_hv_domain_pause(hv, b) == 0);
	CU_ASSERT(sim_hv_range_share(hv, c, b, 2, 3) == 0);
	CU_ASSERT(mfn_of(hv, c, 2) == mfn_of(hv, b, 2));
	CU_ASSERT(sim_hv_range_share(hv, a, c, 2, 2) == 0);   /* skipped, not a panic */
	CU_ASSERT(sim_hv_panic_reason(hv) == NULL);
	CU_ASSERT(mfn_of(hv, a, 2) != mfn_of(hv, c, 2));
	CU_ASSERT(sim_hv_domain_unpause(hv, a) == 0);
	CU_ASSERT(sim_hv_domain_unpause(hv, b) == 0);
	CU_ASSERT(sim_hv_domain_unpause(hv, c) == 0);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* The patched compare-and-share (hypervisor-patch/ 0002, fixed): a client
 * frame that spans a third domain is not a panic; the source frame merges
 * into it instead (both gfns end on one frame, the third domain's gfn
 * untouched), and when both frames span other domains the smaller one's
 * gfns move to the other (0009): one frame of five gfns, one more frame
 * saved, every domain's shr_pages unchanged. */
static void test_compare_share_spanning_frames(void)
{
	struct sim_hv_config cfg = base_cfg();
	xenshare_cmpshr_pair_t p[2];
	struct sim_hv *hv;
	uint32_t a, b, c, d;
	uint64_t freed;

	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	a = mk_dom(hv, 4);
	b = mk_dom(hv, 4);
	c = mk_dom(hv, 4);
	d = mk_dom(hv, 4);
	for (uint32_t dom = a; dom <= d; dom++) {
		fill(hv, dom, 1, 0x55);
		fill(hv, dom, 2, 0x55);
	}
	share(hv, a, 1, b, 1);                    /* frame F1: a:1, b:1 */
	share(hv, c, 2, d, 2);                    /* frame F2: c:2, d:2 */
	freed = (uint64_t)sim_hv_sharing_freed_pages(hv);
	memset(p, 0, sizeof(p));
	/* source private (c:1), client on F1 (spans a and b) */
	p[0] = (xenshare_cmpshr_pair_t){ .source_domain = c, .source_gfn = 1,
					 .client_domain = a, .client_gfn = 1 };
	/* source on F1 (a, b, now c), client on F2 (c, d): both span others */
	p[1] = (xenshare_cmpshr_pair_t){ .source_domain = b, .source_gfn = 1,
					 .client_domain = d, .client_gfn = 2 };
	CU_ASSERT(sim_hv_compare_share(hv, p, 2) == 0);
	CU_ASSERT(sim_hv_panic_reason(hv) == NULL);
	CU_ASSERT(p[0].result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(p[1].result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(mfn_of(hv, c, 1) == mfn_of(hv, a, 1));
	CU_ASSERT(mfn_of(hv, b, 1) == mfn_of(hv, a, 1));
	CU_ASSERT(mfn_of(hv, d, 2) == mfn_of(hv, a, 1));
	CU_ASSERT(mfn_of(hv, c, 2) == mfn_of(hv, a, 1));
	CU_ASSERT(sim_hv_debug_gfn(hv, a, 1) == 5);
	CU_ASSERT((uint64_t)sim_hv_sharing_freed_pages(hv) == freed + 2);
	CU_ASSERT(info(hv, a).shr_pages == 1 && info(hv, b).shr_pages == 1 &&
		  info(hv, c).shr_pages == 2 && info(hv, d).shr_pages == 1);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/*
 * A frame-to-frame merge long enough to cross 0009's preemption point: a
 * frame X of 201 gfns (zero pages of a and b) and a frame Y of 72 (c, d
 * and e) of the same bytes; the pair names Y's side as client and X's as
 * source, and Y, the smaller, moves: 72 gfns, the lock dropped once (every
 * 64).  One frame of 273 gfns, one more frame saved, every domain's
 * shr_pages unchanged, the invariant and verify() clean.
 */
static void test_frame_merge_preempted(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_dominfo before[5];
	xenshare_cmpshr_pair_t p;
	struct sim_hv_residue res;
	struct sim_hv *hv;
	uint32_t dom[5];
	uint64_t freed;

	cfg.patched = true;
	cfg.nr_frames = 2048;
	hv = mk_hv_cfg(cfg);
	dom[0] = mk_dom(hv, 128);
	dom[1] = mk_dom(hv, 128);
	dom[2] = mk_dom(hv, 80);
	dom[3] = mk_dom(hv, 4);
	dom[4] = mk_dom(hv, 4);
	for (uint64_t g = 1; g < 101; g++)
		share(hv, dom[0], 0, dom[0], g);
	for (uint64_t g = 0; g < 100; g++)
		share(hv, dom[0], 0, dom[1], g);
	for (uint64_t g = 1; g < 70; g++)
		share(hv, dom[2], 0, dom[2], g);
	share(hv, dom[2], 0, dom[3], 1);
	share(hv, dom[2], 0, dom[4], 1);
	CU_ASSERT_FATAL(sim_hv_debug_gfn(hv, dom[0], 0) == 201);
	CU_ASSERT_FATAL(sim_hv_debug_gfn(hv, dom[2], 0) == 72);
	for (int i = 0; i < 5; i++)
		before[i] = info(hv, dom[i]);
	freed = (uint64_t)sim_hv_sharing_freed_pages(hv);
	p = (xenshare_cmpshr_pair_t){ .source_domain = dom[1], .source_gfn = 5,
				      .client_domain = dom[3], .client_gfn = 1 };
	CU_ASSERT(sim_hv_compare_share(hv, &p, 1) == 0);
	CU_ASSERT(p.result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(sim_hv_debug_gfn(hv, dom[4], 1) == 273);
	CU_ASSERT(mfn_of(hv, dom[2], 69) == mfn_of(hv, dom[0], 0));
	CU_ASSERT((uint64_t)sim_hv_sharing_freed_pages(hv) == freed + 1);
	for (int i = 0; i < 5; i++)
		CU_ASSERT(info(hv, dom[i]).shr_pages == before[i].shr_pages);
	sim_hv_get_residue(hv, &res);
	CU_ASSERT(res.frame_merge_preemptions == 1);
	CU_ASSERT(res.sum_shr_pages == res.freed_pages + res.used_frames);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	done(hv);
}

/* A patched host with the four domains of span_frames(). */
static struct sim_hv *span_host(uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;

	cfg.patched = true;
	cfg.nr_frames = 4096;
	hv = mk_hv_cfg(cfg);
	*a = mk_dom(hv, 200);
	*b = mk_dom(hv, 200);
	*c = mk_dom(hv, 200);
	*d = mk_dom(hv, 200);
	return hv;
}

/* Two frames of one content, each backing gfns of three domains (a..d of
 * 200 gfns): X holds a:0, b:0..149 and c:199 (152 gfns), Y holds d:0..159
 * and c:198 (161).  Merging a:0 (client) into d:0 (source) moves X. */
static void span_frames(struct sim_hv *hv, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	fill(hv, a, 0, 0);
	for (uint64_t g = 0; g < 150; g++) {
		fill(hv, b, g, 0);
		share(hv, a, 0, b, g);
	}
	fill(hv, c, 199, 0);
	share(hv, a, 0, c, 199);
	for (uint64_t g = 0; g < 160; g++)
		fill(hv, d, g, 0);
	for (uint64_t g = 1; g < 160; g++)
		share(hv, d, 0, d, g);
	fill(hv, c, 198, 0);
	share(hv, d, 0, c, 198);
}

/*
 * Two large frames of one content, each with gfns of three domains,
 * merged while a guest writes into the frame being emptied: the merge
 * moves ~150 gfns and drops the lock every 64, so the writer's unshares
 * land between steps.  Whatever the interleaving: the pair ends SHARED
 * (its own gfns are not written), verify() finds no page wrong and the
 * invariant holds, round after round.
 */
struct span_writer {
	struct sim_hv *hv;
	uint32_t dom;
	atomic_bool go, busy, stop;
	atomic_long writes;
};

static void *span_writer_thread(void *arg)
{
	struct span_writer *w = arg;
	uint8_t page[16];
	unsigned int x = 99;

	memset(page, 0x77, sizeof(page));
	while (!atomic_load(&w->stop)) {
		atomic_store(&w->busy, true);
		if (atomic_load(&w->go)) {
			x = x * 1103515245u + 12345u;
			if (sim_hv_guest_write(w->hv, w->dom, 0, 1 + (x >> 8) % 149, 0, page,
					       sizeof(page)) == 0)
				atomic_fetch_add(&w->writes, 1);
		}
		atomic_store(&w->busy, false);
	}
	return NULL;
}

static void test_frame_merge_concurrent_writes(void)
{
	struct sim_hv_residue res;
	struct span_writer w;
	xenshare_cmpshr_pair_t p;
	struct sim_hv *hv;
	uint32_t a, b, c, d;
	pthread_t t;
	int rounds = 0;

	hv = span_host(&a, &b, &c, &d);
	memset(&w, 0, sizeof(w));
	w.hv = hv;
	w.dom = b;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, span_writer_thread, &w) == 0);
	do {
		span_frames(hv, a, b, c, d);
		p = (xenshare_cmpshr_pair_t){ .source_domain = d, .source_gfn = 0,
					      .client_domain = a, .client_gfn = 0 };
		atomic_store(&w.go, true);
		CU_ASSERT(sim_hv_compare_share(hv, &p, 1) == 0);
		atomic_store(&w.go, false);
		while (atomic_load(&w.busy))
			;
		CU_ASSERT(p.result == XENSHARE_CMPSHR_SHARED);
		CU_ASSERT(mfn_of(hv, a, 0) == mfn_of(hv, d, 0));
		sim_hv_get_residue(hv, &res);
		CU_ASSERT(res.sum_shr_pages == res.freed_pages + res.used_frames);
		CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	} while (++rounds < 20 || (atomic_load(&w.writes) < 20 && rounds < 2000));
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	sim_hv_get_residue(hv, &res);
	CU_ASSERT(res.frame_merge_preemptions > 0);
	CU_ASSERT(atomic_load(&w.writes) >= 20);
	printf("\n  frame merges: %d rounds, %ld guest writes in them, %" PRIu64 " preemptions\n",
	       rounds, atomic_load(&w.writes), res.frame_merge_preemptions);
	done(hv);
}

/*
 * A frame-to-frame merge while, on a host with no free frame, another
 * thread writes a gfn of the frame being emptied (an unshare that finds
 * no memory) and then destroys a domain with 150 gfns on that frame.
 * Whatever the interleaving, round after round: the write takes the
 * ENOMEM path (the vCPU paused, never a crash; or it succeeds if the merge
 * already freed the emptied frame), the pair ends SHARED, the destroyed
 * domain's gfns leave the frame, verify() finds no page wrong and the
 * invariant holds.
 */
struct span_killer {
	struct sim_hv *hv;
	uint32_t writer, victim;
	atomic_bool go, done;
	int write_rc, destroy_rc;
};

static void *span_killer_thread(void *arg)
{
	struct span_killer *k = arg;
	uint8_t page[16];

	memset(page, 0x5a, sizeof(page));
	while (!atomic_load(&k->go))
		;
	k->write_rc = sim_hv_guest_write(k->hv, k->writer, 0, 199, 0, page, sizeof(page));
	k->destroy_rc = sim_hv_domain_destroy(k->hv, k->victim);
	atomic_store(&k->done, true);
	return NULL;
}

static void test_frame_merge_destroy_enomem(void)
{
	unsigned int enomem = 0;

	for (int round = 0; round < 20; round++) {
		struct sim_hv_residue res;
		struct span_killer k;
		xenshare_cmpshr_pair_t p;
		struct sim_hv *hv;
		uint32_t a, b, c, d;
		pthread_t t;

		hv = span_host(&a, &b, &c, &d);
		span_frames(hv, a, b, c, d);
		mk_dom_spec(hv, SIM_DOM_PV, free_frames(hv), 0, false);
		CU_ASSERT_FATAL(free_frames(hv) == 0);
		memset(&k, 0, sizeof(k));
		k.hv = hv;
		k.writer = c;
		k.victim = b;
		CU_ASSERT_FATAL(pthread_create(&t, NULL, span_killer_thread, &k) == 0);
		p = (xenshare_cmpshr_pair_t){ .source_domain = d, .source_gfn = 0,
					      .client_domain = a, .client_gfn = 0 };
		atomic_store(&k.go, true);
		CU_ASSERT(sim_hv_compare_share(hv, &p, 1) == 0);
		pthread_join(t, NULL);
		CU_ASSERT(p.result == XENSHARE_CMPSHR_SHARED);
		CU_ASSERT(mfn_of(hv, a, 0) == mfn_of(hv, d, 0));
		CU_ASSERT(k.destroy_rc == 0);
		CU_ASSERT(k.write_rc == 0 || k.write_rc == -ENOMEM);
		CU_ASSERT(!(info(hv, c).flags & SIM_DOMF_CRASHED));
		if (k.write_rc == -ENOMEM) {
			enomem++;
			CU_ASSERT(info(hv, c).paused_vcpus == 1);
		}
		sim_hv_get_residue(hv, &res);
		CU_ASSERT(res.sum_shr_pages == res.freed_pages + res.used_frames);
		CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
		done(hv);
	}
	printf("\n  frame merges with a destroy and an unshare beside them: 20 rounds, "
	       "%u unshares found no memory\n", enomem);
}

/* ---- leak-check helpers (xensim-only) ------------------------------------------------ */

/*
 * The recent-nominations ring (sim_write_aim's targets): newest first,
 * capped at 64, only successful nominations (a mapped page's -E2BIG is not
 * recorded), re-nominating a shared page counts, compare_share records too,
 * and an unknown domain is -ESRCH.
 */
static void test_recent_nominations(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;
	uint64_t g[80], h, mfn, gfn = 99;
	xenshare_cmpshr_pair_t p;
	uint32_t d, e;
	int err;

	cfg.patched = true;
	hv = mk_hv_cfg(cfg);
	d = mk_dom(hv, 100);
	e = mk_dom(hv, 4);
	CU_ASSERT(sim_hv_recent_nominations(hv, d, g, 80) == 0);
	CU_ASSERT(sim_hv_recent_nominations(hv, 77, g, 80) == -ESRCH);
	for (uint64_t i = 0; i < 70; i++)
		nominate(hv, d, i);
	CU_ASSERT(sim_hv_recent_nominations(hv, d, g, 80) == 64);
	CU_ASSERT(g[0] == 69 && g[63] == 6);
	CU_ASSERT(sim_hv_recent_nominations(hv, d, g, 2) == 2);
	CU_ASSERT(g[0] == 69 && g[1] == 68);
	CU_ASSERT(sim_hv_map(hv, 5, d, &gfn, 1, false, &mfn, &err) == 0 && err == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 99, &h) == -E2BIG);
	CU_ASSERT(sim_hv_recent_nominations(hv, d, g, 1) == 1 && g[0] == 69);
	sim_hv_unmap_owner(hv, 5);
	nominate(hv, d, 3);   /* already shared: the re-nomination is recorded */
	CU_ASSERT(sim_hv_recent_nominations(hv, d, g, 1) == 1 && g[0] == 3);
	p = (xenshare_cmpshr_pair_t){ .source_domain = e, .source_gfn = 1,
				      .client_domain = d, .client_gfn = 90 };
	CU_ASSERT(sim_hv_compare_share(hv, &p, 1) == 0 && p.result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(sim_hv_recent_nominations(hv, d, g, 2) == 2 && g[0] == 90 && g[1] == 3);
	CU_ASSERT(sim_hv_recent_nominations(hv, e, g, 80) == 1 && g[0] == 1);
	done(hv);
}

/*
 * Residue counters: foreign_mappings counts each client's mapped frames
 * (two clients on one frame count twice) and drops to 0 when the clients
 * go; nominated_unshared counts shared frames with exactly one sharer, so
 * a nomination raises it, a merge of two such frames removes both, and a
 * guest write to a nominated page (unshare) removes it; of those,
 * nominated_unmerged counts the frames that never had a second sharer
 * (a frame left alone by an unshare is not one).  The sharing counters it
 * carries are one snapshot that satisfies the invariant.
 */
static void test_residue(void)
{
	struct sim_hv *hv = mk_hv();
	struct sim_hv_residue r;
	uint32_t a = mk_dom(hv, 8), b = mk_dom(hv, 8);
	uint64_t gfns[3] = { 0, 1, 2 }, mfns[3];
	int err[3];

	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.foreign_mappings == 0 && r.nominated_unshared == 0);
	CU_ASSERT(sim_hv_map(hv, 21, a, gfns, 3, false, mfns, err) == 0);
	CU_ASSERT(sim_hv_map(hv, 21, a, gfns, 1, false, mfns, err) == 0);   /* same frame again */
	CU_ASSERT(sim_hv_map(hv, 22, b, gfns, 2, false, mfns, err) == 0);
	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.foreign_mappings == 5);
	sim_hv_unmap_owner(hv, 21);
	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.foreign_mappings == 2);
	sim_hv_unmap_owner(hv, 22);
	nominate(hv, a, 4);
	nominate(hv, b, 5);
	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.foreign_mappings == 0 && r.nominated_unshared == 2);
	CU_ASSERT(r.nominated_unmerged == 2);
	share(hv, a, 6, b, 6);             /* a merged pair: two sharers, not counted */
	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.nominated_unshared == 2);
	/* the snapshot's counters: 3 frames used (two nominated, one merged),
	 * 1 saved, 4 gfns on shared frames */
	CU_ASSERT(r.used_frames == 3 && r.freed_pages == 1 && r.sum_shr_pages == 4);
	fill(hv, a, 4, 0x44);              /* the guest writes its nominated page */
	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.nominated_unshared == 1);
	CU_ASSERT(r.nominated_unmerged == 1);
	fill(hv, a, 6, 0x66);              /* unshare leaves b's gfn 6 alone on the frame */
	sim_hv_get_residue(hv, &r);
	CU_ASSERT(r.nominated_unshared == 2);
	CU_ASSERT(r.nominated_unmerged == 1);
	done(hv);
}

/* One frame of a sim_hv_shared_frames() listing, parsed. */
struct frame_view { uint64_t mfn, handle; uint32_t nr; struct sim_hv_sharer sh[8]; };

static long frames_of(struct sim_hv *hv, struct frame_view *out, unsigned int max)
{
	void *buf;
	size_t len, off = 0;
	long n = sim_hv_shared_frames(hv, &buf, &len);

	CU_ASSERT_FATAL(n >= 0 && n <= (long)max);
	for (long i = 0; i < n; i++) {
		struct sim_hv_frame_rec rec;

		CU_ASSERT_FATAL(off + sizeof(rec) <= len);
		memcpy(&rec, (uint8_t *)buf + off, sizeof(rec));
		off += sizeof(rec);
		CU_ASSERT_FATAL(rec.nr_sharers <= 8 && off + rec.nr_sharers * sizeof(out->sh[0]) <= len);
		out[i].mfn = rec.mfn;
		out[i].handle = rec.handle;
		out[i].nr = rec.nr_sharers;
		memcpy(out[i].sh, (uint8_t *)buf + off, rec.nr_sharers * sizeof(out->sh[0]));
		off += rec.nr_sharers * sizeof(out->sh[0]);
	}
	CU_ASSERT(off == len);
	free(buf);
	return n;
}

/*
 * The list of shared frames holds every frame on dom_cow -- a frame merged
 * across three domains, one shared by two gfns of one domain, one only
 * nominated -- each with its mfn, handle and (domid, gfn) sharers sorted,
 * frames by mfn; private frames never appear, and an unshare shows at once.
 */
static void test_shared_frames(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 16), b = mk_dom(hv, 16), c = mk_dom(hv, 16);
	struct frame_view f[8];
	uint64_t h3, hn;

	CU_ASSERT(frames_of(hv, f, 8) == 0);
	share(hv, c, 9, a, 3);              /* c's gfn 9 is the source */
	share(hv, c, 9, b, 12);
	h3 = nominate(hv, c, 9);
	share(hv, b, 4, b, 5);              /* one domain, two gfns */
	hn = nominate(hv, a, 7);            /* nominated, never merged */
	CU_ASSERT(frames_of(hv, f, 8) == 3);
	CU_ASSERT(f[0].mfn < f[1].mfn && f[1].mfn < f[2].mfn);
	for (int i = 0; i < 3; i++) {
		if (f[i].nr == 3) {
			CU_ASSERT(f[i].handle == h3 && f[i].mfn == mfn_of(hv, a, 3));
			CU_ASSERT(f[i].sh[0].domid == a && f[i].sh[0].gfn == 3);
			CU_ASSERT(f[i].sh[1].domid == b && f[i].sh[1].gfn == 12);
			CU_ASSERT(f[i].sh[2].domid == c && f[i].sh[2].gfn == 9);
		} else if (f[i].nr == 2) {
			CU_ASSERT(f[i].sh[0].domid == b && f[i].sh[0].gfn == 4);
			CU_ASSERT(f[i].sh[1].domid == b && f[i].sh[1].gfn == 5);
		} else {
			CU_ASSERT(f[i].nr == 1 && f[i].handle == hn);
			CU_ASSERT(f[i].sh[0].domid == a && f[i].sh[0].gfn == 7);
		}
	}
	fill(hv, b, 12, 0x12);              /* b's gfn leaves the three-way frame */
	fill(hv, a, 7, 0x07);               /* the nominated frame becomes private */
	CU_ASSERT(frames_of(hv, f, 8) == 2);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT(f[i].nr == 2);
		for (uint32_t j = 0; j < f[i].nr; j++)
			CU_ASSERT(!(f[i].sh[j].domid == b && f[i].sh[j].gfn == 12));
	}
	done(hv);
}

/* ---- oracle -------------------------------------------------------------------------- */

/* verify catches a frame changed behind the hypervisor's back (a write into the memfd). */
static void test_verify_catches_corruption(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 4);
	struct sim_mismatch mm[2];
	uint64_t mfn;

	fill(hv, d, 2, 0x44);
	mfn = mfn_of(hv, d, 2);
	CU_ASSERT(sim_hv_verify(hv, mm, 2) == 0);
	CU_ASSERT(pwrite(sim_hv_frames_fd(hv), "X", 1, (off_t)(mfn * SIM_PAGE_SIZE + 5)) == 1);
	CU_ASSERT(sim_hv_verify(hv, mm, 2) == 1);
	CU_ASSERT(mm[0].domid == d && mm[0].gfn == 2);
	done(hv);
}

/* verify catches two different pages wrongly shared (share never compares). */
static void test_verify_catches_wrong_share(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	struct sim_mismatch mm[2];

	fill(hv, a, 1, 0x01);
	fill(hv, b, 1, 0x02);
	share(hv, a, 1, b, 1);
	CU_ASSERT(sim_hv_verify(hv, mm, 2) == 1);
	CU_ASSERT(mm[0].domid == b && mm[0].gfn == 1);
	done(hv);
}

/* verify catches a write that landed in a shared frame without unsharing, and a lost page. */
static void test_verify_catches_shared_write_and_lost_page(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t a = mk_dom(hv, 4), b = mk_dom(hv, 4);
	struct sim_dom *db;

	share(hv, a, 1, b, 1);
	/* Simulate the bug: write into the shared frame and record it as b's content. */
	sim_frame_ptr(hv, (uint32_t)mfn_of(hv, b, 1))[0] = 1;
	db = hv->doms[b];
	db->oracle[1] = sim_page_hash(sim_frame_ptr(hv, db->p2m[1].mfn));
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 1);   /* a's gfn 1 changed under it */
	/* A lost page: b's gfn 3 turned into a hole without a balloon. */
	db->oracle[1] = hv->doms[a]->oracle[1];
	sim_frame_ptr(hv, (uint32_t)mfn_of(hv, b, 1))[0] = 0;
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	db->p2m[3].type = SIM_P2M_HOLE;
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 1);
	db->p2m[3].type = SIM_P2M_RAM_RW;
	done(hv);
}

/* ---- guest-physical layout and holes ------------------------------------------ */

/*
 * libxl's layouts: PV RAM from 0; HVM without the VGA window 0xa0-0xbf;
 * RAM beyond the MMIO hole (HVM from 0xF0000000, PVH from 0xFC000000) goes
 * on at 4 GiB; page index to gfn and membership follow.
 */
static void test_ram_layout(void)
{
	struct sim_ram_layout l;

	sim_ram_layout(SIM_DOM_PV, 5000, &l);
	CU_ASSERT(l.nr == 1 && l.r[0].first == 0 && l.r[0].end == 5000);
	sim_ram_layout(SIM_DOM_PVH, 5000, &l);
	CU_ASSERT(l.nr == 1 && l.r[0].end == 5000 && sim_ram_layout_has(&l, 0xa5));
	sim_ram_layout(SIM_DOM_HVM, 100, &l);
	CU_ASSERT(l.nr == 1 && sim_ram_layout_pages(&l) == 100);
	sim_ram_layout(SIM_DOM_HVM, 5000, &l);
	CU_ASSERT(l.nr == 2 && l.r[0].first == 0 && l.r[0].end == 0xa0 &&
		  l.r[1].first == 0xc0 && l.r[1].end == 5000);
	CU_ASSERT(sim_ram_layout_pages(&l) == 5000 - 32 && sim_ram_layout_end(&l) == 5000);
	CU_ASSERT(!sim_ram_layout_has(&l, 0xa0) && !sim_ram_layout_has(&l, 0xbf) &&
		  sim_ram_layout_has(&l, 0x9f) && sim_ram_layout_has(&l, 0xc0));
	CU_ASSERT(sim_ram_layout_gfn(&l, 0x9f) == 0x9f && sim_ram_layout_gfn(&l, 0xa0) == 0xc0);
	/* 4000 MiB: 3840 below the HVM hole, 160 from 4 GiB */
	sim_ram_layout(SIM_DOM_HVM, 4000ULL * 256, &l);
	CU_ASSERT(l.nr == 3 && l.r[1].end == 0xf0000 && l.r[2].first == 0x100000 &&
		  l.r[2].end == 0x100000 + 160 * 256);
	CU_ASSERT(sim_ram_layout_pages(&l) == 4000ULL * 256 - 32);
	sim_ram_layout(SIM_DOM_PVH, 4000ULL * 256, &l);
	CU_ASSERT(l.nr == 1 && l.r[0].end == 4000ULL * 256);
	sim_ram_layout(SIM_DOM_PVH, 4100ULL * 256, &l);
	CU_ASSERT(l.nr == 2 && l.r[0].end == 0xfc000 && l.r[1].first == 0x100000 &&
		  l.r[1].end == 0x100000 + 68 * 256);
	CU_ASSERT(sim_ram_layout_gfn(&l, 0xfc000) == 0x100000);
	CU_ASSERT(!sim_ram_layout_has(&l, 0xfc000) && !sim_ram_layout_has(&l, 0xfffff));
	sim_ram_layout(SIM_DOM_PV, 4100ULL * 256, &l);
	CU_ASSERT(l.nr == 1 && l.r[0].end == 4100ULL * 256);
}

/*
 * An HVM guest's p2m has the VGA window as holes below its highest gfn:
 * getinfo counts them apart from RAM, a map gives -EINVAL for each hole
 * page only, nominate and a guest write of one -EINVAL; a balloon adds
 * holes, and the audit checks the count.
 */
static void test_hvm_vga_hole(void)
{
	struct sim_hv *hv = mk_hv();
	uint32_t d = mk_dom(hv, 256);
	uint64_t gfns[4] = { 0x9f, 0xa0, 0xbf, 0xc0 }, mfns[4], h;
	int err[4];
	uint8_t page[SIM_PAGE_SIZE];
	struct sim_dominfo di = info(hv, d);

	CU_ASSERT(di.tot_pages == 256 - 32 && di.nr_holes == 32 &&
		  di.nr_gfns == 256 + SIM_NR_SPECIAL_PAGES);
	CU_ASSERT(sim_hv_map(hv, 5, d, gfns, 4, false, mfns, err) == 0);
	CU_ASSERT(err[0] == 0 && err[1] == -EINVAL && err[2] == -EINVAL && err[3] == 0);
	CU_ASSERT(mfns[1] == SIM_INVALID_MFN && mfns[2] == SIM_INVALID_MFN);
	sim_hv_unmap_owner(hv, 5);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 0xa5, &h) == -EINVAL);
	memset(page, 1, sizeof(page));
	CU_ASSERT(sim_hv_guest_write(hv, d, 0, 0xa5, 0, page, sizeof(page)) == -EINVAL);
	CU_ASSERT(sim_hv_guest_read(hv, d, 0xa5, page) == -EINVAL);
	CU_ASSERT(sim_hv_decrease_reservation(hv, d, 3) == 3);
	CU_ASSERT(info(hv, d).nr_holes == 35 && info(hv, d).tot_pages == 256 - 35);
	CU_ASSERT(sim_hv_remove_page(hv, d, 7) == 0);
	CU_ASSERT(sim_hv_remove_page(hv, d, 7) == -EINVAL);
	CU_ASSERT(sim_hv_remove_page(hv, d, 0xa1) == -EINVAL);
	CU_ASSERT(info(hv, d).nr_holes == 36);
	done(hv);
}

/*
 * A PVH guest above 4032 MiB: RAM stops at 0xFC000000 and goes on at
 * 4 GiB; the 64 MiB between are holes, counted and refused as such.
 */
static void test_pvh_mmio_hole(void)
{
	struct sim_hv_config cfg = base_cfg();
	struct sim_hv *hv;
	uint64_t n = 0xfc000 + 100, gfns[3] = { 0xfbfff, 0xfc000, 0x100000 }, mfns[3], h;
	uint32_t d;
	int err[3];
	struct sim_dominfo di;

	cfg.nr_frames = n + 1024;
	hv = mk_hv_cfg(cfg);
	d = mk_dom_spec(hv, SIM_DOM_PVH, n, 0, false);
	di = info(hv, d);
	CU_ASSERT(di.tot_pages == n && di.nr_holes == 0x4000 &&
		  di.nr_gfns == 0x100000 + 100 + SIM_NR_SPECIAL_PAGES);
	CU_ASSERT(sim_hv_map(hv, 5, d, gfns, 3, false, mfns, err) == 0);
	CU_ASSERT(err[0] == 0 && err[1] == -EINVAL && err[2] == 0);
	sim_hv_unmap_owner(hv, 5);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 0xfe000, &h) == -EINVAL);
	fill(hv, d, 0x100000 + 99, 0x42);
	CU_ASSERT(page_is(hv, d, 0x100000 + 99, 0x42));
	done(hv);
}

UT_MAIN("hv", NULL, NULL,
	UT(test_domain_ids_and_dom0),
	UT(test_getinfo_fields),
	UT(test_guest_write_read),
	UT(test_paused_domain_does_not_write),
	UT(test_destroy_frees_and_punches),
	UT(test_decrease_reservation),
	UT(test_pv_refused),
	UT(test_no_vmx),
	UT(test_passthrough_exdev),
	UT(test_no_such_domain),
	UT(test_implicit_enable_and_client_enabled),
	UT(test_nominate),
	UT(test_nominate_not_sharable),
	UT(test_nominate_mapped_e2big),
	UT(test_nominate_writable_mapped_e2big),
	UT(test_share),
	UT(test_share_after_write_fails),
	UT(test_share_error_order_by_mfn),
	UT(test_share_same_frame_noop),
	UT(test_share_three_way),
	UT(test_unshare_last_sharer_no_alloc),
	UT(test_unshare_copy),
	UT(test_unshare_respects_max_pages),
	UT(test_enomem_with_ring),
	UT(test_enomem_no_ring_crashes),
	UT(test_enomem_no_ring_patched),
	UT(test_enomem_resume_op),
	UT(test_enomem_ring_full),
	UT(test_concurrent_writes_safe_share),
	UT(test_wait_resumed),
	UT(test_ring_errors),
	UT(test_destroy_drops_shared_refs),
	UT(test_writable_map_unshares),
	UT(test_ro_map_keeps_orphan),
	UT(test_share_client_frame_mapped),
	UT(test_map_errors_and_owner_release),
	UT(test_add_to_physmap),
	UT(test_range_share),
	UT(test_debug_gfn),
	UT(test_no_mem_sharing),
	UT(test_audit_debug_only),
	UT(test_audit_finds_errors),
	UT(test_compare_share),
	UT(test_share_third_domain_panics),
	UT(test_patched_share_third_domain_refused),
	UT(test_compare_share_spanning_frames),
	UT(test_compare_share_batch_punches),
	UT(test_frame_merge_preempted),
	UT(test_frame_merge_concurrent_writes),
	UT(test_frame_merge_destroy_enomem),
	UT(test_verify_catches_corruption),
	UT(test_verify_catches_wrong_share),
	UT(test_verify_catches_shared_write_and_lost_page),
	UT(test_recent_nominations),
	UT(test_residue),
	UT(test_shared_frames),
	UT(test_ram_layout),
	UT(test_hvm_vga_hole),
	UT(test_pvh_mmio_hole))
