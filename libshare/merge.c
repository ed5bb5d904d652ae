/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * merge.c - verify and share: turning index matches into shared frames.
 *
 * DOC: Overview
 *
 * shr_merge_consider() looks a freshly fingerprinted page up: first on the
 * stable side (a frame we already share, with fewer than max_sharers
 * sharers), then on the unstable side (a page seen once).  A match becomes
 * a pair (source, client) in the merge queue; an unstable source moves to
 * the stable side at once (optimistically, so later twins in the same pass
 * join the same frame instead of forming new pairs among themselves).  No
 * match: the page enters the unstable side.  Pairs never cross sharing
 * groups: the key is salted per group, and the source's group is checked.
 *
 * The queue is flushed when full, at the end of every shr_engine_run()
 * slice and of every pass, and before a domain is removed.  Two protocols:
 *
 * Upstream (Xen 4.17 as released), in chunks of SHR_MERGE_CHUNK pairs, and
 * per pair: nominate the source (for a frame we already share this
 * re-nomination is the liveness check: it returns the frame's handle while
 * the page is still shared; once per chunk), nominate the client, map both
 * read-only (one mapping call per domain for the whole chunk), compare all
 * 4096 bytes, unmap, share with both handles.  Nominating first is what makes the compare meaningful:
 * from nomination on, a guest write invalidates the handle and the share
 * fails with a handle error instead of merging stale contents.  When the
 * compare fails, the source is re-fingerprinted while mapped to learn which
 * side changed.
 *
 * Xen 4.17's share_pages() moves every gfn of the CLIENT's frame onto the
 * source frame but locks the p2m of the call's two domains only: a client
 * frame that also backs a gfn of a third domain takes that domain's p2m
 * lock under a page lock, a lock-order BUG() that panics the host (release
 * builds too).  The engine's clients are normally pages it just saw
 * private, but after a restart, or next to another sharing tool, a client
 * may sit on such a frame.  So the upstream path asks the hypervisor
 * first (pair_direction(): debug_gfn, one read-only query per pair): a
 * client alone on its frame is shared as queued; otherwise the pair is
 * shared the other way round when the source is alone on its frame, and
 * when both frames have other sharers nothing is merged (_SPANNED; if both
 * gfns are on the same frame, nominate returns the same handle and the
 * pair is simply done).  The batched op does the same inside the
 * hypervisor, under its locks (hypervisor-patch/ 0002).
 *
 * Batched (hypervisor-patch/): up to XENSHARE_CMPSHR_MAX_BATCH pairs per
 * hypercall; the hypervisor nominates, compares under its lock and shares.
 * A pair whose error needs to know which side failed is replayed through
 * the upstream path.
 *
 * Reactions (none aborts the pass; docs/design.md has the table):
 *  - handle invalid (errno 9 client / 10 source): the guest wrote between
 *    nominate and share; counted in share_raced, the page is looked at
 *    again next pass;
 *  - compare mismatch: the stale side is forgotten and rescanned;
 *  - both frames shared with others (_SPANNED): the client is left on its
 *    frame, marked NOSHARE and backed off;
 *  - E2BIG (someone else maps the page, e.g. QEMU) and EINVAL (not
 *    sharable RAM): that page is marked NOSHARE and backed off;
 *  - EBUSY (dying) / ESRCH: the domain is no longer scanned;
 *  - EOPNOTSUPP / EXDEV / ENODEV: sharing refused for that domain: it is
 *    no longer scanned (warned once);
 *  - ENOMEM: the hypervisor is short of memory: sharing pauses until the
 *    next reserve check finds free memory above the reserve;
 *  - ENOSYS: no sharing in this hypervisor at all: the engine stops.
 *
 * Invariants: a client is PENDING exactly while its pair is queued; a
 * stable entry's sharer count is never below 2 (an entry that would drop
 * to 1 returns to the unstable side); nothing is shared without a full
 * compare after both nominations.
 */
#include "internal.h"
#include "merge.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

enum who { WHO_SRC, WHO_CLI, WHO_UNKNOWN };

int shr_merge_alloc(struct shr_engine *e)
{
	e->cap_pairs = XENSHARE_CMPSHR_MAX_BATCH;
	e->pairs = calloc(e->cap_pairs, sizeof(*e->pairs));
	e->cmp = calloc(e->cap_pairs, sizeof(*e->cmp));
	return e->pairs && e->cmp ? 0 : -ENOMEM;
}

