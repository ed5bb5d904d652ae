/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fingerprint.h - keyed page fingerprints.
 *
 * A fingerprint is XXH3-64 of the 4 KiB page with a secret drawn from
 * getrandom() at start-up, so a guest cannot craft pages whose fingerprints
 * collide in our index.  Fingerprints only pick candidates: two pages are
 * shared only after a full byte compare (or the hypervisor's compare), so a
 * collision costs time, never data.  Zero pages are recognised on the way.
 */
#ifndef SHR_FINGERPRINT_H
#define SHR_FINGERPRINT_H

#include <stdbool.h>
#include <stdint.h>

#define SHR_PAGE_SIZE 4096u
#define SHR_FP_SECRET_SIZE 192   /* XXH3_SECRET_SIZE_MIN is 136 */

struct shr_fp_key {
	uint8_t secret[SHR_FP_SECRET_SIZE];
	uint64_t zero_fp;        /* fingerprint of the zero page under this secret
				    (set by shr_fp_key_init / shr_fp_key_from_secret) */
};

/* Draws a fresh secret (getrandom); -errno on failure. */
int shr_fp_key_init(struct shr_fp_key *key);
/* Uses a given secret (tests, reproducible estimates); fills zero_fp. */
void shr_fp_key_from_secret(struct shr_fp_key *key,
			    const uint8_t secret[SHR_FP_SECRET_SIZE]);
/* Fingerprint of one page; *is_zero tells whether every byte is zero. */
uint64_t shr_fp_page(const struct shr_fp_key *key, const void *page, bool *is_zero);
/* Full compare of two pages (the verify step); true when identical. */
bool shr_page_equal(const void *a, const void *b);

#endif /* SHR_FINGERPRINT_H */
