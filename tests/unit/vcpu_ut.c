/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vcpu_ut.c - unit tests of tools/xensim/vcpu.c, the guest vCPU writer
 * threads, against the real hypervisor model (libsimhv): writes land only in
 * the working set and in the oracle, a paused domain does not write, and a
 * vCPU asleep on an unshare ENOMEM is released by destroy (no hang), or
 * ends when the unpatched hypervisor crashes its domain.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "tools/xensim/vcpu.h"
#include "tools/xensim/hv_internal.h"   /* XENMEM_SHARING_OP_*_HANDLE_INVALID */
#include "ut_common.h"

static struct sim_hv *hv;

static void msleep(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

static uint32_t make_dom(const char *name, uint64_t pages, uint32_t vcpus)
{
	struct sim_dom_spec spec = { .type = SIM_DOM_PVH, .nr_pages = pages,
				     .max_pages = pages, .vcpus = vcpus };
	uint32_t domid = 0;

	snprintf(spec.name, sizeof(spec.name), "%s", name);
	CU_ASSERT_FATAL(sim_hv_domain_create(hv, &spec, &domid) == 0);
	return domid;
}

static void host_up(uint64_t frames, uint64_t dom0)
{
	struct sim_hv_config cfg = { .nr_frames = frames, .dom0_pages = dom0, .cpu_vmx = true };

	CU_ASSERT_FATAL(sim_hv_create(&cfg, &hv) == 0);
}

static void host_down(void)
{
	sim_hv_destroy(hv);
	hv = NULL;
}

static unsigned int nonzero_pages(uint32_t domid, uint64_t pages)
{
	static uint8_t page[SIM_PAGE_SIZE], zero[SIM_PAGE_SIZE];
	unsigned int n = 0;

	for (uint64_t g = 0; g < pages; g++)
		if (sim_hv_guest_read(hv, domid, g, page) == 0 && memcmp(page, zero, sizeof(page)))
			n++;
	return n;
}

/* Writes happen, only within the working set, and every one is in the oracle. */
static void test_writes_in_working_set(void)
{
	struct sim_vcpu_params p = { .nr_vcpus = 2, .rate = 2000, .working_set = 16,
				     .nr_pages = 256, .seed = 1 };
	struct sim_vcpu_set *set;
	unsigned int touched;

	host_up(4096, 256);
	p.domid = make_dom("ws", 256, 2);
	CU_ASSERT_FATAL(sim_vcpus_start(hv, &p, &set) == 0);
	CU_ASSERT(sim_vcpus_running(set) == 2);
	msleep(300);
	sim_vcpus_stop(set);
	sim_vcpus_free(set);   /* joins: nothing is asleep in the hypervisor */
	touched = nonzero_pages(p.domid, 256);
	CU_ASSERT(touched >= 1 && touched <= 16);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	host_down();
}

/* An idle guest (rate 0) gets no threads at all. */
static void test_idle_guest(void)
{
	struct sim_vcpu_params p = { .nr_vcpus = 4, .rate = 0, .nr_pages = 64, .seed = 1 };
	struct sim_vcpu_set *set;

	host_up(4096, 256);
	p.domid = make_dom("idle", 64, 4);
	CU_ASSERT_FATAL(sim_vcpus_start(hv, &p, &set) == 0);
	CU_ASSERT(sim_vcpus_running(set) == 0);
	msleep(50);
	CU_ASSERT(sim_vcpus_writes(set) == 0);
	sim_vcpus_free(set);
	host_down();
}

/* A paused domain's vCPUs do not write; unpaused they do again. */
static void test_pause(void)
{
	struct sim_vcpu_params p = { .nr_vcpus = 1, .rate = 2000, .working_set = 64,
				     .nr_pages = 64, .seed = 2 };
	struct sim_vcpu_set *set;
	uint64_t w;

	host_up(4096, 256);
	p.domid = make_dom("paused", 64, 1);
	CU_ASSERT_FATAL(sim_hv_domain_pause(hv, p.domid) == 0);
	CU_ASSERT_FATAL(sim_vcpus_start(hv, &p, &set) == 0);
	msleep(200);
	CU_ASSERT(sim_vcpus_writes(set) == 0);
	CU_ASSERT(nonzero_pages(p.domid, 64) == 0);
	CU_ASSERT_FATAL(sim_hv_domain_unpause(hv, p.domid) == 0);
	msleep(200);
	w = sim_vcpus_writes(set);
	CU_ASSERT(w > 0);
	/* paused again, while a thread sleeps in the hypervisor: destroy wakes it */
	CU_ASSERT(sim_hv_domain_pause(hv, p.domid) == 0);
	msleep(50);
	sim_vcpus_stop(set);
	CU_ASSERT(sim_hv_domain_destroy(hv, p.domid) == 0);
	sim_vcpus_free(set);
	host_down();
}

/*
 * Two zero-filled domains share every page, a filler takes every free
 * frame, then b's vCPU writes: each write must unshare and finds no frame.
 */
static void setup_enomem(uint32_t *a, uint32_t *b)
{
	uint64_t total, free_frames;
	uint32_t filler;
	struct sim_dom_spec spec = { .type = SIM_DOM_PVH, .vcpus = 1 };

	host_up(1024, 256);
	*a = make_dom("a", 128, 1);
	*b = make_dom("b", 128, 1);
	for (uint64_t g = 0; g < 128; g++) {
		uint64_t ha, hb;

		CU_ASSERT_FATAL(sim_hv_nominate_gfn(hv, *a, g, &ha) == 0);
		CU_ASSERT_FATAL(sim_hv_nominate_gfn(hv, *b, g, &hb) == 0);
		CU_ASSERT_FATAL(sim_hv_share(hv, *a, g, ha, *b, g, hb) == 0);
	}
	sim_hv_physinfo(hv, &total, &free_frames);
	snprintf(spec.name, sizeof(spec.name), "filler");
	/* the filler's special pages take frames too */
	spec.nr_pages = spec.max_pages = free_frames - SIM_NR_SPECIAL_PAGES;
	CU_ASSERT_FATAL(sim_hv_domain_create(hv, &spec, &filler) == 0);
	sim_hv_physinfo(hv, &total, &free_frames);
	CU_ASSERT_FATAL(free_frames == 0);
}

/* With a sharing ring, the vCPU sleeps on ENOMEM; destroy releases it (no hang). */
static void test_enomem_ring_then_destroy(void)
{
	struct sim_vcpu_params p = { .nr_vcpus = 1, .rate = 1000, .working_set = 128,
				     .nr_pages = 128, .seed = 3 };
	struct sim_vcpu_set *set;
	struct sim_dominfo info;
	uint32_t a, port;

	setup_enomem(&a, &p.domid);
	CU_ASSERT_FATAL(sim_hv_ring_enable(hv, p.domid, &port) == 0);
	CU_ASSERT_FATAL(sim_vcpus_start(hv, &p, &set) == 0);
	msleep(200);
	CU_ASSERT(sim_vcpus_writes(set) == 0);
	CU_ASSERT(sim_hv_domain_getinfo(hv, p.domid, 1, &info) == 1);
	CU_ASSERT(info.paused_vcpus == 1);
	CU_ASSERT(sim_vcpus_running(set) == 1);
	alarm(10);   /* a hang here fails the test instead of blocking CI */
	sim_vcpus_stop(set);
	CU_ASSERT(sim_hv_domain_destroy(hv, p.domid) == 0);
	sim_vcpus_free(set);
	alarm(0);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	host_down();
}

/*
 * A storm writes each given gfn exactly once with fresh content and ends
 * by itself; its vCPUs split the list.  With no free frame, each vCPU
 * pauses on the shared page it writes, stays paused while no memory comes
 * (the patched hypervisor's ENOMEM list), and finishes once resumed with
 * memory back; the waits are recorded, and every page is as written.
 */
static void test_storm(void)
{
	struct sim_vcpu_params p = { .nr_vcpus = 2, .seed = 5 };
	struct sim_vcpu_set *set;
	struct sim_dominfo info;
	uint32_t a, filler = 0, w[4];
	uint64_t *gfns;
	long n;

	host_up(4096, 256);
	p.domid = make_dom("st", 64, 2);
	gfns = malloc(10 * sizeof(*gfns));
	CU_ASSERT_FATAL(gfns != NULL);
	for (int i = 0; i < 10; i++)
		gfns[i] = (uint64_t)i * 3;
	CU_ASSERT_FATAL(sim_vcpus_storm(hv, &p, gfns, 10, &set) == 0);
	CU_ASSERT(sim_vcpus_storm_pages(set) == 10);
	for (int i = 0; i < 200 && sim_vcpus_running(set); i++)
		msleep(10);
	CU_ASSERT(sim_vcpus_running(set) == 0);
	CU_ASSERT(sim_vcpus_writes(set) == 10);
	CU_ASSERT(nonzero_pages(p.domid, 64) == 10);
	sim_vcpus_free(set);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	host_down();

	/* patched host, every page of b shared with a, no free frame */
	{
		struct sim_hv_config cfg = { .nr_frames = 1024, .dom0_pages = 256, .cpu_vmx = true,
					     .patched = true };
		struct sim_dom_spec spec = { .type = SIM_DOM_PVH, .vcpus = 1 };
		uint64_t total, free_frames;

		CU_ASSERT_FATAL(sim_hv_create(&cfg, &hv) == 0);
		a = make_dom("a", 128, 1);
		p.domid = make_dom("b", 128, 2);
		for (uint64_t g = 0; g < 128; g++) {
			uint64_t ha, hb;

			CU_ASSERT_FATAL(sim_hv_nominate_gfn(hv, a, g, &ha) == 0);
			CU_ASSERT_FATAL(sim_hv_nominate_gfn(hv, p.domid, g, &hb) == 0);
			CU_ASSERT_FATAL(sim_hv_share(hv, a, g, ha, p.domid, g, hb) == 0);
		}
		sim_hv_physinfo(hv, &total, &free_frames);
		snprintf(spec.name, sizeof(spec.name), "filler");
		spec.nr_pages = spec.max_pages = free_frames - SIM_NR_SPECIAL_PAGES;
		CU_ASSERT_FATAL(sim_hv_domain_create(hv, &spec, &filler) == 0);
	}
	n = sim_hv_shared_gfns(hv, p.domid, &gfns);
	CU_ASSERT_FATAL(n == 128);
	CU_ASSERT(gfns[0] == 0 && gfns[127] == 127);
	free(gfns);
	CU_ASSERT(sim_hv_shared_gfns(hv, 999, &gfns) == -ESRCH && gfns == NULL);
	n = sim_hv_shared_gfns(hv, p.domid, &gfns);
	CU_ASSERT_FATAL(sim_vcpus_storm(hv, &p, gfns, 64, &set) == 0);
	msleep(100);
	CU_ASSERT(sim_vcpus_writes(set) == 0);
	CU_ASSERT(sim_hv_domain_getinfo(hv, p.domid, 1, &info) == 1);
	CU_ASSERT(info.paused_vcpus == 2 && info.vcpu_pauses == 0);
	CU_ASSERT(sim_hv_enomem_waiters(hv, w, 4) == 1 && w[0] == p.domid);
	msleep(100);   /* both have waited at least this long when resumed */
	/* memory back, then the patch's resume: the storm runs to its end */
	CU_ASSERT(sim_hv_decrease_reservation(hv, filler, 100) == 100);
	CU_ASSERT(sim_hv_enomem_resume(hv, p.domid) == 2);
	for (int i = 0; i < 200 && sim_vcpus_running(set); i++)
		msleep(10);
	CU_ASSERT(sim_vcpus_running(set) == 0);
	CU_ASSERT(sim_vcpus_writes(set) == 64);
	CU_ASSERT(sim_hv_domain_getinfo(hv, p.domid, 1, &info) == 1);
	CU_ASSERT(info.paused_vcpus == 0 && info.shr_pages == 64);
	CU_ASSERT(info.vcpu_pauses == 2 && info.pause_max_ns >= 100000000ULL);
	CU_ASSERT(info.pause_total_ns >= 2 * 100000000ULL);
	sim_vcpus_free(set);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	host_down();
}

/* Unpatched and no ring: the domain is crashed and its vCPU thread ends by itself. */
static void test_enomem_crash(void)
{
	struct sim_vcpu_params p = { .nr_vcpus = 1, .rate = 1000, .working_set = 128,
				     .nr_pages = 128, .seed = 4 };
	struct sim_vcpu_set *set;
	struct sim_dominfo info;
	uint32_t a;
	int i;

	setup_enomem(&a, &p.domid);
	CU_ASSERT_FATAL(sim_vcpus_start(hv, &p, &set) == 0);
	for (i = 0; i < 200 && sim_vcpus_running(set); i++)
		msleep(10);
	CU_ASSERT(sim_vcpus_running(set) == 0);
	CU_ASSERT(sim_hv_domain_getinfo(hv, p.domid, 1, &info) == 1);
	CU_ASSERT(info.flags & SIM_DOMF_CRASHED);
	sim_vcpus_free(set);
	host_down();
}

/*
 * sim_write_aim = 1: once gfns are nominated, every write goes to one of
 * them instead of the working set, so a share of two nominated pages then
 * fails with the handle error (the race the daemon must survive) and the
 * oracle still matches.  The working set (1 gfn, seeded) is left alone.
 */
static void test_aimed_writes(void)
{
	struct sim_vcpu_params p = { .nr_vcpus = 2, .rate = 2000, .working_set = 1,
				     .nr_pages = 256, .seed = 5, .write_aim = 1.0 };
	static uint8_t page[SIM_PAGE_SIZE], zero[SIM_PAGE_SIZE];
	struct sim_vcpu_set *set;
	uint64_t h10, h20;
	int rc;

	host_up(4096, 256);
	p.domid = make_dom("aim", 256, 2);
	CU_ASSERT_FATAL(sim_hv_memshr_control(hv, p.domid, true) == 0);
	CU_ASSERT_FATAL(sim_hv_nominate_gfn(hv, p.domid, 10, &h10) == 0);
	CU_ASSERT_FATAL(sim_hv_nominate_gfn(hv, p.domid, 20, &h20) == 0);
	CU_ASSERT_FATAL(sim_vcpus_start(hv, &p, &set) == 0);
	msleep(300);
	sim_vcpus_stop(set);
	CU_ASSERT(sim_vcpus_writes(set) > 100);
	sim_vcpus_free(set);
	CU_ASSERT(sim_hv_guest_read(hv, p.domid, 10, page) == 0 && memcmp(page, zero, sizeof(page)));
	CU_ASSERT(sim_hv_guest_read(hv, p.domid, 20, page) == 0 && memcmp(page, zero, sizeof(page)));
	CU_ASSERT(nonzero_pages(p.domid, 256) == 2);   /* nothing but the aimed gfns */
	rc = sim_hv_share(hv, p.domid, 10, h10, p.domid, 20, h20);
	CU_ASSERT(rc == XENMEM_SHARING_OP_S_HANDLE_INVALID || rc == XENMEM_SHARING_OP_C_HANDLE_INVALID);
	CU_ASSERT(sim_hv_sharing_freed_pages(hv) == 0);
	CU_ASSERT(sim_hv_verify(hv, NULL, 0) == 0);
	host_down();
}

UT_MAIN("vcpu", NULL, NULL,
	UT(test_writes_in_working_set),
	UT(test_idle_guest),
	UT(test_pause),
	UT(test_enomem_ring_then_destroy),
	UT(test_enomem_crash),
	UT(test_storm),
	UT(test_aimed_writes))
