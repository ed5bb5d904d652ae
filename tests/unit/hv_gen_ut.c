/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_gen_ut.c - unit tests of the hypervisor model's generated frames (the
 * scale mode of tools/xensim/hv_gen.c, hv.h "generated memory"): content that
 * is a pure function of a key, in the memfd only while mapped, and every
 * sharing rule still exact on top of it (verify and audit are the judges).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "../../tools/xensim/hv_internal.h"
#include "../../hypervisor-patch/include/xenshare_cmpshr.h"
#include "ut_common.h"

#define NPAGES 64

static struct sim_hv *mk_hv(bool patched)
{
	struct sim_hv_config cfg = {
		.nr_frames = 1024, .dom0_pages = 16, .cpu_vmx = true,
		.debug_build = true, .patched = patched,
	};
	struct sim_hv *hv = NULL;

	CU_ASSERT_FATAL(sim_hv_create(&cfg, &hv) == 0);
	return hv;
}

static uint32_t mk_dom(struct sim_hv *hv, const char *name)
{
	struct sim_dom_spec spec;
	uint32_t domid = 0;

	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "%s", name);
	spec.type = SIM_DOM_HVM;
	spec.nr_pages = NPAGES;
	spec.max_pages = NPAGES + 8;
	spec.vcpus = 1;
	CU_ASSERT_FATAL(sim_hv_domain_create(hv, &spec, &domid) == 0);
	return domid;
}

/* keys[g] = base + g, every 4th gfn a zero page */
static void assign(struct sim_hv *hv, uint32_t domid, uint64_t base)
{
	uint64_t keys[NPAGES];

	for (unsigned int g = 0; g < NPAGES; g++)
		keys[g] = g % 4 == 3 ? 0 : base + g;
	CU_ASSERT_FATAL(sim_hv_gen_assign(hv, domid, 0, NPAGES, keys) == 0);
}

static void check_consistent(struct sim_hv *hv)
{
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	CU_ASSERT(sim_hv_audit(hv) == 0);
}

/* Distinct keys give distinct pages, the same key the same page. */
static void test_fill_pure(void)
{
	static uint8_t a[SIM_PAGE_SIZE], b[SIM_PAGE_SIZE];

	sim_hv_gen_fill(a, 7);
	sim_hv_gen_fill(b, 7);
	CU_ASSERT(memcmp(a, b, SIM_PAGE_SIZE) == 0);
	sim_hv_gen_fill(b, 8);
	CU_ASSERT(memcmp(a, b, SIM_PAGE_SIZE) != 0);
}

/*
 * Assigned gfns read back their generated content (guest_read), verify
 * passes without anything in the memfd, and nothing is materialised.
 */
static void test_assign_read_verify(void)
{
	struct sim_hv *hv = mk_hv(false);
	uint32_t d = mk_dom(hv, "a");
	struct sim_hv_gen_stats st;
	static uint8_t page[SIM_PAGE_SIZE], want[SIM_PAGE_SIZE];

	assign(hv, d, 1000);
	sim_hv_gen_get_stats(hv, &st);
	CU_ASSERT(st.gen_frames == NPAGES - NPAGES / 4);
	CU_ASSERT(st.materialised == 0);
	CU_ASSERT(sim_hv_guest_read(hv, d, 5, page) == 0);
	sim_hv_gen_fill(want, 1005);
	CU_ASSERT(memcmp(page, want, SIM_PAGE_SIZE) == 0);
	CU_ASSERT(sim_hv_guest_read(hv, d, 3, page) == 0);   /* zero page */
	memset(want, 0, sizeof(want));
	CU_ASSERT(memcmp(page, want, SIM_PAGE_SIZE) == 0);
	check_consistent(hv);
	sim_hv_destroy(hv);
}

/*
 * A read-only mapping materialises the frame in the memfd (a client mmap
 * sees the content) and the last unmap takes it out again (the memfd reads
 * zero there, and the stats count no materialised frame).
 */
