/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * internal.h - the engine's state, shared by engine.c, scan.c, merge.c,
 * reserve.c and audit.c.  Not installed; the daemon sees only engine.h.
 *
 * Page references ("refs"): every scanned domain owns a contiguous range
 * [ref_base, ref_base + nr_gfns) of a 32-bit number space, so an index
 * entry names a (domain, gfn) in 4 bytes.  Per gfn the domain keeps the low
 * 32 bits of the page's last key (key_lo) and one state byte (volatility.h):
 * 5 bytes per scanned page, plus the index (index.h).
 */
#ifndef SHR_INTERNAL_H
#define SHR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "fingerprint.h"
#include "index.h"
#include "rate.h"
#include "volatility.h"
#include "xen.h"

#define SHR_MAX_GROUPS 256
#define SHR_RING_MAX_PENDING 128

struct shr_ring;   /* reserve.c */

struct shr_dom {
	uint32_t domid;
	char name[64];
	struct shr_domain_policy policy;
	uint32_t group;              /* index into shr_engine.groups */
	uint64_t salt;               /* the group's key salt */

	uint32_t ref_base;
	uint32_t nr_gfns;            /* scanned gfns: 0 .. nr_gfns - 1 */
	uint32_t *key_lo;            /* per gfn: low 32 bits of the last key */
	uint8_t *pstate;             /* per gfn: enum shr_pstate + backoff level */

	uint32_t cursor;             /* next gfn of this pass */
	/* The policy under which the domain's pages already on shared frames
	 * were shared (group[0] == 0: not known).  While it does not cover
	 * the current policy (another group, or a mode that shares more) the
	 * domain is evicting: its pages are unshared and never merged. */
	struct shr_domain_policy held;
	bool evicting;
	uint64_t evict_nomem;        /* pages the last eviction sweep could not unshare (ENOMEM) */
	bool gone;                   /* ESRCH / dying: stop touching it */
	bool refused;                /* hypervisor refuses sharing (EOPNOTSUPP/EXDEV/ENODEV) */

	/* counts of the state bytes (audit checks them) */
	uint64_t n_unique, n_source, n_shared, n_volatile, n_zero_shared;
	uint64_t unshares;
	uint64_t unshares_mark;      /* unshares at the last rate sample */
	double unshares_mark_s, unshares_per_s;
	struct shr_xen_dominfo info;
	bool recheck_shared;         /* this pass: Xen counts fewer shared gfns than we believe */
	bool surplus;                /* this pass: Xen counts more (pages left nominated, or
					shares the engine has not relearned): new unique pages
					are SUSPECT (volatility.h) */

	struct shr_ring *ring;       /* NULL: no sharing ring */
	uint64_t ring_gfn;           /* the ring page (never scanned), or UINT64_MAX */
	bool resume_pending;         /* no ring, no list op: resumed once memory is back */
};

struct shr_pair {
	uint64_t key;                /* the client's key (= the source's, if equal) */
	uint32_t src, cli;           /* refs */
};

struct shr_engine {
	struct shr_params params;
	struct shr_xen *xen;
	struct shr_fp_key key;
	struct shr_index index;
	struct shr_rate rate;

	struct shr_dom **doms;       /* sorted by ref_base */
	unsigned int nr_doms, cap_doms;
	unsigned int scan_dom;       /* position of the pass in doms[] */

	char groups[SHR_MAX_GROUPS][64];
	uint64_t group_salt[SHR_MAX_GROUPS];
	unsigned int nr_groups;

	/* scan batch buffers (allocated once: no allocation per page) */
	uint64_t *batch_gfns;
	int *batch_err;
	uint64_t *batch_fp;
	uint8_t *batch_zero;
	unsigned int batch_cap;

	/* merge queue */
	struct shr_pair *pairs;
	xenshare_cmpshr_pair_t *cmp;
	unsigned int nr_pairs, cap_pairs;
	enum shr_protocol proto;
	bool no_sharing;             /* the hypervisor has no sharing at all (ENOSYS) */

	/* pass */
	uint64_t pass;               /* number of the current pass */
	uint64_t pass_pages_total;   /* gfns in this pass (sum of nr_gfns at start) */
	uint64_t pass_pages_done;
	uint64_t pass_merged;        /* pages saved by this pass */
	double last_pass_s;
	bool settled;

	/* reserve */
	uint64_t host_total, host_free;
	uint64_t hv_freed, hv_used;
	bool reserve_paused, enomem_paused;
	uint64_t pages_needed, memory_requests;
	uint64_t unprotected_at_risk;  /* pages saved in domains an unshare ENOMEM would crash */
	uint32_t virq_port;
	bool virq_bound;
	unsigned int virq_waiting;   /* ring-less domains paused, as last listed */
	struct shr_ring *rings;      /* every sharing ring held (reserve.c) */
	void (*need_memory_fn)(void *arg, uint64_t pages);
	void *need_memory_arg;
	double last_host_check_s;

