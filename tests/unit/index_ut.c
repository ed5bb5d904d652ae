/* SPDX-License-Identifier: GPL-2.0-only */
/* index_ut - unit tests of libshare/index.c (the two-sided candidate index). */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "libshare/index.h"
#include "ut_common.h"

/* The "engine" of these tests: key of ref r is keys[r]. */
#define NREFS 200000u
static uint64_t *keys;

static uint32_t key_lo(uint32_t ref, void *arg)
{
	(void)arg;
	return (uint32_t)keys[ref];
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static int setup(void)
{
	keys = calloc(NREFS, sizeof(*keys));
	for (uint32_t i = 0; i < NREFS; i++)
		keys[i] = mix(i + 1);
	return keys ? 0 : 1;
}

static int teardown(void)
{
	free(keys);
	return 0;
}

/* Proves inserted refs are found under their key (across many rebuilds),
 * a key never inserted is not found, and the excluded ref is skipped. */
static void test_insert_find(void)
{
	struct shr_index idx;

	shr_index_init(&idx, key_lo, NULL);
	for (uint32_t i = 0; i < NREFS; i++)
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_UNSTABLE, keys[i], i, 0), 0);
	CU_ASSERT_EQUAL(shr_index_count(&idx, SHR_UNSTABLE), NREFS);
	CU_ASSERT_TRUE(idx.rebuilds > 5);
	for (uint32_t i = 0; i < NREFS; i += 7) {
		int64_t s = shr_index_find(&idx, SHR_UNSTABLE, keys[i], SHR_REF_NONE, 0);

		CU_ASSERT_TRUE_FATAL(s >= 0);
		CU_ASSERT_EQUAL(shr_index_ref(&idx, SHR_UNSTABLE, s), i);
		CU_ASSERT_EQUAL(shr_index_find(&idx, SHR_UNSTABLE, keys[i], i, 0), -1);
	}
	CU_ASSERT_EQUAL(shr_index_find(&idx, SHR_UNSTABLE, mix(NREFS + 5), SHR_REF_NONE, 0), -1);
	CU_ASSERT_EQUAL(shr_index_find(&idx, SHR_STABLE, keys[3], SHR_REF_NONE, 100), -1);
	shr_index_fini(&idx);
}

/* Proves the index discriminates on all 64 key bits: same high half
 * (stored tag) but different low half is not a match, and neither is the
 * same low half (slot) with a different tag. */
static void test_full_key_discrimination(void)
{
	struct shr_index idx;

	shr_index_init(&idx, key_lo, NULL);
	keys[0] = 0x1111111122222222ULL;
	keys[1] = 0x1111111133333333ULL;
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_UNSTABLE, keys[0], 0, 0), 0);
	CU_ASSERT_EQUAL(shr_index_find(&idx, SHR_UNSTABLE, keys[1], SHR_REF_NONE, 0), -1);
	CU_ASSERT_EQUAL(shr_index_find(&idx, SHR_UNSTABLE, 0x9999999922222222ULL,
				       SHR_REF_NONE, 0), -1);
	CU_ASSERT_TRUE(shr_index_find(&idx, SHR_UNSTABLE, keys[0], SHR_REF_NONE, 0) >= 0);
	shr_index_fini(&idx);
	keys[0] = mix(1);
	keys[1] = mix(2);
}

/* Proves removal: removed refs are gone, the others (including entries that
 * probed past a removed one) are still found, and tombstones are reclaimed
 * so churn does not grow the table without bound. */
