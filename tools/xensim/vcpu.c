/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vcpu.c - writer threads standing in for a guest's vCPUs.
 *
 * DOC: Overview
 *
 * Each vCPU thread wakes every 10 ms, earns rate/nr_vcpus/100 write
 * credits, and spends each credit on one write of a whole page of fresh
 * seeded-random content to a gfn drawn from the domain's working set (a
 * seeded set of distinct RAM gfns, never one of the layout's holes).  Writes go through sim_hv_guest_write()
 * with the thread's vCPU number, so they unshare shared pages and update
 * the oracle exactly as a guest store would on Xen.
 *
 * Aimed writes (sim_write_aim): a fraction write_aim of the writes go to
 * one of the gfns the hypervisor nominated most recently in this domain
 * (sim_hv_recent_nominations(), the last 64, drawn uniformly) instead of
 * the working set, so they land between a dedup daemon's nominate and
 * share -- the race a random write almost never hits.  With nothing
 * nominated yet the write goes to the working set.
 *
 * Blocking follows the hypervisor: a paused domain or vCPU (-EAGAIN) and an
 * unshare that found no memory (-ENOMEM: the vCPU is paused on the sharing
 * ring, or the patched hypervisor's ENOMEM list) make the thread sleep in
 * sim_hv_wait_resumed() and then retry the same store, as a faulting guest
 * instruction is retried.  Credits earned while blocked are dropped: a
 * paused guest does not catch up afterwards.  -ESRCH (destroyed, dying,
 * crashed) ends the thread.
 *
 * Storms (sim_vcpus_storm()): a set whose threads write a given list of
 * gfns once each, as fast as the hypervisor lets them, vCPU i taking
 * every nr_vcpus-th entry from i, and then end: the guest rewriting a
 * large part of its memory at once (a reboot, a cache refill), which is
 * what breaks shares faster than free memory can follow.  Their writes
 * pause and retry exactly as the paced writers' do.
 *
 * Invariant: set->running counts live threads; sim_vcpus_free() joins all.
 */
#include "vcpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest.h"

#define TICK_NS 10000000L   /* 10 ms */

struct sim_vcpu {
	struct sim_vcpu_set *set;
	uint32_t index;
	pthread_t thread;
	bool started;
};

struct sim_vcpu_set {
	struct sim_hv *hv;
	struct sim_vcpu_params p;
	uint64_t *ws;            /* working set gfns */
	uint64_t nr_ws;
	atomic_bool stop;
	atomic_uint_fast64_t writes;
	atomic_uint running;
	bool storm;              /* write ws once each at full speed, then end */
	struct sim_vcpu *vcpus;
};

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void ts_add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static int64_t ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(a->tv_sec - b->tv_sec) * 1000000000LL + (a->tv_nsec - b->tv_nsec);
}

/* One store, retried while the vCPU is paused. 0, or -ESRCH to end the thread. */
static int vcpu_store(struct sim_vcpu *v, uint64_t gfn, const void *page, bool *blocked)
{
	struct sim_vcpu_set *set = v->set;

	for (;;) {
		int rc = sim_hv_guest_write(set->hv, set->p.domid, v->index, gfn, 0,
					    page, SIM_PAGE_SIZE);

		if (rc == 0) {
			atomic_fetch_add(&set->writes, 1);
			return 0;
		}
		if (rc == -ESRCH)
			return rc;
		if (rc != -EAGAIN && rc != -ENOMEM) {
			/* A hole (ballooned gfn): the guest would not touch it; skip. */
			return 0;
		}
		*blocked = true;
		if (atomic_load(&set->stop))
			return -ESRCH;
		if (sim_hv_wait_resumed(set->hv, set->p.domid, v->index) == -ESRCH)
			return -ESRCH;
		if (rc == -ENOMEM) {
			/* not paused (ring full): the guest faults again a little later */
			struct timespec ms = { 0, 1000000L };

			nanosleep(&ms, NULL);
		}
		if (atomic_load(&set->stop))
			return -ESRCH;
	}
}