void shr_merge_free(struct shr_engine *e)
{
	free(e->pairs);
	free(e->cmp);
	e->pairs = NULL;
	e->cmp = NULL;
}

static unsigned int queue_limit(const struct shr_engine *e)
{
	return e->proto == SHR_PROTO_BATCHED ? e->cap_pairs : SHR_MERGE_UPSTREAM_QUEUE;
}

static void queue_pair(struct shr_engine *e, uint32_t src, uint32_t cli, uint64_t key)
{
	if (e->nr_pairs >= queue_limit(e))
		shr_merge_flush(e);
	e->pairs[e->nr_pairs++] = (struct shr_pair){ .key = key, .src = src, .cli = cli };
}

static void insert_unique(struct shr_engine *e, struct shr_dom *d, uint32_t gfn, uint64_t key)
{
	static double warned_s;
	int rc = shr_index_insert(&e->index, SHR_UNSTABLE, key, d->ref_base + gfn, 0);

	if (rc == 0) {
		shr_ps_set(e, d, gfn, SHR_PS_UNIQUE);
		/* the hypervisor counts shared pages the engine does not know:
		 * this one may be one of them (volatility.h) */
		if (d->surplus)
			shr_ps_mark_suspect(&d->pstate[gfn]);
		return;
	}
	/* Out of memory for the index: the page is simply not a candidate
	 * this pass.  Warned at most once a minute. */
	if (shr_now_s() - warned_s > 60) {
		shr_warn("d%u gfn 0x%x index: insert failed (errno %d): page not indexed",
			 d->domid, gfn, -rc);
		warned_s = shr_now_s();
	}
	shr_ps_set(e, d, gfn, SHR_PS_WATCH);
}

/* One more sharer for the stable entry in slot; at max_sharers the entry
 * moves to the full side (if that fails for memory, it stays: still
 * correct, since lookups skip full entries either way). */
static void stable_bump(struct shr_engine *e, int64_t slot, uint64_t key)
{
	uint16_t *c = shr_index_sharers(&e->index, SHR_STABLE, slot);
	uint32_t ref = shr_index_ref(&e->index, SHR_STABLE, slot);

	if (++*c < e->params.max_sharers)
		return;
	if (shr_index_insert(&e->index, SHR_FULL, key, ref, *c) == 0)
		shr_index_remove(&e->index, SHR_STABLE, (uint32_t)key, ref);
}

void shr_merge_consider(struct shr_engine *e, struct shr_dom *d, uint32_t gfn,
			uint64_t key, bool zero)
{
	uint32_t ref = d->ref_base + gfn, sgfn;
	struct shr_dom *sd;
	int64_t s;

	d->key_lo[gfn] = (uint32_t)key;
	if (d->policy.mode == SHR_MODE_ZERO && !zero) {
		shr_ps_set(e, d, gfn, SHR_PS_WATCH);
		return;
	}
	if (!shr_reserve_allows_domain(e, d)) {
		/* indexed, not merged: it merges once the host can absorb it */
		insert_unique(e, d, gfn, key);
		return;
	}
	s = shr_index_find(&e->index, SHR_STABLE, key, ref, e->params.max_sharers);
	if (s >= 0) {
		sd = shr_dom_of_ref(e, shr_index_ref(&e->index, SHR_STABLE, s), &sgfn);
		if (sd && sd->group == d->group && !sd->gone && !sd->refused &&
		    shr_reserve_allows_domain(e, sd)) {
			stable_bump(e, s, key);
			shr_ps_set(e, d, gfn, SHR_PS_PENDING);
			queue_pair(e, sd->ref_base + sgfn, ref, key);
			return;
		}
	}
	s = shr_index_find(&e->index, SHR_UNSTABLE, key, ref, 0);
	if (s >= 0) {
		uint32_t src = shr_index_ref(&e->index, SHR_UNSTABLE, s);

		sd = shr_dom_of_ref(e, src, &sgfn);
		if (sd && sd->group == d->group && !sd->gone && !sd->refused &&
		    shr_reserve_allows_domain(e, sd) &&
		    shr_index_insert(&e->index, SHR_STABLE, key, src, 2) == 0) {
			shr_index_remove(&e->index, SHR_UNSTABLE, (uint32_t)key, src);
			shr_ps_set(e, sd, sgfn, SHR_PS_SOURCE);
			shr_ps_set(e, d, gfn, SHR_PS_PENDING);
			queue_pair(e, src, ref, key);
			return;
		}
	}
	insert_unique(e, d, gfn, key);
}

