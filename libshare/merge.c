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
 * groups: the key is salted per group, the source's group is checked, and
 * a domain that is evicting (dom.h) takes part in no pair.
 *
 * The queue is flushed when full, at the end of every shr_engine_run()
 * slice and of every pass, and before a domain is removed or reset (its
 * pairs name its refs).  Two protocols:
 *
 * Upstream (Xen 4.17 as released), in chunks of SHR_MERGE_CHUNK pairs, and
 * per pair: nominate the source (once per chunk), nominate the client, map
 * both read-only (one mapping call per domain for the whole chunk), compare
 * all 4096 bytes, unmap, share with both handles.  Nominating first is what
 * makes the compare meaningful: from nomination on, a guest write
 * invalidates the handle and the share fails with a handle error instead
 * of merging stale contents.  When the compare fails, the source is
 * re-fingerprinted while mapped to learn which side changed.  A source
 * that is already a frame we share needs no nomination: its handle, kept
 * beside its stable entry since it was learnt (shr_index_keep_handle), is
 * valid exactly while the gfn is still on that frame, which is what the
 * share then checks; the compare reads the gfn as it is now.  A share
 * refused for a kept handle (the source was written since) forgets it and
 * runs the pair again as above, nomination first.
 *
 * Xen 4.17's share_pages() moves every gfn of the CLIENT's frame onto the
 * source frame but locks the p2m of the call's two domains only: a client
 * frame that also backs a gfn of a third domain takes that domain's p2m
 * lock under a page lock, a lock-order BUG() that panics the host (release
 * builds too).  The engine's clients are normally pages it just saw
 * private, but after a restart, or next to another sharing tool, a client
 * may sit on such a frame.  So the upstream path makes sure of the
 * client's frame first: a client alone on its frame is shared as queued;
 * otherwise the pair is shared the other way round when the source is
 * alone on its frame, and when both frames have other sharers nothing is
 * merged (SHR_SPANNED; if both gfns are on the same frame, nominate
 * returns the same handle and the pair is simply done).  How it makes
 * sure costs nothing for the usual client, a page nobody shared: its
 * nomination draws a new handle from Xen's global counter, and a handle
 * that follows one the engine saw drawn in the same flush belongs to a
 * frame made during the flush, i.e. by that very nomination (see "fresh
 * handles" below); any frame that existed before has an older handle.
 * Only a client whose handle does not follow on is asked about with
 * debug_gfn (pair_direction(), one read-only query on each page), and one
 * client per flush is, to start the chain.  The batched op does the same inside the
 * hypervisor, under its locks (hypervisor-patch/ 0002), and with 0009
 * merges two such frames gfn by gfn instead of answering SPANNED.
 *
 * Frame pairs (shr_merge_rejoin, batched op only): two pages already
 * shared on two frames of one content, which happens when a stable entry
 * is lost with its frame still shared and twins seen meanwhile form a
 * second frame (docs/design.md, section 5).  Both pages stay shared
 * whatever the outcome; frames_done() only moves the sharer count.
 *
 * Batched (hypervisor-patch/): up to XENSHARE_CMPSHR_MAX_BATCH pairs per
 * hypercall; the hypervisor nominates, compares under its lock and shares.
 * A pair whose error needs to know which side failed is replayed through
 * the upstream path.
 *
 * Every pair ends in pair_done() with the hypervisor's verdict (xen.h) or
 * an -errno, and the side it concerns; the reaction to each is the table
 * "Results" in docs/design.md.  None aborts a pass.
 *
 * Invariants: a client is PENDING exactly while its pair is queued; a
 * stable entry's sharer count is never below 2 (an entry that would drop
 * to 1 returns to the unstable side); nothing is shared without a full
 * compare after both nominations, or after the client's when the source's
 * handle is a kept one (a shared frame's contents cannot change: the
 * first write moves the gfn off it).
 */
#include "merge.h"

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"

/* frame-pair checks of a lost key beyond its two frames' sharers (see
 * shr_merge_rejoin) */
#define SHR_REJOIN_SLACK 64u

enum who { WHO_SRC, WHO_CLI, WHO_UNKNOWN };

int shr_merge_init(struct shr_merge *m, const struct shr_params *params, struct shr_xen *xen,
		   struct shr_doms *doms, struct shr_reserve *reserve,
		   const struct shr_fp_key *key, struct shr_stats *st)
{
	*m = (struct shr_merge){ .params = params, .xen = xen, .doms = doms,
				 .reserve = reserve, .key = key, .st = st };
	m->cap_pairs = XENSHARE_CMPSHR_MAX_BATCH;
	m->pairs = calloc(m->cap_pairs, sizeof(*m->pairs));
	m->cmp = calloc(m->cap_pairs, sizeof(*m->cmp));
	if (!m->pairs || !m->cmp) {
		shr_merge_fini(m);
		return -ENOMEM;
	}
	shr_merge_set_protocol(m, params->protocol);
	return 0;
}

void shr_merge_fini(struct shr_merge *m)
{
	free(m->pairs);
	free(m->cmp);
	m->pairs = NULL;
	m->cmp = NULL;
}

void shr_merge_set_protocol(struct shr_merge *m, enum shr_protocol wanted)
{
	m->proto = wanted == SHR_PROTO_UPSTREAM || !shr_xen_has_cmpshr(m->xen) ?
		   SHR_PROTO_UPSTREAM : SHR_PROTO_BATCHED;
}

static unsigned int queue_limit(const struct shr_merge *m)
{
	return m->proto == SHR_PROTO_BATCHED ? m->cap_pairs : SHR_MERGE_UPSTREAM_QUEUE;
}

