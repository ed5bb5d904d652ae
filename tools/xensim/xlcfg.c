/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlcfg.c - xl.cfg to struct sim_guest_cfg.
 *
 * DOC: Overview
 *
 * The text is parsed by libxlutil, the parser xl itself uses, so every
 * file xl accepts is accepted here with the same syntax and the same
 * "last assignment wins" rule; `key=value` overrides are appended after
 * the file exactly as `xl create FILE key=value` does.  The keys are then
 * interpreted the way tools/xl/xl_parse.c interprets them (type/builder,
 * name required, memory/maxmem in MiB, default 32 MiB as libxl, vcpus,
 * pci list, uuid, on_crash), plus:
 *
 *  - mem_sharing ("on" | "off" | "zero") and mem_sharing_group, the keys
 *    of the patched xl (hypervisor-patch/), kept as the exact strings;
 *  - sim_* keys, which exist only in xensim.  A misspelt sim_ key is an
 *    error rather than silently ignored, because it would change what is
 *    simulated without anyone noticing; libxlutil cannot list the keys it
 *    read, so the text is scanned for "sim_<word> =" at line starts.
 *
 * Errors come back as -EINVAL with one readable line naming the file and
 * the key; libxlutil's own messages (syntax errors with line numbers) are
 * captured from its report stream and passed on.
 */
#include "xlcfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#define MIB_PAGES (1024 * 1024 / SIM_PAGE_SIZE)
#define SIM_DEFAULT_OS_DIR "/usr/lib/x86_64-linux-gnu"
#define SIM_DEFAULT_WORKING_SET 1024

static const char *const known_sim_keys[] = {
	"sim_image", "sim_core", "sim_profile", "sim_os_dir", "sim_seed",
	"sim_write_rate", "sim_working_set", "sim_generated", "sim_write_aim", NULL,
};

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int sim_profile_parse(const char *s, struct sim_profile *out, char *err, size_t errlen)
{
	struct sim_profile p = { 0 };
	bool seen[4] = { false };
	const char *c = s;
	double sum;

	while (*c) {
		char key[16];
		int n = 0;
		double v;
		char *end;

		if (sscanf(c, "%15[a-z]=%n", key, &n) != 1 || n == 0)
			return fail(err, errlen, "sim_profile \"%s\": expected key=fraction at \"%s\"", s, c);
		c += n;
		errno = 0;
		v = strtod(c, &end);
		if (end == c || errno || !(v >= 0 && v <= 1))   /* also refuses NaN */
			return fail(err, errlen, "sim_profile \"%s\": %s needs a fraction between 0 and 1", s, key);
		c = end;
		int idx = !strcmp(key, "os") ? 0 : !strcmp(key, "zero") ? 1 :
			  !strcmp(key, "dup") ? 2 : !strcmp(key, "unique") ? 3 : -1;
		if (idx < 0)
			return fail(err, errlen, "sim_profile \"%s\": unknown kind \"%s\" (os, zero, dup, unique)", s, key);
		if (seen[idx])
			return fail(err, errlen, "sim_profile \"%s\": %s given twice", s, key);
		seen[idx] = true;
		double *dst[4] = { &p.os, &p.zero, &p.dup, &p.unique };
		*dst[idx] = v;
		if (*c == ',')
			c++;
		else if (*c)
			return fail(err, errlen, "sim_profile \"%s\": expected ',' at \"%s\"", s, c);
	}
	sum = p.os + p.zero + p.dup + p.unique;
	if (!(sum >= 0.999 && sum <= 1.001))
		return fail(err, errlen, "sim_profile \"%s\": fractions add up to %.3f, not 1", s, sum);
	*out = p;
	return 0;
}

/* Reports the first line libxlutil wrote to its report stream, if any. */
static int fail_report(char *err, size_t errlen, FILE *report, char **rbuf,
		       const char *filename, const char *what)
{
	char *nl;

	fflush(report);
	if (*rbuf && **rbuf) {
		nl = strchr(*rbuf, '\n');
		if (nl)
			*nl = '\0';
		return fail(err, errlen, "%s", *rbuf);
	}
	return fail(err, errlen, "%s: %s", filename, what);
}

