/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlcfg.h - reads a domain's xl.cfg (with xl's own parser, libxlutil) into
 * what xensim needs to build the domain: the hypervisor's domain spec, the
 * opt-in keys the patched xl turns into xenstore nodes, and the
 * simulation-only sim_* keys (memory contents and vCPU workload).
 *
 * Every key is documented in docs/xensim.md.
 */
#ifndef XENSIM_XLCFG_H
#define XENSIM_XLCFG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv.h"

#define SIM_XLCFG_ERR_MAX 1024

/* What a generated guest memory is made of; fractions sum to 1. */
struct sim_profile {
	double os;      /* pages copied from real files (shared across guests) */
	double zero;    /* zero pages */
	double dup;     /* pages duplicated within this guest */
	double unique;  /* seeded random pages */
};

enum sim_on_crash { SIM_ON_CRASH_DESTROY, SIM_ON_CRASH_PRESERVE };

enum sim_content_kind {
	SIM_CONTENT_ZERO,      /* no sim_image/sim_core/sim_profile: all pages zero */
	SIM_CONTENT_IMAGE,     /* raw image, optionally .zst */
	SIM_CONTENT_CORE,      /* ELF core written by xl dump-core */
	SIM_CONTENT_PROFILE,
	SIM_CONTENT_GENERATED, /* sim_generated: a profile held as keys (genmem.h) */
};

struct sim_guest_cfg {
	struct sim_dom_spec spec;
	bool uuid_given;
	enum sim_on_crash on_crash;

	/* patched xl: /local/domain/<id>/memshare/{enabled,group}; "" = key absent */
	char mem_sharing[16];
	char mem_sharing_group[64];

	/* simulation-only keys */
	enum sim_content_kind content;
	char content_path[PATH_MAX];      /* sim_image / sim_core, absolute */
	struct sim_profile profile;
	char os_dir[PATH_MAX];            /* sim_os_dir: where "os" pages come from */
	uint64_t seed;                    /* sim_seed (default: derived from name) */
	double write_rate;                /* sim_write_rate, pages per second per domain */
	uint64_t working_set;             /* sim_working_set, pages */
	double write_aim;                 /* sim_write_aim, 0..1 (default 0) */
};

/*
 * Parses data (the text of file `filename`, used in messages) followed by
 * `overrides` (key=value lines, as `xl create FILE key=value` appends them;
 * a bare non-numeric value is quoted for the caller).  Relative paths in
 * sim_image/sim_core/sim_os_dir are relative to basedir.  On failure
 * returns -EINVAL (or -ENOMEM) with a one-line reason in err.
 */
int sim_xlcfg_parse(const char *filename, const char *data, size_t len,
		    const char *const *overrides, unsigned int nr_overrides,
		    const char *basedir, struct sim_guest_cfg *out,
		    char *err, size_t errlen);

/* Parses "os=0.5,zero=0.15,dup=0.1,unique=0.25"; -EINVAL with a reason. */
int sim_profile_parse(const char *s, struct sim_profile *out, char *err, size_t errlen);

#endif /* XENSIM_XLCFG_H */
