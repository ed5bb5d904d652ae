/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scan.c - the scanner: per-domain cursor, batch mapping, fingerprints,
 * and what a rescan learns about each page.
 *
 * DOC: Overview
 *
 * A pass walks the scanned domains one after the other, each from gfn 0 to
 * nr_gfns - 1.  A batch is up to batch_pages gfns that are due this pass
 * (page_state.h: backed-off pages are skipped without being mapped), mapped
 * read-only with ONE xenforeignmemory_map() call.  Holes are not mapped:
 * the gfns of a batch that may be holes (never looked at, or a hole last
 * time) are first asked their page type, 1024 to a hypercall
 * (shr_xen_gfn_holes), and those with no page behind them are recorded as
 * holes and left out of the mapping.  That matters because a PVH guest's
 * p2m reaches up to its special pages just below 4 GiB: a guest of 128 MiB
 * has some 32 thousand pages among a million gfns, and a mapping costs dom0
 * a page-table update for every gfn, refused or not.  A hypervisor that
 * cannot give page types (said once in the log) gets its holes mapped;
 * they come back in err[] and are only recorded, never read.  All pages
 * are fingerprinted, then the whole batch is unmapped BEFORE anything is
 * nominated: a page we still map holds an extra reference, and nominate
 * fails with E2BIG on it.  Only then are the pages classified and offered
 * to the merge step.  There is no allocation and no system call per page:
 * the batch buffers are allocated once, and the only calls are the map and
 * the unmap of the batch.
 *
 * What a rescan learns, from the low 32 bits of the key kept per gfn:
 *  - a page we shared (SHARED or SOURCE) whose key changed was written by
 *    the guest: its share broke (one copy-on-write fault).  Counted as an
 *    unshare, the page backs off one level and waits in WATCH state until
 *    it is seen unchanged (page_state.h);
 *  - a page we shared that is unchanged rests (looked at less often,
 *    page_state.h) and costs nothing else, except that a
 *    SHARED page whose frame lost its stable entry (its source was
 *    rewritten, or its domain destroyed) adopts the entry, so later twins
 *    still join the frame, and pages indexed as unique meanwhile join it
 *    at once (shr_merge_adopted); if another entry of that content formed
 *    meanwhile, the page is offered for a frame merge (shr_merge_rejoin);
 *  - a UNIQUE page that changed moves to its new key (the old unstable
 *    entry is dropped, so stale entries never accumulate);
 *  - anything else is offered to the merge step (merge on first sight).
 *
 * A guest that rewrites a shared page with the same bytes (Linux clearing
 * a freed zero page again with init_on_alloc) unshares it in Xen without
 * changing its fingerprint, so the rescan alone would let it rest as
 * "shared" for ever and the savings would quietly shrink.  Only the
 * hypervisor knows, and asking costs a hypercall per page, so the engine
 * asks only when the hypervisor's count says it must: when a domain's pass
 * ends, Xen's shr_pages for it (gfns on shared frames; it also counts
 * pages nominated but never shared, and pages shared by another tool, so
 * it can hide a deficit but never invents one) is compared with the
 * SHARED and SOURCE pages the engine believes in.  Fewer
 * in Xen: a sweep at the end of the pass (recheck_sweep) asks shared
 * pages one read-only query each (shr_xen_gfn_shared), in gfn order from
 * where the last sweep stopped, due or resting; one found private takes
 * the broken path below like a written page (unshares_rewritten counts
 * them) and is merged again at its next look if its bytes are unchanged.
 * With no such deficit a pass makes no query at all.  The sweep stops once
 * as many are found as the deficit, or after SHR_RECHECK_PER_LOST queries
 * per missing share plus SHR_RECHECK_MIN: a deficit the engine cannot
 * explain (a share another tool undid, a count Xen keeps differently)
 * costs a bounded number of queries per pass, not one per resting page,
 * and the next sweep goes on where this one stopped, so every shared page
 * is asked about in turn, whatever its rest.
 *
 * A domain scanned from its dirty log (docs/design.md 4b) has no pass
 * after its first one from the log: its log rounds (shr_scan_rounds, every
 * SHR_LOG_ROUND_S) look at the pages its look bitmap names, with the same
 * batches and the same rescan.  It has no sweep: every write to a shared
 * gfn is in its log, and a round asks about each shared page the log names
 * that looks unchanged (share_lost: the share may be newer than the write).
 *
 * A false "unchanged" (32-bit key_lo equal although the page changed) only
 * costs accounting: nothing is ever shared without a full compare.
 */
#include "scan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"

/* debug_gfn queries a pass may make per share missing in Xen's count, and
 * at least (see the overview) */
#define SHR_RECHECK_PER_LOST 2u
#define SHR_RECHECK_MIN 64u

int shr_scan_init(struct shr_scan *sc, const struct shr_params *params, struct shr_xen *xen,
		  struct shr_doms *doms, struct shr_merge *merge, const struct shr_fp_key *key,
		  struct shr_stats *st)
{
	*sc = (struct shr_scan){ .params = params, .xen = xen, .doms = doms, .merge = merge,
				 .key = key, .st = st };
	return shr_scan_resize(sc, params->batch_pages);
}

