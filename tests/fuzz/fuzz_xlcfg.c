/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_xlcfg.c - xensim's xl.cfg reader (tools/xensim/xlcfg.c): xl's own
 * parser (libxlutil) followed by xensim's interpretation of the keys,
 * above all the sim_* keys (sim_profile strings, paths, numbers).
 *
 * Input: the xl.cfg text up to the first NUL byte; after it, NUL-separated
 * `key=value` overrides as `xensim create FILE key=value` passes them
 * (at most 8).  The text is also given to sim_profile_parse() on its own.
 *
 * Properties of an accepted config: a name that is non-empty and not a
 * number; 1..2^24 MiB of memory with maxmem >= memory; 1..128 vCPUs;
 * mem_sharing empty or on/off/zero; a profile whose fractions are each in
 * 0..1 and sum to 1 (within the parser's 0.1%; sim_profile and
 * sim_generated alike), whose page counts
 * (sim_profile_count) add up to the guest's pages; a working set within
 * the guest; an absolute content path.
 */
#include <errno.h>
#include <math.h>

#include "fuzz_common.h"

#include "tools/xensim/guest.h"
#include "tools/xensim/xlcfg.h"

#define MAX_OVERRIDES 8

const char *__lsan_default_suppressions(void);

/*
 * Debian's libxlutil 4.17 (Xen's tools/libs/util/libxlu_cfg_y.y) leaks the
 * list it was building when a syntax error follows two or more elements
 * (`c=[0,0 @`): the bison grammar has no %destructor for list values.  The
 * leak is Xen's, a few bytes per bad file (xl exits after one parse), and
 * not ours to fix here; it is suppressed so that leaks in xensim's own
 * code still fail the run (seed corpus/xlcfg/libxlutil-list-error-leak).
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libxlutil.so\n";
}

static void check_profile(const struct sim_profile *p, uint64_t nr_pages, const char *what)
{
	const double f[4] = { p->os, p->zero, p->dup, p->unique };
	struct sim_profile_counts c;
	double sum = 0;

	for (int i = 0; i < 4; i++) {
		fz_check(isfinite(f[i]) && f[i] >= 0 && f[i] <= 1, "%s: fraction %d = %g accepted",
			 what, i, f[i]);
		sum += f[i];
	}
	fz_check(sum >= 0.999 && sum <= 1.001, "%s: fractions sum to %g", what, sum);
	sim_profile_count(p, nr_pages, &c);
	fz_check(c.os + c.zero + c.dup + c.unique == nr_pages, "%s: counts do not add up", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ov[MAX_OVERRIDES];
	struct sim_guest_cfg *g;
	struct sim_profile prof;
	char err[SIM_XLCFG_ERR_MAX], *buf;
	size_t textlen;
	unsigned int nr_ov = 0;
	int rc;

	buf = malloc(size + 1);
	g = malloc(sizeof(*g));
	if (!buf || !g)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0;
	textlen = strlen(buf);
	for (char *p = buf + textlen; p < buf + size && nr_ov < MAX_OVERRIDES; p += strlen(p)) {
		p++;                       /* past the NUL that ended the previous piece */
		if (p <= buf + size)
			ov[nr_ov++] = p;
	}

	rc = sim_xlcfg_parse("fuzz.cfg", buf, textlen, ov, nr_ov, "/base", g, err, sizeof(err));
	fz_check(fz_terminated(err, sizeof(err)), "message not terminated");
	if (rc) {
		fz_check(rc == -EINVAL || rc == -ENOMEM, "rc %d", rc);
		fz_check(err[0], "error %d without a message", rc);
	} else {
		const struct sim_dom_spec *s = &g->spec;

		fz_check(fz_terminated(s->name, sizeof(s->name)) && s->name[0] &&
			 strspn(s->name, "0123456789") != strlen(s->name), "name '%s'", s->name);
		fz_check(s->nr_pages >= 256 && s->nr_pages <= (256ull << 24) && s->max_pages >= s->nr_pages,
			 "memory %llu max %llu pages", (unsigned long long)s->nr_pages,
			 (unsigned long long)s->max_pages);
		fz_check(s->vcpus >= 1 && s->vcpus <= 128, "vcpus %u", s->vcpus);
		fz_check(!g->mem_sharing[0] || !strcmp(g->mem_sharing, "on") ||
			 !strcmp(g->mem_sharing, "off") || !strcmp(g->mem_sharing, "zero"),
			 "mem_sharing '%s'", g->mem_sharing);
		fz_check(fz_terminated(g->mem_sharing_group, sizeof(g->mem_sharing_group)), "group");
		fz_check(g->working_set >= 1 && g->working_set <= s->nr_pages, "working set %llu",
			 (unsigned long long)g->working_set);
		fz_check(isfinite(g->write_rate) && g->write_rate >= 0, "write rate");
		if (g->content == SIM_CONTENT_IMAGE || g->content == SIM_CONTENT_CORE)
			fz_check(g->content_path[0] == '/', "content path '%s'", g->content_path);
		if (g->content == SIM_CONTENT_PROFILE || g->content == SIM_CONTENT_GENERATED)
			check_profile(&g->profile, s->nr_pages, "sim_profile/sim_generated");
		fz_check(g->os_dir[0] == '/', "os_dir '%s'", g->os_dir);
	}

	/* the sim_profile value syntax on its own */
	if (sim_profile_parse(buf, &prof, err, sizeof(err)) == 0)
		check_profile(&prof, 1 + (size % 100000), "sim_profile_parse");
	else
		fz_check(err[0], "sim_profile_parse failed without a message");
	free(g);
	free(buf);
	return 0;
}
