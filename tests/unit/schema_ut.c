/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * schema_ut.c - unit tests of dom0-daemon/schema.c: the lists of
 * statistics as tables, the JSON and mirror text of a line, the rules the
 * lists' columns must keep (unique keys in every object they are written
 * to, Prometheus names that say their type and unit), and the docs'
 * copy of the generated table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

#include "dom0-daemon/schema.h"
#include "dom0-daemon/settings.h"   /* XSD_PAGE_SIZE */
#include "ut_common.h"

#ifndef XSD_DOCS_DIR
#error "XSD_DOCS_DIR must name docs/"
#endif

static const struct xsd_stat_table *const tables[] = {
	&xsd_stats_daemon, &xsd_stats_engine, &xsd_stats_domain,
};
#define NR_TABLES (sizeof(tables) / sizeof(tables[0]))

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static bool in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

static char *render_json(void (*fn)(struct xsd_json *j, const void *arg), const void *arg)
{
	struct xsd_json j;
	char *s;

	xsd_json_init(&j);
	xsd_json_obj_begin(&j, NULL);
	fn(&j, arg);
	xsd_json_obj_end(&j);
	CU_ASSERT_FATAL(xsd_json_finish(&j) == 0);
	s = strdup(j.buf);
	xsd_json_free(&j);
	return s;
}

/* ---- a list of the test's own, with a line added ------------------------ */

/* The engine's list and one line more, as a contributor would add it. */
#define TEST_STATS(X) SHR_STATS(X) \
	X(test_added, U64, COUNTER, PAGES, COUNTERS, "test_added", SHR_MIRROR, \
	  "xenshare_test_added_total", "a line added to the list")

struct test_stats {
	TEST_STATS(SHR_STATS_MEMBER)
};
#define ROW_TEST(...) XSD_STAT_ROW(struct test_stats, __VA_ARGS__)
static const struct xsd_stat test_rows[] = { TEST_STATS(ROW_TEST) };
static const struct xsd_stat_table test_table = {
	"TEST_STATS", test_rows, sizeof(test_rows) / sizeof(test_rows[0]),
};

static void json_test_counters(struct xsd_json *j, const void *arg)
{
	xsd_stats_json(j, &test_table, SHR_SEC_COUNTERS, arg);
}

/* A line added to a list is a struct member, a key of its section's JSON
 * object and a mirror node without another edit: the writers walk the
 * table, they do not name lines. */
static void test_added_line(void)
{
	struct test_stats st = { 0 };
	const struct xsd_stat *added = &test_rows[test_table.n - 1];
	struct json_object *o, *v;
	char *s, text[80];

	st.test_added = 4242;
	st.pages_sharing = 7;
	CU_ASSERT_STRING_EQUAL(added->name, "test_added");
	CU_ASSERT_EQUAL(added->offset, offsetof(struct test_stats, test_added));
	s = render_json(json_test_counters, &st);
	o = json_tokener_parse(s);
	CU_ASSERT_FATAL(o != NULL);
	CU_ASSERT(json_object_object_get_ex(o, "test_added", &v) && json_object_get_int64(v) == 4242);
	CU_ASSERT(json_object_object_get_ex(o, "pages_sharing", &v) && json_object_get_int64(v) == 7);
	json_object_put(o);
	free(s);
	CU_ASSERT(added->flags & SHR_MIRROR);
	xsd_stat_text(added, &st, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "4242");
}

/* ---- every line of the real lists --------------------------------------- */

/* Distinct values for line i of table t, written into base. */
static void fill(const struct xsd_stat_table *t, void *base)
{
	for (size_t i = 0; i < t->n; i++) {
		union xsd_stat_value v;

		memset(&v, 0, sizeof(v));
		switch (t->v[i].type) {
		case SHR_STAT_U64: v.u64 = 1000 + i; break;
		case SHR_STAT_I64: v.i64 = 2000 + (int64_t)i; break;
		case SHR_STAT_BOOL: v.b = true; break;
		case SHR_STAT_DBL: v.d = t->v[i].unit == SHR_UNIT_RATIO ? 0.25 : 3.5 + (double)i; break;
		case SHR_STAT_PROTO: v.proto = SHR_PROTO_BATCHED; break;
		}
		xsd_stat_set(&t->v[i], base, v);
	}
}