static void test_remove_and_churn(void)
{
	struct shr_index idx;
	size_t bytes_before;

	shr_index_init(&idx, key_lo, NULL);
	for (uint32_t i = 0; i < 20000; i++)
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_UNSTABLE, keys[i], i, 0), 0);
	for (uint32_t i = 0; i < 20000; i += 2)
		CU_ASSERT_TRUE(shr_index_remove(&idx, SHR_UNSTABLE, (uint32_t)keys[i], i));
	CU_ASSERT_FALSE(shr_index_remove(&idx, SHR_UNSTABLE, (uint32_t)keys[0], 0));
	for (uint32_t i = 0; i < 20000; i++) {
		int64_t s = shr_index_find(&idx, SHR_UNSTABLE, keys[i], SHR_REF_NONE, 0);

		CU_ASSERT_EQUAL(s >= 0, i % 2 == 1);
	}
	bytes_before = shr_index_bytes(&idx);
	/* churn: 10 rounds of remove + reinsert under a new key */
	for (int round = 0; round < 10; round++) {
		for (uint32_t i = 1; i < 20000; i += 2) {
			CU_ASSERT_TRUE(shr_index_remove(&idx, SHR_UNSTABLE, (uint32_t)keys[i], i));
			keys[i] = mix(keys[i]);
			CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_UNSTABLE, keys[i], i, 0), 0);
		}
	}
	CU_ASSERT_EQUAL(shr_index_count(&idx, SHR_UNSTABLE), 10000);
	CU_ASSERT_TRUE(shr_index_bytes(&idx) <= bytes_before);
	for (uint32_t i = 1; i < 20000; i += 2)
		CU_ASSERT_TRUE(shr_index_find(&idx, SHR_UNSTABLE, keys[i], SHR_REF_NONE, 0) >= 0);
	shr_index_fini(&idx);
	for (uint32_t i = 0; i < NREFS; i++)
		keys[i] = mix(i + 1);
}

/* Proves the stable side's sharer cap: an entry at max_sharers is skipped
 * and a second frame with the same key is found instead; sharer counts
 * survive a rebuild. */
static void test_stable_cap(void)
{
	struct shr_index idx;
	int64_t s;

	shr_index_init(&idx, key_lo, NULL);
	keys[1] = keys[0];
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[0], 0, 256), 0);
	CU_ASSERT_EQUAL(shr_index_find(&idx, SHR_STABLE, keys[0], SHR_REF_NONE, 256), -1);
	CU_ASSERT_TRUE(shr_index_has_stable(&idx, keys[0]));
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[1], 1, 2), 0);
	s = shr_index_find(&idx, SHR_STABLE, keys[0], SHR_REF_NONE, 256);
	CU_ASSERT_TRUE_FATAL(s >= 0);
	CU_ASSERT_EQUAL(shr_index_ref(&idx, SHR_STABLE, s), 1);
	for (uint32_t i = 2; i < 5000; i++)
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[i], i, 7), 0);
	s = shr_index_find(&idx, SHR_STABLE, keys[0], SHR_REF_NONE, 256);
	CU_ASSERT_TRUE_FATAL(s >= 0);
	CU_ASSERT_EQUAL(*shr_index_sharers(&idx, SHR_STABLE, s), 2);
	s = shr_index_find(&idx, SHR_STABLE, keys[4000], SHR_REF_NONE, 256);
	CU_ASSERT_TRUE_FATAL(s >= 0);
	CU_ASSERT_EQUAL(*shr_index_sharers(&idx, SHR_STABLE, s), 7);
	shr_index_fini(&idx);
	keys[1] = mix(2);
}

/* Proves the kept handles of the stable side: none until one is kept (and
 * no memory for them), a kept handle follows its entry through the
 * table's growth, a new entry in a freed slot starts with none, and the
 * array is counted in the index's bytes. */
