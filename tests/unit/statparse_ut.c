/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statparse_ut.c - unit tests of tools/xenshare-stat/statparse.c: the
 * daemon's `stats` reply as docs/control-protocol.md defines it (accepted
 * with every field in place, rejected with the offending field named when
 * it breaks the contract), and the merge with the hypervisor's domain list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tools/xenshare-stat/statparse.h"
#include "ut_common.h"

/* The example of docs/control-protocol.md, comments removed, plus a second domain. */
static const char good_reply[] =
	"{\"version\":\"9.9.9\",\"daemon\":{\"pid\":1234,\"uptime_s\":61.2,\"cpu_percent\":12.5,"
	"\"protocol\":\"batched\",\"full_scans\":3,\"pass_time_s\":4.2,\"pass_progress\":0.37,"
	"\"settled\":true},\"host\":{\"total_pages\":786432,\"free_pages\":120000,"
	"\"reserve_pages\":65536,\"pages_at_risk\":210000,\"sharing_paused\":false,"
	"\"sharing_freed_pages\":210000,\"sharing_used_frames\":40000},"
	"\"counters\":{\"pages_shared\":40000,\"pages_sharing\":210000,\"pages_unshared\":1000,"
	"\"pages_volatile\":500,\"pages_scanned\":4000000,\"zero_pages_sharing\":90000,"
	"\"share_attempts\":260000,\"share_raced\":120,\"unshares\":3000,\"new_field\":[1,2]},"
	"\"domains\":[{\"domid\":1,\"name\":\"guest1\",\"group\":\"default\",\"mode\":\"on\","
	"\"tot_pages\":70000,\"shr_pages\":61072,\"pages_sharing\":50000,\"pages_volatile\":100,"
	"\"unshares_per_s\":1.5,\"scan_progress\":0.37},"
	"{\"domid\":3,\"name\":\"guest3\",\"group\":\"g2\",\"mode\":\"zero\","
	"\"tot_pages\":1000,\"shr_pages\":10,\"pages_sharing\":9,\"pages_volatile\":0,"
	"\"unshares_per_s\":0,\"scan_progress\":1}]}\n";

static int parse(const char *text, struct xst_daemon *dm, struct xst_domain **doms,
		 size_t *nr, char *err)
{
	return xst_parse_daemon_reply(text, strlen(text), dm, doms, nr, err, 200);
}

/* The index of the line called key in table t. */
static size_t row(const struct xsd_stat_table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].key, key))
			return i;
	CU_FAIL_FATAL("no such line");
	return 0;
}

/* A reply of the first protocol (no engine_cpu_s, share_failed, ...) parses;
 * every field lands where it belongs, the lines it lacks are marked absent,
 * and unknown fields (new_field) are ignored. */
static void test_good_reply(void)
{
	struct xst_daemon dm;
	struct xst_domain *doms;
	size_t nr;
	char err[200] = "";

	CU_ASSERT_EQUAL_FATAL(parse(good_reply, &dm, &doms, &nr, err), 0);
	CU_ASSERT_EQUAL(dm.state, XST_DAEMON_UP);
	CU_ASSERT_EQUAL(dm.own.pid, 1234);
	CU_ASSERT_EQUAL(dm.engine.protocol_in_use, SHR_PROTO_BATCHED);
	CU_ASSERT_DOUBLE_EQUAL(dm.engine.pass_progress, 0.37, 1e-12);
	CU_ASSERT(dm.engine.settled);
	CU_ASSERT_EQUAL(dm.engine.reserve_pages, 65536);
	CU_ASSERT_EQUAL(dm.engine.host_free_pages, 120000);
	CU_ASSERT_EQUAL(dm.own.sharing_freed_pages, 210000);
	CU_ASSERT_EQUAL(dm.own.sharing_used_frames, 40000);
	CU_ASSERT_EQUAL(dm.engine.pages_sharing, 210000);
	CU_ASSERT_EQUAL(dm.engine.unshares, 3000);
	CU_ASSERT_EQUAL(dm.engine.pages_at_risk, 210000);
	CU_ASSERT(dm.engine_has[row(&xsd_stats_engine, "pages_at_risk")]);
	CU_ASSERT(dm.engine_has[row(&xsd_stats_engine, "unshares")]);
	CU_ASSERT_FALSE(dm.engine_has[row(&xsd_stats_engine, "share_failed")]);
	CU_ASSERT_FALSE(dm.engine_has[row(&xsd_stats_engine, "engine_cpu_s")]);
	CU_ASSERT_FALSE(dm.own_has[row(&xsd_stats_daemon, "dom0_balloon_pages")]);
	CU_ASSERT_EQUAL_FATAL(nr, 2);
	CU_ASSERT_EQUAL(doms[0].domid, 1);
	CU_ASSERT_STRING_EQUAL(doms[0].name, "guest1");
	CU_ASSERT_EQUAL(doms[0].tot_pages, 70000);
	CU_ASSERT_EQUAL(doms[0].dm.shr_pages, 61072);
	CU_ASSERT_EQUAL(doms[0].dm.engine_pages_sharing, 50000);
	CU_ASSERT(doms[0].dm_has[row(&xsd_stats_domain, "pages_sharing")]);
	CU_ASSERT_FALSE(doms[0].dm_has[row(&xsd_stats_domain, "evicting")]);
	CU_ASSERT(doms[0].in_daemon);
	CU_ASSERT_STRING_EQUAL(doms[1].mode, "zero");
	free(doms);
}

