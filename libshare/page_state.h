/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * page_state.h - what the engine knows about each scanned page: one state
 * byte and the low 32 bits of its last key per gfn, and the per-domain
 * counts of the states, kept in step by every change.
 *
 * DOC: Overview
 *
 * Policy: merge on first sight, and back off pages whose shares get broken.
 * A page is offered for merging the first time it is scanned (so one full
 * pass finds every duplicate, where KSM needs two: its unstable tree only
 * takes pages whose checksum did not change since the previous pass).  When
 * a rescan finds that a page the engine shared has changed (the guest wrote
 * it: a copy-on-write fault already happened), the page's backoff level
 * rises by one; a page at level L is looked at only on one pass in 2^L
 * (phase-shifted by its gfn, so the work stays spread), and before it is
 * merged again its fingerprint must have stayed the same between two looks
 * (KSM's stability test, applied only to pages that proved volatile).
 * Each look that finds it unchanged lowers the level by one.
 *
 * Numbers (docs/design.md): a page rewritten faster than a pass costs one
 * unshare on first sight, then at level L one look per 2^L passes and no
 * further merges while it keeps changing: at the cap (level 6) about 1.6%
 * of a pass's per-page cost and no faults; a page that settles returns to
 * level 0 after L unchanged looks.
 *
 * Resting shared pages: a page the engine shared can only change by being
 * unshared (Xen copies it on the guest's write), so looking at it again
 * only serves the accounting and the backoff above.  Each look that finds
 * a shared page unchanged lets it rest one step more (bits 6-7, up to 3):
 * it is then looked at one pass in 2, 4, then 8.  In steady state most of
 * a host's pages are shared, so a pass maps and hashes about half as many
 * pages; a broken share is noticed up to 8 passes late (the hypervisor's
 * own counters, which the statistics report, are never late).
 *
 * Pages left nominated: a merge that fails after nominating a page (the
 * compare found the pages different, the other side's handle died), or a
 * frame left behind by a previous xenshared killed mid-merge, leaves the
 * page on a shared frame of its own: it saves nothing, yet the hypervisor
 * counts it as shared (a used frame, one of the domain's shr_pages) until
 * the guest writes it.  Such a page is marked SUSPECT (bit 7, pages not
 * shared by us only): its next look asks the hypervisor and, if it is
 * alone on a shared frame, releases it (scan.c).  A change of state clears
 * the mark: a page the guest wrote is private again anyway.
 *
 * Layout: bits 0-2 state, bits 3-5 level; bits 6-7 rest for SHARED and
 * SOURCE pages, bit 7 SUSPECT for the others (any change of state clears
 * both).  One byte per gfn.
 *
 * The table (struct shr_pages) is one domain's: its key_lo and state
 * arrays and the counts of its states, and, while the domain is scanned
 * from its dirty log (scan.c), the `look` bitmap: the pages its next log
 * round must look at.  Every setter that puts a page where it needs another
 * look without the guest writing it (NEW, WATCH, NOSHARE, HOLE, SUSPECT)
 * sets its bit, so a round that visits only the dirty log's pages and these
 * loses nothing the state machine waits for; a look clears the bit of a
 * page it leaves in any other state (shr_pages_looked).  Index entries are not this
 * module's business: a caller that changes a page's indexed state (UNIQUE,
 * SOURCE) removes or inserts its entry itself (dom.h: shr_page_forget).
 */
#ifndef SHR_PAGE_STATE_H
#define SHR_PAGE_STATE_H

#include <stdbool.h>
#include <stdint.h>

enum shr_pstate {
	SHR_PS_NEW = 0,      /* never fingerprinted (or forgotten): key_lo invalid */
	SHR_PS_UNIQUE,       /* in the unstable index under key_lo */
	SHR_PS_SOURCE,       /* shared by us; the stable index entry points here */
	SHR_PS_SHARED,       /* shared by us into another page's frame (saved) */
	SHR_PS_WATCH,        /* fingerprinted, not indexed: waits to be seen unchanged */
	SHR_PS_HOLE,         /* not mappable (hole, paged out) */
	SHR_PS_NOSHARE,      /* the hypervisor refused to nominate it (E2BIG, EINVAL) */
	SHR_PS_PENDING,      /* in a queued merge pair */
};
#define SHR_NR_PSTATES 8

#define SHR_VOL_LEVEL_MAX 6u
#define SHR_REST_MAX 3u
#define SHR_PS_SUSPECT 0x80u

/* ---- the byte -------------------------------------------------------------- */

static inline enum shr_pstate shr_ps_state(uint8_t b) { return (enum shr_pstate)(b & 7u); }
static inline unsigned int shr_ps_level(uint8_t b) { return (b >> 3) & 7u; }

/* Whether the engine shared the page (the states that rest). */
static inline bool shr_ps_is_shared(enum shr_pstate s)
{
	return s == SHR_PS_SHARED || s == SHR_PS_SOURCE;
}

static inline unsigned int shr_ps_rest(uint8_t b)
{
	return shr_ps_is_shared(shr_ps_state(b)) ? (b >> 6) & 3u : 0;
}

static inline uint8_t shr_ps_make(enum shr_pstate s, unsigned int level)
{
	return (uint8_t)((unsigned int)s | (level << 3));
}

/* A new state, same level; clears the rest and the SUSPECT mark. */
static inline void shr_ps_set_state(uint8_t *b, enum shr_pstate s)
{
	*b = shr_ps_make(s, shr_ps_level(*b));
}

static inline bool shr_ps_suspect(uint8_t b)
{
	return !shr_ps_is_shared(shr_ps_state(b)) && (b & SHR_PS_SUSPECT);
}

/* Marks a page (not shared by us) as possibly left nominated. */
static inline void shr_ps_mark_suspect(uint8_t *b)
{
	if (!shr_ps_is_shared(shr_ps_state(*b)))
		*b |= SHR_PS_SUSPECT;
}

static inline void shr_ps_clear_suspect(uint8_t *b)
{
	if (!shr_ps_is_shared(shr_ps_state(*b)))
		*b &= (uint8_t)~SHR_PS_SUSPECT;
}

/* A shared page seen unchanged rests one step more. */
static inline void shr_ps_rest_more(uint8_t *b)
{
	if (shr_ps_rest(*b) < SHR_REST_MAX)
		*b = (uint8_t)(*b + (1u << 6));
}

/* A new level; a shared page's rest starts again, a SUSPECT mark stays. */
static inline void shr_ps_set_level(uint8_t *b, unsigned int level)
{
	uint8_t keep = shr_ps_suspect(*b) ? SHR_PS_SUSPECT : 0;

	*b = (uint8_t)(shr_ps_make(shr_ps_state(*b), level) | keep);
}

/* One level up (a share broke, or the page was refused); returns whether
 * the page just became volatile (level 0 -> 1). */
static inline bool shr_ps_raise(uint8_t *b)
{
	unsigned int level = shr_ps_level(*b);

	if (level < SHR_VOL_LEVEL_MAX)
		shr_ps_set_level(b, level + 1);
	return level == 0;
}

/* One level down (the page was seen unchanged); returns whether it just
 * stopped being volatile (level 1 -> 0). */
static inline bool shr_ps_lower(uint8_t *b)
{
	unsigned int level = shr_ps_level(*b);

	if (level > 0)
		shr_ps_set_level(b, level - 1);
	return level == 1;
}

/* Whether a page at this level (plus its rest, if shared) is looked at in
 * pass number `pass`; never less often than one pass in 2^SHR_VOL_LEVEL_MAX,
 * and a SUSPECT page in the next pass whatever its level. */
static inline bool shr_ps_due(uint8_t b, uint32_t gfn, uint64_t pass)
{
	unsigned int level = shr_ps_level(b) + shr_ps_rest(b);

	if (shr_ps_suspect(b))
		return true;     /* perhaps holding a frame for nothing: look now */
	if (level > SHR_VOL_LEVEL_MAX)
		level = SHR_VOL_LEVEL_MAX;
	return level == 0 || ((pass + gfn) & ((1u << level) - 1)) == 0;
}

/* Pages that are holes or refused by the hypervisor back off too, but are
 * not "volatile" (pages_volatile counts pages whose contents churn). */
static inline bool shr_ps_counts_volatile(enum shr_pstate s)
{
	return s != SHR_PS_HOLE && s != SHR_PS_NOSHARE;
}

/* ---- one domain's table ------------------------------------------------------ */

struct shr_pages {
	uint32_t nr;                 /* gfns 0 .. nr - 1 */
	uint32_t *key_lo;            /* per gfn: low 32 bits of the last key */
	uint8_t *pstate;             /* per gfn: the state byte */
	uint64_t *look;              /* dirty-log scanning only: pages to look at next round */
	uint32_t zero_lo;            /* key_lo of the zero page in the domain's group */
	/* counts of the states (the audit recounts them) */
	uint64_t n_unique, n_source, n_shared, n_volatile, n_zero_shared;
};

/* Allocates a table of nr gfns, every page NEW; -ENOMEM. */
int shr_pages_alloc(struct shr_pages *p, uint32_t nr);
void shr_pages_free(struct shr_pages *p);
/* Every page NEW at level 0, counts zero (index entries: the caller's). */
void shr_pages_reset(struct shr_pages *p);
/* The look bitmap (every bit set, so the first pass sees everything) or
 * none: -ENOMEM. */
int shr_pages_look_alloc(struct shr_pages *p);
void shr_pages_look_free(struct shr_pages *p);
static inline void shr_pages_look_at(struct shr_pages *p, uint32_t gfn)
{
	if (p->look)
		p->look[gfn / 64] |= 1ull << (gfn % 64);
}
/* After a look has classified the page: its look bit stays only if the
 * page waits for another look (NEW, WATCH, NOSHARE, HOLE, SUSPECT); a page
 * that went through NEW on its way to UNIQUE or a merge during this look
 * needs none until the guest writes it. */
static inline void shr_pages_looked(struct shr_pages *p, uint32_t gfn)
{
	enum shr_pstate s = shr_ps_state(p->pstate[gfn]);

	if (p->look && (s == SHR_PS_UNIQUE || s == SHR_PS_PENDING || shr_ps_is_shared(s)) &&
	    !shr_ps_suspect(p->pstate[gfn]))
		p->look[gfn / 64] &= ~(1ull << (gfn % 64));
}
/* Marks a page (not shared by us) SUSPECT, to be looked at next pass. */
static inline void shr_pages_mark_suspect(struct shr_pages *p, uint32_t gfn)
{
	shr_ps_mark_suspect(&p->pstate[gfn]);
	shr_pages_look_at(p, gfn);
}

/*
 * Changes a page's state and keeps the counts in step.  Call before
 * changing key_lo: the zero-page count reads the key the page was shared
 * under.
 */
void shr_pages_set(struct shr_pages *p, uint32_t gfn, enum shr_pstate s);
/* One backoff level up / down, the volatile count kept in step. */
void shr_pages_back_off(struct shr_pages *p, uint32_t gfn);
void shr_pages_calm(struct shr_pages *p, uint32_t gfn);

#endif /* SHR_PAGE_STATE_H */
