/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statfmt_ut.c - unit tests of xenshare-stat's pure half
 * (tools/xenshare-stat/statfmt.c): the derived totals and their formulas,
 * the notes that explain where hypervisor and daemon disagree, and the
 * table / JSON / Prometheus output of fixed snapshots compared byte for
 * byte with tests/golden/stat-*.
 *
 * Golden files are the reviewed expected output.  After an intended
 * format change, regenerate them with XST_GOLDEN_UPDATE=1 and review the
 * diff (git diff tests/golden) before committing: the update mode writes,
 * it never passes silently (each test still asserts the file was written).
 * The release (VERSION) that xenshare-stat prints is @VERSION@ in the
 * golden files, so that a new release does not rewrite them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

#include "tools/xenshare-stat/statfmt.h"
#include "ut_common.h"
#include "xenshare_version.h"

#ifndef XST_GOLDEN_DIR
#error "XST_GOLDEN_DIR must name tests/golden"
#endif

static struct xst_domain full_doms[4];
static struct xst_snapshot full;   /* hypervisor and daemon both up */
static struct xst_snapshot dmdown; /* hypervisor only */
static struct xst_snapshot hvdown; /* daemon only */

static void dom(struct xst_domain *d, uint32_t domid, const char *name, const char *group,
		const char *mode, uint64_t tot, uint64_t shr)
{
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->group, sizeof(d->group), "%s", group);
	snprintf(d->mode, sizeof(d->mode), "%s", mode);
	d->in_hv = true;
	d->tot_pages = tot;
	d->shr_pages = shr;
}

/* The domain as a daemon of the first protocol reports it (no unshares,
 * no evicting: the lines added later are absent). */
static void daemon_of(struct xst_domain *d, uint64_t sharing, uint64_t vol, double uns,
		      double scan)
{
	d->in_daemon = true;
	d->dm.tot_pages = d->tot_pages;
	d->dm.shr_pages = d->shr_pages;
	d->dm.engine_pages_sharing = sharing;
	d->dm.pages_volatile = vol;
	d->dm.unshares_per_s = uns;
	d->dm.scan_progress = scan;
	for (size_t i = 0; i < xsd_stats_domain.n; i++)
		d->dm_has[i] = xsd_stats_domain.v[i].flags & SHR_REQUIRED;
}

/* Marks present the lines of table t that every reply carries, and those
 * named in also (NULL-terminated). */
static void present(const struct xsd_stat_table *t, bool *has, const char *const *also)
{
	for (size_t i = 0; i < t->n; i++) {
		has[i] = t->v[i].flags & SHR_REQUIRED;
		for (size_t k = 0; also && also[k]; k++)
			if (!strcmp(also[k], t->v[i].key))
				has[i] = true;
	}
}

/*
 * The fixture: dom0 (no sharing), two guests the daemon manages, and one
 * guest with pages shared by another tool.  Hypervisor invariant holds:
 * sum(shr_pages) = 0 + 40000 + 30000 + 2000 = 72000 = freed 50000 + used 22000.
 */
