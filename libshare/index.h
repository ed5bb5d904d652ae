/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * index.h - fingerprint -> candidate page, the two sides of KSM's index.
 *
 * Keys are 64-bit (a keyed page fingerprint mixed with the sharing group's
 * salt, see engine.c); values are 32-bit page references ("refs": a dense
 * number the engine gives every (domain, gfn) it scans).  The stable side
 * holds frames the engine has shared (ref = one gfn mapping the frame, plus
 * a sharer count for max_sharers); the unstable side holds pages seen once.
 *
 * The index stores only the high 32 bits of a key; the low 32 bits choose
 * the slot and are kept by the caller per page (it needs them anyway to see
 * whether a page changed), and handed back through key_lo_fn when the table
 * is rebuilt.  A lookup therefore discriminates on all 64 bits.
 */
#ifndef SHR_INDEX_H
#define SHR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHR_REF_NONE 0xffffffffu   /* empty slot */
#define SHR_REF_TOMB 0xfffffffeu   /* deleted slot (probe chains go on) */
#define SHR_REF_MAX  0xfffffff0u   /* refs are < this */

/* SHR_FULL holds stable entries whose frame reached max_sharers: lookups
 * for a frame to join never probe them, so a popular content (the zero
 * page: thousands of full frames under one key) costs nothing per lookup. */
enum shr_side { SHR_UNSTABLE = 0, SHR_STABLE = 1, SHR_FULL = 2 };
#define SHR_NR_SIDES 3

struct shr_index_entry {
	uint32_t ref;
	uint32_t tag;              /* high 32 bits of the key */
};

struct shr_table {
	struct shr_index_entry *slots;
	uint16_t *sharers;         /* stable and full sides: parallel to slots */
	uint64_t *handles;         /* stable side, from the first handle kept:
				    * parallel to slots (shr_index_keep_handle) */
	uint32_t cap, live, tombs;
};

/* Returns the low 32 bits of the key under which ref was inserted. */
typedef uint32_t shr_key_lo_fn(uint32_t ref, void *arg);

/*
 * Keys whose stable entry was dropped while its frame may live on with
 * other sharers (the source was rewritten or its domain removed): those
 * sharers rest on the frame unindexed, and twins seen meanwhile may form a
 * second frame of the same content.  The set of their tags (the high 32
 * bits) tells the engine which shared pages to check for the hypervisor's
 * frame-to-frame merge; a false match costs two read-only queries.  It
 * must forget no key: a sharer that finds its key missing here stays on
 * its second frame for good.  A domain's removal drops all its stable
 * entries at once, so each generation is an open-addressing set that
 * grows to what it holds (8 bytes per slot: the tag and its checks, at
 * most half full).  Two
 * generations: the owner ages them once every page has been looked at
 * since (a mark lives one to two such cycles), so the queries stop once
 * the sharers are found; and a generation that would hold more tags than
 * the stable and full sides have slots (or 16,384) ages them early, so
 * the memory stays within the stable side's own however fast domains come
 * and go (the marks then live one to two such bursts of removals).
 */
struct shr_lost_set {
	uint32_t *tags;            /* 0 is a free slot; tag 0 is has_zero */
	uint32_t *tries;           /* parallel to tags: checks made since the loss */
	uint32_t cap, n;
	bool has_zero;
	uint32_t zero_tries;
};

struct shr_index {
	struct shr_table side[SHR_NR_SIDES];
	struct shr_lost_set lost[2];
	unsigned int lost_cur;     /* the generation marks go to */
	shr_key_lo_fn *key_lo;
	void *arg;
	uint64_t rebuilds;
};

void shr_index_init(struct shr_index *idx, shr_key_lo_fn *key_lo, void *arg);
void shr_index_fini(struct shr_index *idx);

/* Adds ref under key (sharers is ignored on the unstable side).  -ENOMEM if
 * the table could not grow (the index is unchanged). */
int shr_index_insert(struct shr_index *idx, enum shr_side side, uint64_t key,
		     uint32_t ref, uint16_t sharers);
/*
 * Finds an entry with this key whose ref is not exclude_ref; on the stable
 * side only entries with fewer than max_sharers sharers count.  Returns the
 * slot (for shr_index_ref/_sharers) or -1.
 */