static void test_stable_handles(void)
{
	struct shr_index idx;
	size_t bytes;
	int64_t s;

	shr_index_init(&idx, key_lo, NULL);
	CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[0], 0, 2), 0);
	s = shr_index_slot_of(&idx, SHR_STABLE, (uint32_t)keys[0], 0);
	CU_ASSERT_TRUE_FATAL(s >= 0);
	CU_ASSERT_EQUAL(shr_index_handle(&idx, s), 0);
	bytes = shr_index_bytes(&idx);
	CU_ASSERT_EQUAL(shr_index_keep_handle(&idx, s, 77), 0);
	CU_ASSERT_EQUAL(shr_index_handle(&idx, s), 77);
	CU_ASSERT_EQUAL(shr_index_bytes(&idx) - bytes,
			idx.side[SHR_STABLE].cap * sizeof(uint64_t));
	for (uint32_t i = 1; i < 5000; i++)
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[i], i, 2), 0);
	CU_ASSERT_TRUE(idx.rebuilds > 0);
	s = shr_index_slot_of(&idx, SHR_STABLE, (uint32_t)keys[0], 0);
	CU_ASSERT_TRUE_FATAL(s >= 0);
	CU_ASSERT_EQUAL(shr_index_handle(&idx, s), 77);
	s = shr_index_slot_of(&idx, SHR_STABLE, (uint32_t)keys[4000], 4000);
	CU_ASSERT_TRUE_FATAL(s >= 0);
	CU_ASSERT_EQUAL(shr_index_handle(&idx, s), 0);
	/* ref 0 leaves and comes back: its slot's handle is not its own */
	s = shr_index_slot_of(&idx, SHR_STABLE, (uint32_t)keys[0], 0);
	CU_ASSERT_TRUE(shr_index_remove(&idx, SHR_STABLE, (uint32_t)keys[0], 0));
	CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[0], 0, 2), 0);
	CU_ASSERT_EQUAL(shr_index_slot_of(&idx, SHR_STABLE, (uint32_t)keys[0], 0), s);
	CU_ASSERT_EQUAL(shr_index_handle(&idx, s), 0);
	shr_index_fini(&idx);
}

/* Proves the full side: an entry there is invisible to lookups for a frame
 * to join, but has_stable still sees it (adoption must not start a second
 * frame for a content whose frame is merely full). */
static void test_full_side(void)
{
	struct shr_index idx;

	shr_index_init(&idx, key_lo, NULL);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_FULL, keys[9], 9, 256), 0);
	CU_ASSERT_EQUAL(shr_index_find(&idx, SHR_STABLE, keys[9], SHR_REF_NONE, 256), -1);
	CU_ASSERT_TRUE(shr_index_has_stable(&idx, keys[9]));
	CU_ASSERT_TRUE(shr_index_remove(&idx, SHR_FULL, (uint32_t)keys[9], 9));
	CU_ASSERT_FALSE(shr_index_has_stable(&idx, keys[9]));
	shr_index_fini(&idx);
}

/* Proves remove_range drops exactly one domain's refs, from both sides. */
static void test_remove_range(void)
{
	struct shr_index idx;

	shr_index_init(&idx, key_lo, NULL);
	for (uint32_t i = 0; i < 3000; i++)
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, i % 3 ? SHR_UNSTABLE : SHR_STABLE,
						       keys[i], i, 2), 0);
	CU_ASSERT_EQUAL(shr_index_remove_range(&idx, 1000, 1000), 0);
	for (uint32_t i = 0; i < 3000; i++) {
		enum shr_side side = i % 3 ? SHR_UNSTABLE : SHR_STABLE;
		bool found = shr_index_find(&idx, side, keys[i], SHR_REF_NONE, 256) >= 0;

		CU_ASSERT_EQUAL(found, i < 1000 || i >= 2000);
	}
	CU_ASSERT_EQUAL(shr_index_count(&idx, SHR_UNSTABLE) + shr_index_count(&idx, SHR_STABLE),
			2000);
	shr_index_fini(&idx);
}

/* Proves the memory of lost frames: a stable entry dropped as a frame
 * (from the stable or the full side) and a removed domain's stable entries
 * are remembered, an unstable entry and a plain remove are not, an
 * unrelated key is not, and a mark survives one aging and not two. */
