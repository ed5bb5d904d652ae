/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest.h - where a simulated guest's memory contents come from: a raw RAM
 * image (optionally zstd-compressed), an ELF core written by `xl dump-core`,
 * or a generated profile of OS-file, zero, duplicate and unique pages.
 *
 * The producers are pure: they hand each page to a sink callback (the
 * server's sink writes it into the domain through the hypervisor model, the
 * unit tests' sink into an array), so they can be tested without a host.
 * Pages are produced in increasing gfn order for images; a sink may skip
 * zero pages when the domain starts zero-filled.
 */
#ifndef XENSIM_GUEST_H
#define XENSIM_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "xlcfg.h"

/* Receives one 4 KiB page for gfn; returns 0 or a negative errno to stop. */
typedef int sim_page_sink_fn(void *arg, uint64_t gfn, const void *page);

/*
 * Raw image: guest-physical address 0 upwards.  Compressed when the file
 * starts with the zstd magic; a ".zst" name that is not zstd is an error.
 * The image must be a whole number of pages and fit in nr_pages.
 * Errors: negative errno with a one-line reason in err.
 */
int sim_guest_load_image(const char *path, uint64_t nr_pages,
			 sim_page_sink_fn *sink, void *arg, char *err, size_t errlen);

/*
 * ELF core of `xl dump-core` (tools/libs/guest/xg_core.c): the pages of
 * section .xen_pages go to the gfns listed in .xen_pfn (auto-translated
 * guests) or in the pfn fields of .xen_p2m (PV guests).
 */
int sim_guest_load_core(const char *path, uint64_t nr_pages,
			sim_page_sink_fn *sink, void *arg, char *err, size_t errlen);

/* Page counts a profile gives for a guest of nr_pages (they sum to nr_pages). */
struct sim_profile_counts {
	uint64_t os, zero, dup, unique;
};
void sim_profile_count(const struct sim_profile *p, uint64_t nr_pages,
		       struct sim_profile_counts *out);

/*
 * Generated memory: "os" pages are the non-zero 4 KiB blocks of the
 * *.so* files in os_dir (sorted by name, so every guest on a machine draws
 * the same blocks), placed as one run starting at a seeded gfn; zero,
 * dup (a seeded set of contents, each used about four times) and unique
 * (seeded random) pages fill the other gfns in a seeded order.
 */
int sim_guest_gen_profile(const struct sim_profile *p, const char *os_dir,
			  uint64_t seed, uint64_t nr_pages,
			  sim_page_sink_fn *sink, void *arg, char *err, size_t errlen);

/* Fills a page with seeded pseudo-random bytes (distinct for distinct keys). */
void sim_guest_fill_random(void *page, uint64_t seed, uint64_t key);

#endif /* XENSIM_GUEST_H */
