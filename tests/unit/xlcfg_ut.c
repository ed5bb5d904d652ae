/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xlcfg_ut.c - unit tests of tools/xensim/xlcfg.c: real xl.cfg text in,
 * domain spec and simulation keys out; bad files give clear errors.
 */
#include <errno.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tools/xensim/xlcfg.h"
#include "ut_common.h"

static struct sim_guest_cfg g;
static char err[SIM_XLCFG_ERR_MAX];

static int parse(const char *text, const char *const *ov, unsigned int n)
{
	return sim_xlcfg_parse("test.cfg", text, strlen(text), ov, n, "/base", &g,
			       err, sizeof(err));
}

/* A typical pvh guest file yields every field, with xl's units (MiB). */
static void test_good_pvh(void)
{
	const char *cfg =
		"# a comment\n"
		"name = \"guest1\"\n"
		"type = \"pvh\"\n"
		"memory = 512\n"
		"maxmem = 1024\n"
		"vcpus = 2\n"
		"uuid = \"01234567-89ab-cdef-0123-456789abcdef\"\n"
		"mem_sharing = \"on\"\n"
		"mem_sharing_group = \"web\"\n"
		"sim_profile = \"os=0.5,zero=0.15,dup=0.1,unique=0.25\"\n"
		"sim_seed = 42\n"
		"sim_write_rate = 200\n"
		"sim_working_set = 4096\n";

	CU_ASSERT_FATAL(parse(cfg, NULL, 0) == 0);
	CU_ASSERT(strcmp(g.spec.name, "guest1") == 0);
	CU_ASSERT(g.spec.type == SIM_DOM_PVH);
	CU_ASSERT(g.spec.nr_pages == 512 * 256);
	CU_ASSERT(g.spec.max_pages == 1024 * 256);
	CU_ASSERT(g.spec.vcpus == 2);
	CU_ASSERT(g.uuid_given && g.spec.uuid[0] == 0x01 && g.spec.uuid[15] == 0xef);
	CU_ASSERT(!g.spec.passthrough);
	CU_ASSERT(strcmp(g.mem_sharing, "on") == 0);
	CU_ASSERT(strcmp(g.mem_sharing_group, "web") == 0);
	CU_ASSERT(g.content == SIM_CONTENT_PROFILE);
	CU_ASSERT(g.profile.os == 0.5 && g.profile.zero == 0.15);
	CU_ASSERT(g.seed == 42 && g.write_rate == 200 && g.working_set == 4096);
}

/* Defaults follow xl/libxl: pv, 32 MiB, 1 vCPU, no opt-in keys. */
static void test_defaults_and_builder(void)
{
	CU_ASSERT_FATAL(parse("name=\"a\"\n", NULL, 0) == 0);
	CU_ASSERT(g.spec.type == SIM_DOM_PV);
	CU_ASSERT(g.spec.nr_pages == 32 * 256 && g.spec.max_pages == 32 * 256);
	CU_ASSERT(g.spec.vcpus == 1);
	CU_ASSERT(g.mem_sharing[0] == '\0' && g.mem_sharing_group[0] == '\0');
	CU_ASSERT(g.content == SIM_CONTENT_ZERO);
	CU_ASSERT_FATAL(parse("name=\"a\"\nbuilder=\"hvm\"\npci=[\"01:00.0\"]\n", NULL, 0) == 0);
	CU_ASSERT(g.spec.type == SIM_DOM_HVM);
	CU_ASSERT(g.spec.passthrough);
	CU_ASSERT(parse("name=\"a\"\nbuilder=\"hvm\"\ntype=\"pvh\"\n", NULL, 0) == -EINVAL);
	CU_ASSERT(strstr(err, "Contradicting") != NULL);
}

/* key=value overrides come after the file and win, as with xl create; bare words get quoted. */
static void test_overrides(void)
{
	const char *ov[] = { "memory=128", "sim_image=img/idle.raw.zst", "name=\"b\"" };

	CU_ASSERT_FATAL(parse("name=\"a\"\nmemory=512\n", ov, 3) == 0);
	CU_ASSERT(g.spec.nr_pages == 128 * 256);
	CU_ASSERT(strcmp(g.spec.name, "b") == 0);
	CU_ASSERT(g.content == SIM_CONTENT_IMAGE);
	CU_ASSERT(strcmp(g.content_path, "/base/img/idle.raw.zst") == 0);
	const char *bad[] = { "memory" };
	CU_ASSERT(parse("name=\"a\"\n", bad, 1) == -EINVAL);
	CU_ASSERT(strstr(err, "key=value") != NULL);
}

/* Syntax errors carry libxlutil's file:line message. */
static void test_syntax_error(void)
{
	CU_ASSERT(parse("name = \"a\"\nmemory = = 5\n", NULL, 0) == -EINVAL);
	CU_ASSERT(strstr(err, "test.cfg") != NULL);
	CU_ASSERT(strstr(err, "2") != NULL);
}