/* Quotes a bare word so `sim_image=/x.zst` works like `sim_image="/x.zst"`. */
static int append_override(char **buf, size_t *len, const char *ov, char *err, size_t errlen)
{
	const char *eq = strchr(ov, '=');
	const char *val;
	char *line;
	int n;

	if (!eq || eq == ov)
		return fail(err, errlen, "override \"%s\": expected key=value", ov);
	val = eq + 1;
	while (*val == ' ')
		val++;
	if (*val == '"' || *val == '\'' || *val == '[' || isdigit((unsigned char)*val) ||
	    *val == '-')
		n = asprintf(&line, "\n%s\n", ov);
	else
		n = asprintf(&line, "\n%.*s\"%s\"\n", (int)(val - ov), ov, val);
	if (n < 0)
		return -ENOMEM;
	char *nb = realloc(*buf, *len + (size_t)n + 1);

	if (!nb) {
		free(line);
		return -ENOMEM;
	}
	memcpy(nb + *len, line, (size_t)n + 1);
	*len += (size_t)n;
	*buf = nb;
	free(line);
	return 0;
}

/* Rejects sim_ keys we don't know: a typo would silently change the simulation. */
static int check_sim_keys(const char *text, const char *filename, char *err, size_t errlen)
{
	const char *line = text;

	while (line && *line) {
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "sim_", 4)) {
			size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
			const char *q = p + n;
			bool known = false;

			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '=' || (*q == '+' && q[1] == '=')) {
				for (unsigned int i = 0; known_sim_keys[i]; i++)
					if (strlen(known_sim_keys[i]) == n &&
					    !strncmp(p, known_sim_keys[i], n))
						known = true;
				if (!known)
					return fail(err, errlen, "%s: unknown simulation key \"%.*s\" (see docs/xensim.md)",
						    filename, (int)n, p);
			}
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

static int resolve_path(const char *basedir, const char *p, char *out, size_t outlen)
{
	int n;

	if (p[0] == '/' || !basedir)
		n = snprintf(out, outlen, "%s", p);
	else
		n = snprintf(out, outlen, "%s/%s", basedir, p);
	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}

static int parse_uuid(const char *s, uint8_t uuid[16])
{
	unsigned int b[16];
	int n = 0;

	if (sscanf(s, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x%n",
		   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8],
		   &b[9], &b[10], &b[11], &b[12], &b[13], &b[14], &b[15], &n) != 16 ||
	    n != 36 || s[36])
		return -EINVAL;
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)b[i];
	return 0;
}

/* FNV-1a: a stable default seed from the domain name (not security relevant). */
static uint64_t name_seed(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
	return h;
}

static int get_string_opt(XLU_Config *cfg, const char *key, const char **val,
			  FILE *report, char **rbuf, const char *filename,
			  char *err, size_t errlen)
{
	int r = xlu_cfg_get_string(cfg, key, val, 0);

	if (r == ESRCH) {
		*val = NULL;
		return 0;
	}
	if (r) {
		char what[128];

		snprintf(what, sizeof(what), "%s must be a single string", key);
		return fail_report(err, errlen, report, rbuf, filename, what);
	}
	return 0;
}

static int get_long_opt(XLU_Config *cfg, const char *key, long min, long max,
			long *val, bool *present, const char *filename,
			char *err, size_t errlen)
{
	int r = xlu_cfg_get_long(cfg, key, val, 1);

	*present = false;
	if (r == ESRCH)
		return 0;
	if (r)
		return fail(err, errlen, "%s: %s must be a number", filename, key);
	if (*val < min || *val > max)
		return fail(err, errlen, "%s: %s = %ld is out of range [%ld, %ld]",
			    filename, key, *val, min, max);
	*present = true;
	return 0;
}

