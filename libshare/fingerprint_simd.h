/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fingerprint_simd.h - private to the fingerprint module: the XXH3 kernel
 * compiled for AVX2 (fingerprint_avx2.c, built with -mavx2), picked at run
 * time by fingerprint.c when the CPU has AVX2.  Same function, same
 * results: XXH3's output does not depend on the vector unit used.
 */
#ifndef SHR_FINGERPRINT_SIMD_H
#define SHR_FINGERPRINT_SIMD_H

#include <stddef.h>
#include <stdint.h>

uint64_t shr_fp_xxh3_avx2(const void *page, size_t len, const void *secret,
			  size_t secret_len);

#endif /* SHR_FINGERPRINT_SIMD_H */