void shr_merge_adopted(struct shr_engine *e, struct shr_dom *d, uint32_t gfn, uint64_t key)
{
	uint32_t ref = d->ref_base + gfn;
	int64_t slot = shr_index_slot_of(&e->index, SHR_STABLE, (uint32_t)key, ref);

	/* Pages indexed as unique while the frame had no stable entry (its
	 * source was rewritten or its domain destroyed) join it now: a
	 * unique page that does not change is never looked up again. */
	while (slot >= 0 &&
	       *shr_index_sharers(&e->index, SHR_STABLE, slot) < e->params.max_sharers &&
	       shr_reserve_allows_domain(e, d)) {
		int64_t u = shr_index_find(&e->index, SHR_UNSTABLE, key, ref, 0);
		uint32_t twin, tgfn;
		struct shr_dom *td;

		if (u < 0)
			break;
		twin = shr_index_ref(&e->index, SHR_UNSTABLE, u);
		td = shr_dom_of_ref(e, twin, &tgfn);
		if (!td || td->group != d->group || td->gone || td->refused ||
		    !shr_reserve_allows_domain(e, td))
			break;
		shr_index_remove(&e->index, SHR_UNSTABLE, (uint32_t)key, twin);
		shr_ps_set(e, td, tgfn, SHR_PS_PENDING);
		stable_bump(e, slot, key);
		queue_pair(e, ref, twin, key);
		/* queue_pair may flush, and a flush may move the entry */
		slot = shr_index_slot_of(&e->index, SHR_STABLE, (uint32_t)key, ref);
	}
}

/* A pair did not add a sharer to src's frame: undo the optimistic count;
 * a source left alone returns to the unstable side. */
static void src_release(struct shr_engine *e, struct shr_dom *sd, uint32_t sgfn, uint64_t key)
{
	uint32_t ref = sd->ref_base + sgfn;
	enum shr_side side = SHR_STABLE;
	int64_t slot;
	uint16_t *c;

	if (shr_ps_state(sd->pstate[sgfn]) != SHR_PS_SOURCE)
		return;
	slot = shr_index_slot_of(&e->index, SHR_STABLE, sd->key_lo[sgfn], ref);
	if (slot < 0) {
		side = SHR_FULL;
		slot = shr_index_slot_of(&e->index, SHR_FULL, sd->key_lo[sgfn], ref);
		if (slot < 0)
			return;
	}
	c = shr_index_sharers(&e->index, side, slot);
	if (*c > 2) {
		uint16_t n = (uint16_t)(*c - 1);

		*c = n;
		/* room again: back where lookups find it */
		if (side == SHR_FULL && n < e->params.max_sharers &&
		    shr_index_insert(&e->index, SHR_STABLE, key, ref, n) == 0)
			shr_index_remove(&e->index, SHR_FULL, sd->key_lo[sgfn], ref);
		return;
	}
	shr_index_remove(&e->index, side, sd->key_lo[sgfn], ref);
	shr_ps_set(e, sd, sgfn, SHR_PS_NEW);
	insert_unique(e, sd, sgfn, key);
	/* alone again, and perhaps nominated by the failed pairs */
	shr_ps_mark_suspect(&sd->pstate[sgfn]);
}

/* The client is looked at again next pass; nominated: the pair got as far
 * as nominating it, so it may be left alone on a shared frame. */
static void cli_retry_later(struct shr_engine *e, struct shr_dom *cd, uint32_t cgfn,
			    bool nominated)
{
	shr_ps_set(e, cd, cgfn, SHR_PS_NEW);
	if (nominated)
		shr_ps_mark_suspect(&cd->pstate[cgfn]);
}

static void refuse_page(struct shr_engine *e, struct shr_dom *d, uint32_t gfn, int err)
{
	shr_debug("d%u gfn 0x%x nominate: errno %d: page not sharable for now",
		  d->domid, gfn, -err);
	shr_page_forget(e, d, gfn, SHR_PS_NOSHARE);
	shr_ps_backoff(d, gfn);
}