struct section_arg {
	const struct xsd_stat_table *t;
	enum shr_stat_section sec;
	const void *base;
};

static void json_section(struct xsd_json *j, const void *arg)
{
	const struct section_arg *a = arg;

	xsd_stats_json(j, a->t, a->sec, a->base);
}

/* Every line is written into its section's object under its key, with its
 * value, and no line lands in another section's. */
static void test_json_every_line(void)
{
	static struct xsd_stats own;
	static struct shr_stats engine;
	static struct shr_domain_stats dom;
	const void *bases[NR_TABLES] = { &own, &engine, &dom };

	fill(&xsd_stats_daemon, &own);
	fill(&xsd_stats_engine, &engine);
	fill(&xsd_stats_domain, &dom);
	for (size_t t = 0; t < NR_TABLES; t++) {
		for (enum shr_stat_section sec = SHR_SEC_DAEMON; sec <= SHR_SEC_DOMAIN; sec++) {
			struct section_arg a = { tables[t], sec, bases[t] };
			char *s = render_json(json_section, &a);
			struct json_object *o = json_tokener_parse(s), *v;
			size_t n = 0;

			CU_ASSERT_FATAL(o != NULL);
			for (size_t i = 0; i < tables[t]->n; i++) {
				const struct xsd_stat *st = &tables[t]->v[i];
				bool here = json_object_object_get_ex(o, st->key, &v);

				if (st->section != sec)
					continue;
				n++;
				CU_ASSERT(here);
				if (!here) {
					fprintf(stderr, "\n  %s: %s missing", tables[t]->list, st->key);
					continue;
				}
				switch (st->type) {
				case SHR_STAT_U64: CU_ASSERT_EQUAL(json_object_get_int64(v), 1000 + (int64_t)i); break;
				case SHR_STAT_I64: CU_ASSERT_EQUAL(json_object_get_int64(v), 2000 + (int64_t)i); break;
				case SHR_STAT_BOOL: CU_ASSERT(json_object_get_boolean(v)); break;
				case SHR_STAT_DBL: CU_ASSERT(json_object_get_double(v) > 0); break;
				case SHR_STAT_PROTO: CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "batched"); break;
				}
			}
			CU_ASSERT_EQUAL(json_object_object_length(o), (int)n);
			json_object_put(o);
			free(s);
		}
	}
}

/* The mirror's text of each type, as docs/control-protocol.md says it. */
static void test_mirror_text(void)
{
	struct xsd_stats own = { .pid = 77, .cpu_percent = 12.345, .sharing_freed_pages = -1 };
	struct shr_stats st = { .settled = true, .sharing_paused = false, .pass_time_s = 4.25,
				.protocol_in_use = SHR_PROTO_UPSTREAM, .pages_sharing = 18446744073709551615u };
	struct shr_domain_stats dom = { .scan_progress = 0.37 };
	static const struct { const struct xsd_stat_table *t; const void *base; const char *key, *want; } cases[] = {
		{ &xsd_stats_daemon, NULL, "pid", "77" },
		{ &xsd_stats_daemon, NULL, "cpu_percent", "12.3" },
		{ &xsd_stats_daemon, NULL, "sharing_freed_pages", "-1" },
		{ &xsd_stats_engine, NULL, "settled", "1" },
		{ &xsd_stats_engine, NULL, "sharing_paused", "0" },
		{ &xsd_stats_engine, NULL, "pass_time_s", "4.2" },
		{ &xsd_stats_engine, NULL, "protocol", "upstream" },
		{ &xsd_stats_engine, NULL, "pages_sharing", "18446744073709551615" },
		{ &xsd_stats_domain, NULL, "scan_progress", "0.370" },
	};
	char text[80];

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const void *base = cases[c].t == &xsd_stats_daemon ? (const void *)&own :
				   cases[c].t == &xsd_stats_engine ? (const void *)&st : (const void *)&dom;
		bool found = false;

		for (size_t i = 0; i < cases[c].t->n; i++) {
			if (strcmp(cases[c].t->v[i].key, cases[c].key))
				continue;
			found = true;
			xsd_stat_text(&cases[c].t->v[i], base, text, sizeof(text));
			CU_ASSERT_STRING_EQUAL(text, cases[c].want);
		}
		CU_ASSERT(found);
	}
}

