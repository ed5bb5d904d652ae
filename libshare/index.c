/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * index.c - the candidate index: two open-addressing hash tables.
 *
 * DOC: Overview
 *
 * Why our own table: the budget is 16 bytes of daemon memory per scanned
 * guest page in total (KSM spends 64 in its rmap_items and tree nodes), and
 * no general-purpose C hash table stores a 64-bit key and a value in 8
 * bytes.  Here an entry is {uint32 ref, uint32 tag}: the key's low 32 bits
 * pick the slot (fastrange: slot = lo * cap >> 32, so capacities need not
 * be powers of two and the table can be sized to its load), the high 32
 * bits are stored as the tag, and the low bits live once per page in the
 * engine's per-gfn array (where they also tell whether a page changed).
 *
 * Linear probing keeps a lookup to a few sequential cache lines at the
 * load we run (<= 0.88 counting tombstones, rebuilt to 0.75: 8 / 0.75 =
 * 10.7 bytes per entry at worst, which with the engine's 5 bytes per gfn
 * keeps even a host of all-unique pages under the 16-byte budget).  Most scanned pages
 * need no lookup at all (an unchanged page is recognised by its key_lo).  Deletion leaves a
 * tombstone because an entry's home slot cannot be computed from the entry
 * alone (the low key bits are not stored here); the rebuild asks the engine
 * for them through key_lo_fn, which is why the index never needs more than
 * 8 bytes per entry (10 on the stable side, which adds a 16-bit sharer
 * count in a parallel array; 18 under the upstream protocol, which keeps
 * each frame's sharing handle beside it: re-nominating a frame's source
 * only to learn its handle is one hypercall per merged page, and the
 * stable side holds far fewer entries than there are pages).
 *
 * Three sides: unstable, stable (frames that can take more sharers) and
 * full (frames at max_sharers).  Full frames are kept apart because a
 * popular content accumulates one full frame per max_sharers copies under
 * one key (the zero page: ~40k frames in 256 GiB of guests); in the stable
 * table they would form one probe cluster every lookup of that key walks.
 *
 * Invariants: a ref appears at most once in the whole index (the engine guarantees
 * it); every live entry is reachable from its home slot without crossing an
 * empty slot; live + tombs < cap.
 */
#include "index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LOAD_MAX_NUM 22        /* rebuild when (live + tombs) > cap * 22/25 */
#define LOAD_MAX_DEN 25
#define LOAD_AFTER 0.75        /* load right after a rebuild */
#define CAP_MIN 64u

static inline uint32_t slot_of(uint32_t key_lo, uint32_t cap)
{
	return (uint32_t)(((uint64_t)key_lo * cap) >> 32);
}

static inline uint32_t next_slot(uint32_t s, uint32_t cap)
{
	return s + 1 == cap ? 0 : s + 1;
}

/* Slot of tag in a lost set (cap > 0), or of the free slot it would take. */
static uint32_t lost_slot(const struct shr_lost_set *ls, uint32_t tag)
{
	uint32_t s = slot_of(tag, ls->cap);

	while (ls->tags[s] && ls->tags[s] != tag)
		s = next_slot(s, ls->cap);
	return s;
}

static bool lost_has(const struct shr_lost_set *ls, uint32_t tag)
{
	if (!tag)
		return ls->has_zero;
	return ls->cap && ls->tags[lost_slot(ls, tag)] == tag;
}

/* A set's tags and their tries share one mapping: cap of each. */
static size_t lost_bytes(uint32_t cap)
{
	return (size_t)cap * (sizeof(uint32_t) + sizeof(uint32_t));
}

static void lost_free(struct shr_lost_set *ls)
{
	if (ls->tags)
		munmap(ls->tags, lost_bytes(ls->cap));
	*ls = (struct shr_lost_set){ 0 };
}