static void pair_done(struct shr_engine *e, const struct shr_pair *p,
		      struct shr_dom *sd, uint32_t sgfn, struct shr_dom *cd, uint32_t cgfn,
		      int result, enum who who)
{
	struct shr_dom *culprit = who == WHO_SRC ? sd : cd;

	switch (result) {
	case XENSHARE_CMPSHR_SHARED:
		if (shr_ps_state(sd->pstate[sgfn]) != SHR_PS_SOURCE) {
			/* an earlier pair forgot the source, yet this share
			 * succeeded: the frame exists, index it again */
			if (shr_index_insert(&e->index, SHR_STABLE, p->key, p->src, 2) == 0) {
				shr_page_forget(e, sd, sgfn, SHR_PS_NEW);
				sd->key_lo[sgfn] = (uint32_t)p->key;
				shr_ps_set(e, sd, sgfn, SHR_PS_SOURCE);
			}
		}
		shr_ps_set(e, cd, cgfn, SHR_PS_SHARED);
		e->pass_merged++;
		return;
	case XENSHARE_CMPSHR_DIFFERENT:
		/* both pages were nominated */
		e->st.compare_mismatch++;
		if (who == WHO_SRC) {
			shr_page_forget(e, sd, sgfn, SHR_PS_NEW);
			shr_ps_mark_suspect(&sd->pstate[sgfn]);
			shr_ps_set(e, cd, cgfn, SHR_PS_NEW);
			insert_unique(e, cd, cgfn, p->key);
			shr_ps_mark_suspect(&cd->pstate[cgfn]);
		} else {
			src_release(e, sd, sgfn, p->key);
			cli_retry_later(e, cd, cgfn, true);
		}
		return;
	case XENSHARE_CMPSHR_SPANNED:
		shr_debug("d%u gfn 0x%x share: frame shared with other domains, as is d%u "
			  "gfn 0x%x's: not merged", cd->domid, cgfn, sd->domid, sgfn);
		src_release(e, sd, sgfn, p->key);
		shr_page_forget(e, cd, cgfn, SHR_PS_NOSHARE);
		shr_ps_backoff(cd, cgfn);
		return;
	case SHR_ERR_C_HANDLE:
		/* the client was written (so unshared): only the source may be left */
		e->st.share_raced++;
		src_release(e, sd, sgfn, p->key);
		cli_retry_later(e, cd, cgfn, false);
		return;
	case SHR_ERR_S_HANDLE:
		e->st.share_raced++;
		shr_page_forget(e, sd, sgfn, SHR_PS_NEW);
		cli_retry_later(e, cd, cgfn, true);
		return;
	default:
		break;
	}

	/* errors */
	switch (result) {
	case -E2BIG:
	case -EINVAL:
		if (who == WHO_SRC) {
			refuse_page(e, sd, sgfn, result);
			shr_ps_set(e, cd, cgfn, SHR_PS_NEW);
			insert_unique(e, cd, cgfn, p->key);
		} else {
			src_release(e, sd, sgfn, p->key);
			refuse_page(e, cd, cgfn, result);
		}
		return;
	case -EBUSY:
	case -ESRCH:
		shr_dom_mark_gone(e, culprit, result, "share");
		break;
	case -EOPNOTSUPP:
	case -EXDEV:
	case -ENODEV:
		shr_dom_mark_refused(e, culprit, result, "share");
		break;
	case -ENOMEM:
		if (!e->reserve_paused)
			shr_warn("d%u gfn 0x%x share: hypervisor out of memory (ENOMEM): "
				 "sharing paused until free memory is above the reserve",
				 culprit->domid, who == WHO_SRC ? sgfn : cgfn);
		e->reserve_paused = true;
		break;
	case -ENOSYS:
		if (!e->no_sharing)
			shr_err("share: the hypervisor has no memory sharing (ENOSYS): the "
				"engine stops; see hypervisor-patch/");
		e->no_sharing = true;
		break;
	default:
		e->st.share_failed++;
		shr_warn("d%u gfn 0x%x share: errno %d: retried next pass",
			 culprit->domid, who == WHO_SRC ? sgfn : cgfn, -result);
		break;
	}
	src_release(e, sd, sgfn, p->key);
	cli_retry_later(e, cd, cgfn, true);
}