static int interpret(XLU_Config *cfg, FILE *report, char **rbuf, const char *filename,
		     const char *basedir, struct sim_guest_cfg *g, char *err, size_t errlen)
{
	const char *s, *type = NULL, *builder = NULL;
	long l;
	bool have;
	int r, nr_pci = 0;
	long mem_mib = 32;  /* libxl's default max_memkb */

	/* name: required, as xl says "Domain name must be specified." */
	if ((r = get_string_opt(cfg, "name", &s, report, rbuf, filename, err, errlen)))
		return r;
	if (!s || !*s)
		return fail(err, errlen, "%s: Domain name must be specified (name = \"...\")", filename);
	if (strlen(s) >= sizeof(g->spec.name))
		return fail(err, errlen, "%s: name \"%s\" is longer than %zu characters",
			    filename, s, sizeof(g->spec.name) - 1);
	if (strspn(s, "0123456789") == strlen(s))
		return fail(err, errlen, "%s: name \"%s\" must not be a number (it would look like a domid)",
			    filename, s);
	snprintf(g->spec.name, sizeof(g->spec.name), "%s", s);

	/* type / builder, as xl_parse.c (default pv on x86) */
	if ((r = get_string_opt(cfg, "type", &type, report, rbuf, filename, err, errlen)) ||
	    (r = get_string_opt(cfg, "builder", &builder, report, rbuf, filename, err, errlen)))
		return r;
	g->spec.type = SIM_DOM_PV;
	if (type) {
		if (!strcmp(type, "hvm"))
			g->spec.type = SIM_DOM_HVM;
		else if (!strcmp(type, "pv"))
			g->spec.type = SIM_DOM_PV;
		else if (!strcmp(type, "pvh"))
			g->spec.type = SIM_DOM_PVH;
		else
			return fail(err, errlen, "%s: Invalid domain type \"%s\" (pv, pvh, hvm)", filename, type);
	}
	if (builder) {
		enum sim_dom_type bt;

		if (!strcmp(builder, "hvm"))
			bt = SIM_DOM_HVM;
		else if (!strcmp(builder, "generic"))
			bt = SIM_DOM_PV;
		else
			return fail(err, errlen, "%s: Invalid builder \"%s\" (hvm, generic)", filename, builder);
		if (type && bt != g->spec.type)
			return fail(err, errlen, "%s: Contradicting \"builder\" and \"type\" options specified", filename);
		g->spec.type = bt;
	}

	/* memory / maxmem in MiB */
	if ((r = get_long_opt(cfg, "memory", 1, 1L << 24, &l, &have, filename, err, errlen)))
		return r;
	if (have)
		mem_mib = l;
	g->spec.nr_pages = (uint64_t)mem_mib * MIB_PAGES;
	g->spec.max_pages = g->spec.nr_pages;
	if ((r = get_long_opt(cfg, "maxmem", 1, 1L << 24, &l, &have, filename, err, errlen)))
		return r;
	if (have) {
		if (l < mem_mib)
			return fail(err, errlen, "%s: maxmem (%ld MiB) is lower than memory (%ld MiB)",
				    filename, l, mem_mib);
		g->spec.max_pages = (uint64_t)l * MIB_PAGES;
	}

	if ((r = get_long_opt(cfg, "vcpus", 1, 128, &l, &have, filename, err, errlen)))
		return r;
	g->spec.vcpus = have ? (uint32_t)l : 1;

	/* pci = [ ... ]: any device means passthrough (sharing gives -EXDEV) */
	r = xlu_cfg_get_list(cfg, "pci", NULL, &nr_pci, 1);
	if (r && r != ESRCH)
		return fail(err, errlen, "%s: pci must be a list, e.g. pci = [ \"01:00.0\" ]", filename);
	g->spec.passthrough = (r == 0 && nr_pci > 0);

	if ((r = get_string_opt(cfg, "uuid", &s, report, rbuf, filename, err, errlen)))
		return r;
	if (s) {
		if (parse_uuid(s, g->spec.uuid))
			return fail(err, errlen, "%s: uuid \"%s\" is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
				    filename, s);
		g->uuid_given = true;
	}

	if ((r = get_string_opt(cfg, "on_crash", &s, report, rbuf, filename, err, errlen)))
		return r;
	g->on_crash = SIM_ON_CRASH_DESTROY;
	if (s) {
		if (!strcmp(s, "preserve"))
			g->on_crash = SIM_ON_CRASH_PRESERVE;
		else if (strcmp(s, "destroy"))
			return fail(err, errlen, "%s: on_crash \"%s\" is not simulated (destroy, preserve)",
				    filename, s);
	}

	/* the patched xl's opt-in keys */
	if ((r = get_string_opt(cfg, "mem_sharing", &s, report, rbuf, filename, err, errlen)))
		return r;
	if (s) {
		if (strcmp(s, "on") && strcmp(s, "off") && strcmp(s, "zero"))
			return fail(err, errlen, "%s: mem_sharing \"%s\" must be \"on\", \"off\" or \"zero\"",
				    filename, s);
		snprintf(g->mem_sharing, sizeof(g->mem_sharing), "%s", s);
	}
	if ((r = get_string_opt(cfg, "mem_sharing_group", &s, report, rbuf, filename, err, errlen)))
		return r;
	if (s) {
		if (!*s || strlen(s) >= sizeof(g->mem_sharing_group))
			return fail(err, errlen, "%s: mem_sharing_group must be 1 to %zu characters",
				    filename, sizeof(g->mem_sharing_group) - 1);
		snprintf(g->mem_sharing_group, sizeof(g->mem_sharing_group), "%s", s);
	}

	/* simulation-only keys */
	const char *image, *core, *profile, *generated;

	if ((r = get_string_opt(cfg, "sim_image", &image, report, rbuf, filename, err, errlen)) ||
	    (r = get_string_opt(cfg, "sim_core", &core, report, rbuf, filename, err, errlen)) ||
	    (r = get_string_opt(cfg, "sim_profile", &profile, report, rbuf, filename, err, errlen)) ||
	    (r = get_string_opt(cfg, "sim_generated", &generated, report, rbuf, filename, err, errlen)))
		return r;
	if (!!image + !!core + !!profile + !!generated > 1)
		return fail(err, errlen, "%s: sim_image, sim_core, sim_profile and sim_generated exclude each other",
			    filename);
	g->content = SIM_CONTENT_ZERO;
	if (image || core) {
		g->content = image ? SIM_CONTENT_IMAGE : SIM_CONTENT_CORE;
		if (resolve_path(basedir, image ? image : core, g->content_path,
				 sizeof(g->content_path)))
			return fail(err, errlen, "%s: path too long", filename);
	} else if (profile) {
		g->content = SIM_CONTENT_PROFILE;
		char perr[256];

		if (sim_profile_parse(profile, &g->profile, perr, sizeof(perr)))
			return fail(err, errlen, "%s: %s", filename, perr);
	} else if (generated) {
		/* the same mix as sim_profile, held as keys by the hypervisor model */
		g->content = SIM_CONTENT_GENERATED;
		char perr[256];

		if (sim_profile_parse(generated, &g->profile, perr, sizeof(perr)))
			return fail(err, errlen, "%s: sim_generated: %s", filename, perr);
	}
	if ((r = get_string_opt(cfg, "sim_os_dir", &s, report, rbuf, filename, err, errlen)))
		return r;
	if (resolve_path(basedir, s ? s : SIM_DEFAULT_OS_DIR, g->os_dir, sizeof(g->os_dir)))
		return fail(err, errlen, "%s: sim_os_dir path too long", filename);

	if ((r = get_long_opt(cfg, "sim_seed", 0, LONG_MAX, &l, &have, filename, err, errlen)))
		return r;
	g->seed = have ? (uint64_t)l : name_seed(g->spec.name);
	if ((r = get_long_opt(cfg, "sim_write_rate", 0, 10000000, &l, &have, filename, err, errlen)))
		return r;
	g->write_rate = have ? (double)l : 0;
	if ((r = get_long_opt(cfg, "sim_working_set", 1, LONG_MAX, &l, &have, filename, err, errlen)))
		return r;
	g->working_set = have ? (uint64_t)l : SIM_DEFAULT_WORKING_SET;
	if (g->working_set > g->spec.nr_pages)
		g->working_set = g->spec.nr_pages;
	/* sim_write_aim: a quoted fraction ("0.5": xl's lexer has no decimals), or 0 / 1 */
	if ((r = get_string_opt(cfg, "sim_write_aim", &s, report, rbuf, filename, err, errlen)))
		return r;
	g->write_aim = 0;
	if (s) {
		char *end;

		errno = 0;
		g->write_aim = strtod(s, &end);
		if (end == s || *end || errno || !(g->write_aim >= 0 && g->write_aim <= 1))
			return fail(err, errlen, "%s: sim_write_aim = \"%s\" must be a fraction between 0 and 1",
				    filename, s);
	}
	return 0;
}