void shr_scan_fini(struct shr_scan *sc)
{
	free(sc->gfns);
	free(sc->err);
	free(sc->fp);
	free(sc->zero);
	free(sc->hole);
	sc->gfns = NULL;
	sc->err = NULL;
	sc->fp = NULL;
	sc->zero = NULL;
	sc->hole = NULL;
	sc->cap = 0;
}

int shr_scan_resize(struct shr_scan *sc, unsigned int batch_pages)
{
	if (batch_pages <= sc->cap)
		return 0;
	shr_scan_fini(sc);
	sc->gfns = calloc(batch_pages, sizeof(*sc->gfns));
	sc->err = calloc(batch_pages, sizeof(*sc->err));
	sc->fp = calloc(batch_pages, sizeof(*sc->fp));
	sc->zero = calloc(batch_pages, sizeof(*sc->zero));
	sc->hole = calloc(batch_pages, sizeof(*sc->hole));
	if (!sc->gfns || !sc->err || !sc->fp || !sc->zero || !sc->hole) {
		shr_scan_fini(sc);
		return -ENOMEM;
	}
	sc->cap = batch_pages;
	return 0;
}

static bool bit_test(const uint64_t *b, uint64_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

/* Whether a page the engine shared, and which looks unchanged, lost its
 * share to a rewrite of the same bytes: the pass-end sweep found it
 * private (recheck_sweep), or a log round names it written (a write to a
 * shared gfn unshares it, but the share may be newer than the write: Xen
 * is asked). */
static bool share_lost(struct shr_scan *sc, struct shr_dom *d, uint32_t gfn)
{
	int rc;

	if (sc->known_lost)
		return true;
	if (!sc->round_dirty || !bit_test(sc->round_dirty, gfn))
		return false;
	rc = shr_xen_gfn_shared(sc->xen, d->domid, gfn);
	if (rc == -EINVAL)
		return true;
	if (rc < 0)
		shr_debug("d%u gfn 0x%x debug_gfn: errno %d: share not checked", d->domid, gfn, -rc);
	return false;
}

static void scan_page(struct shr_scan *sc, struct shr_dom *d, uint32_t gfn,
		      uint64_t fp, bool zero)
{
	uint64_t key = fp ^ d->salt;
	uint32_t lo = (uint32_t)key;
	uint32_t ref = d->ref_base + gfn;
	bool same = d->pages.key_lo[gfn] == lo;

	switch (shr_ps_state(d->pages.pstate[gfn])) {
	case SHR_PS_SHARED:
		if (same && !share_lost(sc, d, gfn)) {
			shr_pages_calm(&d->pages, gfn);
			shr_ps_rest_more(&d->pages.pstate[gfn]);
			if (!shr_index_has_stable(&sc->doms->index, key)) {
				if (shr_index_insert(&sc->doms->index, SHR_STABLE, key, ref, 2) == 0) {
					shr_pages_set(&d->pages, gfn, SHR_PS_SOURCE);
					shr_merge_adopted(sc->merge, d, gfn, key);
				}
			} else {
				shr_merge_rejoin(sc->merge, d, gfn, key);
			}
			return;
		}
		goto broken;
	case SHR_PS_SOURCE:
		if (same && !share_lost(sc, d, gfn)) {
			shr_pages_calm(&d->pages, gfn);
			shr_ps_rest_more(&d->pages.pstate[gfn]);
			return;
		}
		goto broken;
	case SHR_PS_UNIQUE:
		if (same)
			return;
		shr_page_forget(sc->doms, d, gfn, SHR_PS_NEW);
		break;
	case SHR_PS_WATCH:
		if (!same) {
			/* still changing between looks: further back */
			shr_pages_back_off(&d->pages, gfn);
			d->pages.key_lo[gfn] = lo;
			return;
		}
		shr_pages_calm(&d->pages, gfn);
		break;
	case SHR_PS_PENDING:
		/* in the merge queue from earlier in this pass (can only
		 * happen if a domain was re-added); leave it to the queue */
		return;
	default:
		break;
	}
	shr_merge_consider(sc->merge, d, gfn, key, zero);
	return;

broken:
	/* a share lost to a rewrite of the same bytes (share_lost) */
	if (same)
		sc->st->unshares_rewritten++;
	d->unshares++;
	sc->st->unshares++;
	if (sc->params->no_backoff) {
		/* volatility handling off (benchmarks): merge on every look */
		shr_page_forget(sc->doms, d, gfn, SHR_PS_NEW);
		shr_merge_consider(sc->merge, d, gfn, key, zero);
		return;
	}
	shr_page_forget(sc->doms, d, gfn, SHR_PS_WATCH);
	shr_pages_back_off(&d->pages, gfn);
	d->pages.key_lo[gfn] = lo;
}

/*
 * The eviction sweep of a domain that holds pages shared under another
 * group or mode (engine.c, dom_held_check): its gfns are mapped WRITABLE,
 * batch by batch, and unmapped at once without a byte written.  A writable
 * foreign mapping makes the hypervisor unshare a shared gfn first (a copy
 * for a frame with other sharers, nothing for its last sharer), exactly as
 * a guest write would; private pages and holes are left as they are.  A
 * gfn that cannot be unshared for lack of memory fails in err[] with
 * -ENOMEM and is counted in evict_nomem, which the reserve asks room for;
 * the sweep runs again next pass.  Once the hypervisor counts no shared
 * page in the domain at the start of its pass, the domain joins its group
 * (scan_dom_start).
 */
static int evict_batch(struct shr_scan *sc, struct shr_dom *d)
{
	unsigned int n = 0, examined = 0, i;
	void *addr;
	int rc;

	while (d->cursor < d->pages.nr && n < sc->params->batch_pages) {
		uint32_t gfn = d->cursor++;

		examined++;
		if (gfn != d->ring_gfn)
			sc->gfns[n++] = gfn;
	}
	sc->pages_done += examined;
	if (!n)
		return (int)examined;
	rc = shr_xen_map(sc->xen, d->domid, true, sc->gfns, n, sc->err, &addr);
	if (rc) {
		if (rc == -ESRCH || rc == -EBUSY)
			shr_dom_mark_gone(d, rc, "evict");
		else
			shr_warn("d%u gfn 0x%llx evict: writable map of %u pages: errno %d: "
				 "retried next pass", d->domid,
				 (unsigned long long)sc->gfns[0], n, -rc);
		return (int)examined;
	}
	shr_xen_unmap(sc->xen, addr, n);
	for (i = 0; i < n; i++)
		if (sc->err[i] == -ENOMEM)
			d->evict_nomem++;
	return (int)examined;
}

/* ---- dirty-log scanning ----------------------------------------------------- */

static uint64_t bits_count(const uint64_t *b, uint64_t nr)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < (nr + 63) / 64; w++)
		n += (uint64_t)__builtin_popcountll(w == nr / 64 ? b[w] & ((1ull << (nr % 64)) - 1)
								  : b[w]);
	return n;
}