/* The gfn of the next write: aimed at a recent nomination, or the working set. */
static uint64_t vcpu_pick_gfn(struct sim_vcpu_set *set, uint64_t *rng)
{
	if (set->p.write_aim > 0 &&
	    (double)(splitmix64(rng) >> 11) * 0x1p-53 < set->p.write_aim) {
		uint64_t recent[64];
		int n = sim_hv_recent_nominations(set->hv, set->p.domid, recent, 64);

		if (n > 0) {
			uint64_t gfn = recent[splitmix64(rng) % (uint64_t)n];

			if (set->p.ram.nr ? sim_ram_layout_has(&set->p.ram, gfn) : gfn < set->p.nr_pages)
				return gfn;
		}
	}
	return set->ws[splitmix64(rng) % set->nr_ws];
}

static void *vcpu_main(void *arg)
{
	struct sim_vcpu *v = arg;
	struct sim_vcpu_set *set = v->set;
	uint64_t rng = set->p.seed ^ ((uint64_t)(v->index + 1) * 0xd1342543de82ef95ULL);
	uint64_t counter = 0;
	double per_tick = set->p.rate / set->p.nr_vcpus * (TICK_NS / 1e9);
	double credit = 0;
	struct timespec next, now;
	void *page = aligned_alloc(SIM_PAGE_SIZE, SIM_PAGE_SIZE);

	if (!page) {
		fprintf(stderr, "xensim: dom%u vcpu%u: out of memory, vCPU stopped\n",
			set->p.domid, v->index);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&set->stop)) {
		bool blocked = false;

		ts_add_ns(&next, TICK_NS);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		credit += per_tick;
		while (credit >= 1 && !atomic_load(&set->stop)) {
			uint64_t gfn = vcpu_pick_gfn(set, &rng);

			sim_guest_fill_random(page, set->p.seed ^ 0x5a5a5a5a5a5a5a5aULL,
					      ((uint64_t)v->index << 48) | counter++);
			if (vcpu_store(v, gfn, page, &blocked) == -ESRCH)
				goto out;
			credit -= 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (blocked || ts_diff_ns(&now, &next) > 1000000000LL) {
			/* paused or far behind: no catching up */
			next = now;
			if (credit > 1)
				credit = 1;
		}
	}
out:
	free(page);
	atomic_fetch_sub(&set->running, 1);
	return NULL;
}

static void *vcpu_storm_main(void *arg)
{
	struct sim_vcpu *v = arg;
	struct sim_vcpu_set *set = v->set;
	void *page = aligned_alloc(SIM_PAGE_SIZE, SIM_PAGE_SIZE);

	if (!page) {
		fprintf(stderr, "xensim: dom%u vcpu%u: out of memory, storm stopped\n",
			set->p.domid, v->index);
		goto out;
	}
	for (uint64_t i = v->index; i < set->nr_ws && !atomic_load(&set->stop); i += set->p.nr_vcpus) {
		bool blocked = false;

		sim_guest_fill_random(page, set->p.seed ^ 0x73746f726dULL, i);
		if (vcpu_store(v, set->ws[i], page, &blocked) == -ESRCH)
			break;
	}
out:
	free(page);
	atomic_fetch_sub(&set->running, 1);
	return NULL;
}

/* Starts the p.nr_vcpus threads of set; on failure the set is freed. */
static int vcpus_run(struct sim_vcpu_set *set)
{
	int rc = 0;

	set->vcpus = calloc(set->p.nr_vcpus, sizeof(*set->vcpus));
	if (!set->vcpus) {
		free(set->ws);
		free(set);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < set->p.nr_vcpus; i++) {
		set->vcpus[i].set = set;
		set->vcpus[i].index = i;
		atomic_fetch_add(&set->running, 1);
		rc = -pthread_create(&set->vcpus[i].thread, NULL,
				     set->storm ? vcpu_storm_main : vcpu_main, &set->vcpus[i]);
		if (rc) {
			atomic_fetch_sub(&set->running, 1);
			break;
		}
		set->vcpus[i].started = true;
	}
	if (rc) {
		sim_vcpus_stop(set);
		sim_vcpus_free(set);
	}
	return rc;
}

