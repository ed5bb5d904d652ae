/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fingerprint_avx2.c - XXH3-64 with secret, compiled with -mavx2 (see
 * libshare.mk) so that xxHash's inline implementation selects its AVX2
 * kernel (XXH_VECTOR is chosen at compile time from __AVX2__).
 *
 * Why a separate file: xxHash picks its vector unit at compile time, and
 * the rest of libshare must run on any x86-64; fingerprint.c calls this
 * only after __builtin_cpu_supports("avx2").  On this machine class the
 * AVX2 kernel hashes 1.5x faster than the SSE2 one, hot or cold in cache.
 * Invariant: nothing else lives here (any other code would be compiled
 * for AVX2 too and could fault on an older CPU).
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fingerprint_simd.h"

uint64_t shr_fp_xxh3_avx2(const void *page, size_t len, const void *secret,
			  size_t secret_len)
{
	return XXH3_64bits_withSecret(page, len, secret, secret_len);
}