/*
 * Whether the log-dirty bitmap just read is still the one the engine has
 * been cleaning: the sentinel (the ring page, which the engine marks right
 * after each CLEAN and which nothing else marks) is in it, and Xen's count
 * of bits set since the last CLEAN equals the bits present.  A toolstack
 * that took log-dirty over (OFF, then ENABLE: the bitmap is freed, the
 * count is not) fails one or the other.
 */
static bool logdirty_ours(const struct shr_dom *d, const uint64_t *bits, uint64_t dirty_count)
{
	return bit_test(bits, d->ring_gfn) && bits_count(bits, d->pages.nr) == dirty_count;
}

/* Gives the dirty bits a CLEAN took back to whoever owns the log now. */
static void logdirty_give_back(struct shr_scan *sc, struct shr_dom *d, const uint64_t *bits)
{
	uint64_t g = 0, nr = d->pages.nr, back = 0;

	while (g < nr) {
		uint64_t first;

		if (!bit_test(bits, g)) {
			g++;
			continue;
		}
		for (first = g; g < nr && bit_test(bits, g); g++)
			;
		if (shr_xen_mark_dirty(sc->xen, d->domid, first, (uint32_t)(g - first)) == 0)
			back += g - first;
	}
	shr_notice("d%u: gave %llu dirty bits back to the log-dirty user that took over",
		   d->domid, (unsigned long long)back);
}

static void logdirty_drop(struct shr_scan *sc, struct shr_dom *d, bool disable, const char *why)
{
	if (disable && shr_xen_logdirty_disable(sc->xen, d->domid))
		shr_debug("d%u: log-dirty off failed", d->domid);
	d->logdirty = false;
	d->look_pass = false;
	d->full_why = why;
	d->logdirty_retry_s = shr_now_s() + sc->params->sweep_period_s;
	shr_pages_look_free(&d->pages);
}

/* Marks the sentinel right after a CLEAN (or the enable). */
static bool logdirty_mark(struct shr_scan *sc, struct shr_dom *d)
{
	int rc = shr_xen_mark_dirty(sc->xen, d->domid, d->ring_gfn, 1);

	if (rc)
		shr_warn("d%u: cannot mark the log-dirty sentinel (gfn 0x%llx): errno %d: full "
			 "passes", d->domid, (unsigned long long)d->ring_gfn, -rc);
	return rc == 0;
}

/* Whether the domain may be scanned from its dirty log now. */
static bool logdirty_wanted(const struct shr_scan *sc, const struct shr_dom *d)
{
	return sc->params->scan_mode != SHR_SCAN_FULL && !d->evicting && d->passes >= 1 &&
	       shr_now_s() >= d->logdirty_retry_s;
}