/* Replies that break the contract are rejected with the field named. */
static void test_bad_replies(void)
{
	static const struct { const char *find, *replace, *msg; } cases[] = {
		{ "\"pages_sharing\":210000,", "", "counters.pages_sharing missing" },
		{ "\"pid\":1234", "\"pid\":\"1234\"", "daemon.pid is not an int" },
		{ "\"pages_volatile\":500", "\"pages_volatile\":-5", "counters.pages_volatile is negative" },
		{ "\"scan_progress\":0.37", "\"scan_progress\":1.5", "domains[0].scan_progress = 1.5 is out of range" },
		{ "\"domid\":3", "\"domid\":1", "domain 1 listed twice" },
		{ "\"settled\":true", "\"settled\":1", "daemon.settled is not a boolean" },
		{ "\"batched\"", "\"fast\"", "daemon.protocol = \"fast\" is not a protocol" },
		{ "\"pid\":1234", "\"pid\":0", "daemon.pid = 0 is not a process id" },
		{ "\"sharing_freed_pages\":210000", "\"sharing_freed_pages\":-2", "host.sharing_freed_pages = -2 is below -1" },
		/* a line a reply may lack must still be right when it is there */
		{ "\"pages_at_risk\":210000", "\"pages_at_risk\":true", "host.pages_at_risk is not an int" },
		{ "\"share_raced\":120,", "\"share_raced\":120,\"share_failed\":-1,", "counters.share_failed is negative" },
		{ "\"settled\":true", "\"settled\":true,\"engine_cpu_s\":\"x\"", "daemon.engine_cpu_s is not a number" },
		{ "\"scan_progress\":1}", "\"scan_progress\":1,\"evicting\":0}", "domains[1].evicting is not a boolean" },
		/* a line every reply has */
		{ "\"reserve_pages\":65536,", "", "host.reserve_pages missing" },
		{ "\"unshares_per_s\":0,", "", "domains[1].unshares_per_s missing" },
		{ "\"domains\":[", "\"domains\":{\"x\":[", "" },  /* syntax error */
	};
	char text[4096], err[200];

	/* the hypervisor did not answer the daemon: -1, documented, accepted */
	{
		const char *at = strstr(good_reply, "\"sharing_freed_pages\":210000");
		struct xst_daemon dm;
		struct xst_domain *doms;
		size_t nr;

		snprintf(text, sizeof(text), "%.*s\"sharing_freed_pages\":-1%s", (int)(at - good_reply),
			 good_reply, at + strlen("\"sharing_freed_pages\":210000"));
		CU_ASSERT_EQUAL_FATAL(parse(text, &dm, &doms, &nr, err), 0);
		CU_ASSERT_EQUAL(dm.own.sharing_freed_pages, -1);
		free(doms);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *at = strstr(good_reply, cases[i].find);
		struct xst_daemon dm;
		struct xst_domain *doms = (void *)1;
		size_t nr = 99;

		CU_ASSERT_FATAL(at != NULL);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good_reply), good_reply,
			 cases[i].replace, at + strlen(cases[i].find));
		err[0] = '\0';
		CU_ASSERT_EQUAL(parse(text, &dm, &doms, &nr, err), -EPROTO);
		CU_ASSERT_EQUAL(dm.state, XST_DAEMON_BAD_REPLY);
		CU_ASSERT_PTR_NULL(doms);
		CU_ASSERT_EQUAL(nr, 0);
		CU_ASSERT(strstr(err, cases[i].msg) != NULL);
		if (!strstr(err, cases[i].msg))
			fprintf(stderr, "\n  case %zu: got '%s'", i, err);
	}
}

