/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xxh3_avx2.c - bench-xxh3's AVX2 kernel: the same inlined XXH3 call,
 * compiled with -mavx2 (bench.mk) so xxHash picks its AVX2 code path, as
 * the engine does (libshare/fingerprint_avx2.c).  The baseline must be
 * the fastest hash this CPU runs, or the ratio flatters the daemon.
 * Called only when __builtin_cpu_supports("avx2").
 */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <stddef.h>
#include <stdint.h>

uint64_t bench_xxh3_avx2(const void *page, size_t len, const void *secret, size_t secret_len);

uint64_t bench_xxh3_avx2(const void *page, size_t len, const void *secret, size_t secret_len)
{
	return XXH3_64bits_withSecret(page, len, secret, secret_len);
}