static void queue_frames(struct shr_merge *m, uint32_t src, uint32_t cli, uint64_t key,
			 uint16_t frame_gfns)
{
	if (m->nr_pairs >= queue_limit(m))
		shr_merge_flush(m);
	m->pairs[m->nr_pairs++] = (struct shr_pair){ .key = key, .src = src, .cli = cli,
						     .frame_gfns = frame_gfns };
}

static void queue_pair(struct shr_merge *m, uint32_t src, uint32_t cli, uint64_t key)
{
	queue_frames(m, src, cli, key, 0);
}

static void insert_unique(struct shr_merge *m, struct shr_dom *d, uint32_t gfn, uint64_t key)
{
	static double warned_s;
	int rc = shr_index_insert(&m->doms->index, SHR_UNSTABLE, key, d->ref_base + gfn, 0);

	if (rc == 0) {
		shr_pages_set(&d->pages, gfn, SHR_PS_UNIQUE);
		/* the hypervisor counts shared pages the engine does not know:
		 * this one may be one of them (page_state.h) */
		if (d->surplus)
			shr_pages_mark_suspect(&d->pages, gfn);
		return;
	}
	/* Out of memory for the index: the page is simply not a candidate
	 * this pass.  Warned at most once a minute. */
	if (shr_now_s() - warned_s > 60) {
		shr_warn("d%u gfn 0x%x index: insert failed (errno %d): page not indexed",
			 d->domid, gfn, -rc);
		warned_s = shr_now_s();
	}
	shr_pages_set(&d->pages, gfn, SHR_PS_WATCH);
}

/* n more sharers for the stable entry in slot; at max_sharers the entry
 * moves to the full side (if that fails for memory, it stays: still
 * correct, since lookups skip full entries either way). */
static void stable_add(struct shr_merge *m, int64_t slot, uint64_t key, unsigned int n)
{
	uint16_t *c = shr_index_sharers(&m->doms->index, SHR_STABLE, slot);
	uint32_t ref = shr_index_ref(&m->doms->index, SHR_STABLE, slot);

	*c = (uint16_t)(*c + n < UINT16_MAX ? *c + n : UINT16_MAX);
	if (*c < m->params->max_sharers)
		return;
	if (shr_index_insert(&m->doms->index, SHR_FULL, key, ref, *c) == 0)
		shr_index_remove(&m->doms->index, SHR_STABLE, (uint32_t)key, ref);
}

static void stable_bump(struct shr_merge *m, int64_t slot, uint64_t key)
{
	stable_add(m, slot, key, 1);
}

void shr_merge_consider(struct shr_merge *m, struct shr_dom *d, uint32_t gfn,
			uint64_t key, bool zero)
{
	uint32_t ref = d->ref_base + gfn, sgfn;
	struct shr_dom *sd;
	int64_t s;

	d->pages.key_lo[gfn] = (uint32_t)key;
	if (d->policy.mode == SHR_MODE_ZERO && !zero) {
		shr_pages_set(&d->pages, gfn, SHR_PS_WATCH);
		return;
	}
	if (!shr_reserve_allows_domain(m->reserve, d))
		goto held_back;
	s = shr_index_find(&m->doms->index, SHR_STABLE, key, ref, m->params->max_sharers);
	if (s >= 0) {
		sd = shr_dom_of_ref(m->doms, shr_index_ref(&m->doms->index, SHR_STABLE, s), &sgfn);
		if (sd && sd->group == d->group && shr_dom_mergeable(sd) &&
		    !shr_reserve_allows_domain(m->reserve, sd))
			goto held_back;
		if (sd && sd->group == d->group && shr_dom_mergeable(sd)) {
			stable_bump(m, s, key);
			shr_pages_set(&d->pages, gfn, SHR_PS_PENDING);
			queue_pair(m, sd->ref_base + sgfn, ref, key);
			return;
		}
	}
	s = shr_index_find(&m->doms->index, SHR_UNSTABLE, key, ref, 0);
	if (s >= 0) {
		uint32_t src = shr_index_ref(&m->doms->index, SHR_UNSTABLE, s);

		sd = shr_dom_of_ref(m->doms, src, &sgfn);
		if (sd && sd->group == d->group && shr_dom_mergeable(sd) &&
		    !shr_reserve_allows_domain(m->reserve, sd))
			goto held_back;
		if (sd && sd->group == d->group && shr_dom_mergeable(sd) &&
		    shr_index_insert(&m->doms->index, SHR_STABLE, key, src, 2) == 0) {
			shr_index_remove(&m->doms->index, SHR_UNSTABLE, (uint32_t)key, src);
			shr_pages_set(&sd->pages, sgfn, SHR_PS_SOURCE);
			shr_pages_set(&d->pages, gfn, SHR_PS_PENDING);
			queue_pair(m, src, ref, key);
			return;
		}
	}
	insert_unique(m, d, gfn, key);
	return;

held_back:
	/* a twin the reserve holds back (this domain, or the twin's: an
	 * unprotected domain while memory is short): not indexed, looked up
	 * again at its next look, and merged once the host can absorb it */
	shr_pages_set(&d->pages, gfn, SHR_PS_WATCH);
}