/* Takes log-dirty mode for d (see the overview): true when it is ours. */
static bool logdirty_take(struct shr_scan *sc, struct shr_dom *d)
{
	const uint64_t *bits;
	uint64_t count;
	int rc;

	/* the sentinel must be markable: XEN_DMOP_modified_memory refuses the
	 * last gfn (its range must end at or below the highest gfn) */
	if (!shr_xen_has_logdirty(sc->xen) || d->ring_gfn == UINT64_MAX ||
	    d->ring_gfn + 1 >= d->pages.nr) {
		d->full_why = !shr_xen_has_logdirty(sc->xen) ? "no libxendevicemodel" :
			      "no sentinel page (no sharing ring page below the highest gfn)";
		d->logdirty_retry_s = HUGE_VAL;
		return false;
	}
	rc = shr_xen_logdirty_enable(sc->xen, d->domid);
	/* Xen keeps dirty_count across OFF and ENABLE: a CLEAN now (the first
	 * pass looks at every page anyway) makes it count this log's bits */
	if (rc == 0) {
		rc = shr_xen_logdirty_read(sc->xen, d->domid, true, d->pages.nr, &bits, &count);
		if (rc) {
			shr_warn("d%u: log-dirty: first clean: errno %d: full passes", d->domid, -rc);
			logdirty_drop(sc, d, true, "the hypervisor refuses log-dirty");
			return false;
		}
	} else if (rc == -EINVAL && d->logdirty_before) {
		/* left on by the previous xenshared, unless someone took it since */
		rc = shr_xen_logdirty_read(sc->xen, d->domid, false, d->pages.nr, &bits, &count);
		if (rc == 0 && !logdirty_ours(d, bits, count))
			rc = -EINVAL;
		d->logdirty_before = false;
	}
	if (rc) {
		d->full_why = rc == -EINVAL ? "another user holds log-dirty (live migration, "
				"save, a device model)" : "the hypervisor refuses log-dirty";
		d->logdirty_retry_s = shr_now_s() + sc->params->sweep_period_s;
		shr_log(sc->params->scan_mode == SHR_SCAN_DIRTY ? SHR_LOG_WARNING : SHR_LOG_INFO,
			"d%u: log-dirty: errno %d (%s): full passes", d->domid, -rc, d->full_why);
		return false;
	}
	if (shr_pages_look_alloc(&d->pages) || !logdirty_mark(sc, d)) {
		logdirty_drop(sc, d, true, "no memory for the look bitmap, or no sentinel");
		return false;
	}
	d->logdirty = true;
	d->full_why = NULL;
	shr_info("d%u: scanned from its dirty log from now on", d->domid);
	return true;
}

/*
 * The start of a domain's pass: a domain not yet scanned from its dirty log
 * takes the log if it may (its first pass from the log looks at every
 * page: the look bitmap starts full).  A domain already scanned from its
 * log has no pass: its log rounds (shr_scan_rounds) look at its pages.
 */
static void logdirty_pass(struct shr_scan *sc, struct shr_dom *d)
{
	d->look_pass = false;
	if (d->logdirty || !logdirty_wanted(sc, d) || !logdirty_take(sc, d))
		return;
	d->look_pass = true;            /* every look bit is set: a full pass */
}

/*
 * One log round of a domain scanned from its dirty log: CLEAN the log,
 * check it is still ours, and put its bits (and the background sweep's
 * slice for the time since its last one) into the look bitmap.  A log someone else
 * took is given back its bits and left to them: full passes, tried again
 * later.  false when the domain is no longer scanned from its log; else
 * *dirty is the log read (valid until the next read of a log).
 */
static bool logdirty_round(struct shr_scan *sc, struct shr_dom *d, double now,
			   const uint64_t **dirty)
{
	const uint64_t *bits;
	uint64_t count, nr = d->pages.nr, slice;
	int rc;

	rc = shr_xen_logdirty_read(sc->xen, d->domid, true, nr, &bits, &count);
	if (rc) {
		shr_info("d%u: log-dirty clean: errno %d: full passes", d->domid, -rc);
		logdirty_drop(sc, d, false, "the dirty log went away");
		return false;
	}
	sc->st->logdirty_rounds++;
	if (!logdirty_ours(d, bits, count)) {
		sc->st->logdirty_lost++;
		shr_notice("d%u: another user took log-dirty (live migration or save): "
			   "released; full passes", d->domid);
		logdirty_give_back(sc, d, bits);
		logdirty_drop(sc, d, false, "another user took log-dirty (live migration, save)");
		return false;
	}
	if (!logdirty_mark(sc, d)) {
		logdirty_drop(sc, d, true, "cannot mark the log-dirty sentinel");
		return false;
	}
	for (uint64_t w = 0; w < (nr + 63) / 64; w++)
		d->pages.look[w] |= bits[w];
	sc->st->logdirty_pages += count;
	/* the background sweep: every page once per sweep period (none if
	 * 0), paced by the time since its last slice, not by the rounds (a
	 * round cut short by the budget runs again at once) */
	if (sc->params->sweep_period_s > 0)
		d->sweep_credit += (double)nr * (d->sweep_s > 0 ? now - d->sweep_s : SHR_LOG_ROUND_S) /
				   sc->params->sweep_period_s;
	d->sweep_s = now;
	slice = (uint64_t)d->sweep_credit;
	d->sweep_credit -= (double)slice;
	for (uint64_t i = 0; i < slice && i < nr; i++) {
		shr_pages_look_at(&d->pages, d->sweep_cursor);
		d->sweep_cursor = d->sweep_cursor + 1 < nr ? d->sweep_cursor + 1 : 0;
	}
	*dirty = bits;
	return true;
}

void shr_scan_forget_domain(struct shr_scan *sc, struct shr_dom *d)
{
	const uint64_t *bits;
	uint64_t count;

	/* a log the previous xenshared left on and this one has not taken
	 * back yet is released the same way */
	if (!(d->logdirty || d->logdirty_before) || d->gone)
		return;
	d->logdirty_before = false;
	/* off only if it is still ours (a toolstack may hold it now) */
	if (shr_xen_logdirty_read(sc->xen, d->domid, false, d->pages.nr, &bits, &count) == 0 &&
	    logdirty_ours(d, bits, count))
		logdirty_drop(sc, d, true, "no longer scanned");
	else
		logdirty_drop(sc, d, false, "no longer scanned");
}