/* Each bad value is rejected with a message naming the key. */
static void test_bad_values(void)
{
	static const struct { const char *text, *needle; } cases[] = {
		{ "memory=5\n", "name" },
		{ "name=\"a\"\nmemory=\"lots\"\n", "memory" },
		{ "name=\"a\"\nmemory=0\n", "memory" },
		{ "name=\"a\"\nmemory=512\nmaxmem=256\n", "maxmem" },
		{ "name=\"a\"\ntype=\"xen\"\n", "Invalid domain type" },
		{ "name=\"a\"\nmem_sharing=\"yes\"\n", "mem_sharing" },
		{ "name=\"a\"\nmem_sharing_group=\"\"\n", "mem_sharing_group" },
		{ "name=\"a\"\nsim_profile=\"os=0.5,zero=0.2\"\n", "add up" },
		{ "name=\"a\"\nsim_profile=\"os=0.5,cat=0.5\"\n", "unknown kind" },
		{ "name=\"a\"\nsim_profile=\"os=2\"\n", "between 0 and 1" },
		/* NaN passes every < and > test: it must still be refused (fuzz_xlcfg) */
		{ "name=\"a\"\nsim_profile=\"os=nan\"\n", "between 0 and 1" },
		{ "name=\"a\"\nsim_profile=\"os=nan,zero=0.5\"\n", "between 0 and 1" },
		{ "name=\"a\"\nsim_image=\"x\"\nsim_core=\"y\"\n", "exclude" },
		{ "name=\"a\"\nsim_writerate=5\n", "sim_writerate" },
		{ "name=\"a\"\nsim_write_rate=\"fast\"\n", "sim_write_rate" },
		{ "name=\"a\"\nsim_write_rate=-1\n", "lexical error" },
		{ "name=\"a\"\nuuid=\"1234\"\n", "uuid" },
		{ "name=\"a\"\non_crash=\"restart\"\n", "on_crash" },
		{ "name=\"17\"\n", "number" },
		{ "name=\"a\"\nsim_write_aim=\"1.5\"\n", "between 0 and 1" },
		{ "name=\"a\"\nsim_write_aim=2\n", "between 0 and 1" },
		{ "name=\"a\"\nsim_write_aim=\"nan\"\n", "between 0 and 1" },
		{ "name=\"a\"\nsim_write_aim=\"-0.1\"\n", "between 0 and 1" },
		{ "name=\"a\"\nsim_write_aim=\"half\"\n", "sim_write_aim" },
		{ "name=\"a\"\nsim_write_aim=\"0.5x\"\n", "between 0 and 1" },
		{ "name=\"a\"\nsim_write_aim=[\"0.5\"]\n", "sim_write_aim" },
	};

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].text, NULL, 0);

		CU_ASSERT(r == -EINVAL);
		CU_ASSERT(strstr(err, cases[i].needle) != NULL);
		if (r != -EINVAL || !strstr(err, cases[i].needle))
			fprintf(stderr, "case %u: r=%d err=\"%s\"\n", i, r, err);
	}
}

/* Binary garbage is refused before libxlutil sees it. */
static void test_binary(void)
{
	const char bin[] = "name=\"a\"\n\0\x01\x02";

	CU_ASSERT(sim_xlcfg_parse("bin.cfg", bin, sizeof(bin), NULL, 0, "/", &g, err,
				  sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "not a text file") != NULL);
}

/* The working set is capped at the guest's size. */
static void test_working_set_cap(void)
{
	CU_ASSERT_FATAL(parse("name=\"a\"\nmemory=1\nsim_working_set=100000\n", NULL, 0) == 0);
	CU_ASSERT(g.working_set == 256);
}

/* sim_write_aim: default 0; a quoted fraction (xl's lexer has no decimals) or 0/1. */
static void test_write_aim(void)
{
	CU_ASSERT_FATAL(parse("name=\"a\"\n", NULL, 0) == 0);
	CU_ASSERT(g.write_aim == 0);
	CU_ASSERT_FATAL(parse("name=\"a\"\nsim_write_aim=\"0.5\"\n", NULL, 0) == 0);
	CU_ASSERT(g.write_aim == 0.5);
	CU_ASSERT_FATAL(parse("name=\"a\"\nsim_write_aim=\"0.25\"\n", NULL, 0) == 0);
	CU_ASSERT(g.write_aim == 0.25);
	CU_ASSERT_FATAL(parse("name=\"a\"\nsim_write_aim=1\n", NULL, 0) == 0);
	CU_ASSERT(g.write_aim == 1);
}

UT_MAIN("xlcfg", NULL, NULL,
	UT(test_good_pvh),
	UT(test_defaults_and_builder),
	UT(test_overrides),
	UT(test_syntax_error),
	UT(test_bad_values),
	UT(test_binary),
	UT(test_working_set_cap),
	UT(test_write_aim))
