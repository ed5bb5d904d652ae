/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fingerprint.c - keyed XXH3 page fingerprints with free zero detection.
 *
 * DOC: Overview
 *
 * A page's fingerprint is XXH3_64bits_withSecret(page, 4096, secret): XXH3
 * is the fastest well-kept 64-bit hash (it runs at memory speed with the
 * vector unit), and it is compiled inline here (XXH_INLINE_ALL) because the
 * shared libxxhash is 1.4-4x slower through the call boundary on this
 * machine class.  The secret is drawn from getrandom() at start-up, so a
 * guest that knows the algorithm still cannot construct pages that collide
 * in our index and degrade it to linear probing chains.
 *
 * Zero detection is fused into the hash pass without a second scan of the
 * page: the fingerprint of the all-zero page under the key is computed once
 * (shr_fp_key_init, kept in key->zero_fp), and only a page whose fingerprint equals it is checked
 * byte for byte (while it is still in L1).  A non-zero page therefore pays
 * nothing for zero detection, and a zero page pays one 4 KiB scan of
 * cache-hot data.  A keyed collision with the zero fingerprint is
 * impossible to steer from the guest and merely costs that scan.
 *
 * Invariant: fingerprints only select candidates.  Nothing is ever shared
 * on a fingerprint match alone: the merge step compares all 4096 bytes
 * (shr_page_equal, or the hypervisor's compare in the batched op).
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fingerprint.h"
#include "fingerprint_simd.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

_Static_assert(SHR_FP_SECRET_SIZE >= XXH3_SECRET_SIZE_MIN,
	       "XXH3 secret too short");

static uint64_t fp_xxh3_default(const void *page, size_t len, const void *secret,
				size_t secret_len)
{
	return XXH3_64bits_withSecret(page, len, secret, secret_len);
}

/* The XXH3 kernel for this CPU: AVX2 when it has it (fingerprint_avx2.c),
 * else the build's default (SSE2 on x86-64).  Chosen once; the result is
 * the same either way. */
static uint64_t (*fp_kernel)(const void *, size_t, const void *, size_t);

static void fp_pick_kernel(void)
{
	if (fp_kernel)
		return;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2")) {
		fp_kernel = shr_fp_xxh3_avx2;
		return;
	}
#endif
	fp_kernel = fp_xxh3_default;
}

static uint64_t fp_raw(const struct shr_fp_key *key, const void *page)
{
	if (!fp_kernel)         /* a key filled in by hand: pick on first use */
		fp_pick_kernel();
	return fp_kernel(page, SHR_PAGE_SIZE, key->secret, sizeof(key->secret));
}

static const uint8_t zero_page[SHR_PAGE_SIZE];

int shr_fp_key_init(struct shr_fp_key *key)
{
	size_t got = 0;

	while (got < sizeof(key->secret)) {
		ssize_t n = getrandom(key->secret + got, sizeof(key->secret) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	fp_pick_kernel();
	key->zero_fp = fp_raw(key, zero_page);
	return 0;
}

void shr_fp_key_from_secret(struct shr_fp_key *key,
			    const uint8_t secret[SHR_FP_SECRET_SIZE])
{
	memcpy(key->secret, secret, sizeof(key->secret));
	fp_pick_kernel();
	key->zero_fp = fp_raw(key, zero_page);
}

static bool page_is_zero(const void *page)
{
	const uint64_t *w = page;
	uint64_t acc = 0;

	for (size_t i = 0; i < SHR_PAGE_SIZE / sizeof(*w); i++)
		acc |= w[i];
	return acc == 0;
}

uint64_t shr_fp_page(const struct shr_fp_key *key, const void *page, bool *is_zero)
{
	uint64_t fp = fp_raw(key, page);

	if (is_zero)
		*is_zero = fp == key->zero_fp && page_is_zero(page);
	return fp;
}

bool shr_page_equal(const void *a, const void *b)
{
	return memcmp(a, b, SHR_PAGE_SIZE) == 0;
}
