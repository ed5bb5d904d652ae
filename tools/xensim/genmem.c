/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * genmem.c - generated guest memory (see genmem.h).
 *
 * DOC: Overview
 *
 * Layout, as sim_guest_gen_profile() (guest.c) lays out a profile guest:
 * sim_profile_count() gives the page counts; the os pages are one run of
 * RAM pages starting at a seeded page (wrapping), and the zero, dup and
 * unique pages fill the other pages in a seeded Fisher-Yates order.  The
 * i-th RAM page is the i-th RAM gfn of the guest's layout (hv.h), which
 * skips its holes; "gfn" below means that page number.  Keys:
 *   os      mix(TAG_OS, 0, i) for the i-th page of the run: the same in
 *           every guest, whatever its seed;
 *   zero    0 (the domain starts zero-filled: nothing to assign);
 *   dup     mix(TAG_DUP, seed, j mod (dup / 4)): each content about four
 *           times in the guest, never in another guest;
 *   unique  mix(TAG_UNIQUE, seed, gfn).
 * mix() is splitmix64 over the three inputs and never returns 0.  So the
 * ideal savings of G guests of the same size and profile are known in
 * closed form: G*N - (os + [zero > 0] + G*(dup/4) + G*unique) distinct
 * contents (the scale benchmark computes them that way).
 *
 * Cost: nr_pages bytes of kinds and 8 * 4096 bytes of keys at a time; a
 * 4 GiB guest loads in well under a second, and holds no page memory.
 */
#include "genmem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

#define KEY_BATCH 4096

enum { K_OS, K_ZERO, K_DUP, K_UNIQUE };

#define TAG_OS     0x6f73000000000000ULL
#define TAG_DUP    0x6475700000000000ULL
#define TAG_UNIQUE 0x756e697100000000ULL

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t mix(uint64_t tag, uint64_t seed, uint64_t i)
{
	uint64_t s = tag ^ (seed * 0xff51afd7ed558ccdULL);
	uint64_t k;

	splitmix64(&s);
	s ^= i * 0xc4ceb9fe1a85ec53ULL;
	k = splitmix64(&s);
	return k ? k : 1;
}

int sim_genmem_keys(const struct sim_profile *p, uint64_t seed, uint64_t nr_pages,
		    uint64_t *keys)
{
	struct sim_profile_counts cnt;
	uint64_t s = seed, start, other, j = 0, nr_dup_contents, dup_i = 0, os_i = 0;
	uint8_t *kind;

	if (nr_pages == 0)
		return 0;
	sim_profile_count(p, nr_pages, &cnt);
	other = nr_pages - cnt.os;
	kind = malloc(nr_pages + other);
	if (!kind)
		return -ENOMEM;
	uint8_t *shuffled = kind + nr_pages;

	for (uint64_t i = 0; i < cnt.zero; i++)
		shuffled[j++] = K_ZERO;
	for (uint64_t i = 0; i < cnt.dup; i++)
		shuffled[j++] = K_DUP;
	for (uint64_t i = 0; i < cnt.unique; i++)
		shuffled[j++] = K_UNIQUE;
	start = splitmix64(&s) % nr_pages;
	for (uint64_t i = other; i > 1; i--) {   /* Fisher-Yates */
		uint64_t k = splitmix64(&s) % i;
		uint8_t t = shuffled[i - 1];

		shuffled[i - 1] = shuffled[k];
		shuffled[k] = t;
	}
	for (uint64_t i = 0; i < cnt.os; i++)
		kind[(start + i) % nr_pages] = K_OS;
	for (uint64_t i = 0; i < other; i++)
		kind[(start + cnt.os + i) % nr_pages] = shuffled[i];

	nr_dup_contents = cnt.dup / 4 ? cnt.dup / 4 : 1;
	for (uint64_t i = 0; i < cnt.os; i++)
		keys[(start + i) % nr_pages] = mix(TAG_OS, 0, os_i++);
	for (uint64_t gfn = 0; gfn < nr_pages; gfn++) {
		switch (kind[gfn]) {
		case K_OS:
			break;
		case K_ZERO:
			keys[gfn] = 0;
			break;
		case K_DUP:
			keys[gfn] = mix(TAG_DUP, seed, dup_i++ % nr_dup_contents);
			break;
		default:
			keys[gfn] = mix(TAG_UNIQUE, seed, gfn);
			break;
		}
	}
	free(kind);
	return 0;
}

int sim_genmem_load(struct sim_hv *hv, uint32_t domid, const struct sim_profile *p,
		    uint64_t seed, const struct sim_ram_layout *ram, char *err, size_t errlen)
{
	uint64_t nr_pages = sim_ram_layout_pages(ram), *keys, *k;
	int rc;

	err[0] = '\0';
	keys = malloc((nr_pages ? nr_pages : 1) * sizeof(*keys));
	if (!keys) {
		snprintf(err, errlen, "generated memory: no memory for %llu keys",
			 (unsigned long long)nr_pages);
		return -ENOMEM;
	}
	rc = sim_genmem_keys(p, seed, nr_pages, keys);
	k = keys;
	for (unsigned int r = 0; !rc && r < ram->nr; r++) {
		for (uint64_t g = ram->r[r].first; !rc && g < ram->r[r].end; g += KEY_BATCH) {
			unsigned int n = ram->r[r].end - g < KEY_BATCH ?
					 (unsigned int)(ram->r[r].end - g) : KEY_BATCH;

			rc = sim_hv_gen_assign(hv, domid, g, n, k);
			if (rc)
				snprintf(err, errlen, "generated memory: gfns %#llx+%u: %s",
					 (unsigned long long)g, n, strerror(-rc));
			k += n;
		}
	}
	if (rc && !err[0])
		snprintf(err, errlen, "generated memory: %s", strerror(-rc));
	free(keys);
	return rc;
}