void shr_merge_adopted(struct shr_merge *m, struct shr_dom *d, uint32_t gfn, uint64_t key)
{
	uint32_t ref = d->ref_base + gfn;
	int64_t slot = shr_index_slot_of(&m->doms->index, SHR_STABLE, (uint32_t)key, ref);

	/* Pages indexed as unique while the frame had no stable entry (its
	 * source was rewritten or its domain destroyed) join it now: a
	 * unique page that does not change is never looked up again. */
	while (slot >= 0 &&
	       *shr_index_sharers(&m->doms->index, SHR_STABLE, slot) < m->params->max_sharers &&
	       shr_reserve_allows_domain(m->reserve, d)) {
		int64_t u = shr_index_find(&m->doms->index, SHR_UNSTABLE, key, ref, 0);
		uint32_t twin, tgfn;
		struct shr_dom *td;

		if (u < 0)
			break;
		twin = shr_index_ref(&m->doms->index, SHR_UNSTABLE, u);
		td = shr_dom_of_ref(m->doms, twin, &tgfn);
		if (!td || td->group != d->group || !shr_dom_mergeable(td) ||
		    !shr_reserve_allows_domain(m->reserve, td))
			break;
		shr_index_remove(&m->doms->index, SHR_UNSTABLE, (uint32_t)key, twin);
		shr_pages_set(&td->pages, tgfn, SHR_PS_PENDING);
		stable_bump(m, slot, key);
		queue_pair(m, ref, twin, key);
		/* queue_pair may flush, and a flush may move the entry */
		slot = shr_index_slot_of(&m->doms->index, SHR_STABLE, (uint32_t)key, ref);
	}
}

void shr_merge_rejoin(struct shr_merge *m, struct shr_dom *d, uint32_t gfn, uint64_t key)
{
	uint32_t ref = d->ref_base + gfn, sgfn;
	struct shr_dom *sd;
	int mine, theirs;
	uint64_t h, sh;
	int64_t s;

	if (m->proto != SHR_PROTO_BATCHED || m->no_frame_merge ||
	    !shr_index_lost(&m->doms->index, key))
		return;
	s = shr_index_find(&m->doms->index, SHR_STABLE, key, ref, m->params->max_sharers);
	if (s < 0)
		return;
	sd = shr_dom_of_ref(m->doms, shr_index_ref(&m->doms->index, SHR_STABLE, s), &sgfn);
	if (!sd || sd->group != d->group || !shr_dom_mergeable(sd) ||
	    !shr_reserve_allows_domain(m->reserve, sd) || !shr_reserve_allows_domain(m->reserve, d))
		return;
	/* The pages worth these queries after a loss are the lost frame's
	 * sharers and the new frame's: twice max_sharers, and some room for
	 * a frame lost while its sharers were being checked. */
	if (!shr_index_lost_try(&m->doms->index, key, 2 * m->params->max_sharers + SHR_REJOIN_SLACK))
		return;
	/* Read-only queries first: both gfns on shared frames (a source still
	 * private is the first pair of its entry, not a frame yet), and the
	 * sum within max_sharers; then the frames' handles (nominate of a
	 * shared gfn only returns it) tell whether they are two frames. */
	theirs = shr_xen_gfn_shared(m->xen, sd->domid, sgfn);
	mine = shr_xen_gfn_shared(m->xen, d->domid, gfn);
	if (theirs <= 0 || mine <= 0 ||
	    *shr_index_sharers(&m->doms->index, SHR_STABLE, s) + (unsigned int)mine >
	    m->params->max_sharers)
		return;
	if (shr_xen_nominate(m->xen, sd->domid, sgfn, &sh) ||
	    shr_xen_nominate(m->xen, d->domid, gfn, &h) || h == sh)
		return;
	/* a frame pair already queued for this frame merges this page too */
	for (unsigned int i = 0; i < m->nr_pairs; i++)
		if (m->pairs[i].frame_gfns && m->pairs[i].src == sd->ref_base + sgfn)
			return;
	queue_frames(m, sd->ref_base + sgfn, ref, key, (uint16_t)mine);
}

/* A pair did not add a sharer to src's frame: undo the optimistic count;
 * a source left alone returns to the unstable side. */
static void src_release(struct shr_merge *m, struct shr_dom *sd, uint32_t sgfn, uint64_t key)
{
	uint32_t ref = sd->ref_base + sgfn;
	enum shr_side side = SHR_STABLE;
	int64_t slot;
	uint16_t *c;

	if (shr_ps_state(sd->pages.pstate[sgfn]) != SHR_PS_SOURCE)
		return;
	slot = shr_index_slot_of(&m->doms->index, SHR_STABLE, sd->pages.key_lo[sgfn], ref);
	if (slot < 0) {
		side = SHR_FULL;
		slot = shr_index_slot_of(&m->doms->index, SHR_FULL, sd->pages.key_lo[sgfn], ref);
		if (slot < 0)
			return;
	}
	c = shr_index_sharers(&m->doms->index, side, slot);
	if (*c > 2) {
		uint16_t n = (uint16_t)(*c - 1);

		*c = n;
		/* room again: back where lookups find it */
		if (side == SHR_FULL && n < m->params->max_sharers &&
		    shr_index_insert(&m->doms->index, SHR_STABLE, key, ref, n) == 0)
			shr_index_remove(&m->doms->index, SHR_FULL, sd->pages.key_lo[sgfn], ref);
		return;
	}
	shr_index_drop_frame(&m->doms->index, sd->pages.key_lo[sgfn], ref);
	shr_pages_set(&sd->pages, sgfn, SHR_PS_NEW);
	insert_unique(m, sd, sgfn, key);
	/* alone again, and perhaps nominated by the failed pairs */
	shr_pages_mark_suspect(&sd->pages, sgfn);
}

/* The client is looked at again next pass; nominated: the pair got as far
 * as nominating it, so it may be left alone on a shared frame. */
