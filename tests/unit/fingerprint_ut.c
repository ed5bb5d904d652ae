/* SPDX-License-Identifier: GPL-2.0-only */
/* fingerprint_ut - unit tests of libshare/fingerprint.c (keyed XXH3, zero pages). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <CUnit/CUnit.h>
#include <string.h>

#include "libshare/fingerprint.h"
#include "ut_common.h"

static uint8_t page_a[SHR_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t page_b[SHR_PAGE_SIZE] __attribute__((aligned(4096)));

static void fill(uint8_t *p, unsigned int seed)
{
	for (unsigned int i = 0; i < SHR_PAGE_SIZE; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* Proves the fingerprint is exactly XXH3-64 with our secret (so it is the
 * inlined library hash, not a home-made one) and is deterministic. */
static void test_is_xxh3_with_secret(void)
{
	uint8_t secret[SHR_FP_SECRET_SIZE];
	struct shr_fp_key key;

	for (unsigned int i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 13 + 5);
	shr_fp_key_from_secret(&key, secret);
	fill(page_a, 1);
	CU_ASSERT_EQUAL(shr_fp_page(&key, page_a, NULL),
			XXH3_64bits_withSecret(page_a, SHR_PAGE_SIZE, secret, sizeof(secret)));
	CU_ASSERT_EQUAL(shr_fp_page(&key, page_a, NULL), shr_fp_page(&key, page_a, NULL));
}

/* Proves two keys drawn by getrandom differ and give different fingerprints
 * for the same page (a guest cannot precompute collisions). */
static void test_keys_are_random(void)
{
	struct shr_fp_key k1, k2;

	CU_ASSERT_EQUAL(shr_fp_key_init(&k1), 0);
	CU_ASSERT_EQUAL(shr_fp_key_init(&k2), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(k1.secret, k2.secret, sizeof(k1.secret)), 0);
	fill(page_a, 2);
	CU_ASSERT_NOT_EQUAL(shr_fp_page(&k1, page_a, NULL), shr_fp_page(&k2, page_a, NULL));
}

/* Proves zero detection: the zero page is recognised, a page with a single
 * non-zero byte anywhere (first, middle, last) is not. */
static void test_zero_detection(void)
{
	struct shr_fp_key key;
	bool zero = false;
	const unsigned int pos[] = { 0, 2049, SHR_PAGE_SIZE - 1 };

	CU_ASSERT_EQUAL(shr_fp_key_init(&key), 0);
	memset(page_a, 0, sizeof(page_a));
	CU_ASSERT_EQUAL(shr_fp_page(&key, page_a, &zero), key.zero_fp);
	CU_ASSERT_TRUE(zero);
	for (unsigned int i = 0; i < 3; i++) {
		memset(page_a, 0, sizeof(page_a));
		page_a[pos[i]] = 1;
		zero = true;
		shr_fp_page(&key, page_a, &zero);
		CU_ASSERT_FALSE(zero);
	}
}

/* Proves a single flipped bit changes the fingerprint and the full compare
 * notices it. */
static void test_bit_flip_and_compare(void)
{
	struct shr_fp_key key;

	CU_ASSERT_EQUAL(shr_fp_key_init(&key), 0);
	fill(page_a, 3);
	memcpy(page_b, page_a, sizeof(page_a));
	CU_ASSERT_TRUE(shr_page_equal(page_a, page_b));
	CU_ASSERT_EQUAL(shr_fp_page(&key, page_a, NULL), shr_fp_page(&key, page_b, NULL));
	page_b[4095] ^= 0x80;
	CU_ASSERT_FALSE(shr_page_equal(page_a, page_b));
	CU_ASSERT_NOT_EQUAL(shr_fp_page(&key, page_a, NULL), shr_fp_page(&key, page_b, NULL));
}

UT_MAIN("fingerprint", NULL, NULL,
	UT(test_is_xxh3_with_secret),
	UT(test_keys_are_random),
	UT(test_zero_detection),
	UT(test_bit_flip_and_compare))
