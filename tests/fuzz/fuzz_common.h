/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_common.h - what every libFuzzer target of tests/fuzz/ shares.
 *
 * A target gets one byte string per run.  Targets whose parser takes a
 * single text (config file, reply line, xl.cfg) hand it over as it is;
 * targets with several inputs (a xenstore node's value AND its
 * permissions, an argv) carve them out of the bytes with struct fz_in, in
 * the manner of LLVM's FuzzedDataProvider: when the bytes run out, every
 * take returns zeros, so every input is a valid run.
 *
 * fz_check() is the oracle for properties beyond "no sanitizer report":
 * a broken property aborts, which libFuzzer records as a crash with the
 * input that caused it.
 */
#ifndef XENSHARE_FUZZ_COMMON_H
#define XENSHARE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define fz_check(cond, ...) do {                                         \
	if (!(cond)) {                                                   \
		fprintf(stderr, "fuzz property broken at %s:%d: %s: ",   \
			__FILE__, __LINE__, #cond);                      \
		fprintf(stderr, __VA_ARGS__);                            \
		fputc('\n', stderr);                                     \
		abort();                                                 \
	}                                                                \
} while (0)

struct fz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->left) {
		v = *in->p++;
		in->left--;
	}
	return v;
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fz_u8(in) << (8 * i);
	return v;
}

/* Up to max bytes, the count taken from the input (one byte, or two when
 * max > 255); *len is how many were really there. */
static inline const uint8_t *fz_bytes(struct fz_in *in, size_t max, size_t *len)
{
	size_t want = fz_u8(in);
	const uint8_t *p = in->p;

	if (max > 255)
		want |= (size_t)fz_u8(in) << 8;
	if (want > max)
		want %= max + 1;
	if (want > in->left)
		want = in->left;
	p = in->p;
	in->p += want;
	in->left -= want;
	*len = want;
	return p;
}

/* True when s (n bytes) holds a NUL within them. */
static inline int fz_terminated(const char *s, size_t n)
{
	return memchr(s, 0, n) != NULL;
}

#endif /* XENSHARE_FUZZ_COMMON_H */