/* What set() writes, get() reads back, at the line's own field (the
 * offsets are the struct's), for every type; protocol names round-trip. */
static void test_get_set(void)
{
	static struct shr_stats st;
	static struct xsd_stats own;
	enum shr_protocol p;

	fill(&xsd_stats_engine, &st);
	fill(&xsd_stats_daemon, &own);
	for (size_t i = 0; i < xsd_stats_engine.n; i++) {
		const struct xsd_stat *x = &xsd_stats_engine.v[i];
		union xsd_stat_value v = xsd_stat_get(x, &st);

		if (x->type == SHR_STAT_U64)
			CU_ASSERT_EQUAL(v.u64, 1000 + i);
		if (!strcmp(x->name, "pages_sharing"))
			CU_ASSERT_EQUAL(st.pages_sharing, 1000 + i);
		if (!strcmp(x->name, "pass_progress"))
			CU_ASSERT_DOUBLE_EQUAL(st.pass_progress, 0.25, 0);
		if (!strcmp(x->name, "protocol_in_use"))
			CU_ASSERT_EQUAL(st.protocol_in_use, SHR_PROTO_BATCHED);
	}
	for (size_t i = 0; i < xsd_stats_daemon.n; i++)
		if (!strcmp(xsd_stats_daemon.v[i].name, "pid"))
			CU_ASSERT_EQUAL(own.pid, 2000 + (int64_t)i);
	CU_ASSERT(st.settled && st.sharing_paused);
	CU_ASSERT_EQUAL(xsd_stat_proto_parse("batched", &p), 0);
	CU_ASSERT_EQUAL(p, SHR_PROTO_BATCHED);
	CU_ASSERT_EQUAL(xsd_stat_proto_parse("upstream", &p), 0);
	CU_ASSERT_EQUAL(p, SHR_PROTO_UPSTREAM);
	CU_ASSERT_EQUAL(xsd_stat_proto_parse("fast", &p), -EINVAL);
}

/* The keys of each object a line is written to are unique: the `stats`
 * sections (both global lists share them), a domain's object, the mirror's
 * root and a domain's directory, and xenshare-stat's flat "daemon" object.
 * Names the code writes by hand are taken too. */
static void test_unique_keys(void)
{
	static const char *const stats_domain_hand[] = {
		"domid", "name", "group", "mode", "policy_source", "note", "in_engine", "held_group", NULL,
	};
	static const char *const xst_domain_hand[] = {
		"domid", "name", "group", "mode", "in_hypervisor", "in_daemon", "tot_pages", "shr_pages",
		"memory_mib", "saved_mib", NULL,
	};
	static const char *const xst_daemon_hand[] = { "state", "error", "version", "counters", NULL };
	static const char *const mirror_hand[] = { "version", "domain", NULL };
	static const char *const mirror_domain_hand[] = { "name", "mode", "group", NULL };

	for (size_t a = 0; a < NR_TABLES; a++) {
		for (size_t i = 0; i < tables[a]->n; i++) {
			const struct xsd_stat *x = &tables[a]->v[i];
			bool dom = x->section == SHR_SEC_DOMAIN;
			bool xst_flat = x->section == SHR_SEC_DAEMON || x->section == SHR_SEC_HOST;

			if (dom)
				CU_ASSERT_FALSE(in(x->key, stats_domain_hand));
			if (dom && !(x->flags & SHR_HV))
				CU_ASSERT_FALSE(in(x->key, xst_domain_hand));
			if (xst_flat && !(x->flags & SHR_HV))
				CU_ASSERT_FALSE(in(x->key, xst_daemon_hand));
			if (x->flags & SHR_MIRROR)
				CU_ASSERT_FALSE(in(x->key, dom ? mirror_domain_hand : mirror_hand));
			for (size_t b = a; b < NR_TABLES; b++) {
				for (size_t k = b == a ? i + 1 : 0; k < tables[b]->n; k++) {
					const struct xsd_stat *y = &tables[b]->v[k];
					bool same = !strcmp(x->key, y->key);
					bool y_dom = y->section == SHR_SEC_DOMAIN;
					bool y_flat = y->section == SHR_SEC_DAEMON || y->section == SHR_SEC_HOST;

					/* one object of the reply */
					if (same && x->section == y->section)
						fprintf(stderr, "\n  key %s twice in %s", x->key,
							xsd_stat_section_name(x->section));
					CU_ASSERT(!(same && x->section == y->section));
					/* the mirror: the root, or a domain's directory */
					CU_ASSERT(!(same && (x->flags & y->flags & SHR_MIRROR) && dom == y_dom));
					/* xenshare-stat's "daemon": daemon and host side by side */
					CU_ASSERT(!(same && xst_flat && y_flat &&
						    !((x->flags | y->flags) & SHR_HV)));
				}
			}
		}
	}
}