static void build_fixtures(void)
{
	struct xst_daemon *dm = &full.daemon;

	dom(&full_doms[0], 0, "Domain-0", "", "", 262144, 0);
	dom(&full_doms[1], 1, "web1", "default", "on", 91072, 40000);
	daemon_of(&full_doms[1], 30000, 120, 1.5, 0.37);
	dom(&full_doms[2], 2, "web \"two\"", "tenant-a", "zero", 101072, 30000);
	daemon_of(&full_doms[2], 19000, 0, 0, 1);
	dom(&full_doms[3], 7, "clone", "", "", 63536, 2000);

	full.hv = (struct xst_hv){ .ok = true, .freed_pages = 50000, .used_frames = 22000,
				   .total_pages = 1048576, .free_pages = 300000 };
	/* the daemon of today: every line, ... */
	*dm = (struct xst_daemon){ .state = XST_DAEMON_UP };
	dm->own = (struct xsd_stats){ .pid = 1234, .uptime_s = 61.2, .cpu_percent = 12.5,
				      .domains_known = 3, .domains_sharing = 2,
				      .sharing_freed_pages = 49000, .sharing_used_frames = 21000,
				      .dom0_balloon_pages = 4096 };
	dm->engine = (struct shr_stats){ .full_scans = 3, .pass_time_s = 4.2, .pass_progress = 0.37,
					 .settled = true, .protocol_in_use = SHR_PROTO_BATCHED,
					 .cpu_s = 40.1, .index_bytes = 2256468, .pages_indexed = 262146,
					 .host_total_pages = 1048576, .host_free_pages = 300000,
					 .reserve_pages = 65536, .pages_at_risk = 49000,
					 .pages_needed = 0, .memory_requests = 2,
					 .pages_shared = 21000, .pages_sharing = 49000,
					 .pages_unshared = 1000, .pages_volatile = 120,
					 .pages_scanned = 4000000, .zero_pages_sharing = 19000,
					 .engine_pages_sharing = 48800, .share_attempts = 60000,
					 .share_raced = 12, .share_failed = 1, .compare_mismatch = 2,
					 .unshares = 300, .unshares_rewritten = 4,
					 .nominations_released = 5, .hypercalls = 56978,
					 .mappings = 19404, .mapped_pages = 310464 };
	present(&xsd_stats_daemon, dm->own_has, (const char *const[]){ "domains_known",
		"domains_sharing", "dom0_balloon_pages", NULL });
	/* ... but engine_cpu_s, as a daemon that does not send it yet */
	present(&xsd_stats_engine, dm->engine_has, (const char *const[]){ "index_bytes",
		"pages_indexed", "pages_at_risk", "pages_needed", "memory_requests",
		"engine_pages_sharing", "share_failed", "compare_mismatch", "unshares_rewritten",
		"nominations_released", "hypercalls", "mappings", "mapped_pages", NULL });
	strcpy(dm->version, "9.9.9");
	full.nr_domains = 4;
	full.domains = full_doms;
	full.burst_percent = 50;
	/* a reader that has seen the differences last (struct xst_recon) */
	for (int k = 0; k < XST_RECON_NR; k++)
		full.recon.streak[k] = XST_RECON_READS;

	/* daemon down: same hypervisor, no daemon fields */
	dmdown = full;
	memset(&dmdown.daemon, 0, sizeof(dmdown.daemon));
	dmdown.daemon.state = XST_DAEMON_REFUSED;
	strcpy(dmdown.daemon.error, "/run/xenshared/control.sock: connection refused");
	dmdown.domains = calloc(4, sizeof(struct xst_domain));
	memcpy(dmdown.domains, full_doms, sizeof(full_doms));
	for (int i = 0; i < 4; i++)
		dmdown.domains[i].in_daemon = false;

	/* hypervisor unreadable, daemon up: its copy of the counters is used */
	hvdown = full;
	hvdown.hv = (struct xst_hv){ .ok = false };
	strcpy(hvdown.hv.error, "cannot open the hypervisor interface: Permission denied");
	hvdown.nr_domains = 2;
	hvdown.domains = calloc(2, sizeof(struct xst_domain));
	hvdown.domains[0] = full_doms[1];
	hvdown.domains[1] = full_doms[2];
	for (int i = 0; i < 2; i++) {
		hvdown.domains[i].in_hv = false;
		hvdown.domains[i].shr_pages = 0;
	}
	/* a domain the engine is unsharing, which a daemon of today tells */
	hvdown.domains[1].dm.evicting = true;
	hvdown.domains[1].dm.unshares = 17;
	for (size_t i = 0; i < xsd_stats_domain.n; i++)
		hvdown.domains[1].dm_has[i] = true;
}