static void cli_retry_later(struct shr_dom *cd, uint32_t cgfn, bool nominated)
{
	shr_pages_set(&cd->pages, cgfn, SHR_PS_NEW);
	if (nominated)
		shr_pages_mark_suspect(&cd->pages, cgfn);
}

static void refuse_page(struct shr_merge *m, struct shr_dom *d, uint32_t gfn, int err)
{
	shr_debug("d%u gfn 0x%x nominate: errno %d: page not sharable for now",
		  d->domid, gfn, -err);
	shr_page_forget(m->doms, d, gfn, SHR_PS_NOSHARE);
	shr_pages_back_off(&d->pages, gfn);
}

/*
 * A frame pair's outcome: both pages were shared before and stay shared
 * whatever happens, so no page changes state; only a merge moves the
 * source's sharer count.  A hypervisor that answers SPANNED does not merge
 * frames (no 0009): frame pairs stop.
 */
static void frames_done(struct shr_merge *m, const struct shr_pair *p, struct shr_dom *sd,
			uint32_t sgfn, struct shr_dom *cd, uint32_t cgfn, enum shr_verdict v,
			int err)
{
	int64_t slot;

	switch (v) {
	case SHR_SHARED:
		m->st->frame_merges++;
		m->merged++;
		slot = shr_index_slot_of(&m->doms->index, SHR_STABLE, sd->pages.key_lo[sgfn],
					 p->src);
		if (slot >= 0)
			stable_add(m, slot, p->key, p->frame_gfns);
		return;
	case SHR_SPANNED:
		shr_info("merge: the hypervisor does not merge two shared frames (SPANNED, "
			 "no hypervisor-patch 0009): frames of one content may stay apart "
			 "after guests come and go");
		m->no_frame_merge = true;
		return;
	case SHR_DIFFERENT:
		m->st->compare_mismatch++;
		return;
	case SHR_SRC_STALE:
	case SHR_CLI_STALE:
		/* a guest wrote one side: its next look sees the broken share */
		m->st->share_raced++;
		return;
	case SHR_FAILED:
		break;
	}
	if (err == -EPERM || err == -EACCES) {
		shr_warn("merge: d%u gfn 0x%x with d%u gfn 0x%x: frame merge refused "
			 "(errno %d): no more frame pairs", cd->domid, cgfn, sd->domid, sgfn, -err);
		m->no_frame_merge = true;
		return;
	}
	m->st->share_failed++;
	shr_debug("merge: d%u gfn 0x%x with d%u gfn 0x%x: frame merge: errno %d",
		  cd->domid, cgfn, sd->domid, sgfn, -err);
}

/*
 * The reaction to a pair's outcome (docs/design.md, "Results"): v is the
 * hypervisor's verdict, err the -errno when v is SHR_FAILED, who the side
 * the outcome concerns.
 */
static void pair_done(struct shr_merge *m, const struct shr_pair *p,
		      struct shr_dom *sd, uint32_t sgfn, struct shr_dom *cd, uint32_t cgfn,
		      enum shr_verdict v, int err, enum who who)
{
	struct shr_dom *culprit = who == WHO_SRC ? sd : cd;

	switch (v) {
	case SHR_SHARED:
		if (shr_ps_state(sd->pages.pstate[sgfn]) != SHR_PS_SOURCE) {
			/* an earlier pair forgot the source, yet this share
			 * succeeded: the frame exists, index it again */
			if (shr_index_insert(&m->doms->index, SHR_STABLE, p->key, p->src, 2) == 0) {
				shr_page_forget(m->doms, sd, sgfn, SHR_PS_NEW);
				sd->pages.key_lo[sgfn] = (uint32_t)p->key;
				shr_pages_set(&sd->pages, sgfn, SHR_PS_SOURCE);
			}
		}
		shr_pages_set(&cd->pages, cgfn, SHR_PS_SHARED);
		m->merged++;
		return;
	case SHR_DIFFERENT:
		/* both pages were nominated */
		m->st->compare_mismatch++;
		shr_debug("merge: d%u gfn 0x%x with d%u gfn 0x%x (key %016llx): different "
			  "(%s moved since its look)", cd->domid, cgfn, sd->domid, sgfn,
			  (unsigned long long)p->key, who == WHO_SRC ? "the source" : "one side");
		if (who == WHO_SRC) {
			shr_page_forget(m->doms, sd, sgfn, SHR_PS_NEW);
			shr_pages_mark_suspect(&sd->pages, sgfn);
			shr_pages_set(&cd->pages, cgfn, SHR_PS_NEW);
			insert_unique(m, cd, cgfn, p->key);
			shr_pages_mark_suspect(&cd->pages, cgfn);
		} else {
			src_release(m, sd, sgfn, p->key);
			cli_retry_later(cd, cgfn, true);
		}
		return;
	case SHR_SPANNED:
		shr_debug("d%u gfn 0x%x share: frame shared with other domains, as is d%u "
			  "gfn 0x%x's: not merged", cd->domid, cgfn, sd->domid, sgfn);
		src_release(m, sd, sgfn, p->key);
		shr_page_forget(m->doms, cd, cgfn, SHR_PS_NOSHARE);
		shr_pages_back_off(&cd->pages, cgfn);
		return;
	case SHR_CLI_STALE:
		/* the client was written (so unshared): only the source may be left */
		m->st->share_raced++;
		src_release(m, sd, sgfn, p->key);
		cli_retry_later(cd, cgfn, false);
		return;
	case SHR_SRC_STALE:
		m->st->share_raced++;
		shr_page_forget(m->doms, sd, sgfn, SHR_PS_NEW);
		cli_retry_later(cd, cgfn, true);
		return;
	case SHR_FAILED:
		break;
	}