int64_t shr_index_find(const struct shr_index *idx, enum shr_side side,
		       uint64_t key, uint32_t exclude_ref, unsigned int max_sharers);
/* True when some stable or full entry has this key. */
bool shr_index_has_stable(const struct shr_index *idx, uint64_t key);
/* Removes ref, inserted under a key whose low 32 bits are key_lo; returns
 * whether it was there. */
bool shr_index_remove(struct shr_index *idx, enum shr_side side,
		      uint32_t key_lo, uint32_t ref);
/* Removes ref's stable entry (from the stable or the full side) as a
 * frame that lost its entry: its key is remembered (shr_index_lost; a key
 * that finds no memory to be remembered in is dropped all the same).
 * Returns whether it was there. */
bool shr_index_drop_frame(struct shr_index *idx, uint32_t key_lo, uint32_t ref);
/* Whether a stable entry with this key may have been dropped with its
 * frame still shared (see lost above). */
bool shr_index_lost(const struct shr_index *idx, uint64_t key);
/*
 * The same, counting a check of one of its pages: true at most max_tries
 * times per loss of the key (a new loss starts the count again).  The
 * pages to check are the sharers of the lost frame and of the frame that
 * replaced it, a few hundred at most; a key held by many more frames
 * (popular content, all of them full) would otherwise cost every look at
 * every one of its pages its queries for as long as the mark lives.
 */
bool shr_index_lost_try(struct shr_index *idx, uint64_t key, uint32_t max_tries);
/* Forgets the older generation of lost keys. */
void shr_index_age_lost(struct shr_index *idx);
/* Slot of ref (inserted under key_lo) or -1. */
int64_t shr_index_slot_of(const struct shr_index *idx, enum shr_side side,
			  uint32_t key_lo, uint32_t ref);
/* Removes every entry whose ref is in [first, first + n) and rebuilds;
 * stable entries among them are remembered as lost.  -ENOMEM when a
 * rebuild or a lost key found no memory (the entries are gone anyway). */
int shr_index_remove_range(struct shr_index *idx, uint32_t first, uint32_t n);

static inline uint32_t shr_index_ref(const struct shr_index *idx,
				     enum shr_side side, int64_t slot)
{
	return idx->side[side].slots[slot].ref;
}

static inline uint16_t *shr_index_sharers(struct shr_index *idx, enum shr_side side,
					  int64_t slot)
{
	return &idx->side[side].sharers[slot];
}

/*
 * The hypervisor's sharing handle of the frame of the stable entry in slot,
 * as the upstream protocol last learnt it (0: none; Xen draws handles from
 * 1).  A cache, not a belief: it goes stale with its frame (a write to the
 * entry's gfn unshares it), and Xen refuses a share with a stale handle, so
 * a stale one costs a failed share and never merges wrong contents.  The
 * array is allocated at the first handle kept (only the upstream protocol
 * keeps any); a new entry in a slot starts with none.  -ENOMEM when it
 * cannot be allocated (nothing is kept).
 */
int shr_index_keep_handle(struct shr_index *idx, int64_t slot, uint64_t handle);

static inline uint64_t shr_index_handle(const struct shr_index *idx, int64_t slot)
{
	const struct shr_table *t = &idx->side[SHR_STABLE];

	return t->handles ? t->handles[slot] : 0;
}

static inline uint32_t shr_index_count(const struct shr_index *idx, enum shr_side side)
{
	return idx->side[side].live;
}

/* Starts loading the home slots of key on both sides into the cache: the
 * scanner calls it for a whole batch before looking the pages up, so the
 * lookups' cache misses overlap instead of following one another. */
static inline void shr_index_prefetch(const struct shr_index *idx, uint64_t key)
{
	for (int side = SHR_UNSTABLE; side <= SHR_STABLE; side++) {
		const struct shr_table *t = &idx->side[side];

		if (t->cap)
			__builtin_prefetch(&t->slots[((uint64_t)(uint32_t)key * t->cap) >> 32]);
	}
}

/* Heap bytes held by the index. */
size_t shr_index_bytes(const struct shr_index *idx);

/* Calls fn for every live entry; stops when fn returns non-zero. */
int shr_index_foreach(const struct shr_index *idx, enum shr_side side,
		      int (*fn)(uint32_t ref, uint32_t tag, uint16_t sharers, void *arg),
		      void *arg);

#endif /* SHR_INDEX_H */