static char *render(int (*fn)(FILE *, const struct xst_snapshot *), const struct xst_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(fn(m, s) == 0);
	fclose(m);
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * Replaces the release where xenshare-stat prints its own (the table's
 * first word after "xenshare-stat ", the JSON's first key) by @VERSION@.
 * Only the exact XENSHARE_VERSION is replaced: another version there
 * stays, and fails the comparison.
 */
static char *version_neutral(const char *out)
{
	static const char *const heads[] = { "xenshare-stat ", "{\"version\":\"" };
	size_t vl = strlen(XENSHARE_VERSION);
	char *r = malloc(strlen(out) + sizeof("@VERSION@"));

	CU_ASSERT_FATAL(r != NULL);
	strcpy(r, out);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		size_t hl = strlen(heads[i]);

		if (!strncmp(out, heads[i], hl) && !strncmp(out + hl, XENSHARE_VERSION, vl)) {
			sprintf(r + hl, "@VERSION@%s", out + hl + vl);
			break;
		}
	}
	return r;
}

/* Compares out with tests/golden/NAME; prints the first differing line. */
static void golden(const char *name, const char *out_raw)
{
	char path[512];
	char *want, *out = version_neutral(out_raw);

	snprintf(path, sizeof(path), "%s/%s", XST_GOLDEN_DIR, name);
	if (getenv("XST_GOLDEN_UPDATE")) {
		FILE *f = fopen(path, "w");

		CU_ASSERT_FATAL(f != NULL);
		fputs(out, f);
		CU_ASSERT(fclose(f) == 0);
		fprintf(stderr, "\n  wrote %s", path);
		free(out);
		return;
	}
	want = slurp(path);
	if (!want) {
		fprintf(stderr, "\n  missing golden file %s", path);
		CU_FAIL("golden file missing");
		free(out);
		return;
	}
	if (strcmp(want, out) != 0) {
		const char *a = want, *b = out;
		int line = 1;

		while (*a && *a == *b) {
			if (*a == '\n')
				line++;
			a++;
			b++;
		}
		fprintf(stderr, "\n  %s differs at line %d:\n  want: %.80s\n  got:  %.80s\n",
			name, line, a, b);
	}
	CU_ASSERT_STRING_EQUAL(out, want);
	free(want);
	free(out);
}

/* saved = freed pages; ratio = (saved + used) / used; % of guest memory
 * counts only domU memory (tot_pages + shr_pages), never dom0's. */
static void test_totals_formulas(void)
{
	struct xst_totals t;

	xst_totals_compute(&full, &t);
	CU_ASSERT(t.have_saved && t.saved_from_hv);
	CU_ASSERT_EQUAL(t.saved_pages, 50000);
	CU_ASSERT_EQUAL(t.used_frames, 22000);
	CU_ASSERT_EQUAL(t.sum_shr_pages, 72000);
	CU_ASSERT_EQUAL(t.sum_shr_pages, t.saved_pages + t.used_frames);
	CU_ASSERT_EQUAL(t.guest_pages, 91072 + 40000 + 101072 + 30000 + 63536 + 2000);
	CU_ASSERT_DOUBLE_EQUAL(t.saved_percent, 100.0 * 50000 / 327680, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(t.sharing_ratio, 72000.0 / 22000, 1e-9);
	CU_ASSERT_EQUAL(t.reserve_pages, 65536);
	CU_ASSERT_EQUAL(t.free_pages, 300000);
}

/* Without the hypervisor the daemon's copy of the counters is used and
 * flagged as such; without either nothing is claimed. */
static void test_totals_fallbacks(void)
{
	struct xst_totals t;
	struct xst_snapshot none = { .hv = { .ok = false }, .daemon = { .state = XST_DAEMON_ABSENT } };

	xst_totals_compute(&hvdown, &t);
	CU_ASSERT(t.have_saved);
	CU_ASSERT_FALSE(t.saved_from_hv);
	CU_ASSERT_EQUAL(t.saved_pages, 49000);
	CU_ASSERT_EQUAL(t.used_frames, 21000);
	xst_totals_compute(&none, &t);
	CU_ASSERT_FALSE(t.have_saved);
	CU_ASSERT_EQUAL(t.sharing_ratio, 0);
	CU_ASSERT_EQUAL(t.saved_percent, 0);
}

/* A daemon whose own read of the hypervisor failed (-1) gives no savings
 * to fall back on: nothing is claimed rather than -1 pages. */
static void test_totals_daemon_unanswered(void)
{
	struct xst_totals t;
	struct xst_snapshot s = hvdown;

	s.daemon.own.sharing_freed_pages = -1;
	s.daemon.own.sharing_used_frames = -1;
	xst_totals_compute(&s, &t);
	CU_ASSERT_FALSE(t.have_saved);
	CU_ASSERT_EQUAL(t.saved_pages, 0);
	CU_ASSERT(t.have_free);
}

/* A line the reply did not carry (engine_cpu_s in the fixture: an older
 * daemon) is null in the JSON and has no Prometheus series; one it did
 * carry that no earlier daemon had (dom0_balloon_pages) is shown. */
static void test_absent_lines(void)
{
	char *j = render(xst_format_json, &full), *p = render(xst_format_prometheus, &full);

	CU_ASSERT(strstr(j, "\"engine_cpu_s\":null") != NULL);
	CU_ASSERT(strstr(j, "\"dom0_balloon_pages\":4096") != NULL);
	CU_ASSERT(strstr(p, "xenshare_engine_cpu_seconds_total") == NULL);
	CU_ASSERT(strstr(p, "\nxenshare_dom0_balloon_pages_total 4096\n") != NULL);
	/* the hypervisor's own counts are not repeated from the daemon */
	CU_ASSERT(strstr(strstr(j, "\"daemon\":"), "\"sharing_freed_pages\"") == NULL);
	free(j);
	free(p);
}

/* With every line present, each one the daemon sends is in the JSON output
 * (daemon and host lines in "daemon", counters in "daemon.counters", a
 * domain's in its object) but the hypervisor's own counts, and each line
 * with a metric is a Prometheus family of its kind with a sample. */
static void test_every_line_shown(void)
{
	struct xst_snapshot s = full;
	struct xst_domain doms[4];
	struct json_object *root, *dm, *counters, *dom1, *v;
	char *j, *p, want[200];
	const struct { const struct xsd_stat_table *t; bool *has; } global[] = {
		{ &xsd_stats_daemon, s.daemon.own_has }, { &xsd_stats_engine, s.daemon.engine_has },
	};

	memcpy(doms, full_doms, sizeof(doms));
	s.domains = doms;
	for (size_t g = 0; g < 2; g++)
		for (size_t i = 0; i < global[g].t->n; i++)
			global[g].has[i] = true;
	for (size_t i = 0; i < xsd_stats_domain.n; i++)
		doms[1].dm_has[i] = true;
	j = render(xst_format_json, &s);
	p = render(xst_format_prometheus, &s);
	root = json_tokener_parse(j);
	CU_ASSERT_FATAL(root && json_object_object_get_ex(root, "daemon", &dm) &&
			json_object_object_get_ex(dm, "counters", &counters));
	dom1 = json_object_array_get_idx(json_object_object_get(root, "domains"), 1);
	CU_ASSERT_FATAL(dom1 != NULL);
	for (size_t g = 0; g < 3; g++) {
		const struct xsd_stat_table *t = g < 2 ? global[g].t : &xsd_stats_domain;

		for (size_t i = 0; i < t->n; i++) {
			const struct xsd_stat *x = &t->v[i];
			struct json_object *o = x->section == SHR_SEC_DOMAIN ? dom1 :
						x->section == SHR_SEC_COUNTERS ? counters : dm;
			bool there = json_object_object_get_ex(o, x->key, &v);

			if (x->flags & SHR_HV) {
				CU_ASSERT(x->section == SHR_SEC_DOMAIN || !there);
			} else {
				CU_ASSERT(there && !json_object_is_type(v, json_type_null));
				if (!there)
					fprintf(stderr, "\n  JSON lacks %s", x->key);
			}
			if (!x->prom[0])
				continue;
			snprintf(want, sizeof(want), "\n# TYPE %s %s\n%s%s", x->prom,
				 x->kind == SHR_STAT_COUNTER ? "counter" : "gauge", x->prom,
				 x->section == SHR_SEC_DOMAIN ? "{" : " ");
			CU_ASSERT(strstr(p, want) != NULL);
			if (!strstr(p, want))
				fprintf(stderr, "\n  Prometheus lacks %s", x->prom);
		}
	}
	json_object_put(root);
	free(j);
	free(p);
}

struct note_log {
	int n;
	char text[8][800];
};

static void collect_note(const char *n, void *arg)
{
	struct note_log *l = arg;

	if (l->n < 8)
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s", n);
	l->n++;
}

static bool has_note(const struct note_log *l, const char *needle)
{
	for (int i = 0; i < l->n && i < 8; i++)
		if (strstr(l->text[i], needle))
			return true;
	return false;
}

/* Every disagreement between the sources is put into words: hypervisor vs
 * daemon savings, frames, and a domain sharing outside the daemon. */
static void test_notes_disagreement(void)
{
	struct note_log l = { 0 };

	xst_note_foreach(&full, collect_note, &l);
	CU_ASSERT_EQUAL(l.n, 3);
	CU_ASSERT(has_note(&l, "hypervisor counts 50000 pages saved, the daemon 49000"));
	CU_ASSERT(has_note(&l, "22000 shared frames in use, the daemon 21000"));
	CU_ASSERT(has_note(&l, "domain 7 (clone) has 2000 shared pages"));
}

/* A broken hypervisor invariant that lasts (domains raced the reads
 * three times over) is reported. */
static void test_notes_invariant(void)
{
	struct note_log l = { 0 };
	struct xst_snapshot s = dmdown;

	s.hv.freed_pages = 45000;
	xst_note_foreach(&s, collect_note, &l);
	CU_ASSERT(has_note(&l, "sum of shr_pages (72000) != freed + used (67000) over 3 reads"));
	CU_ASSERT(has_note(&l, "not answering"));
}

/* Motion between two reads reads calmly: a difference of 1 MiB or less,
 * or of 1% or less, is never noted however long it lasts, and one beyond
 * the threshold only after XST_RECON_READS consecutive reads; a read that
 * agrees starts the count again. */
static void test_notes_only_lasting_differences(void)
{
	struct xst_snapshot s = full;
	struct xst_recon r = { { 0 } };
	struct note_log l = { 0 };
	struct xst_domain doms[3];

	memcpy(doms, full.domains, sizeof(doms));
	s.domains = doms;
	s.nr_domains = 3;   /* without the foreign-shared "clone" */
	s.domains[2].shr_pages = 30000;
	/* 256 pages apart, and 1% of 49000: motion */
	s.hv.freed_pages = 49000 + 256;
	s.hv.used_frames = 21000 - 256 + 10;   /* 246 apart */
	for (int i = 0; i < 5; i++)
		xst_recon_update(&s, &r);
	CU_ASSERT_FALSE(xst_recon_pending(&r));
	s.recon = r;
	xst_note_foreach(&s, collect_note, &l);
	CU_ASSERT_EQUAL(l.n, 0);
	/* 1000 pages apart (2%): noted at the third read, not before */
	s.hv.freed_pages = 50000;
	s.hv.used_frames = 21000;
	s.domains[2].shr_pages = 31000;   /* the invariant holds */
	for (int i = 1; i <= XST_RECON_READS; i++) {
		xst_recon_update(&s, &r);
		s.recon = r;
		l.n = 0;
		xst_note_foreach(&s, collect_note, &l);
		CU_ASSERT_EQUAL(l.n, i == XST_RECON_READS);
		CU_ASSERT_EQUAL(xst_recon_pending(&r), i < XST_RECON_READS);
	}
	CU_ASSERT(has_note(&l, "hypervisor counts 50000 pages saved, the daemon 49000"));
	/* one agreeing read in between: the count starts again */
	s.hv.freed_pages = 49000;
	s.domains[2].shr_pages = 30000;
	xst_recon_update(&s, &r);
	s.hv.freed_pages = 50000;
	s.domains[2].shr_pages = 31000;
	xst_recon_update(&s, &r);
	s.recon = r;
	l.n = 0;
	xst_note_foreach(&s, collect_note, &l);
	CU_ASSERT_EQUAL(l.n, 0);
	CU_ASSERT_TRUE(xst_recon_pending(&r));
}

/* A daemon whose first pass has not ended shows how far it is, not a pass
 * time of 0.0 s and 0 full passes. */
static void test_table_first_pass(void)
{
	struct xst_snapshot s = full;
	char *o;

	s.daemon.engine.full_scans = 0;
	s.daemon.engine.pass_time_s = 0;
	s.daemon.engine.pass_progress = 0.95;
	o = render(xst_format_table, &s);
	CU_ASSERT(strstr(o, "first pass 95%") != NULL);
	CU_ASSERT(strstr(o, "pass time") == NULL);
	CU_ASSERT(strstr(o, "full passes") == NULL);
	free(o);
	o = render(xst_format_table, &full);
	CU_ASSERT(strstr(o, "pass time 4.2 s   3 full passes") != NULL);
	CU_ASSERT(strstr(o, "first pass") == NULL);
	free(o);
}

/* A daemon that agrees with the hypervisor produces no notes at all. */
static void test_notes_agreement(void)
{
	struct note_log l = { 0 };
	struct xst_snapshot s = full;

	s.nr_domains = 3;   /* without the foreign-shared "clone" */
	s.hv.freed_pages = 49000;
	s.hv.used_frames = 21000;
	s.domains[2].shr_pages = 30000;
	/* sum 70000 = 49000 + 21000 */
	xst_note_foreach(&s, collect_note, &l);
	CU_ASSERT_EQUAL(l.n, 0);
}

/*
 * Memory at risk is the memory saved (every shared page written); a 50%
 * burst of the 72000 pages on shared frames needs 36000; room is what is
 * left of free memory beyond the reserve and the burst.
 */
static void test_totals_headroom(void)
{
	struct xst_totals t;
	struct xst_snapshot s = full;

	xst_totals_compute(&full, &t);
	CU_ASSERT(t.have_room);
	UT_ASSERT_EQ(t.at_risk_pages, 50000);
	UT_ASSERT_EQ(t.burst_pages, 36000);
	UT_ASSERT_EQ(t.room_pages, 300000 - 65536 - 36000);
	s.burst_percent = 100;                 /* capped by what sharing freed */
	xst_totals_compute(&s, &t);
	UT_ASSERT_EQ(t.burst_pages, 50000);
	s.hv = (struct xst_hv){ .ok = false };  /* no numbers, no claim */
	s.daemon.state = XST_DAEMON_ABSENT;
	xst_totals_compute(&s, &t);
	CU_ASSERT_FALSE(t.have_room);
}

/*
 * The admission figure from a domain's own numbers: web1 is 131072 pages
 * with 40000 shared, saving 40000 * 50000 / 72000 = 27777 once converged.
 * With 900000 free, reserve 65536, no burst, the n-th guest is created
 * while 900000 - (n - 1) (131072 - 27777) >= 131072 + 65536: 7 guests;
 * 6 if they shared nothing.  A domain the daemon does not manage, or any
 * domain while the daemon is down, gets the figure without sharing (the
 * new guest would not be shared); dom0 gets none.
 */
static void test_admission(void)
{
	struct xst_snapshot s = full, down = dmdown;
	uint64_t with = 99, without = 99;

	s.hv.free_pages = 900000;
	s.burst_percent = 0;
	CU_ASSERT_FATAL(xst_admission(&s, &s.domains[1], &with, &without));
	UT_ASSERT_EQ(with, 7);
	UT_ASSERT_EQ(without, 6);
	CU_ASSERT(xst_admission(&s, &s.domains[3], &with, &without));
	UT_ASSERT_EQ(with, without);
	CU_ASSERT_FALSE(xst_admission(&s, &s.domains[0], &with, &without));
	down.hv.free_pages = 900000;
	down.burst_percent = 0;
	CU_ASSERT(xst_admission(&down, &down.domains[1], &with, &without));
	UT_ASSERT_EQ(with, without);
	UT_ASSERT_EQ(without, 6);              /* 900000 / 131072: no reserve known */
	/* a burst can only lower it */
	s.burst_percent = 50;
	CU_ASSERT(xst_admission(&s, &s.domains[1], &with, &without));
	CU_ASSERT(with < 7 && without <= 6);
}

/* --like finds a domain by name or domid, and nothing else. */
static void test_find_domain(void)
{
	CU_ASSERT(xst_find_domain(&full, "web1") == &full.domains[1]);
	CU_ASSERT(xst_find_domain(&full, "web \"two\"") == &full.domains[2]);
	CU_ASSERT(xst_find_domain(&full, "7") == &full.domains[3]);
	CU_ASSERT(xst_find_domain(&full, "3") == NULL);
	CU_ASSERT(xst_find_domain(&full, "nosuch") == NULL);
	CU_ASSERT(xst_find_domain(&full, "") == NULL);
	CU_ASSERT(xst_find_domain(&full, "7x") == NULL);
}

/* The table answers --like for the domains named only, and its new lines
 * stay within 80 columns. */
static void test_table_like(void)
{
	static const char *const like[] = { "clone" };
	struct xst_snapshot s = full;
	char *o, *line, *save = NULL;

	s.hv.free_pages = 900000;
	o = render(xst_format_table, &s);
	CU_ASSERT(strstr(o, " more like web1 (") != NULL);
	CU_ASSERT(strstr(o, " more like clone (") != NULL);
	free(o);
	s.like = like;
	s.nr_like = 1;
	o = render(xst_format_table, &s);
	CU_ASSERT(strstr(o, " more like web1 (") == NULL);
	CU_ASSERT(strstr(o, "  12 more like clone (12 without sharing)\n") != NULL);
	for (line = strtok_r(o, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "Risk:", 5) || strstr(line, "more like") ||
		    strstr(line, "burst of") || strstr(line, "shared pages:"))
			CU_ASSERT(strlen(line) <= 80);
	free(o);
}

/* Sharing goes on below the reserve (the reserve governs admission): the
 * table says PAUSED only when the daemon says so, and a host below its
 * reserve has negative room and admits no guest. */
static void test_table_below_reserve(void)
{
	struct xst_snapshot s = full;
	uint64_t with = 99, without = 99;
	char *o;

	s.hv.free_pages = 60000;
	o = render(xst_format_table, &s);
	CU_ASSERT(strstr(o, "reserve 256.0 MiB   sharing active\n") != NULL);
	CU_ASSERT(strstr(o, "room -162.2 MiB\n") != NULL);   /* 60000 - 65536 - 36000 */
	free(o);
	CU_ASSERT(xst_admission(&s, &s.domains[3], &with, &without));
	CU_ASSERT(with == 0 && without == 0);
	s.daemon.engine.sharing_paused = true;
	o = render(xst_format_table, &s);
	CU_ASSERT(strstr(o, "sharing PAUSED (no free memory)\n") != NULL);
	free(o);
}

/* JSON and Prometheus carry the same headroom and admission figures. */
static void test_headroom_json_prom(void)
{
	char *j = render(xst_format_json, &full), *p = render(xst_format_prometheus, &full);
	struct json_object *root = json_tokener_parse(j), *h, *v, *d;

	CU_ASSERT_FATAL(root && json_object_object_get_ex(root, "headroom", &h));
	CU_ASSERT(json_object_object_get_ex(h, "at_risk_pages", &v) && json_object_get_int64(v) == 50000);
	CU_ASSERT(json_object_object_get_ex(h, "burst_pages", &v) && json_object_get_int64(v) == 36000);
	CU_ASSERT(json_object_object_get_ex(h, "room_pages", &v) &&
		  json_object_get_int64(v) == 300000 - 65536 - 36000);
	d = json_object_array_get_idx(json_object_object_get(root, "domains"), 0);
	CU_ASSERT(json_object_is_type(json_object_object_get(d, "admit"), json_type_null));
	d = json_object_array_get_idx(json_object_object_get(root, "domains"), 3);
	CU_ASSERT(json_object_object_get_ex(d, "admit", &v) &&
		  json_object_get_int64(json_object_object_get(v, "guests")) == 3);
	CU_ASSERT(strstr(p, "\nxenshare_at_risk_bytes 204800000\n") != NULL);
	CU_ASSERT(strstr(p, "\nxenshare_burst_ratio 0.5000\n") != NULL);
	CU_ASSERT(strstr(p, "\nxenshare_domain_admissible_guests{domain=\"clone\",domid=\"7\"} 3\n") != NULL);
	json_object_put(root);
	free(j);
	free(p);
}

/* Golden outputs: all three formats for the three fixtures. */
static void test_golden_full(void)
{
	char *o;

	o = render(xst_format_table, &full);
	golden("stat-full.table", o);
	free(o);
	o = render(xst_format_json, &full);
	golden("stat-full.json", o);
	free(o);
	o = render(xst_format_prometheus, &full);
	golden("stat-full.prom", o);
	free(o);
}

static void test_golden_daemon_down(void)
{
	char *o;

	o = render(xst_format_table, &dmdown);
	golden("stat-daemon-down.table", o);
	free(o);
	o = render(xst_format_json, &dmdown);
	golden("stat-daemon-down.json", o);
	free(o);
	o = render(xst_format_prometheus, &dmdown);
	golden("stat-daemon-down.prom", o);
	free(o);
}

static void test_golden_hv_down(void)
{
	char *o;

	o = render(xst_format_table, &hvdown);
	golden("stat-hv-down.table", o);
	free(o);
	o = render(xst_format_json, &hvdown);
	golden("stat-hv-down.json", o);
	free(o);
	o = render(xst_format_prometheus, &hvdown);
	golden("stat-hv-down.prom", o);
	free(o);
}

/* The JSON output is valid JSON whose numbers are the snapshot's (parsed
 * back with json-c, independent of the golden file). */
static void test_json_roundtrip(void)
{
	char *o = render(xst_format_json, &full);
	struct json_object *root = json_tokener_parse(o), *t, *v, *doms;

	CU_ASSERT_FATAL(root != NULL);
	CU_ASSERT_FATAL(json_object_object_get_ex(root, "totals", &t));
	CU_ASSERT(json_object_object_get_ex(t, "saved_pages", &v) && json_object_get_int64(v) == 50000);
	CU_ASSERT(json_object_object_get_ex(t, "used_frames", &v) && json_object_get_int64(v) == 22000);
	CU_ASSERT_FATAL(json_object_object_get_ex(root, "domains", &doms));
	CU_ASSERT_EQUAL(json_object_array_length(doms), 4);
	v = json_object_array_get_idx(doms, 2);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(v, "name")), "web \"two\"");
	CU_ASSERT(json_object_is_type(json_object_object_get(json_object_array_get_idx(doms, 3),
							     "pages_sharing"), json_type_null));
	json_object_put(root);
	free(o);
}