/*
 * Which way a pair can be shared without Xen's share_pages() touching a
 * third domain's p2m (see the overview): 0 as queued (the client is
 * private, or alone on its frame), 1 the other way round (the source is),
 * XENSHARE_CMPSHR_SPANNED (both frames have other sharers), or -errno.
 * Xen's debug_gfn gives the frame's type count less its own lock's: the
 * number of gfns on the frame.
 */
/* debug_gfn's answer: -EINVAL for a private gfn, else the gfns on its frame */
static bool alone_on_frame(int gfns_on_frame)
{
	return gfns_on_frame == -EINVAL || (gfns_on_frame >= 0 && gfns_on_frame <= 1);
}

static int pair_direction(struct shr_engine *e, struct shr_dom *sd, uint32_t sgfn,
			  struct shr_dom *cd, uint32_t cgfn)
{
	int c = shr_xen_gfn_shared(e->xen, cd->domid, cgfn), s;

	if (alone_on_frame(c))
		return 0;
	if (c < 0)
		return c;
	s = shr_xen_gfn_shared(e->xen, sd->domid, sgfn);
	if (alone_on_frame(s))
		return 1;
	return s < 0 ? s : XENSHARE_CMPSHR_SPANNED;
}

/*
 * The client side of an upstream pair whose source holds handle sh: the
 * direction, then the client's nomination.  Returns true when that
 * settles the pair without a share (*result for pair_done: an errno, or
 * _SPANNED, or _SHARED when both gfns are on one frame already, which
 * nominate shows as the same handle); false to go on with *ch and *swap.
 */
static bool nominate_client(struct shr_engine *e, struct shr_dom *sd, uint32_t sgfn, uint64_t sh,
			    struct shr_dom *cd, uint32_t cgfn, uint64_t *ch, bool *swap,
			    int *result)
{
	int dir = pair_direction(e, sd, sgfn, cd, cgfn);

	if (dir < 0) {
		*result = dir;
		return true;
	}
	*result = shr_xen_nominate(e->xen, cd->domid, cgfn, ch);
	if (*result)
		return true;
	if (dir == XENSHARE_CMPSHR_SPANNED) {
		*result = *ch == sh ? XENSHARE_CMPSHR_SHARED : XENSHARE_CMPSHR_SPANNED;
		return true;
	}
	*swap = dir == 1;
	return false;
}

/*
 * shr_xen_share() for a pair, the other way round when swap: the handle
 * errors are given back from the pair's point of view.  hypervisor-patch
 * 0008 refuses, instead of panicking on, a client frame that backs a
 * third domain's gfn (another tool shared it since pair_direction()
 * looked): the batched op's _SPANNED case.
 */
static int share_pair(struct shr_engine *e, struct shr_dom *sd, uint32_t sgfn, uint64_t sh,
		      struct shr_dom *cd, uint32_t cgfn, uint64_t ch, bool swap)
{
	int rc;

	if (!swap)
		rc = shr_xen_share(e->xen, sd->domid, sgfn, sh, cd->domid, cgfn, ch);
	else
		rc = shr_xen_share(e->xen, cd->domid, cgfn, ch, sd->domid, sgfn, sh);
	if (rc == -EDEADLK)
		return XENSHARE_CMPSHR_SPANNED;
	if (swap && rc == SHR_ERR_S_HANDLE)
		return SHR_ERR_C_HANDLE;
	if (swap && rc == SHR_ERR_C_HANDLE)
		return SHR_ERR_S_HANDLE;
	return rc;
}

/* The upstream protocol for one pair; returns the result for pair_done. */
static int upstream_one(struct shr_engine *e, const struct shr_pair *p,
			struct shr_dom *sd, uint32_t sgfn, struct shr_dom *cd, uint32_t cgfn,
			enum who *who)
{
	uint64_t sh, ch, gfns[2] = { sgfn, cgfn };
	int err[2] = { 0, 0 }, rc;
	void *a = NULL, *b = NULL;
	bool equal, swap = false;

	*who = WHO_SRC;
	rc = shr_xen_nominate(e->xen, sd->domid, sgfn, &sh);
	if (rc)
		return rc;
	*who = WHO_CLI;
	if (nominate_client(e, sd, sgfn, sh, cd, cgfn, &ch, &swap, &rc))
		return rc;