int sim_vcpus_storm(struct sim_hv *hv, const struct sim_vcpu_params *p, uint64_t *gfns,
		    uint64_t nr, struct sim_vcpu_set **out)
{
	struct sim_vcpu_set *set;
	int rc;

	*out = NULL;
	if (p->nr_vcpus == 0) {
		free(gfns);
		return -EINVAL;
	}
	set = calloc(1, sizeof(*set));
	if (!set) {
		free(gfns);
		return -ENOMEM;
	}
	set->hv = hv;
	set->p = *p;
	set->storm = true;
	set->ws = gfns;
	set->nr_ws = nr;
	atomic_init(&set->stop, false);
	atomic_init(&set->writes, 0);
	atomic_init(&set->running, 0);
	rc = vcpus_run(set);
	if (rc)
		return rc;
	*out = set;
	return 0;
}

int sim_vcpus_start(struct sim_hv *hv, const struct sim_vcpu_params *p,
		    struct sim_vcpu_set **out)
{
	struct sim_vcpu_set *set;
	uint64_t rng = p->seed ^ 0x77736574ULL;
	uint64_t *all;
	int rc;

	*out = NULL;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->hv = hv;
	set->p = *p;
	atomic_init(&set->stop, false);
	atomic_init(&set->writes, 0);
	atomic_init(&set->running, 0);
	if (p->rate <= 0 || p->nr_vcpus == 0 || p->nr_pages == 0) {
		*out = set;    /* an idle guest: no threads */
		return 0;
	}
	set->nr_ws = p->working_set && p->working_set < p->nr_pages ? p->working_set : p->nr_pages;
	/* A seeded choice of distinct gfns: the first nr_ws of a partial shuffle. */
	all = malloc(p->nr_pages * sizeof(*all));
	if (!all) {
		free(set);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < p->nr_pages; i++)
		all[i] = p->ram.nr ? sim_ram_layout_gfn(&p->ram, i) : i;
	for (uint64_t i = 0; i < set->nr_ws; i++) {
		uint64_t j = i + splitmix64(&rng) % (p->nr_pages - i);
		uint64_t t = all[i];

		all[i] = all[j];
		all[j] = t;
	}
	set->ws = realloc(all, set->nr_ws * sizeof(*all));
	if (!set->ws)
		set->ws = all;
	rc = vcpus_run(set);
	if (rc)
		return rc;
	*out = set;
	return 0;
}

void sim_vcpus_stop(struct sim_vcpu_set *set)
{
	if (set)
		atomic_store(&set->stop, true);
}

void sim_vcpus_free(struct sim_vcpu_set *set)
{
	if (!set)
		return;
	atomic_store(&set->stop, true);
	for (uint32_t i = 0; set->vcpus && i < set->p.nr_vcpus; i++)
		if (set->vcpus[i].started)
			pthread_join(set->vcpus[i].thread, NULL);
	free(set->vcpus);
	free(set->ws);
	free(set);
}

uint64_t sim_vcpus_writes(const struct sim_vcpu_set *set)
{
	return set ? atomic_load(&((struct sim_vcpu_set *)set)->writes) : 0;
}

uint64_t sim_vcpus_storm_pages(const struct sim_vcpu_set *set)
{
	return set && set->storm ? set->nr_ws : 0;
}

uint32_t sim_vcpus_running(const struct sim_vcpu_set *set)
{
	return set ? atomic_load(&((struct sim_vcpu_set *)set)->running) : 0;
}