/* Prometheus: names unique and xenshare_*, a domain's xenshare_domain_*,
 * none of the names xenshare-stat writes by hand; a counter's ends in
 * _total and nothing else's does; the unit is in the name where
 * Prometheus's rules put it, and every conversion the exporter makes is
 * one the name announces; the hypervisor's own counts and names are not
 * exported from the daemon. */
static void test_prometheus_names(void)
{
	static const char *const hand[] = {
		"xenshare_hypervisor_up", "xenshare_daemon_up", "xenshare_saved_pages",
		"xenshare_saved_bytes", "xenshare_shared_frames", "xenshare_guest_memory_bytes",
		"xenshare_sharing_ratio", "xenshare_host_total_bytes", "xenshare_host_free_bytes",
		"xenshare_domain_info", "xenshare_domain_memory_bytes", "xenshare_domain_shared_pages",
		NULL,
	};

	for (size_t a = 0; a < NR_TABLES; a++) {
		for (size_t i = 0; i < tables[a]->n; i++) {
			const struct xsd_stat *x = &tables[a]->v[i];
			double scale = xsd_stat_prom_scale(x);

			if (x->flags & SHR_HV || x->type == SHR_STAT_PROTO)
				CU_ASSERT_STRING_EQUAL(x->prom, "");
			if (!x->prom[0])
				continue;
			CU_ASSERT(strncmp(x->prom, x->section == SHR_SEC_DOMAIN ? "xenshare_domain_" : "xenshare_",
					  x->section == SHR_SEC_DOMAIN ? 16 : 9) == 0);
			CU_ASSERT(x->section == SHR_SEC_DOMAIN || strncmp(x->prom, "xenshare_domain_", 16));
			CU_ASSERT_FALSE(in(x->prom, hand));
			CU_ASSERT_EQUAL(x->kind == SHR_STAT_COUNTER, ends_with(x->prom, "_total"));
			if (x->unit == SHR_UNIT_SECONDS)
				CU_ASSERT(strstr(x->prom, "_seconds") != NULL);
			if (x->unit == SHR_UNIT_RATIO || x->unit == SHR_UNIT_PERCENT)
				CU_ASSERT(ends_with(x->prom, "_ratio"));
			if (x->unit == SHR_UNIT_BYTES || scale == XSD_PAGE_SIZE)
				CU_ASSERT(ends_with(x->prom, "_bytes"));
			if (scale != 1)
				CU_ASSERT((x->unit == SHR_UNIT_PAGES && ends_with(x->prom, "_bytes")) ||
					  (x->unit == SHR_UNIT_PERCENT && ends_with(x->prom, "_ratio")));
			for (size_t b = a; b < NR_TABLES; b++)
				for (size_t k = b == a ? i + 1 : 0; k < tables[b]->n; k++)
					CU_ASSERT(strcmp(x->prom, tables[b]->v[k].prom) != 0);
		}
	}
	/* the two conversions, on the lines that use them */
	for (size_t i = 0; i < xsd_stats_engine.n; i++)
		if (!strcmp(xsd_stats_engine.v[i].key, "reserve_pages"))
			CU_ASSERT_DOUBLE_EQUAL(xsd_stat_prom_scale(&xsd_stats_engine.v[i]), 4096, 0);
	for (size_t i = 0; i < xsd_stats_daemon.n; i++)
		if (!strcmp(xsd_stats_daemon.v[i].key, "cpu_percent"))
			CU_ASSERT_DOUBLE_EQUAL(xsd_stat_prom_scale(&xsd_stats_daemon.v[i]), 0.01, 0);
}