static void scan_gfns(struct shr_scan *sc, struct shr_dom *d, unsigned int n);

/* The pages of sc->gfns[0..n) that the sweep found private, looked at now:
 * unchanged bytes count in unshares_rewritten, and either way the share
 * takes the broken path (scan_page). */
static void sweep_look(struct shr_scan *sc, struct shr_dom *d, unsigned int n)
{
	sc->known_lost = true;
	scan_gfns(sc, d, n);
	sc->known_lost = false;
}

/* d->info read again; a domain gone or dying is marked gone (-ESRCH). */
static int dom_info_read(struct shr_scan *sc, struct shr_dom *d)
{
	int rc = shr_xen_dominfo(sc->xen, d->domid, &d->info);

	if (rc == -ESRCH || (rc == 0 && d->info.dying)) {
		shr_dom_mark_gone(d, rc ? rc : -EBUSY, "scan");
		return -ESRCH;
	}
	return rc;
}

/*
 * The shares Xen no longer counts (see the overview), looked for at the
 * end of a domain's pass (scan_dom_end): from where the last sweep
 * stopped, every SHARED or SOURCE page is asked with one read-only query,
 * whether or not it is due this pass, until as many are found private as the deficit or
 * SHR_RECHECK_PER_LOST queries per missing share plus SHR_RECHECK_MIN are
 * spent.  The pages found private are looked at at once (sweep_look) and
 * take the broken path, as a written page does; one whose bytes did not
 * change is merged again at a later look.  The sweep's window is
 * contiguous, so every shared page is asked within (shared pages / queries
 * per pass) passes, whatever its rest.  d->info was just read.
 */
static void recheck_sweep(struct shr_scan *sc, struct shr_dom *d)
{
	uint64_t belief = d->pages.n_shared + d->pages.n_source;
	uint64_t left, budget;
	uint32_t start, i, gfn;
	unsigned int n = 0;
	int rc;

	if (d->info.shr_pages >= belief || !d->pages.nr)
		return;
	left = belief - d->info.shr_pages;
	budget = SHR_RECHECK_PER_LOST * left + SHR_RECHECK_MIN;
	start = d->recheck_next < d->pages.nr ? d->recheck_next : 0;
	for (i = 0; i < d->pages.nr && left && budget; i++) {
		gfn = start + i < d->pages.nr ? start + i : start + i - d->pages.nr;
		if (!shr_ps_is_shared(shr_ps_state(d->pages.pstate[gfn])))
			continue;
		budget--;
		rc = shr_xen_gfn_shared(sc->xen, d->domid, gfn);
		if (rc == -EINVAL) {
			left--;
			sc->gfns[n++] = gfn;
			if (n == sc->params->batch_pages) {
				sweep_look(sc, d, n);
				n = 0;
			}
		} else if (rc < 0) {
			/* the query failed: believe the share, ask again next sweep */
			shr_debug("d%u gfn 0x%x debug_gfn: errno %d: share not checked",
				  d->domid, gfn, -rc);
		}
	}
	if (n)
		sweep_look(sc, d, n);
	d->recheck_next = start + i < d->pages.nr ? start + i : start + i - d->pages.nr;
}

/* The end of a domain's pass: its shared pages are compared with Xen's
 * count read again now, after the pass's looks found what was written,
 * and a deficit left is swept for (recheck_sweep).  Pages the sweep looks
 * at are not looked at again in the same pass. */
static void scan_dom_end(struct shr_scan *sc, struct shr_dom *d)
{
	int rc;

	/* a dirty-log domain's rounds ask about the shared pages its log
	 * names (share_lost): every write to a shared gfn is in the log */
	if (d->evicting || d->logdirty)
		return;
	if (dom_info_read(sc, d))
		return;
	/* pairs still queued make a deficit of their own (their pages may
	 * count as shared before the hypervisor shares them): a deficit is
	 * judged with none queued */
	if (d->info.shr_pages < d->pages.n_shared + d->pages.n_source && sc->merge->nr_pairs) {
		shr_merge_flush(sc->merge);
		rc = shr_xen_dominfo(sc->xen, d->domid, &d->info);
		if (rc || d->gone)
			return;
	}
	recheck_sweep(sc, d);
}

/*
 * What the start of a domain's pass reads from the hypervisor: is it still
 * there, does it still hold what the engine believes shared, did its p2m
 * grow, and is an eviction finished.  false when the domain is gone.
 */
static bool scan_dom_start(struct shr_scan *sc, struct shr_dom *d)
{
	uint64_t nr_gfns;
	int rc;

	rc = dom_info_read(sc, d);
	if (rc == -ESRCH)
		return false;
	if (d->evicting && rc == 0 && d->info.shr_pages == 0) {
		shr_notice("d%u: no page shared under its old policy any more: shares in "
			   "group %s", d->domid, d->policy.group);
		d->evicting = false;
		d->held = d->policy;
	}
	if (d->evicting && d->evict_nomem)
		shr_warn("d%u evict: %llu pages could not be unshared (no free memory): "
			 "retrying", d->domid, (unsigned long long)d->evict_nomem);
	d->evict_nomem = 0;
	logdirty_pass(sc, d);
	d->passes++;
	d->surplus = rc == 0 && d->info.shr_pages > d->pages.n_shared + d->pages.n_source;
	/* a p2m that grew since the domain was added: track the new gfns
	 * (the queued pairs name the domain's refs: flushed first) */
	if (shr_xen_nr_gfns(sc->xen, d->domid, &nr_gfns) == 0 && nr_gfns > d->pages.nr) {
		uint32_t old_nr = d->pages.nr;

		shr_merge_flush(sc->merge);
		if (shr_dom_regrow(sc->doms, d, nr_gfns) == 0 && sc->pages_total)
			sc->pages_total += d->pages.nr - old_nr;
	}
	return true;
}