static void test_map_materialises(void)
{
	struct sim_hv *hv = mk_hv(false);
	uint32_t d = mk_dom(hv, "a");
	static uint8_t want[SIM_PAGE_SIZE], zero[SIM_PAGE_SIZE];
	uint64_t gfn = 9, mfn;
	struct sim_hv_gen_stats st;
	uint8_t *p;
	int err;

	assign(hv, d, 2000);
	CU_ASSERT_FATAL(sim_hv_map(hv, 1, d, &gfn, 1, false, &mfn, &err) == 0);
	CU_ASSERT_FATAL(err == 0);
	sim_hv_gen_get_stats(hv, &st);
	CU_ASSERT(st.materialised == 1);
	p = mmap(NULL, SIM_PAGE_SIZE, PROT_READ, MAP_SHARED, sim_hv_frames_fd(hv),
		 (off_t)(mfn << SIM_PAGE_SHIFT));
	CU_ASSERT_FATAL(p != MAP_FAILED);
	sim_hv_gen_fill(want, 2009);
	CU_ASSERT(memcmp(p, want, SIM_PAGE_SIZE) == 0);
	CU_ASSERT(sim_hv_audit(hv) == 0);
	CU_ASSERT(sim_hv_unmap(hv, 1, &mfn, 1) == 0);
	CU_ASSERT(memcmp(p, zero, SIM_PAGE_SIZE) == 0);   /* punched */
	munmap(p, SIM_PAGE_SIZE);
	sim_hv_gen_get_stats(hv, &st);
	CU_ASSERT(st.materialised == 0);
	CU_ASSERT(st.gen_frames == NPAGES - NPAGES / 4);
	check_consistent(hv);
	sim_hv_destroy(hv);
}

/* Assigning over a mapped or shared gfn is refused and changes nothing. */
static void test_assign_refused(void)
{
	struct sim_hv *hv = mk_hv(false);
	uint32_t d = mk_dom(hv, "a");
	uint64_t gfn = 2, mfn, h, key = 5;
	int err;

	CU_ASSERT_FATAL(sim_hv_map(hv, 1, d, &gfn, 1, false, &mfn, &err) == 0);
	CU_ASSERT(sim_hv_gen_assign(hv, d, 0, 4, (uint64_t[]){ 1, 2, 3, 4 }) == -EBUSY);
	CU_ASSERT(sim_hv_unmap(hv, 1, &mfn, 1) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, d, 1, &h) == 0);
	CU_ASSERT(sim_hv_gen_assign(hv, d, 1, 1, &key) == -EINVAL);
	CU_ASSERT(sim_hv_gen_assign(hv, d, NPAGES - 1, 2, (uint64_t[]){ 1, 2 }) == -EINVAL);
	CU_ASSERT(sim_hv_gen_assign(hv, 77, 0, 1, &key) == -ESRCH);
	check_consistent(hv);
	sim_hv_destroy(hv);
}

/*
 * Upstream sharing of generated pages: nominate two gfns with the same key
 * in two domains, share, then the guest writes one of them: the unshare
 * copies the key, both guests still read what they should, and a guest
 * write makes its page an ordinary one.
 */
static void test_share_unshare(void)
{
	struct sim_hv *hv = mk_hv(false);
	uint32_t a = mk_dom(hv, "a"), b = mk_dom(hv, "b");
	static uint8_t page[SIM_PAGE_SIZE], want[SIM_PAGE_SIZE];
	struct sim_hv_gen_stats st;
	uint64_t ha, hb;

	assign(hv, a, 3000);
	assign(hv, b, 3000);   /* same keys: every page has a twin */
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 10, &ha) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, b, 10, &hb) == 0);
	CU_ASSERT(sim_hv_share(hv, a, 10, ha, b, 10, hb) == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 1);
	check_consistent(hv);
	/* b's guest writes 8 bytes: unshare (key copied), then materialised */
	CU_ASSERT(sim_hv_guest_write(hv, b, 0, 10, 0, "12345678", 8) == 0);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 0);
	CU_ASSERT(sim_hv_guest_read(hv, b, 10, page) == 0);
	sim_hv_gen_fill(want, 3010);
	CU_ASSERT(memcmp(page + 8, want + 8, SIM_PAGE_SIZE - 8) == 0);
	CU_ASSERT(memcmp(page, "12345678", 8) == 0);
	CU_ASSERT(sim_hv_guest_read(hv, a, 10, page) == 0);
	CU_ASSERT(memcmp(page, want, SIM_PAGE_SIZE) == 0);
	sim_hv_gen_get_stats(hv, &st);
	CU_ASSERT(st.gen_frames == 2 * (NPAGES - NPAGES / 4) - 1);
	check_consistent(hv);
	sim_hv_destroy(hv);
}

/*
 * A wrong share of two different generated pages (what a buggy daemon could
 * do: Xen never compares) is caught by verify through the oracle's keys.
 */