	if (sd == cd) {
		rc = shr_xen_map(e->xen, sd->domid, false, gfns, 2, err, &a);
		if (rc) {
			*who = WHO_SRC;
			return rc;
		}
		b = (uint8_t *)a + SHR_PAGE_SIZE;
	} else {
		rc = shr_xen_map(e->xen, sd->domid, false, &gfns[0], 1, &err[0], &a);
		if (rc) {
			*who = WHO_SRC;
			return rc;
		}
		rc = shr_xen_map(e->xen, cd->domid, false, &gfns[1], 1, &err[1], &b);
		if (rc) {
			shr_xen_unmap(e->xen, a, 1);
			*who = WHO_CLI;
			return rc;
		}
	}
	if (err[0] || err[1]) {
		*who = err[0] ? WHO_SRC : WHO_CLI;
		rc = err[0] ? err[0] : err[1];
		equal = false;
	} else {
		equal = shr_page_equal(a, b);
		if (!equal) {
			/* which side moved since it was fingerprinted? */
			uint64_t skey = shr_fp_page(&e->key, a, NULL) ^ sd->salt;

			*who = skey == p->key ? WHO_CLI : WHO_SRC;
			rc = XENSHARE_CMPSHR_DIFFERENT;
		}
	}
	if (sd == cd) {
		shr_xen_unmap(e->xen, a, 2);
	} else {
		shr_xen_unmap(e->xen, a, 1);
		shr_xen_unmap(e->xen, b, 1);
	}
	if (!equal)
		return rc;

	e->st.share_attempts++;
	rc = share_pair(e, sd, sgfn, sh, cd, cgfn, ch, swap);
	*who = rc == SHR_ERR_S_HANDLE ? WHO_SRC : WHO_CLI;
	return rc;
}

static bool resolve(struct shr_engine *e, const struct shr_pair *p,
		    struct shr_dom **sd, uint32_t *sgfn, struct shr_dom **cd, uint32_t *cgfn)
{
	*sd = shr_dom_of_ref(e, p->src, sgfn);
	*cd = shr_dom_of_ref(e, p->cli, cgfn);
	if (!*sd || !*cd) {
		/* cannot happen: the queue is flushed before a domain goes */
		shr_err("merge: pair %u -> %u names an unknown domain", p->src, p->cli);
		return false;
	}
	return true;
}

static bool pair_blocked(const struct shr_engine *e, const struct shr_dom *sd,
			 const struct shr_dom *cd)
{
	return e->no_sharing || e->reserve_paused || sd->gone || sd->refused ||
	       cd->gone || cd->refused;
}

/* One pair of an upstream chunk on its way through the steps. */
struct up_pair {
	struct shr_dom *sd, *cd;
	uint32_t sgfn, cgfn;
	uint64_t sh, ch;
	const uint8_t *spage, *cpage;
	bool s_nominated;            /* sh is the source's handle */
	bool swap;                   /* shared the other way round (pair_direction) */
	bool active;                 /* still going: nominated, not yet settled */
};

/* Maps, for one domain, every page of the chunk's active pairs that lives
 * in it, with ONE call; a failure settles the pairs it touches. */
static int chunk_map_domain(struct shr_engine *e, const struct shr_pair *pairs,
			    struct up_pair *up, unsigned int n, struct shr_dom *d,
			    uint64_t *gfns, int *err, void **addr, unsigned int *mapped)
{
	unsigned int k = 0, i;
	int rc;

	for (i = 0; i < n; i++) {
		if (!up[i].active)
			continue;
		if (up[i].sd == d)
			gfns[k++] = up[i].sgfn;
		if (up[i].cd == d)
			gfns[k++] = up[i].cgfn;
	}
	*mapped = k;
	if (!k)
		return 0;
	rc = shr_xen_map(e->xen, d->domid, false, gfns, k, err, addr);
	k = 0;
	for (i = 0; i < n; i++) {
		if (!up[i].active)
			continue;
		for (int side = 0; side < 2; side++) {
			struct shr_dom *owner = side ? up[i].cd : up[i].sd;
			const uint8_t **page = side ? &up[i].cpage : &up[i].spage;
			int perr;

			if (owner != d)
				continue;
			perr = rc ? rc : err[k];
			*page = rc ? NULL : (const uint8_t *)*addr + (size_t)k * SHR_PAGE_SIZE;
			k++;
			if (perr && up[i].active) {
				up[i].active = false;
				pair_done(e, &pairs[i], up[i].sd, up[i].sgfn, up[i].cd, up[i].cgfn,
					  perr, side ? WHO_CLI : WHO_SRC);
			}
		}
	}
	if (rc)
		*mapped = 0;
	return rc;
}