/* The columns' other rules: the per-domain list is all DOMAIN and the
 * others never are; keys are [a-z0-9_]; help is one line of words; only
 * integers may be -1-able (I64) and a PID is an I64. */
static void test_columns(void)
{
	for (size_t a = 0; a < NR_TABLES; a++) {
		for (size_t i = 0; i < tables[a]->n; i++) {
			const struct xsd_stat *x = &tables[a]->v[i];

			CU_ASSERT_EQUAL(x->section == SHR_SEC_DOMAIN, tables[a] == &xsd_stats_domain);
			CU_ASSERT(x->key[0] && strspn(x->key, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
			  strlen(x->key));
			CU_ASSERT(x->help[0] && !strchr(x->help, '\n') && !ends_with(x->help, "."));
			if (x->unit == SHR_UNIT_PID)
				CU_ASSERT_EQUAL(x->type, SHR_STAT_I64);
			if (x->type == SHR_STAT_BOOL || x->type == SHR_STAT_PROTO)
				CU_ASSERT_EQUAL(x->unit, SHR_UNIT_NONE);
		}
	}
}

static char *print_to_string(const char *fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(xsd_stats_print(m, fmt), 0);
	fclose(m);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* The docs cover every line: an =item of the POD and a row of the markdown
 * per line, balanced =over/=back; an unknown format is refused. */
static void test_docs_cover_lists(void)
{
	char *pod = print_to_string("pod"), *md = print_to_string("markdown"), want[160];
	FILE *null = fopen("/dev/null", "w");

	CU_ASSERT(strncmp(pod, "=head1 STATISTICS", 17) == 0);
	CU_ASSERT_EQUAL(count(pod, "=over"), count(pod, "=back"));
	for (size_t a = 0; a < NR_TABLES; a++) {
		for (size_t i = 0; i < tables[a]->n; i++) {
			const struct xsd_stat *x = &tables[a]->v[i];

			snprintf(want, sizeof(want), "=item B<%s>", x->key);
			CU_ASSERT(strstr(pod, want) != NULL);
			snprintf(want, sizeof(want), "| `%s` ", x->key);
			CU_ASSERT(strstr(md, want) != NULL);
			if (x->prom[0]) {
				snprintf(want, sizeof(want), "Prometheus B<%s>", x->prom);
				CU_ASSERT(strstr(pod, want) != NULL);
			}
		}
	}
	CU_ASSERT_FATAL(null != NULL);
	CU_ASSERT_EQUAL(xsd_stats_print(null, "yaml"), -EINVAL);
	fclose(null);
	free(pod);
	free(md);
}

/* docs/control-protocol.md holds the table `xenshared --print-stats=markdown`
 * prints today, between its two markers. */
static void test_docs_current(void)
{
	static const char begin[] = "<!-- xenshared --print-stats=markdown -->\n";
	static const char end[] = "<!-- end xenshared --print-stats=markdown -->\n";
	char path[512], *doc = NULL, *md = print_to_string("markdown"), *a, *b;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/control-protocol.md", XSD_DOCS_DIR);
	f = fopen(path, "r");
	CU_ASSERT_FATAL(f != NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	CU_ASSERT_FATAL(doc && fread(doc, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	a = strstr(doc, begin);
	b = a ? strstr(a, end) : NULL;
	CU_ASSERT_FATAL(a && b);
	a += strlen(begin);
	*b = '\0';
	if (strcmp(a, md))
		fprintf(stderr, "\n  %s: the statistics table is stale; replace it with the output of "
			"`xenshared --print-stats=markdown`", path);
	CU_ASSERT_STRING_EQUAL(a, md);
	free(doc);
	free(md);
}

UT_MAIN("schema", NULL, NULL,
	UT(test_added_line),
	UT(test_json_every_line),
	UT(test_mirror_text),
	UT(test_get_set),
	UT(test_unique_keys),
	UT(test_prometheus_names),
	UT(test_columns),
	UT(test_docs_cover_lists),
	UT(test_docs_current))