static void test_verify_catches_wrong_share(void)
{
	struct sim_hv *hv = mk_hv(false);
	uint32_t a = mk_dom(hv, "a"), b = mk_dom(hv, "b");
	struct sim_mismatch m[4];
	uint64_t ha, hb;

	assign(hv, a, 4000);
	assign(hv, b, 5000);
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 1, &ha) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, b, 1, &hb) == 0);
	CU_ASSERT(sim_hv_share(hv, a, 1, ha, b, 1, hb) == 0);
	CU_ASSERT(sim_hv_verify(hv, m, 4) == 1);
	CU_ASSERT(m[0].domid == b && m[0].gfn == 1);
	CU_ASSERT(sim_hv_audit(hv) == 0);
	sim_hv_destroy(hv);
}

/*
 * The patched batched op compares generated frames exactly: the same key
 * shares, different keys (and a generated page vs a zero page) do not.
 */
static void test_compare_share(void)
{
	struct sim_hv *hv = mk_hv(true);
	uint32_t a = mk_dom(hv, "a"), b = mk_dom(hv, "b");
	xenshare_cmpshr_pair_t p[3];

	assign(hv, a, 6000);
	assign(hv, b, 6000);
	memset(p, 0, sizeof(p));
	p[0] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = 4,
					 .client_domain = b, .client_gfn = 4 };
	p[1] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = 5,
					 .client_domain = b, .client_gfn = 6 };
	p[2] = (xenshare_cmpshr_pair_t){ .source_domain = a, .source_gfn = 8,
					 .client_domain = b, .client_gfn = 7 };
	CU_ASSERT(sim_hv_compare_share(hv, p, 3) == 0);
	CU_ASSERT(p[0].result == XENSHARE_CMPSHR_SHARED);
	CU_ASSERT(p[1].result == XENSHARE_CMPSHR_DIFFERENT);
	CU_ASSERT(p[2].result == XENSHARE_CMPSHR_DIFFERENT);   /* gfn 7 is a zero page */
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 1);
	check_consistent(hv);
	sim_hv_destroy(hv);
}

/*
 * A writable mapping turns a generated frame into an ordinary one; what is
 * written through it becomes the guest's content when it goes away.
 */
static void test_writable_map(void)
{
	struct sim_hv *hv = mk_hv(false);
	uint32_t d = mk_dom(hv, "a");
	uint64_t gfn = 12, mfn;
	struct sim_hv_gen_stats st;
	uint8_t *p;
	int err;

	assign(hv, d, 7000);
	CU_ASSERT_FATAL(sim_hv_map(hv, 1, d, &gfn, 1, true, &mfn, &err) == 0);
	CU_ASSERT_FATAL(err == 0);
	sim_hv_gen_get_stats(hv, &st);
	CU_ASSERT(st.gen_frames == NPAGES - NPAGES / 4 - 1);
	p = mmap(NULL, SIM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 sim_hv_frames_fd(hv), (off_t)(mfn << SIM_PAGE_SHIFT));
	CU_ASSERT_FATAL(p != MAP_FAILED);
	CU_ASSERT(((uint64_t *)p)[0] == 7012);   /* materialised, key in word 0 */
	p[100] ^= 0xff;
	munmap(p, SIM_PAGE_SIZE);
	CU_ASSERT(sim_hv_unmap(hv, 1, &mfn, 1) == 0);
	check_consistent(hv);
	sim_hv_destroy(hv);
}

/* Destroying a domain with generated and shared frames leaves nothing behind. */
static void test_destroy(void)
{
	struct sim_hv *hv = mk_hv(false);
	uint32_t a = mk_dom(hv, "a"), b = mk_dom(hv, "b");
	struct sim_hv_gen_stats st;
	uint64_t ha, hb;

	assign(hv, a, 8000);
	assign(hv, b, 8000);
	CU_ASSERT(sim_hv_nominate_gfn(hv, a, 0, &ha) == 0);
	CU_ASSERT(sim_hv_nominate_gfn(hv, b, 0, &hb) == 0);
	CU_ASSERT(sim_hv_share(hv, a, 0, ha, b, 0, hb) == 0);
	CU_ASSERT(sim_hv_domain_destroy(hv, a) == 0);
	check_consistent(hv);
	CU_ASSERT(sim_hv_domain_destroy(hv, b) == 0);
	sim_hv_gen_get_stats(hv, &st);
	CU_ASSERT(st.gen_frames == 0 && st.materialised == 0);
	check_consistent(hv);
	sim_hv_destroy(hv);
}

UT_MAIN("hv_gen", NULL, NULL,
	UT(test_fill_pure),
	UT(test_assign_read_verify),
	UT(test_map_materialises),
	UT(test_assign_refused),
	UT(test_share_unshare),
	UT(test_verify_catches_wrong_share),
	UT(test_compare_share),
	UT(test_writable_map),
	UT(test_destroy))