	switch (err) {
	case -E2BIG:
	case -EINVAL:
		if (who == WHO_SRC) {
			refuse_page(m, sd, sgfn, err);
			shr_pages_set(&cd->pages, cgfn, SHR_PS_NEW);
			insert_unique(m, cd, cgfn, p->key);
		} else {
			src_release(m, sd, sgfn, p->key);
			refuse_page(m, cd, cgfn, err);
		}
		return;
	case -EBUSY:
	case -ESRCH:
		shr_dom_mark_gone(culprit, err, "share");
		break;
	case -EOPNOTSUPP:
	case -EXDEV:
	case -ENODEV:
		shr_dom_mark_refused(culprit, err, "share");
		break;
	case -ENOMEM:
		m->st->share_failed++;
		shr_reserve_enomem(m->reserve, culprit->domid, who == WHO_SRC ? sgfn : cgfn);
		break;
	case -ENOSYS:
		if (!m->no_sharing)
			shr_err("share: the hypervisor has no memory sharing (ENOSYS): the "
				"engine stops; see hypervisor-patch/");
		m->no_sharing = true;
		break;
	default:
		m->st->share_failed++;
		shr_warn("d%u gfn 0x%x share: errno %d: retried next pass",
			 culprit->domid, who == WHO_SRC ? sgfn : cgfn, -err);
		break;
	}
	src_release(m, sd, sgfn, p->key);
	cli_retry_later(cd, cgfn, true);
}

/*
 * Fresh handles.  Xen 4.17 gives a frame its handle from one global counter
 * (get_next_handle()) when nominate makes a private page shared, and a
 * nominate of a gfn already on a shared frame returns that frame's handle.
 * So a nomination that returns exactly the handle after one the engine
 * knows was drawn during this flush (fresh_handle) found a frame made
 * after that draw: made by this nomination, from a private page now alone
 * on it; a frame that existed when the flush began (another tool's, a
 * previous daemon's, a clone's) has an older handle and is never taken for
 * one.  The chain starts at a client that debug_gfn found private (its
 * nomination draws the next handle) and follows every nomination that
 * draws the next one (clients, and sources seen for the first time); a
 * nomination that returns a larger handle means someone else drew one
 * in between, and the chain starts again.  The inference holds only if
 * every nomination of the flush passes through handle_seen() or the
 * chain test: one the engine did not see could draw the next handle for
 * a frame that then gains sharers.  Another agent sharing at the same
 * moment could catch a client between its check and its share (with a
 * chain, anywhere since the chain began: it draws the next handle and
 * puts a third domain's gfn on that frame), as it could between a
 * debug_gfn and the share: two sharing agents at once are not safe on an
 * unpatched Xen either way.
 */
static void handle_seen(struct shr_merge *m, uint64_t h)
{
	if (!m->fresh_valid || h <= m->fresh_handle)
		return;
	if (h == m->fresh_handle + 1)
		m->fresh_handle = h;
	else
		m->fresh_valid = false;
}

/* debug_gfn's answer: -EINVAL for a private gfn, else the gfns on its frame */
static bool alone_on_frame(int gfns_on_frame)
{
	return gfns_on_frame == -EINVAL || (gfns_on_frame >= 0 && gfns_on_frame <= 1);
}

enum direction { AS_QUEUED, SWAPPED, BOTH_SPANNED };

/*
 * Which way a pair can be shared without Xen's share_pages() touching a
 * third domain's p2m (see the overview): as queued (the client is private,
 * or alone on its frame), the other way round (the source is), or neither
 * (both frames have other sharers).  Xen's debug_gfn gives the number of
 * gfns on a page's frame; *private: the client's page is private.  0, or
 * -errno of the query.
 */
static int pair_direction(struct shr_merge *m, struct shr_dom *sd, uint32_t sgfn,
			  struct shr_dom *cd, uint32_t cgfn, enum direction *dir, bool *private)
{
	int c = shr_xen_gfn_shared(m->xen, cd->domid, cgfn), s;

	*dir = AS_QUEUED;
	*private = c == -EINVAL;
	if (alone_on_frame(c))
		return 0;
	if (c < 0)
		return c;
	s = shr_xen_gfn_shared(m->xen, sd->domid, sgfn);
	if (s < 0 && !alone_on_frame(s))
		return s;
	*dir = alone_on_frame(s) ? SWAPPED : BOTH_SPANNED;
	return 0;
}

/*
 * The client side of an upstream pair whose source holds handle sh: the
 * client's nomination and the direction.  With a handle chain (see "fresh
 * handles") the client is nominated first, and a handle that follows on
 * settles the direction; otherwise debug_gfn does, before the nomination
 * when it starts the chain.  Returns true when that settles the pair
 * without a share (*v and *err for pair_done: an error, SHR_SPANNED, or
 * SHR_SHARED when both gfns are on one frame already, which nominate
 * shows as the same handle); false to go on with *ch and *swap.
 */
static bool nominate_client(struct shr_merge *m, struct shr_dom *sd, uint32_t sgfn, uint64_t sh,
			    struct shr_dom *cd, uint32_t cgfn, uint64_t *ch, bool *swap,
			    enum shr_verdict *v, int *err)
{
	enum direction dir;
	bool private;

