/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reserve.h - host memory reserve, sharing rings and VIRQ_ENOMEM (see
 * reserve.c): keeping unshares from running the host out of memory.
 */
#ifndef SHR_RESERVE_H
#define SHR_RESERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "dom.h"
#include "params.h"
#include "xen.h"

#define SHR_VIRQ_ENOMEM 12            /* VIRQ_ENOMEM of xen/include/public/xen.h */
#define SHR_RESERVE_CHECK_S 0.1       /* physinfo at most every 100 ms */
/* After an unshare ENOMEM: ask for at least this much room (8 MiB) on top
 * of the waiting domains' pages at risk (each counted up to the max), and
 * share again only once this much is free; after a share ENOMEM (Xen's
 * heap for sharing metadata) the same. */
#define SHR_ENOMEM_MIN_PAGES 2048u
/* ring-less domains listed per VIRQ_ENOMEM round; more are listed next round */
#define SHR_VIRQ_MAX_WAITERS 256u
#define SHR_ENOMEM_MAX_PAGES 65536u
#define SHR_DOMID_VIRQ UINT32_MAX      /* "the ring-less waiters" in messages */
/* ring-less waiters listed, failed ring set-ups retried, at most this often */
#define SHR_EVENTS_POLL_S 1.0

#define SHR_RING_MAX_PENDING 128

struct shr_ring;

struct shr_reserve {
	const struct shr_params *params;
	struct shr_xen *xen;
	struct shr_doms *doms;
	double last_check_s;
	double last_poll_s;                  /* events_poll's slow half (reserve.c) */
	double enomem_warned_s;
	uint64_t host_total, host_free;      /* pages, at the last check */
	uint64_t hv_freed, hv_used;          /* the hypervisor's sharing counters */
	bool below_reserve;                  /* free < reserve: memory asked for */
	bool heap_paused;                    /* a share found no memory: until it is back */
	bool enomem_paused;                  /* an unshare found no memory: until it is back */
	uint64_t pages_needed, memory_requests;
	uint64_t unprotected_at_risk;        /* pages saved in domains an unshare ENOMEM would crash */
	uint32_t virq_port;
	bool virq_bound;
	unsigned int virq_waiting;           /* ring-less domains paused, as last listed */
	struct shr_ring *rings;              /* every sharing ring held */
	void (*need_memory_fn)(void *arg, uint64_t pages);
	void *need_memory_arg;
};

/* Binds VIRQ_ENOMEM, lists domains a previous daemon left waiting, and
 * reads the host's memory once. */
int shr_reserve_init(struct shr_reserve *r, const struct shr_params *params,
		     struct shr_xen *xen, struct shr_doms *doms);
/* The stop protocol (reserve.c): answers what it can, keeps the rings. */
void shr_reserve_fini(struct shr_reserve *r);
/* Reads the host's memory (at most every SHR_RESERVE_CHECK_S unless
 * force), asks for what is needed, answers and resumes what can be. */
void shr_reserve_check(struct shr_reserve *r, bool force);
bool shr_reserve_allows_sharing(const struct shr_reserve *r);
/* Whether d may get one more shared page (unprotected domains, reserve.c). */
bool shr_reserve_allows_domain(const struct shr_reserve *r, const struct shr_dom *d);
/* A nominate or share failed with ENOMEM: the pair is retried later, and the
 * host's memory is read at once (sharing pauses if it is below the reserve). */
void shr_reserve_enomem(struct shr_reserve *r, uint32_t domid, uint32_t gfn);
int shr_reserve_ring_attach(struct shr_reserve *r, struct shr_dom *d);
/* d leaves the engine: a live domain's ring is kept (reserve.c). */
void shr_reserve_ring_detach(struct shr_reserve *r, struct shr_dom *d);
int shr_reserve_handle_events(struct shr_reserve *r);

#endif /* SHR_RESERVE_H */