static void test_lost_frames(void)
{
	struct shr_index idx;

	shr_index_init(&idx, key_lo, NULL);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[1], 1, 2), 0);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_FULL, keys[2], 2, 256), 0);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[3], 3, 2), 0);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_UNSTABLE, keys[4], 4, 0), 0);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[5], 5, 2), 0);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_UNSTABLE, keys[6], 6, 0), 0);
	CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[1], 1));
	CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[2], 2));
	CU_ASSERT_FALSE(shr_index_drop_frame(&idx, (uint32_t)keys[4], 4)); /* unstable */
	CU_ASSERT_TRUE(shr_index_remove(&idx, SHR_STABLE, (uint32_t)keys[3], 3));
	CU_ASSERT_EQUAL(shr_index_remove_range(&idx, 5, 2), 0);
	CU_ASSERT_FALSE(shr_index_has_stable(&idx, keys[1]));
	CU_ASSERT_FALSE(shr_index_has_stable(&idx, keys[2]));
	CU_ASSERT_TRUE(shr_index_lost(&idx, keys[1]));
	CU_ASSERT_TRUE(shr_index_lost(&idx, keys[2]));
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[3]));
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[4]));
	CU_ASSERT_TRUE(shr_index_lost(&idx, keys[5]));
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[6]));
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[7]));
	shr_index_age_lost(&idx);
	CU_ASSERT_TRUE(shr_index_lost(&idx, keys[1]));
	shr_index_age_lost(&idx);
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[1]));
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[5]));
	shr_index_fini(&idx);
}

/* Proves no lost key is forgotten when a large domain goes: the 50,000
 * stable entries of one removed ref range, plus a tag-0 key, are all
 * remembered in one generation (the frames they left behind still wait for
 * their sharers' frame merge), while keys that were never stable are not
 * (but for the rare 32-bit tag they share with a remembered one). */
static void test_lost_frames_of_a_large_domain(void)
{
	struct shr_index idx;
	unsigned int remembered = 0, false_hits = 0;

	shr_index_init(&idx, key_lo, NULL);
	keys[NREFS - 1] = 0x00000000deadbeefULL; /* tag 0 */
	for (uint32_t i = 0; i < 50000; i++)
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[i], i, 2), 0);
	CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[NREFS - 1], NREFS - 1, 2), 0);
	CU_ASSERT_EQUAL(shr_index_remove_range(&idx, 0, 50000), 0);
	CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[NREFS - 1], NREFS - 1));
	for (uint32_t i = 0; i < 50000; i++)
		remembered += shr_index_lost(&idx, keys[i]);
	for (uint32_t i = 50000; i < 100000; i++)
		false_hits += shr_index_lost(&idx, keys[i]);
	CU_ASSERT_EQUAL(remembered, 50000);
	/* the memory is of 32-bit tags: 50,000 other keys meet one of 50,000
	 * remembered tags about 50000^2 / 2^32 = 0.6 times */
	CU_ASSERT_TRUE(false_hits <= 4);
	CU_ASSERT_TRUE(shr_index_lost(&idx, keys[NREFS - 1]));
	shr_index_age_lost(&idx);
	shr_index_age_lost(&idx);
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[0]));
	CU_ASSERT_FALSE(shr_index_lost(&idx, keys[NREFS - 1]));
	shr_index_fini(&idx);
	keys[NREFS - 1] = mix(NREFS);
}

/* Proves a lost key allows a bounded number of checks: shr_index_lost_try
 * says yes max_tries times and then no (while shr_index_lost still
 * remembers the key), a second loss of the key starts the count again,
 * the count survives an aging and a growth of the set, a tag-0 key counts
 * the same way, and a key never lost is never tried. */
