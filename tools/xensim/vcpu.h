/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vcpu.h - simulated guest vCPUs: threads that write whole pages of fresh
 * content into a domain at a given rate over a seeded working set, through
 * sim_hv_guest_write(), so the hypervisor's unshare-on-write and the oracle
 * see every write.
 */
#ifndef XENSIM_VCPU_H
#define XENSIM_VCPU_H

#include <stdint.h>

#include "hv.h"

struct sim_vcpu_set;

struct sim_vcpu_params {
	uint32_t domid;
	uint32_t nr_vcpus;
	double rate;             /* pages per second for the whole domain */
	uint64_t working_set;    /* how many distinct gfns get written */
	uint64_t nr_pages;       /* RAM pages */
	/* where they are (sim_ram_layout()); none (nr 0): gfns 0 .. nr_pages-1 */
	struct sim_ram_layout ram;
	uint64_t seed;
	double write_aim;        /* 0..1: share of writes aimed at recently nominated gfns */
};

/* Starts nr_vcpus writer threads (none when rate is 0). */
int sim_vcpus_start(struct sim_hv *hv, const struct sim_vcpu_params *p,
		    struct sim_vcpu_set **out);
/*
 * A storm: p->nr_vcpus threads write the nr gfns of gfns (taken over,
 * freed with the set) once each with fresh content, at full speed, then
 * end; sim_vcpus_writes() counts the writes done.  p->rate and
 * p->working_set are not used.
 */
int sim_vcpus_storm(struct sim_hv *hv, const struct sim_vcpu_params *p, uint64_t *gfns,
		    uint64_t nr, struct sim_vcpu_set **out);
/*
 * Stopping is two steps because a vCPU may sleep inside the hypervisor
 * (paused on ENOMEM): tell the threads to stop, make the hypervisor wake
 * them (destroy the domain), then join and free.
 */
void sim_vcpus_stop(struct sim_vcpu_set *set);
void sim_vcpus_free(struct sim_vcpu_set *set);
uint64_t sim_vcpus_writes(const struct sim_vcpu_set *set);
uint32_t sim_vcpus_running(const struct sim_vcpu_set *set);
/* The gfns a storm set was given (0 for a paced set). */
uint64_t sim_vcpus_storm_pages(const struct sim_vcpu_set *set);

#endif /* XENSIM_VCPU_H */