	struct shr_stats st;         /* running counters (not all fields used) */
	double cpu_s;
};

/* engine.c */
double shr_now_s(void);
double shr_cpu_s(void);
struct shr_dom *shr_dom_of_ref(struct shr_engine *e, uint32_t ref, uint32_t *gfn);
struct shr_dom *shr_dom_find(struct shr_engine *e, uint32_t domid);
void shr_dom_mark_gone(struct shr_engine *e, struct shr_dom *d, int err, const char *op);
void shr_dom_mark_refused(struct shr_engine *e, struct shr_dom *d, int err, const char *op);
/* d's p2m now has nr_gfns gfns (more than tracked): rebuild its state. */
int shr_dom_regrow(struct shr_engine *e, struct shr_dom *d, uint64_t nr_gfns);
/* Drops a page's index entry (if any) and sets its state; keeps counts. */
void shr_page_forget(struct shr_engine *e, struct shr_dom *d, uint32_t gfn,
		     enum shr_pstate new_state);

/* scan.c */
/* Scans the next batch of the pass; returns pages looked at, 0 at the end
 * of the pass, or -errno if the engine cannot go on. */
int shr_scan_batch(struct shr_engine *e);

/* merge.c */
void shr_merge_consider(struct shr_engine *e, struct shr_dom *d, uint32_t gfn,
			uint64_t key, bool zero);
void shr_merge_flush(struct shr_engine *e);
/* d's gfn just became the stable source of its frame: queue its unique twins. */
void shr_merge_adopted(struct shr_engine *e, struct shr_dom *d, uint32_t gfn, uint64_t key);
int shr_merge_alloc(struct shr_engine *e);
void shr_merge_free(struct shr_engine *e);

/* reserve.c */
int shr_reserve_init(struct shr_engine *e);
void shr_reserve_fini(struct shr_engine *e);
void shr_reserve_check(struct shr_engine *e, bool force);
bool shr_reserve_allows_sharing(const struct shr_engine *e);
/* Whether d may get one more shared page (see reserve.c: unprotected domains). */
bool shr_reserve_allows_domain(const struct shr_engine *e, const struct shr_dom *d);
int shr_reserve_ring_attach(struct shr_engine *e, struct shr_dom *d);
void shr_reserve_ring_detach(struct shr_engine *e, struct shr_dom *d);
int shr_reserve_handle_events(struct shr_engine *e);

/* Low 32 bits of the zero page's key in d's group. */
static inline uint32_t shr_zero_lo(const struct shr_engine *e, const struct shr_dom *d)
{
	return (uint32_t)(e->key.zero_fp ^ d->salt);
}

/* Pages that are holes or refused by the hypervisor back off too, but are
 * not "volatile" (pages_volatile counts pages whose contents churn). */
static inline bool shr_ps_counts_volatile(enum shr_pstate s)
{
	return s != SHR_PS_HOLE && s != SHR_PS_NOSHARE;
}

/*
 * Changes a page's state and keeps the per-domain counts in step (index
 * entries are the caller's business).  Call before changing key_lo: the
 * zero-page count reads the key the page was shared under.
 */
static inline void shr_ps_set(struct shr_engine *e, struct shr_dom *d, uint32_t gfn,
			      enum shr_pstate s)
{
	uint8_t *b = &d->pstate[gfn];
	enum shr_pstate old = shr_ps_state(*b);

	switch (old) {
	case SHR_PS_UNIQUE: d->n_unique--; break;
	case SHR_PS_SOURCE: d->n_source--; break;
	case SHR_PS_SHARED:
		d->n_shared--;
		if (d->key_lo[gfn] == shr_zero_lo(e, d))
			d->n_zero_shared--;
		break;
	default: break;
	}
	switch (s) {
	case SHR_PS_UNIQUE: d->n_unique++; break;
	case SHR_PS_SOURCE: d->n_source++; break;
	case SHR_PS_SHARED:
		d->n_shared++;
		if (d->key_lo[gfn] == shr_zero_lo(e, d))
			d->n_zero_shared++;
		break;
	default: break;
	}
	if (shr_ps_level(*b))
		d->n_volatile += (uint64_t)((int64_t)shr_ps_counts_volatile(s) -
					    (int64_t)shr_ps_counts_volatile(old));
	shr_ps_set_state(b, s);
}

static inline void shr_ps_backoff(struct shr_dom *d, uint32_t gfn)
{
	if (shr_ps_back_off(&d->pstate[gfn]) &&
	    shr_ps_counts_volatile(shr_ps_state(d->pstate[gfn])))
		d->n_volatile++;
}

static inline void shr_ps_calm_down(struct shr_dom *d, uint32_t gfn)
{
	if (shr_ps_calm(&d->pstate[gfn]) &&
	    shr_ps_counts_volatile(shr_ps_state(d->pstate[gfn])))
		d->n_volatile--;
}

#endif /* SHR_INTERNAL_H */