/* Not JSON, trailing garbage, an error object, an empty reply: rejected. */
static void test_not_a_reply(void)
{
	static const char *const texts[] = {
		"hello\n", "{\"version\":\"9.9.9\"} trailing\n",
		"{\"error\":\"unknown command\",\"command\":\"stats\"}\n", "\n", "[1,2]\n",
	};
	struct xst_daemon dm;
	struct xst_domain *doms;
	size_t nr;
	char err[200];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(parse(texts[i], &dm, &doms, &nr, err), -EPROTO);
		CU_ASSERT(err[0] != '\0');
	}
	err[0] = '\0';
	parse(texts[2], &dm, &doms, &nr, err);
	CU_ASSERT(strstr(err, "unknown command") != NULL);
}

/* Distinct values in range for every line of table t, written into base. */
static void fill(const struct xsd_stat_table *t, void *base)
{
	for (size_t i = 0; i < t->n; i++) {
		union xsd_stat_value v;

		memset(&v, 0, sizeof(v));
		switch (t->v[i].type) {
		case SHR_STAT_U64: v.u64 = 1000 + i; break;
		case SHR_STAT_I64: v.i64 = 2000 + (int64_t)i; break;
		case SHR_STAT_BOOL: v.b = i % 2; break;
		case SHR_STAT_DBL: v.d = t->v[i].unit == SHR_UNIT_RATIO ? 0.125 * (double)(i % 8) : 3.5 + (double)i; break;
		case SHR_STAT_PROTO: v.proto = SHR_PROTO_UPSTREAM; break;
		}
		xsd_stat_set(&t->v[i], base, v);
	}
}

/* Every line of table t reads back as written, and is marked present. */
static void same(const struct xsd_stat_table *t, const void *want, const void *got, const bool *has)
{
	for (size_t i = 0; i < t->n; i++) {
		union xsd_stat_value a = xsd_stat_get(&t->v[i], want), b = xsd_stat_get(&t->v[i], got);
		bool eq = false;

		switch (t->v[i].type) {
		case SHR_STAT_U64: eq = a.u64 == b.u64; break;
		case SHR_STAT_I64: eq = a.i64 == b.i64; break;
		case SHR_STAT_BOOL: eq = a.b == b.b; break;
		case SHR_STAT_DBL: eq = a.d == b.d; break;
		case SHR_STAT_PROTO: eq = a.proto == b.proto; break;
		}
		CU_ASSERT(eq && has[i]);
		if (!eq || !has[i])
			fprintf(stderr, "\n  %s: %s not read back", t->list, t->v[i].key);
	}
}

/* Every line the daemon writes (its own JSON writer, schema.c, over every
 * list) xenshare-stat reads back with its value: the reply's two ends are
 * the same tables. */