/*
 * The upstream protocol for up to SHR_MERGE_CHUNK pairs: all nominations
 * first, then ONE read-only mapping per domain for every page of the chunk
 * (instead of one or two per pair), compare, unmap everything, and only
 * then the shares.  The order per pair is the protocol's: nominate both,
 * map, compare, unmap, share.
 */
static void flush_upstream_chunk(struct shr_engine *e, const struct shr_pair *pairs,
				 unsigned int n)
{
	struct up_pair up[SHR_MERGE_CHUNK];
	struct shr_dom *doms[2 * SHR_MERGE_CHUNK];
	void *addr[2 * SHR_MERGE_CHUNK];
	unsigned int mapped[2 * SHR_MERGE_CHUNK];
	uint64_t gfns[2 * SHR_MERGE_CHUNK];
	int err[2 * SHR_MERGE_CHUNK];
	unsigned int nd = 0, i, j;
	int rc;

	for (i = 0; i < n; i++) {
		const struct shr_pair *p = &pairs[i];
		struct up_pair *u = &up[i];

		*u = (struct up_pair){ 0 };
		if (!resolve(e, p, &u->sd, &u->sgfn, &u->cd, &u->cgfn))
			continue;
		if (pair_blocked(e, u->sd, u->cd)) {
			src_release(e, u->sd, u->sgfn, p->key);
			cli_retry_later(e, u->cd, u->cgfn, false);
			continue;
		}
		/* A source already (re-)nominated in this chunk keeps its handle:
		 * a write since then makes the share fail with errno 10. */
		for (j = 0; j < i && !(up[j].s_nominated && pairs[j].src == p->src); j++)
			;
		if (j < i) {
			u->sh = up[j].sh;
		} else {
			rc = shr_xen_nominate(e->xen, u->sd->domid, u->sgfn, &u->sh);
			if (rc) {
				pair_done(e, p, u->sd, u->sgfn, u->cd, u->cgfn, rc, WHO_SRC);
				continue;
			}
		}
		u->s_nominated = true;
		if (nominate_client(e, u->sd, u->sgfn, u->sh, u->cd, u->cgfn, &u->ch, &u->swap,
				    &rc)) {
			pair_done(e, p, u->sd, u->sgfn, u->cd, u->cgfn, rc, WHO_CLI);
			continue;
		}
		u->active = true;
	}

	/* the distinct domains of the active pairs */
	for (i = 0; i < n; i++) {
		for (int side = 0; side < 2 && up[i].active; side++) {
			struct shr_dom *d = side ? up[i].cd : up[i].sd;

			for (j = 0; j < nd && doms[j] != d; j++)
				;
			if (j == nd)
				doms[nd++] = d;
		}
	}
	for (j = 0; j < nd; j++)
		chunk_map_domain(e, pairs, up, n, doms[j], gfns, err, &addr[j], &mapped[j]);

	for (i = 0; i < n; i++) {
		if (!up[i].active)
			continue;
		if (!shr_page_equal(up[i].spage, up[i].cpage)) {
			/* which side moved since it was fingerprinted? */
			uint64_t skey = shr_fp_page(&e->key, up[i].spage, NULL) ^ up[i].sd->salt;

			up[i].active = false;
			pair_done(e, &pairs[i], up[i].sd, up[i].sgfn, up[i].cd, up[i].cgfn,
				  XENSHARE_CMPSHR_DIFFERENT,
				  skey == pairs[i].key ? WHO_CLI : WHO_SRC);
		}
	}
	for (j = 0; j < nd; j++)
		if (mapped[j])
			shr_xen_unmap(e->xen, addr[j], mapped[j]);

	for (i = 0; i < n; i++) {
		if (!up[i].active)
			continue;
		e->st.share_attempts++;
		rc = share_pair(e, up[i].sd, up[i].sgfn, up[i].sh, up[i].cd, up[i].cgfn, up[i].ch,
				up[i].swap);
		pair_done(e, &pairs[i], up[i].sd, up[i].sgfn, up[i].cd, up[i].cgfn, rc,
			  rc == SHR_ERR_S_HANDLE ? WHO_SRC : WHO_CLI);
	}
}

