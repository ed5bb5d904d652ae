/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dom.h - the engine's domain table: the scanned domains, the reference
 * space their pages live in, the sharing groups, and the index over their
 * pages.
 *
 * Page references ("refs"): every scanned domain owns a contiguous range
 * [ref_base, ref_base + nr_gfns) of a 32-bit number space, so an index
 * entry names a (domain, gfn) in 4 bytes.  Per gfn the domain keeps the
 * low 32 bits of the page's last key and one state byte (page_state.h):
 * 5 bytes per scanned page, plus the index (index.h).  The index lives
 * here because its entries are refs of this table: a domain leaves the
 * table only with its entries.
 *
 * Groups are interned strings; each gets a salt no guest can predict (the
 * group name hashed with the fingerprint secret) that is XORed into its
 * pages' keys, so equal pages of different groups land on different keys.
 *
 * Nothing here flushes the merge queue: the queue names refs, so a caller
 * that resets, regrows or deletes a domain while pairs are queued flushes
 * it first (engine.c, scan.c).
 */
#ifndef SHR_DOM_H
#define SHR_DOM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "fingerprint.h"
#include "index.h"
#include "page_state.h"
#include "params.h"
#include "xen.h"

#define SHR_MAX_GROUPS 256

struct shr_ring;   /* reserve.c */

/* One scanned domain (field by field; "this pass" fields are reset at the
 * start of the domain's pass, scan.c). */
struct shr_dom {
	uint32_t domid;
	char name[64];
	struct shr_domain_policy policy;
	uint32_t group;              /* index into shr_doms.groups */
	uint64_t salt;               /* the group's key salt */
	/* The policy under which the domain's pages already on shared frames
	 * were shared (group[0] == 0: not known).  While it does not cover the
	 * current policy (another group, or a mode that shares more) the
	 * domain is evicting: its pages are unshared and never merged. */
	struct shr_domain_policy held;
	bool evicting;
	uint64_t evict_nomem;        /* pages the last eviction sweep could not unshare (ENOMEM) */

	uint32_t ref_base;
	struct shr_pages pages;      /* per gfn: key_lo and state; nr = scanned gfns */
	uint32_t cursor;             /* next gfn of this pass */
	bool gone;                   /* ESRCH / dying: stop touching it */
	bool refused;                /* hypervisor refuses sharing (EOPNOTSUPP/EXDEV/ENODEV) */

	uint64_t unshares;
	uint64_t unshares_mark;      /* unshares at the last rate sample */
	double unshares_mark_s, unshares_per_s;
	/* as read at the start or end of its pass (or by stats) */
	struct shr_xen_dominfo info;
	/* where the next sweep for shares Xen no longer counts starts (scan.c,
	 * recheck_sweep) */
	uint32_t recheck_next;
	bool surplus;                /* this pass: Xen counts more (pages left nominated, or
					shares the engine has not relearned): new unique pages
					are SUSPECT (page_state.h) */

	/* dirty-log scanning (scan.c): the domain's log-dirty mode is ours */
	bool logdirty;
	bool logdirty_before;        /* the caller's record: a previous xenshared had it */
	bool look_pass;              /* this pass looks at the look bitmap (the first pass
					from the log; later ones leave it to the log rounds) */
	uint32_t passes;             /* passes of this domain completed */
	uint32_t sweep_cursor;       /* dirty-log scanning's background sweep */
	double sweep_s;              /* when its last slice was taken */
	double sweep_credit;         /* pages due to it, not yet taken */
	uint64_t rounds;             /* log rounds done (the phase of their looks) */
	double round_s;              /* when the last log round ran */
	double logdirty_retry_s;     /* when to try to take log-dirty again */
	const char *full_why;        /* why full passes, when the mode asks for the dirty log */

	struct shr_ring *ring;       /* NULL: no sharing ring (reserve.c owns rings) */
	int ring_err;                /* why the last ring set-up failed, 0 if it did not */
	uint64_t ring_gfn;           /* the ring page (never scanned), or UINT64_MAX */
	bool resume_pending;         /* no ring, no list op: resumed once memory is back */
};

struct shr_doms {
	struct shr_dom **v;          /* sorted by ref_base */
	unsigned int nr, cap;
	struct shr_index index;
	const struct shr_fp_key *key;
	char groups[SHR_MAX_GROUPS][64];
	uint64_t group_salt[SHR_MAX_GROUPS];
	unsigned int nr_groups;
};

void shr_doms_init(struct shr_doms *t, const struct shr_fp_key *key);
/* Frees every domain and the index. */
void shr_doms_fini(struct shr_doms *t);

struct shr_dom *shr_dom_find(const struct shr_doms *t, uint32_t domid);
/* The domain whose ref range holds ref, and the gfn; NULL if none. */
struct shr_dom *shr_dom_of_ref(const struct shr_doms *t, uint32_t ref, uint32_t *gfn);

/* A new domain of nr_gfns gfns (all NEW, no group yet) in the lowest free
 * ref range: -ENOMEM, -ENOSPC (no room in the ref space). */
int shr_dom_insert(struct shr_doms *t, uint32_t domid, const char *name, uint64_t nr_gfns,
		   struct shr_dom **out);
/* Removes d from the table with its index entries, and frees it. */
void shr_dom_delete(struct shr_doms *t, struct shr_dom *d);

/* Puts d in the group called name ("" is "default"): -ENOSPC when the
 * table of groups is full. */
int shr_dom_set_group(struct shr_doms *t, struct shr_dom *d, const char *name);
/* Forgets everything the engine knows about d's pages (index entries
 * included; the hypervisor's shares stay: they unshare lazily). */
void shr_dom_reset_pages(struct shr_doms *t, struct shr_dom *d);
/* d's p2m now has nr_gfns gfns (more than tracked): its state is rebuilt
 * at the new size under a new ref range. */
int shr_dom_regrow(struct shr_doms *t, struct shr_dom *d, uint64_t nr_gfns);

/* Drops a page's index entry (if any) and sets its state. */
void shr_page_forget(struct shr_doms *t, struct shr_dom *d, uint32_t gfn,
		     enum shr_pstate new_state);

/* The domain is dying or gone (err: -EBUSY / -ESRCH), or the hypervisor
 * refuses sharing for it: no longer scanned (logged once). */
void shr_dom_mark_gone(struct shr_dom *d, int err, const char *op);
void shr_dom_mark_refused(struct shr_dom *d, int err, const char *op);

/* Whether d's pages are scanned at all. */
static inline bool shr_dom_scannable(const struct shr_dom *d)
{
	return !d->gone && !d->refused && d->policy.mode != SHR_MODE_OFF;
}

/* Whether a ring set-up that failed with err may work when tried again:
 * not when the domain has no ring page or the hypervisor no rings. */
static inline bool shr_ring_err_transient(int err)
{
	return err && err != -ENOENT && err != -ENOSYS && err != -EOPNOTSUPP &&
	       err != -ENODEV && err != -ESRCH && err != -EINVAL;
}

/* Whether d may take part in a merge. */
static inline bool shr_dom_mergeable(const struct shr_dom *d)
{
	return !d->gone && !d->refused && !d->evicting;
}

#endif /* SHR_DOM_H */