int sim_xlcfg_parse(const char *filename, const char *data, size_t len,
		    const char *const *overrides, unsigned int nr_overrides,
		    const char *basedir, struct sim_guest_cfg *out,
		    char *err, size_t errlen)
{
	char *text = NULL, *rbuf = NULL;
	size_t tlen = len, rlen = 0;
	FILE *report = NULL;
	XLU_Config *cfg = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (memchr(data, '\0', len))
		return fail(err, errlen, "%s: not a text file (contains NUL bytes)", filename);
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, data, len);
	text[len] = '\0';
	for (unsigned int i = 0; i < nr_overrides; i++) {
		r = append_override(&text, &tlen, overrides[i], err, errlen);
		if (r)
			goto out;
	}
	r = check_sim_keys(text, filename, err, errlen);
	if (r)
		goto out;

	report = open_memstream(&rbuf, &rlen);
	if (!report) {
		r = -ENOMEM;
		goto out;
	}
	cfg = xlu_cfg_init(report, filename);
	if (!cfg) {
		r = -ENOMEM;
		goto out;
	}
	r = xlu_cfg_readdata(cfg, text, (int)tlen);
	if (r) {
		r = fail_report(err, errlen, report, &rbuf, filename, "cannot parse");
		goto out;
	}
	r = interpret(cfg, report, &rbuf, filename, basedir, out, err, errlen);
out:
	if (cfg)
		xlu_cfg_destroy(cfg);
	if (report)
		fclose(report);
	free(rbuf);
	free(text);
	return r;
}