static void test_every_line_round_trip(void)
{
	static struct xsd_stats own;
	static struct shr_stats engine;
	static struct shr_domain_stats dom;
	struct xst_daemon dm;
	struct xst_domain *doms;
	struct xsd_json j;
	size_t nr;
	char err[200] = "";

	fill(&xsd_stats_daemon, &own);
	fill(&xsd_stats_engine, &engine);
	fill(&xsd_stats_domain, &dom);
	xsd_json_init(&j);
	xsd_json_obj_begin(&j, NULL);
	xsd_json_str(&j, "version", "9.9.9");
	for (enum shr_stat_section sec = SHR_SEC_DAEMON; sec <= SHR_SEC_COUNTERS; sec++) {
		xsd_json_obj_begin(&j, xsd_stat_section_name(sec));
		xsd_stats_json(&j, &xsd_stats_daemon, sec, &own);
		xsd_stats_json(&j, &xsd_stats_engine, sec, &engine);
		xsd_json_obj_end(&j);
	}
	xsd_json_arr_begin(&j, "domains");
	xsd_json_obj_begin(&j, NULL);
	xsd_json_u64(&j, "domid", 4);
	xsd_json_str(&j, "name", "d4");
	xsd_json_str(&j, "group", "g");
	xsd_json_str(&j, "mode", "on");
	xsd_stats_json(&j, &xsd_stats_domain, SHR_SEC_DOMAIN, &dom);
	xsd_json_obj_end(&j);
	xsd_json_arr_end(&j);
	xsd_json_obj_end(&j);
	CU_ASSERT_FATAL(xsd_json_finish(&j) == 0);
	CU_ASSERT_EQUAL_FATAL(xst_parse_daemon_reply(j.buf, j.len, &dm, &doms, &nr, err, sizeof(err)), 0);
	same(&xsd_stats_daemon, &own, &dm.own, dm.own_has);
	same(&xsd_stats_engine, &engine, &dm.engine, dm.engine_has);
	CU_ASSERT_EQUAL_FATAL(nr, 1);
	same(&xsd_stats_domain, &dom, &doms[0].dm, doms[0].dm_has);
	free(doms);
	xsd_json_free(&j);
}

/* Merge: the hypervisor's tot/shr win, the daemon's policy wins, a domain
 * on one side only is kept and marked, and the result is sorted by domid. */
static void test_merge(void)
{
	struct xst_domain hv[2] = { 0 }, dm[2] = { 0 };
	struct xst_snapshot s = { 0 };

	hv[0].domid = 5; hv[0].tot_pages = 100; hv[0].shr_pages = 7;
	strcpy(hv[0].name, "five"); strcpy(hv[0].mode, "off");
	hv[1].domid = 0; hv[1].tot_pages = 1000;
	dm[0].domid = 5; dm[0].dm.shr_pages = 6; dm[0].dm.engine_pages_sharing = 3;
	dm[0].dm_has[0] = true;
	strcpy(dm[0].name, "ignored"); strcpy(dm[0].mode, "on"); strcpy(dm[0].group, "g");
	dm[0].in_daemon = true;
	dm[1].domid = 9; dm[1].dm.shr_pages = 4; dm[1].tot_pages = 50;
	dm[1].in_daemon = true;

	CU_ASSERT_EQUAL_FATAL(xst_snapshot_merge(&s, hv, 2, dm, 2), 0);
	CU_ASSERT_EQUAL_FATAL(s.nr_domains, 3);
	CU_ASSERT_EQUAL(s.domains[0].domid, 0);
	CU_ASSERT(s.domains[0].in_hv && !s.domains[0].in_daemon);
	CU_ASSERT_EQUAL(s.domains[1].domid, 5);
	CU_ASSERT(s.domains[1].in_hv && s.domains[1].in_daemon);
	CU_ASSERT_EQUAL(s.domains[1].shr_pages, 7);
	CU_ASSERT_EQUAL(s.domains[1].dm.shr_pages, 6);
	CU_ASSERT_EQUAL(s.domains[1].dm.engine_pages_sharing, 3);
	CU_ASSERT(s.domains[1].dm_has[0]);
	CU_ASSERT_STRING_EQUAL(s.domains[1].name, "five");
	CU_ASSERT_STRING_EQUAL(s.domains[1].mode, "on");
	CU_ASSERT_STRING_EQUAL(s.domains[1].group, "g");
	CU_ASSERT_EQUAL(s.domains[2].domid, 9);
	CU_ASSERT(!s.domains[2].in_hv && s.domains[2].in_daemon);
	CU_ASSERT_EQUAL(s.domains[2].shr_pages, 0);
	xst_snapshot_put_domains(&s);
	CU_ASSERT_PTR_NULL(s.domains);
}

UT_MAIN("statparse", NULL, NULL,
	UT(test_good_reply),
	UT(test_bad_replies),
	UT(test_not_a_reply),
	UT(test_every_line_round_trip),
	UT(test_merge))