/*
 * Pages of the batch marked SUSPECT (page_state.h: perhaps left alone on a
 * shared frame by a failed merge or a killed xenshared) are asked about
 * (debug_gfn: the gfns on the page's frame, -EINVAL for a private page);
 * those alone on their frame are made private again by mapping them
 * writable, all with one call, and unmapped at once: for a frame's last
 * sharer the hypervisor just takes the frame back, no copy, no memory.
 * Runs after the batch's read-only mapping is gone and before any page is
 * offered to the merge step, so a page is never released after it joined a
 * frame.  The fingerprints stay valid: the contents do not change.
 */
static void release_nominated(struct shr_scan *sc, struct shr_dom *d, unsigned int n)
{
	uint64_t gfns[SHR_RELEASE_MAX];
	int err[SHR_RELEASE_MAX];
	unsigned int k = 0;
	void *addr;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t gfn = (uint32_t)sc->gfns[i];
		int refs;

		if (sc->err[i] || !shr_ps_suspect(d->pages.pstate[gfn]))
			continue;
		if (k == SHR_RELEASE_MAX) {
			/* next pass or log round: the look bit keeps it */
			shr_pages_look_at(&d->pages, gfn);
			continue;
		}
		shr_ps_clear_suspect(&d->pages.pstate[gfn]);
		refs = shr_xen_gfn_shared(sc->xen, d->domid, gfn);
		if (refs >= 0 && refs <= 1)
			gfns[k++] = gfn;
	}
	if (!k)
		return;
	if (shr_xen_map(sc->xen, d->domid, true, gfns, k, err, &addr)) {
		shr_debug("d%u release of %u nominated pages: map failed: retried when next "
			  "found", d->domid, k);
		return;
	}
	shr_xen_unmap(sc->xen, addr, k);
	for (unsigned int i = 0; i < k; i++)
		if (!err[i])
			sc->st->nominations_released++;
}

/*
 * In a log round: a page in WATCH (found changed at its last look) that is
 * not in this round's log was not written since that round's CLEAN, so it
 * is looked at now, whatever its backoff: the look compares its key with
 * the last one (the stability test of page_state.h) and merges it if it
 * is the same.  A page that goes on being written is in every round's log
 * and keeps its backoff.
 */
static bool quiet_watch(const struct shr_dom *d, const uint64_t *dirty, uint32_t gfn)
{
	return shr_ps_state(d->pages.pstate[gfn]) == SHR_PS_WATCH && !bit_test(dirty, gfn);
}

/*
 * In a log round: a page the engine shared that the round's log names was
 * unshared (written): its rest, which only spares looks at unchanged
 * shared pages, does not delay the look; its backoff level still does.
 */
static bool written_shared_due(const struct shr_dom *d, const uint64_t *dirty, uint32_t gfn,
			       uint64_t phase)
{
	uint8_t b = d->pages.pstate[gfn];

	return shr_ps_is_shared(shr_ps_state(b)) && bit_test(dirty, gfn) &&
	       shr_ps_due(shr_ps_make(shr_ps_state(b), shr_ps_level(b)), gfn, phase);
}

/*
 * The next batch of a pass over the look bitmap: set bits from the cursor
 * on, 64 gfns a word (a word without a bit costs one load), each due page
 * taken and its bit cleared; a page not due keeps its bit for a later
 * pass or round (`phase`: the number of the pass, or of the domain's log
 * round, for shr_ps_due; `dirty`: in a round, the log it read).  Returns
 * the pages taken; *examined counts the gfns passed over.
 */
static unsigned int look_batch(struct shr_scan *sc, struct shr_dom *d, uint64_t phase,
			       const uint64_t *dirty, unsigned int limit, unsigned int *examined)
{
	uint64_t *look = d->pages.look;
	unsigned int n = 0;

	while (d->cursor < d->pages.nr && n < sc->params->batch_pages && *examined < limit) {
		uint32_t gfn = d->cursor;
		uint64_t w = look[gfn / 64] >> (gfn % 64);

		if (!w) {
			uint32_t next = (gfn / 64 + 1) * 64;

			if (next > d->pages.nr)
				next = d->pages.nr;
			*examined += next - gfn;
			d->cursor = next;
			continue;
		}
		gfn += (uint32_t)__builtin_ctzll(w);
		if (gfn >= d->pages.nr) {
			*examined += d->pages.nr - d->cursor;
			d->cursor = d->pages.nr;
			break;
		}
		*examined += gfn + 1 - d->cursor;
		d->cursor = gfn + 1;
		if (gfn == d->ring_gfn) {
			look[gfn / 64] &= ~(1ull << (gfn % 64));
			continue;
		}
		if ((shr_ps_due(d->pages.pstate[gfn], gfn, phase) ||
		     (dirty && (quiet_watch(d, dirty, gfn) ||
				written_shared_due(d, dirty, gfn, phase)))) &&
		    shr_ps_state(d->pages.pstate[gfn]) != SHR_PS_PENDING) {
			look[gfn / 64] &= ~(1ull << (gfn % 64));
			sc->gfns[n++] = gfn;
		}
	}
	return n;
}