	*v = SHR_FAILED;
	if (m->fresh_valid) {
		*err = shr_xen_nominate(m->xen, cd->domid, cgfn, ch);
		if (*err)
			return true;
		if (*ch == m->fresh_handle + 1) {
			/* a frame made by this nomination: the client alone on it */
			m->fresh_handle = *ch;
			*swap = false;
			return false;
		}
		handle_seen(m, *ch);
		*err = pair_direction(m, sd, sgfn, cd, cgfn, &dir, &private);
		if (*err)
			return true;
	} else {
		*err = pair_direction(m, sd, sgfn, cd, cgfn, &dir, &private);
		if (*err)
			return true;
		*err = shr_xen_nominate(m->xen, cd->domid, cgfn, ch);
		if (*err)
			return true;
		if (private) {
			/* it was private: this nomination drew the next handle */
			m->fresh_handle = *ch;
			m->fresh_valid = true;
		}
	}
	if (dir == BOTH_SPANNED) {
		*v = *ch == sh ? SHR_SHARED : SHR_SPANNED;
		return true;
	}
	*swap = dir == SWAPPED;
	return false;
}

/*
 * shr_xen_share() for a pair, the other way round when swap: the verdict
 * is given back from the pair's point of view (a stale handle names the
 * pair's side).
 */
static int share_pair(struct shr_merge *m, struct shr_dom *sd, uint32_t sgfn, uint64_t sh,
		      struct shr_dom *cd, uint32_t cgfn, uint64_t ch, bool swap,
		      enum shr_verdict *v)
{
	int rc;

	if (!swap)
		return shr_xen_share(m->xen, sd->domid, sgfn, sh, cd->domid, cgfn, ch, v);
	rc = shr_xen_share(m->xen, cd->domid, cgfn, ch, sd->domid, sgfn, sh, v);
	if (*v == SHR_SRC_STALE)
		*v = SHR_CLI_STALE;
	else if (*v == SHR_CLI_STALE)
		*v = SHR_SRC_STALE;
	return rc;
}

/* The side a share's outcome concerns. */
static enum who share_who(enum shr_verdict v)
{
	return v == SHR_SRC_STALE ? WHO_SRC : WHO_CLI;
}

/* The upstream protocol for one pair; its outcome for pair_done. */
static void upstream_one(struct shr_merge *m, const struct shr_pair *p,
			 struct shr_dom *sd, uint32_t sgfn, struct shr_dom *cd, uint32_t cgfn,
			 enum shr_verdict *v, int *err, enum who *who)
{
	uint64_t sh, ch, gfns[2] = { sgfn, cgfn };
	int perr[2] = { 0, 0 };
	void *a = NULL, *b = NULL;
	bool swap = false;

	*v = SHR_FAILED;
	*who = WHO_SRC;
	*err = shr_xen_nominate(m->xen, sd->domid, sgfn, &sh);
	if (*err)
		return;
	handle_seen(m, sh);
	*who = WHO_CLI;
	if (nominate_client(m, sd, sgfn, sh, cd, cgfn, &ch, &swap, v, err))
		return;

	if (sd == cd) {
		*err = shr_xen_map(m->xen, sd->domid, false, gfns, 2, perr, &a);
		if (*err) {
			*who = WHO_SRC;
			return;
		}
		b = (uint8_t *)a + SHR_PAGE_SIZE;
	} else {
		*err = shr_xen_map(m->xen, sd->domid, false, &gfns[0], 1, &perr[0], &a);
		if (*err) {
			*who = WHO_SRC;
			return;
		}
		*err = shr_xen_map(m->xen, cd->domid, false, &gfns[1], 1, &perr[1], &b);
		if (*err) {
			shr_xen_unmap(m->xen, a, 1);
			return;
		}
	}
	if (perr[0] || perr[1]) {
		*who = perr[0] ? WHO_SRC : WHO_CLI;
		*err = perr[0] ? perr[0] : perr[1];
	} else if (!shr_page_equal(a, b)) {
		/* which side moved since it was fingerprinted? */
		uint64_t skey = shr_fp_page(m->key, a, NULL) ^ sd->salt;

		*who = skey == p->key ? WHO_CLI : WHO_SRC;
		*v = SHR_DIFFERENT;
	}
	if (sd == cd) {
		shr_xen_unmap(m->xen, a, 2);
	} else {
		shr_xen_unmap(m->xen, a, 1);
		shr_xen_unmap(m->xen, b, 1);
	}
	if (*err || *v == SHR_DIFFERENT)
		return;

	m->st->share_attempts++;
	*err = share_pair(m, sd, sgfn, sh, cd, cgfn, ch, swap, v);
	*who = share_who(*v);
}

static bool resolve(struct shr_merge *m, const struct shr_pair *p,
		    struct shr_dom **sd, uint32_t *sgfn, struct shr_dom **cd, uint32_t *cgfn)
{
	*sd = shr_dom_of_ref(m->doms, p->src, sgfn);
	*cd = shr_dom_of_ref(m->doms, p->cli, cgfn);
	if (!*sd || !*cd) {
		/* cannot happen: the queue is flushed before a domain goes */
		shr_err("merge: pair %u -> %u names an unknown domain", p->src, p->cli);
		return false;
	}
	return true;
}

static bool pair_blocked(const struct shr_merge *m, const struct shr_dom *sd,
			 const struct shr_dom *cd)
{
	return m->no_sharing || !shr_reserve_allows_sharing(m->reserve) ||
	       !shr_dom_mergeable(sd) || !shr_dom_mergeable(cd);
}