static void flush_upstream(struct shr_engine *e, unsigned int first)
{
	for (unsigned int i = first; i < e->nr_pairs; i += SHR_MERGE_CHUNK) {
		unsigned int n = e->nr_pairs - i < SHR_MERGE_CHUNK ? e->nr_pairs - i
								   : SHR_MERGE_CHUNK;

		flush_upstream_chunk(e, &e->pairs[i], n);
	}
}

static void flush_batched(struct shr_engine *e)
{
	unsigned int n = 0, i;
	int rc;

	/* pairs whose domains can no longer share are settled first */
	for (i = 0; i < e->nr_pairs; i++) {
		const struct shr_pair *p = &e->pairs[i];
		struct shr_dom *sd, *cd;
		uint32_t sgfn, cgfn;

		if (!resolve(e, p, &sd, &sgfn, &cd, &cgfn))
			continue;
		if (pair_blocked(e, sd, cd)) {
			src_release(e, sd, sgfn, p->key);
			cli_retry_later(e, cd, cgfn, false);
			continue;
		}
		e->pairs[n] = *p;
		e->cmp[n++] = (xenshare_cmpshr_pair_t){
			.source_gfn = sgfn, .client_gfn = cgfn,
			.source_domain = (uint16_t)sd->domid,
			.client_domain = (uint16_t)cd->domid,
			.result = -EINPROGRESS,
		};
	}
	e->nr_pairs = n;
	if (!n)
		return;
	rc = shr_xen_cmpshr(e->xen, e->cmp, n);
	if (rc == -ENOSYS || rc == -EOPNOTSUPP) {
		shr_warn("merge: the batched op went away (errno %d): using the upstream "
			 "protocol", -rc);
		e->proto = SHR_PROTO_UPSTREAM;
		flush_upstream(e, 0);
		return;
	}
	if (rc) {
		/* the batch as a whole failed (EINVAL: bad arguments, or a
		 * transport error): nothing was shared; all retried next pass */
		shr_warn("merge: batched op on %u pairs failed: errno %d", n, -rc);
		e->st.share_failed += n;
		for (i = 0; i < n; i++) {
			const struct shr_pair *p = &e->pairs[i];
			struct shr_dom *sd, *cd;
			uint32_t sgfn, cgfn;

			if (!resolve(e, p, &sd, &sgfn, &cd, &cgfn))
				continue;
			src_release(e, sd, sgfn, p->key);
			cli_retry_later(e, cd, cgfn, false);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		const struct shr_pair *p = &e->pairs[i];
		struct shr_dom *sd, *cd;
		uint32_t sgfn, cgfn;
		int res = e->cmp[i].result;

		if (!resolve(e, p, &sd, &sgfn, &cd, &cgfn))
			continue;
		e->st.share_attempts++;
		switch (res) {
		case XENSHARE_CMPSHR_SHARED:
		case XENSHARE_CMPSHR_DIFFERENT:
		case XENSHARE_CMPSHR_SPANNED:
		case SHR_ERR_C_HANDLE:
		case SHR_ERR_S_HANDLE:
		case -ENOMEM:
		case -ENOSYS:
			pair_done(e, p, sd, sgfn, cd, cgfn, res, WHO_CLI);
			break;
		default:
			/* The reaction depends on which side failed: the
			 * upstream path tells (rare, so its cost is fine). */
			if (pair_blocked(e, sd, cd)) {
				src_release(e, sd, sgfn, p->key);
				cli_retry_later(e, cd, cgfn, true);
			} else {
				enum who who = WHO_UNKNOWN;

				res = upstream_one(e, p, sd, sgfn, cd, cgfn, &who);
				pair_done(e, p, sd, sgfn, cd, cgfn, res, who);
			}
			break;
		}
	}
}

void shr_merge_flush(struct shr_engine *e)
{
	if (!e->nr_pairs)
		return;
	if (e->proto == SHR_PROTO_BATCHED)
		flush_batched(e);
	else
		flush_upstream(e, 0);
	e->nr_pairs = 0;
}