static int lost_add(struct shr_lost_set *ls, uint32_t tag)
{
	uint32_t s;

	if (!tag) {
		ls->has_zero = true;
		ls->zero_tries = 0;
		return 0;
	}
	if (2 * ((uint64_t)ls->n + 1) > ls->cap) {
		struct shr_lost_set g = { .cap = ls->cap ? 2 * ls->cap : 1024u,
					  .has_zero = ls->has_zero, .zero_tries = ls->zero_tries };

		if (g.cap < ls->cap)
			return -ENOMEM;
		/* Mapped, not malloc'ed: a generation's memory goes back to
		 * the system the moment it ages, instead of leaving holes in
		 * the heap between the index's own tables. */
		g.tags = mmap(NULL, lost_bytes(g.cap), PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (g.tags == MAP_FAILED)
			return -ENOMEM;
		g.tries = g.tags + g.cap;
		for (uint32_t i = 0; i < ls->cap; i++) {
			if (ls->tags[i]) {
				uint32_t t = lost_slot(&g, ls->tags[i]);

				g.tags[t] = ls->tags[i];
				g.tries[t] = ls->tries[i];
			}
		}
		g.n = ls->n;
		lost_free(ls);
		*ls = g;
	}
	s = lost_slot(ls, tag);
	if (!ls->tags[s]) {
		ls->tags[s] = tag;
		ls->n++;
	}
	ls->tries[s] = 0;
	return 0;
}

/* One more check of a page of tag in ls: 1 when still allowed, 0 when its
 * checks are used up, -1 when ls does not hold tag. */
static int lost_try(struct shr_lost_set *ls, uint32_t tag, uint32_t max_tries)
{
	uint32_t *tries, s;

	if (!tag) {
		if (!ls->has_zero)
			return -1;
		tries = &ls->zero_tries;
	} else {
		if (!ls->cap)
			return -1;
		s = lost_slot(ls, tag);
		if (ls->tags[s] != tag)
			return -1;
		tries = &ls->tries[s];
	}
	if (*tries >= max_tries)
		return 0;
	(*tries)++;
	return 1;
}

void shr_index_init(struct shr_index *idx, shr_key_lo_fn *key_lo, void *arg)
{
	*idx = (struct shr_index){ .key_lo = key_lo, .arg = arg };
}

static void table_free(struct shr_table *t)
{
	free(t->slots);
	free(t->sharers);
	free(t->handles);
	*t = (struct shr_table){ 0 };
}

void shr_index_fini(struct shr_index *idx)
{
	for (int side = 0; side < SHR_NR_SIDES; side++)
		table_free(&idx->side[side]);
	lost_free(&idx->lost[0]);
	lost_free(&idx->lost[1]);
}

/* Rebuilds side into a table of new_cap slots (at least live + 1 free). */
static int table_rebuild(struct shr_index *idx, enum shr_side side, uint32_t new_cap)
{
	struct shr_table *t = &idx->side[side];
	struct shr_table n = { .cap = new_cap };

	n.slots = malloc((size_t)new_cap * sizeof(*n.slots));
	if (!n.slots)
		return -ENOMEM;
	if (side != SHR_UNSTABLE) {
		n.sharers = malloc((size_t)new_cap * sizeof(*n.sharers));
		if (!n.sharers) {
			free(n.slots);
			return -ENOMEM;
		}
	}
	if (t->handles) {
		n.handles = calloc(new_cap, sizeof(*n.handles));
		if (!n.handles) {
			free(n.slots);
			free(n.sharers);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < new_cap; i++)
		n.slots[i] = (struct shr_index_entry){ .ref = SHR_REF_NONE };
	for (uint32_t i = 0; i < t->cap; i++) {
		struct shr_index_entry en = t->slots[i];
		uint32_t s;

		if (en.ref >= SHR_REF_TOMB)
			continue;
		s = slot_of(idx->key_lo(en.ref, idx->arg), new_cap);
		while (n.slots[s].ref != SHR_REF_NONE)
			s = next_slot(s, new_cap);
		n.slots[s] = en;
		if (n.sharers)
			n.sharers[s] = t->sharers[i];
		if (n.handles)
			n.handles[s] = t->handles[i];
		n.live++;
	}
	free(t->slots);
	free(t->sharers);
	free(t->handles);
	*t = n;
	idx->rebuilds++;
	return 0;
}

static uint32_t cap_for(uint32_t live)
{
	double want = (double)live / LOAD_AFTER;

	if (want < CAP_MIN)
		return CAP_MIN;
	if (want > (double)UINT32_MAX - 1)
		return UINT32_MAX - 1;
	return (uint32_t)want;
}

int shr_index_insert(struct shr_index *idx, enum shr_side side, uint64_t key,
		     uint32_t ref, uint16_t sharers)
{
	struct shr_table *t = &idx->side[side];
	uint32_t s;

	if (ref >= SHR_REF_MAX)
		return -EINVAL;
	if ((uint64_t)(t->live + t->tombs + 1) * LOAD_MAX_DEN >
	    (uint64_t)t->cap * LOAD_MAX_NUM) {
		int rc = table_rebuild(idx, side, cap_for(t->live + 1));

		if (rc)
			return rc;
	}
	s = slot_of((uint32_t)key, t->cap);
	/* Reuse the first tombstone on the way: the ref is not in the table
	 * (callers remove before re-inserting), so no duplicate can follow. */
	while (t->slots[s].ref < SHR_REF_TOMB)
		s = next_slot(s, t->cap);
	if (t->slots[s].ref == SHR_REF_TOMB)
		t->tombs--;
	t->slots[s] = (struct shr_index_entry){ .ref = ref, .tag = (uint32_t)(key >> 32) };
	if (t->sharers)
		t->sharers[s] = sharers;
	if (t->handles)
		t->handles[s] = 0;
	t->live++;
	return 0;
}

int shr_index_keep_handle(struct shr_index *idx, int64_t slot, uint64_t handle)
{
	struct shr_table *t = &idx->side[SHR_STABLE];

	if (!t->handles) {
		t->handles = calloc(t->cap, sizeof(*t->handles));
		if (!t->handles)
			return -ENOMEM;
	}
	t->handles[slot] = handle;
	return 0;
}

int64_t shr_index_find(const struct shr_index *idx, enum shr_side side,
		       uint64_t key, uint32_t exclude_ref, unsigned int max_sharers)
{
	const struct shr_table *t = &idx->side[side];
	uint32_t tag = (uint32_t)(key >> 32);
	uint32_t s;

	if (!t->cap)
		return -1;
	for (s = slot_of((uint32_t)key, t->cap); t->slots[s].ref != SHR_REF_NONE;
	     s = next_slot(s, t->cap)) {
		const struct shr_index_entry *en = &t->slots[s];

		if (en->tag != tag || en->ref == SHR_REF_TOMB || en->ref == exclude_ref)
			continue;
		if (side != SHR_UNSTABLE && t->sharers[s] >= max_sharers)
			continue;
		/* The key's low bits are implied by the home slot only up to
		 * the table size: confirm them with the owner. */
		if (idx->key_lo(en->ref, idx->arg) != (uint32_t)key)
			continue;
		return s;
	}
	return -1;
}

bool shr_index_has_stable(const struct shr_index *idx, uint64_t key)
{
	return shr_index_find(idx, SHR_STABLE, key, SHR_REF_NONE, UINT16_MAX + 1u) >= 0 ||
	       shr_index_find(idx, SHR_FULL, key, SHR_REF_NONE, UINT16_MAX + 1u) >= 0;
}

int64_t shr_index_slot_of(const struct shr_index *idx, enum shr_side side,
			  uint32_t key_lo, uint32_t ref)
{
	const struct shr_table *t = &idx->side[side];
	uint32_t s;

	if (!t->cap)
		return -1;
	for (s = slot_of(key_lo, t->cap); t->slots[s].ref != SHR_REF_NONE;
	     s = next_slot(s, t->cap))
		if (t->slots[s].ref == ref)
			return s;
	return -1;
}

bool shr_index_remove(struct shr_index *idx, enum shr_side side,
		      uint32_t key_lo, uint32_t ref)
{
	struct shr_table *t = &idx->side[side];
	int64_t s = shr_index_slot_of(idx, side, key_lo, ref);

	if (s < 0)
		return false;
	t->slots[s].ref = SHR_REF_TOMB;
	t->live--;
	t->tombs++;
	return true;
}

/* A generation holds at most as many tags as the stable and full sides
 * have slots (or LOST_MIN): past that, the older generation is forgotten
 * early, so the memory of lost keys stays within the stable side's own
 * size however fast domains come and go. */
#define LOST_MIN 16384u

static int note_lost(struct shr_index *idx, uint32_t tag)
{
	uint64_t limit = (uint64_t)idx->side[SHR_STABLE].cap + idx->side[SHR_FULL].cap;

	if (idx->lost[idx->lost_cur].n >= (limit > LOST_MIN ? limit : LOST_MIN))
		shr_index_age_lost(idx);
	return lost_add(&idx->lost[idx->lost_cur], tag);
}

bool shr_index_lost(const struct shr_index *idx, uint64_t key)
{
	uint32_t tag = (uint32_t)(key >> 32);

	return lost_has(&idx->lost[0], tag) || lost_has(&idx->lost[1], tag);
}

bool shr_index_lost_try(struct shr_index *idx, uint64_t key, uint32_t max_tries)
{
	uint32_t tag = (uint32_t)(key >> 32);
	/* the newer generation first: a loss there restarted the count */
	int r = lost_try(&idx->lost[idx->lost_cur], tag, max_tries);

	if (r < 0)
		r = lost_try(&idx->lost[idx->lost_cur ^ 1], tag, max_tries);
	return r > 0;
}

void shr_index_age_lost(struct shr_index *idx)
{
	idx->lost_cur ^= 1;
	lost_free(&idx->lost[idx->lost_cur]);
}

bool shr_index_drop_frame(struct shr_index *idx, uint32_t key_lo, uint32_t ref)
{
	for (int side = SHR_STABLE; side <= SHR_FULL; side++) {
		int64_t s = shr_index_slot_of(idx, (enum shr_side)side, key_lo, ref);

		if (s >= 0) {
			(void)note_lost(idx, idx->side[side].slots[s].tag);
			return shr_index_remove(idx, (enum shr_side)side, key_lo, ref);
		}
	}
	return false;
}

int shr_index_remove_range(struct shr_index *idx, uint32_t first, uint32_t n)
{
	int rc = 0;

	for (int side = 0; side < SHR_NR_SIDES; side++) {
		struct shr_table *t = &idx->side[side];

		for (uint32_t i = 0; i < t->cap; i++) {
			uint32_t ref = t->slots[i].ref;

			if (ref < SHR_REF_TOMB && ref - first < n) {
				if (side != SHR_UNSTABLE && note_lost(idx, t->slots[i].tag) && !rc)
					rc = -ENOMEM;
				t->slots[i].ref = SHR_REF_TOMB;
				t->live--;
				t->tombs++;
			}
		}
		if (t->cap) {
			int r = table_rebuild(idx, (enum shr_side)side, cap_for(t->live + 1));

			/* Without memory to rebuild, the tombstones stay: still
			 * correct, only slower until the next rebuild. */
			if (r && !rc)
				rc = r;
		}
	}
	return rc;
}

size_t shr_index_bytes(const struct shr_index *idx)
{
	return (size_t)idx->side[SHR_UNSTABLE].cap * sizeof(struct shr_index_entry) +
	       ((size_t)idx->side[SHR_STABLE].cap + idx->side[SHR_FULL].cap) *
	       (sizeof(struct shr_index_entry) + sizeof(uint16_t)) +
	       (idx->side[SHR_STABLE].handles ?
		(size_t)idx->side[SHR_STABLE].cap * sizeof(uint64_t) : 0) +
	       lost_bytes(idx->lost[0].cap) + lost_bytes(idx->lost[1].cap);
}

int shr_index_foreach(const struct shr_index *idx, enum shr_side side,
		      int (*fn)(uint32_t ref, uint32_t tag, uint16_t sharers, void *arg),
		      void *arg)
{
	const struct shr_table *t = &idx->side[side];

	for (uint32_t i = 0; i < t->cap; i++) {
		int rc;

		if (t->slots[i].ref >= SHR_REF_TOMB)
			continue;
		rc = fn(t->slots[i].ref, t->slots[i].tag,
			t->sharers ? t->sharers[i] : 0, arg);
		if (rc)
			return rc;
	}
	return 0;
}