static void test_lost_tries(void)
{
	struct shr_index idx;
	unsigned int yes = 0;

	shr_index_init(&idx, key_lo, NULL);
	keys[NREFS - 1] = 0x00000000deadbeefULL; /* tag 0 */
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[1], 1, 2), 0);
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[NREFS - 1], NREFS - 1, 2), 0);
	CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[1], 1));
	CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[NREFS - 1], NREFS - 1));
	for (int i = 0; i < 10; i++)
		yes += shr_index_lost_try(&idx, keys[1], 3);
	CU_ASSERT_EQUAL(yes, 3);
	CU_ASSERT_TRUE(shr_index_lost(&idx, keys[1]));
	CU_ASSERT_FALSE(shr_index_lost_try(&idx, keys[2], 3));
	/* lost again: three more checks, and an aging keeps the count */
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[1], 1, 2), 0);
	CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[1], 1));
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[1], 3));
	shr_index_age_lost(&idx);
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[1], 3));
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[1], 3));
	CU_ASSERT_FALSE(shr_index_lost_try(&idx, keys[1], 3));
	/* a key of the newer generation with a check made, then the set grows
	 * past its first 1,024 slots: the count moves with the tag */
	CU_ASSERT_EQUAL(shr_index_insert(&idx, SHR_STABLE, keys[3], 3, 2), 0);
	CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[3], 3));
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[3], 2));
	for (uint32_t i = 100; i < 2100; i++) {
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[i], i, 2), 0);
		CU_ASSERT_TRUE(shr_index_drop_frame(&idx, (uint32_t)keys[i], i));
	}
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[3], 2));
	CU_ASSERT_FALSE(shr_index_lost_try(&idx, keys[3], 2));
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[NREFS - 1], 2));
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[NREFS - 1], 2));
	CU_ASSERT_FALSE(shr_index_lost_try(&idx, keys[NREFS - 1], 2));
	CU_ASSERT_TRUE(shr_index_lost_try(&idx, keys[2000], 1));
	CU_ASSERT_FALSE(shr_index_lost_try(&idx, keys[2000], 1));
	shr_index_fini(&idx);
	keys[NREFS - 1] = mix(NREFS);
}

/* Proves the memory of lost keys is bounded: 150 domains of 1,000 stable
 * entries removed one after the other (150,000 tags against a stable
 * side of a few thousand slots) leave at most two generations of 16,384
 * tags, and the latest removals are all still remembered. */
static void test_lost_frames_bounded(void)
{
	struct shr_index idx;
	unsigned int remembered = 0, latest = 0;

	shr_index_init(&idx, key_lo, NULL);
	for (uint32_t c = 0; c < 150; c++) {
		for (uint32_t i = c * 1000; i < (c + 1) * 1000; i++)
			CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_STABLE, keys[i], i, 2), 0);
		CU_ASSERT_EQUAL(shr_index_remove_range(&idx, c * 1000, 1000), 0);
	}
	for (uint32_t i = 0; i < 150000; i++)
		remembered += shr_index_lost(&idx, keys[i]);
	for (uint32_t i = 140000; i < 150000; i++)
		latest += shr_index_lost(&idx, keys[i]);
	CU_ASSERT_TRUE(remembered >= 16384 && remembered <= 2 * 16384 + 4);
	CU_ASSERT_EQUAL(latest, 10000);
	/* two generations of 16,384 tags at most half full, 8 bytes a slot */
	CU_ASSERT_TRUE(shr_index_bytes(&idx) <= 2 * 8 * 2 * 16384 + 64 * 1024);
	shr_index_fini(&idx);
}

/* Proves the memory cost: 100k unique pages cost at most 8/0.75 bytes per
 * entry on the unstable side (the budget arithmetic of docs/design.md). */
static void test_bytes_per_entry(void)
{
	struct shr_index idx;

	shr_index_init(&idx, key_lo, NULL);
	for (uint32_t i = 0; i < 100000; i++)
		CU_ASSERT_EQUAL_FATAL(shr_index_insert(&idx, SHR_UNSTABLE, keys[i], i, 0), 0);
	CU_ASSERT_TRUE((double)shr_index_bytes(&idx) / 100000 <= 8 / 0.75 + 0.01);
	shr_index_fini(&idx);
}

UT_MAIN("index", setup, teardown,
	UT(test_insert_find),
	UT(test_full_key_discrimination),
	UT(test_remove_and_churn),
	UT(test_stable_cap),
	UT(test_stable_handles),
	UT(test_full_side),
	UT(test_remove_range),
	UT(test_lost_frames),
	UT(test_lost_frames_of_a_large_domain),
	UT(test_lost_tries),
	UT(test_lost_frames_bounded),
	UT(test_bytes_per_entry))
