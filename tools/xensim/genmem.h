/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * genmem.h - generated guest memory for hosts larger than this machine
 * (xl.cfg key sim_generated, the scale benchmark).
 *
 * The same page mix as a sim_profile guest (os, zero, dup, unique), but no
 * page is ever produced at load time: each gfn gets a 64-bit content key
 * and the hypervisor model holds only the key (hv.h, "generated memory"),
 * generating the bytes while a page is mapped.  "os" keys do not depend on
 * the guest, so every guest with the same profile draws the same os pages
 * (cross-guest sharing potential), placed as one run at a seeded gfn.
 */
#ifndef XENSIM_GENMEM_H
#define XENSIM_GENMEM_H

#include <stddef.h>
#include <stdint.h>

#include "hv.h"
#include "xlcfg.h"

/*
 * Assigns the generated content of a guest of nr_pages RAM pages built
 * from profile p and seed to domid's RAM: page i of the keys below goes to
 * the i-th RAM gfn of its layout ram.  0 or a negative errno with a
 * one-line reason in err.
 */
int sim_genmem_load(struct sim_hv *hv, uint32_t domid, const struct sim_profile *p,
		    uint64_t seed, const struct sim_ram_layout *ram, char *err, size_t errlen);

/*
 * The keys themselves (keys[i] for RAM page i < nr_pages, 0 = zero page),
 * for tests and for computing the ideal savings.  0 or -ENOMEM.
 */
int sim_genmem_keys(const struct sim_profile *p, uint64_t seed, uint64_t nr_pages,
		    uint64_t *keys);

#endif /* XENSIM_GENMEM_H */