/* A gfn with no page behind it: a share it held is gone (ballooned out,
 * paged), and holes stay holes for long: looked at rarely. */
static void scan_hole(struct shr_scan *sc, struct shr_dom *d, uint32_t gfn)
{
	enum shr_pstate s = shr_ps_state(d->pages.pstate[gfn]);

	if (s != SHR_PS_HOLE) {
		if (s == SHR_PS_SHARED || s == SHR_PS_SOURCE) {
			d->unshares++;
			sc->st->unshares++;
		}
		shr_page_forget(sc->doms, d, gfn, SHR_PS_HOLE);
	}
	shr_pages_back_off(&d->pages, gfn);
}

/*
 * The holes of a batch, without mapping it (see the overview): the gfns
 * never looked at or holes last time are asked their page type; holes are
 * recorded and dropped from sc->gfns.  Returns the gfns left to map, or
 * 0 with the domain marked gone.
 */
static unsigned int scan_drop_holes(struct shr_scan *sc, struct shr_dom *d, unsigned int n)
{
	unsigned int k = 0, j = 0, i;
	uint64_t *ask = sc->fp;         /* free until the batch is fingerprinted */
	int rc;

	if (sc->no_types)
		return n;
	for (i = 0; i < n; i++) {
		enum shr_pstate s = shr_ps_state(d->pages.pstate[sc->gfns[i]]);

		if (s == SHR_PS_NEW || s == SHR_PS_HOLE)
			ask[k++] = sc->gfns[i];
	}
	for (i = 0; i < k; i += SHR_XEN_TYPE_BATCH) {
		unsigned int m = k - i < SHR_XEN_TYPE_BATCH ? k - i : SHR_XEN_TYPE_BATCH;

		rc = shr_xen_gfn_holes(sc->xen, d->domid, ask + i, m, sc->hole + i);
		if (rc == -ESRCH) {
			shr_dom_mark_gone(d, rc, "page types");
			return 0;
		}
		if (rc) {
			shr_warn("d%u gfn 0x%llx: page types of %u gfns: errno %d: holes are "
				 "mapped to be found from now on", d->domid,
				 (unsigned long long)ask[i], m, -rc);
			sc->no_types = true;
			return n;
		}
	}
	/* sc->gfns and ask[] are in the same order: keep the pages */
	for (i = 0, k = 0; i < n; i++) {
		uint32_t gfn = (uint32_t)sc->gfns[i];
		enum shr_pstate s = shr_ps_state(d->pages.pstate[gfn]);

		if ((s == SHR_PS_NEW || s == SHR_PS_HOLE) && sc->hole[k++])
			scan_hole(sc, d, gfn);
		else
			sc->gfns[j++] = gfn;
	}
	return j;
}

/* First domain with gfns left in this pass, or NULL at the end. */
static struct shr_dom *scan_next_dom(struct shr_scan *sc)
{
	for (unsigned int i = 0; i < sc->doms->nr; i++) {
		struct shr_dom *d = sc->doms->v[i];

		if (shr_dom_scannable(d) && d->cursor < d->pages.nr)
			return d;
	}
	return NULL;
}

/* Maps, fingerprints and classifies the n pages of sc->gfns (see the
 * overview). */
static void scan_gfns(struct shr_scan *sc, struct shr_dom *d, unsigned int n)
{
	unsigned int i;
	uint8_t *base;
	void *addr;
	int rc;

	/* gfns that may be holes are asked their page type first */
	n = scan_drop_holes(sc, d, n);
	if (!n)
		return;
	rc = shr_xen_map(sc->xen, d->domid, false, sc->gfns, n, sc->err, &addr);
	if (rc) {
		if (rc == -ESRCH || rc == -EBUSY) {
			shr_dom_mark_gone(d, rc, "map");
		} else {
			/* The batch is skipped (the pages are looked at again
			 * next pass or round); the pass goes on. */
			shr_warn("d%u gfn 0x%llx map: %u pages: errno %d: batch skipped",
				 d->domid, (unsigned long long)sc->gfns[0], n, -rc);
			for (i = 0; i < n; i++)
				shr_pages_look_at(&d->pages, (uint32_t)sc->gfns[i]);
		}
		return;
	}
	base = addr;
	for (i = 0; i < n; i++) {
		bool zero = false;

		if (sc->err[i])
			continue;
		sc->fp[i] = shr_fp_page(sc->key, base + (size_t)i * SHR_PAGE_SIZE, &zero);
		sc->zero[i] = zero;
		/* fingerprints, not gfns asked for: a guest's p2m can be
		 * mostly holes (a PVH guest's special pages sit below 4 GiB) */
		sc->st->pages_scanned++;
	}
	shr_xen_unmap(sc->xen, addr, n);
	release_nominated(sc, d, n);

	/* Pages that will be looked up (new, or changed): warm their index
	 * slots for the whole batch at once. */
	for (i = 0; i < n; i++) {
		uint32_t gfn = (uint32_t)sc->gfns[i];
		uint64_t key = sc->fp[i] ^ d->salt;
		enum shr_pstate st = shr_ps_state(d->pages.pstate[gfn]);

		if (sc->err[i])
			continue;
		if (st == SHR_PS_NEW || st == SHR_PS_WATCH || st == SHR_PS_NOSHARE ||
		    st == SHR_PS_HOLE || d->pages.key_lo[gfn] != (uint32_t)key)
			shr_index_prefetch(&sc->doms->index, key);
	}

	for (i = 0; i < n; i++) {
		uint32_t gfn = (uint32_t)sc->gfns[i];

		if (sc->err[i]) {
			scan_hole(sc, d, gfn);
			continue;
		}
		if (shr_ps_state(d->pages.pstate[gfn]) == SHR_PS_HOLE) {
			/* populated again: a fresh page (the level of a hole
			 * is not counted as volatile, so clearing it is free) */
			d->pages.pstate[gfn] = shr_ps_make(SHR_PS_HOLE, 0);
			shr_pages_set(&d->pages, gfn, SHR_PS_NEW);
		}
		scan_page(sc, d, gfn, sc->fp[i], sc->zero[i]);
		shr_pages_looked(&d->pages, gfn);
		if (sc->merge->no_sharing || d->gone)
			break;
	}
}