/* One pair of an upstream chunk on its way through the steps. */
struct up_pair {
	struct shr_dom *sd, *cd;
	uint32_t sgfn, cgfn;
	uint64_t sh, ch;
	const uint8_t *spage, *cpage;
	bool s_nominated;            /* sh is the source's handle */
	bool s_kept;                 /* ... kept from an earlier flush, not nominated now */
	bool swap;                   /* shared the other way round (pair_direction) */
	bool active;                 /* still going: nominated, not yet settled */
};

/* Maps, for one domain, every page of the chunk's active pairs that lives
 * in it, with ONE call; a failure settles the pairs it touches. */
static int chunk_map_domain(struct shr_merge *m, const struct shr_pair *pairs,
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
	rc = shr_xen_map(m->xen, d->domid, false, gfns, k, err, addr);
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
				pair_done(m, &pairs[i], up[i].sd, up[i].sgfn, up[i].cd, up[i].cgfn,
					  SHR_FAILED, perr, side ? WHO_CLI : WHO_SRC);
			}
		}
	}
	if (rc)
		*mapped = 0;
	return rc;
}

/* The stable slot of a pair's source, when its page is one (else -1). */
static int64_t source_slot(struct shr_merge *m, const struct shr_pair *p, struct shr_dom *sd,
			   uint32_t sgfn)
{
	if (shr_ps_state(sd->pages.pstate[sgfn]) != SHR_PS_SOURCE)
		return -1;
	return shr_index_slot_of(&m->doms->index, SHR_STABLE, sd->pages.key_lo[sgfn], p->src);
}

static void keep_handle(struct shr_merge *m, int64_t slot, struct shr_dom *sd, uint32_t sgfn,
			uint64_t h)
{
	/* without memory the source is nominated again next time */
	if (slot >= 0 && shr_index_keep_handle(&m->doms->index, slot, h))
		shr_debug("d%u gfn 0x%x: no memory to keep its frame's handle", sd->domid, sgfn);
}

/* A pair whose kept source handle failed it, again from the nomination. */
static void upstream_again(struct shr_merge *m, const struct shr_pair *p, struct up_pair *u)
{
	enum shr_verdict v;
	enum who who;
	int rc;

	keep_handle(m, source_slot(m, p, u->sd, u->sgfn), u->sd, u->sgfn, 0);
	upstream_one(m, p, u->sd, u->sgfn, u->cd, u->cgfn, &v, &rc, &who);
	pair_done(m, p, u->sd, u->sgfn, u->cd, u->cgfn, v, rc, who);
}

/*
 * The upstream protocol for up to SHR_MERGE_CHUNK pairs: all nominations
 * first, then ONE read-only mapping per domain for every page of the chunk
 * (instead of one or two per pair), compare, unmap everything, and only
 * then the shares.  The order per pair is the protocol's: nominate both,
 * map, compare, unmap, share.
 */