/* Prometheus: every sample line belongs to a family announced by # TYPE
 * just before its group, names are xenshare_*, and quotes in label values
 * are escaped. */
static void test_prometheus_shape(void)
{
	char *o = render(xst_format_prometheus, &full), *save = NULL;
	char family[128] = "";
	int samples = 0;

	for (char *line = strtok_r(o, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sscanf(line + 7, "%127s", family);
			continue;
		}
		if (line[0] == '#')
			continue;
		samples++;
		CU_ASSERT(strncmp(line, "xenshare_", 9) == 0);
		CU_ASSERT(strncmp(line, family, strlen(family)) == 0 &&
			  (line[strlen(family)] == ' ' || line[strlen(family)] == '{'));
	}
	CU_ASSERT(samples > 30);
	free(o);
	o = render(xst_format_prometheus, &full);
	CU_ASSERT(strstr(o, "{domain=\"web \\\"two\\\"\",domid=\"2\"}") != NULL);
	free(o);
}

int main(void)
{
	static const struct ut_test tests[] = {
		UT(test_totals_formulas),
		UT(test_totals_fallbacks),
		UT(test_totals_daemon_unanswered),
		UT(test_absent_lines),
		UT(test_every_line_shown),
		UT(test_notes_disagreement),
		UT(test_notes_invariant),
		UT(test_notes_agreement),
		UT(test_notes_only_lasting_differences),
		UT(test_table_first_pass),
		UT(test_totals_headroom),
		UT(test_admission),
		UT(test_find_domain),
		UT(test_table_like),
		UT(test_table_below_reserve),
		UT(test_headroom_json_prom),
		UT(test_golden_full),
		UT(test_golden_daemon_down),
		UT(test_golden_hv_down),
		UT(test_json_roundtrip),
		UT(test_prometheus_shape),
	};
	int failed;

	build_fixtures();
	failed = UT_RUN("statfmt", NULL, NULL, tests);
	free(dmdown.domains);
	free(hvdown.domains);
	return failed;
}