int shr_scan_batch(struct shr_scan *sc)
{
	struct shr_dom *d = scan_next_dom(sc);
	unsigned int n = 0, examined = 0, limit;

	if (!d)
		return 0;
	if (d->cursor == 0 && !scan_dom_start(sc, d)) {
		sc->pages_done += d->pages.nr;
		return (int)d->pages.nr;
	}
	if (d->evicting)
		return evict_batch(sc, d);
	if (d->logdirty && !d->look_pass) {
		/* looked at by its log rounds, not by the pass */
		examined = d->pages.nr - d->cursor;
		d->cursor = d->pages.nr;
		sc->pages_done += examined;
		return (int)examined;
	}
	limit = sc->params->batch_pages * SHR_SCAN_EXAMINE_FACTOR;
	if (d->look_pass)
		n = look_batch(sc, d, sc->pass, NULL, limit, &examined);
	while (!d->look_pass && d->cursor < d->pages.nr && n < sc->params->batch_pages &&
	       examined < limit) {
		uint32_t gfn = d->cursor++;

		examined++;
		if (gfn == d->ring_gfn)
			continue;
		if (shr_ps_due(d->pages.pstate[gfn], gfn, sc->pass) &&
		    shr_ps_state(d->pages.pstate[gfn]) != SHR_PS_PENDING)
			sc->gfns[n++] = gfn;
	}
	sc->pages_done += examined;
	if (n)
		scan_gfns(sc, d, n);
	if (!d->look_pass && d->cursor == d->pages.nr && !d->gone)
		scan_dom_end(sc, d);
	return (int)examined;
}

/*
 * A log round of each domain scanned from its dirty log whose last round
 * is SHR_LOG_ROUND_S old, and at once a look at every page its look bitmap
 * names that is due (shr_ps_due, phased by the domain's round count): the
 * pages the guest wrote since the last round, those the state machine
 * waits on, and the sweep's slice.  A page written between the CLEAN and
 * its look is in the next round's log, so nothing written is missed, and
 * a page found changed (WATCH) is looked at again in the first round that
 * finds it not written (quiet_watch): newly mergeable content waits about
 * two round periods, whatever the pass target.
 * A domain whose pass is walking its look bitmap (its first pass from the
 * log) is left to the pass.  Rounds stop once they used budget_s of CPU
 * (true: rounds may be left for the next slice at once): a domain cut short
 * keeps the look bits of the pages not taken and is due again at once,
 * the domains not reached are still due.
 */
bool shr_scan_rounds(struct shr_scan *sc, double now, double budget_s)
{
	double cpu0 = shr_cpu_s();

	for (unsigned int i = 0; i < sc->doms->nr; i++) {
		struct shr_dom *d = sc->doms->v[i];
		uint32_t cursor = d->cursor;
		const uint64_t *dirty;

		if (!d->logdirty || !shr_dom_scannable(d) || d->evicting ||
		    (d->look_pass && cursor < d->pages.nr))
			continue;
		if (d->round_s + SHR_LOG_ROUND_S > now)
			continue;
		d->round_s = now;
		if (!logdirty_round(sc, d, now, &dirty))
			continue;
		d->rounds++;
		d->cursor = 0;
		while (d->cursor < d->pages.nr && !d->gone && !sc->merge->no_sharing) {
			unsigned int examined = 0, n;

			n = look_batch(sc, d, d->rounds, dirty, UINT32_MAX, &examined);
			sc->round_dirty = dirty;
			if (n)
				scan_gfns(sc, d, n);
			sc->round_dirty = NULL;
			/* over the slice's budget: the pages not taken keep
			 * their look bits, and the domain's next round is due
			 * at once (the next slice) */
			if (d->cursor < d->pages.nr && shr_cpu_s() - cpu0 > budget_s)
				d->round_s = now - SHR_LOG_ROUND_S;
			if (shr_cpu_s() - cpu0 > budget_s)
				break;
		}
		d->cursor = cursor;
		if (shr_cpu_s() - cpu0 > budget_s)
			return true;
	}
	return false;
}