static void flush_upstream_chunk(struct shr_merge *m, const struct shr_pair *pairs,
				 unsigned int n)
{
	struct up_pair up[SHR_MERGE_CHUNK];
	struct shr_dom *doms[2 * SHR_MERGE_CHUNK];
	void *addr[2 * SHR_MERGE_CHUNK];
	unsigned int mapped[2 * SHR_MERGE_CHUNK];
	uint64_t gfns[2 * SHR_MERGE_CHUNK];
	int err[2 * SHR_MERGE_CHUNK];
	unsigned int nd = 0, i, j;
	enum shr_verdict v;
	int64_t slot;
	int rc;

	for (i = 0; i < n; i++) {
		const struct shr_pair *p = &pairs[i];
		struct up_pair *u = &up[i];

		*u = (struct up_pair){ 0 };
		/* frame pairs need the batched op (shr_merge_rejoin): dropped */
		if (p->frame_gfns || !resolve(m, p, &u->sd, &u->sgfn, &u->cd, &u->cgfn))
			continue;
		if (pair_blocked(m, u->sd, u->cd)) {
			src_release(m, u->sd, u->sgfn, p->key);
			cli_retry_later(u->cd, u->cgfn, false);
			continue;
		}
		/* A source already (re-)nominated in this chunk keeps its handle:
		 * a write since then makes the share fail with a stale handle. */
		for (j = 0; j < i && !(up[j].s_nominated && pairs[j].src == p->src); j++)
			;
		if (j < i) {
			u->sh = up[j].sh;
			u->s_kept = up[j].s_kept;
		} else if ((slot = source_slot(m, p, u->sd, u->sgfn)) >= 0 &&
			   (u->sh = shr_index_handle(&m->doms->index, slot))) {
			u->s_kept = true;
		} else {
			rc = shr_xen_nominate(m->xen, u->sd->domid, u->sgfn, &u->sh);
			if (rc) {
				pair_done(m, p, u->sd, u->sgfn, u->cd, u->cgfn, SHR_FAILED, rc,
					  WHO_SRC);
				continue;
			}
			handle_seen(m, u->sh);
			keep_handle(m, slot, u->sd, u->sgfn, u->sh);
		}
		u->s_nominated = true;
		if (nominate_client(m, u->sd, u->sgfn, u->sh, u->cd, u->cgfn, &u->ch, &u->swap,
				    &v, &rc)) {
			/* "one frame already" holds only for a handle nominated now */
			if (v == SHR_SHARED && u->s_kept)
				upstream_again(m, p, u);
			else
				pair_done(m, p, u->sd, u->sgfn, u->cd, u->cgfn, v, rc, WHO_CLI);
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
		chunk_map_domain(m, pairs, up, n, doms[j], gfns, err, &addr[j], &mapped[j]);

	for (i = 0; i < n; i++) {
		if (!up[i].active)
			continue;
		if (!shr_page_equal(up[i].spage, up[i].cpage)) {
			/* which side moved since it was fingerprinted? */
			uint64_t skey = shr_fp_page(m->key, up[i].spage, NULL) ^ up[i].sd->salt;

			up[i].active = false;
			pair_done(m, &pairs[i], up[i].sd, up[i].sgfn, up[i].cd, up[i].cgfn,
				  SHR_DIFFERENT, 0, skey == pairs[i].key ? WHO_CLI : WHO_SRC);
		}
	}
	for (j = 0; j < nd; j++)
		if (mapped[j])
			shr_xen_unmap(m->xen, addr[j], mapped[j]);

	for (i = 0; i < n; i++) {
		if (!up[i].active)
			continue;
		m->st->share_attempts++;
		rc = share_pair(m, up[i].sd, up[i].sgfn, up[i].sh, up[i].cd, up[i].cgfn, up[i].ch,
				up[i].swap, &v);
		if (v == SHR_SRC_STALE && up[i].s_kept) {
			upstream_again(m, &pairs[i], &up[i]);
			continue;
		}
		/* swapped, the source's gfn joined the client's frame */
		if (v == SHR_SHARED && up[i].swap)
			keep_handle(m, source_slot(m, &pairs[i], up[i].sd, up[i].sgfn), up[i].sd,
				    up[i].sgfn, up[i].ch);
		pair_done(m, &pairs[i], up[i].sd, up[i].sgfn, up[i].cd, up[i].cgfn, v, rc,
			  share_who(v));
	}
}

static void flush_upstream(struct shr_merge *m)
{
	for (unsigned int i = 0; i < m->nr_pairs; i += SHR_MERGE_CHUNK) {
		unsigned int n = m->nr_pairs - i < SHR_MERGE_CHUNK ? m->nr_pairs - i
								   : SHR_MERGE_CHUNK;

		flush_upstream_chunk(m, &m->pairs[i], n);
	}
}

static void flush_batched(struct shr_merge *m)
{
	unsigned int n = 0, i;
	int rc;

	/* pairs whose domains can no longer share are settled first */
	for (i = 0; i < m->nr_pairs; i++) {
		const struct shr_pair *p = &m->pairs[i];
		struct shr_dom *sd, *cd;
		uint32_t sgfn, cgfn;

		if (!resolve(m, p, &sd, &sgfn, &cd, &cgfn))
			continue;
		if (pair_blocked(m, sd, cd)) {
			if (!p->frame_gfns) {
				src_release(m, sd, sgfn, p->key);
				cli_retry_later(cd, cgfn, false);
			}
			continue;
		}
		m->pairs[n] = *p;
		m->cmp[n++] = (xenshare_cmpshr_pair_t){
			.source_gfn = sgfn, .client_gfn = cgfn,
			.source_domain = (uint16_t)sd->domid,
			.client_domain = (uint16_t)cd->domid,
			.result = -EINPROGRESS,
		};
	}
	m->nr_pairs = n;
	if (!n)
		return;
	rc = shr_xen_cmpshr(m->xen, m->cmp, n);
	if (rc == -ENOSYS || rc == -EOPNOTSUPP) {
		shr_warn("merge: the batched op went away (errno %d): using the upstream "
			 "protocol", -rc);
		m->proto = SHR_PROTO_UPSTREAM;
		flush_upstream(m);
		return;
	}
	if (rc) {
		/* the batch as a whole failed (EINVAL: bad arguments, or a
		 * transport error): nothing was shared; all retried next pass */
		shr_warn("merge: batched op on %u pairs failed: errno %d", n, -rc);
		m->st->share_failed += n;
		for (i = 0; i < n; i++) {
			const struct shr_pair *p = &m->pairs[i];
			struct shr_dom *sd, *cd;
			uint32_t sgfn, cgfn;

			if (p->frame_gfns || !resolve(m, p, &sd, &sgfn, &cd, &cgfn))
				continue;
			src_release(m, sd, sgfn, p->key);
			cli_retry_later(cd, cgfn, false);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		const struct shr_pair *p = &m->pairs[i];
		struct shr_dom *sd, *cd;
		uint32_t sgfn, cgfn;
		enum shr_verdict v;
		enum who who = WHO_CLI;
		int err;

		if (!resolve(m, p, &sd, &sgfn, &cd, &cgfn))
			continue;
		m->st->share_attempts++;
		v = shr_xen_cmpshr_verdict(&m->cmp[i], &err);
		if (p->frame_gfns) {
			frames_done(m, p, sd, sgfn, cd, cgfn, v, err);
			continue;
		}
		if (v == SHR_FAILED && err != -ENOMEM && err != -ENOSYS) {
			/* The reaction depends on which side failed: the
			 * upstream path tells (rare, so its cost is fine). */
			if (pair_blocked(m, sd, cd)) {
				src_release(m, sd, sgfn, p->key);
				cli_retry_later(cd, cgfn, true);
				continue;
			}
			upstream_one(m, p, sd, sgfn, cd, cgfn, &v, &err, &who);
		}
		pair_done(m, p, sd, sgfn, cd, cgfn, v, err, v == SHR_SRC_STALE ? WHO_SRC : who);
	}
}

void shr_merge_flush(struct shr_merge *m)
{
	if (!m->nr_pairs)
		return;
	/* a handle chain lives within one flush (see "fresh handles") */
	m->fresh_valid = false;
	if (m->proto == SHR_PROTO_BATCHED)
		flush_batched(m);
	else
		flush_upstream(m);
	m->nr_pairs = 0;
}
