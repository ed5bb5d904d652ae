/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * settings_ut.c - unit tests of dom0-daemon/settings.c: the settings table
 * is self-consistent, its validators refuse what they should, and the
 * committed default config is exactly what the table generates.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dom0-daemon/settings.h"
#include "ut_common.h"

static char *print_to_string(enum xsd_settings_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(xsd_settings_print(f, fmt), 0);
	fclose(f);
	return buf;
}

/* Proves every row's default passes the row's own parser, lies in its
 * range, and that a complete config can be built from the defaults. */
static void test_defaults_valid(void)
{
	struct xsd_config cfg;
	char err[256];
	size_t i;

	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];

		memset(&cfg, 0, sizeof(cfg));
		if (!s->def)
			continue;
		err[0] = 0;
		if (s->parse(s, NULL, s->def, &cfg, err, sizeof(err)))
			CU_FAIL_FATAL("a default does not pass its validator");
	}
	CU_ASSERT_EQUAL(xsd_config_init_defaults(&cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.max_sharers, 256);
	CU_ASSERT_STRING_EQUAL(cfg.default_group, "default");
	CU_ASSERT_EQUAL(cfg.nr_rules, 0);
	xsd_config_release(&cfg);
}

/* Proves the table's rows are well formed: unique names, help text and a
 * metavariable everywhere, choices where the type needs them, sane ranges,
 * and only keyed rows without a default. */
static void test_table_sane(void)
{
	size_t i, k;

	CU_ASSERT(xsd_nr_settings >= 15);
	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];

		CU_ASSERT_PTR_NOT_NULL(s->name);
		CU_ASSERT(s->help && strlen(s->help) > 10);
		CU_ASSERT_PTR_NOT_NULL(s->metavar);
		CU_ASSERT_PTR_NOT_NULL(s->parse);
		CU_ASSERT_EQUAL(s->def == NULL, xsd_setting_keyed(s));
		if (s->type == XSD_T_ENUM || s->type == XSD_T_BOOL)
			CU_ASSERT_PTR_NOT_NULL(s->choices);
		if (s->type == XSD_T_UINT || s->type == XSD_T_DOUBLE || s->type == XSD_T_SIZE)
			CU_ASSERT(s->min <= s->max);
		if (!xsd_setting_keyed(s))
			CU_ASSERT(s->offset + s->size <= sizeof(struct xsd_config));
		for (k = i + 1; k < xsd_nr_settings; k++)
			CU_ASSERT(strcmp(s->name, xsd_settings[k].name) != 0);
		CU_ASSERT_PTR_EQUAL(xsd_setting_find(s->name), s);
	}
	CU_ASSERT_PTR_NULL(xsd_setting_find("no_such_setting"));
}

static int parse_one(const char *name, const char *key_arg, const char *value,
		     struct xsd_config *cfg, char *err, size_t errlen)
{
	const struct xsd_setting *s = xsd_setting_find(name);

	CU_ASSERT_FATAL(s != NULL);
	return s->parse(s, key_arg, value, cfg, err, errlen);
}

/* Proves the numeric validators refuse out-of-range and malformed values
 * with a message naming the value and the range, and accept the bounds. */
static void test_numeric_validators(void)
{
	struct xsd_config cfg;
	char err[256];

	CU_ASSERT_EQUAL(xsd_config_init_defaults(&cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(parse_one("cpu_cap", NULL, "250", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "250 is not in 1..100");
	CU_ASSERT_EQUAL(parse_one("cpu_cap", NULL, "100", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.cpu_cap_percent, 100.0);
	CU_ASSERT_EQUAL(parse_one("cpu_cap", NULL, "nan", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("cpu_cap", NULL, "inf", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("cpu_cap", NULL, "0x10", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("cpu_cap", NULL, "12.5", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.cpu_cap_percent, 12.5);
	CU_ASSERT_EQUAL(parse_one("batch_pages", NULL, "-1", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("batch_pages", NULL, "0", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("batch_pages", NULL, "4097", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("batch_pages", NULL, "99999999999999999999999", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("batch_pages", NULL, "12abc", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("batch_pages", NULL, "4096", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.batch_pages, 4096);
	CU_ASSERT_EQUAL(parse_one("max_sharers", NULL, "1", &cfg, err, sizeof(err)), -EINVAL);
	xsd_config_release(&cfg);
}

/* Proves pass_target = 0 (no pacing, the engine's "as fast as cpu_cap
 * allows") is accepted and reaches the engine as 0, and that negative
 * values are still refused. */
static void test_pass_target_zero(void)
{
	struct xsd_config cfg;
	struct shr_params p;
	char err[256];

	CU_ASSERT_EQUAL(xsd_config_init_defaults(&cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(parse_one("pass_target", NULL, "0", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.pass_target_s, 0.0);
	xsd_config_to_params(&cfg, &p);
	CU_ASSERT_EQUAL(p.pass_target_s, 0.0);
	CU_ASSERT_EQUAL(parse_one("pass_target", NULL, "0.25", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.pass_target_s, 0.25);
	CU_ASSERT_EQUAL(parse_one("pass_target", NULL, "-1", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("pass_target", NULL, "86401", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "86401 is not in 0..86400");
	CU_ASSERT_EQUAL(cfg.pass_target_s, 0.25);
	xsd_config_release(&cfg);
}

/* Proves reserve sizes need a unit and convert to 4 KiB pages exactly. */
static void test_size_units(void)
{
	struct xsd_config cfg;
	char err[256];

	CU_ASSERT_EQUAL(xsd_config_init_defaults(&cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.reserve_pages, 64 * 256);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "1G", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.reserve_pages, 262144);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "3MiB", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.reserve_pages, 768);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "100p", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.reserve_pages, 100);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "0", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.reserve_pages, 0);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "64", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "needs a unit") != NULL);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "64T", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "M", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("reserve", NULL, "18446744073709551615G", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(cfg.reserve_pages, 0);   /* failures leave the value alone */
	xsd_config_release(&cfg);
}

/* Proves enum, bool, group, path and domain-rule validators accept exactly
 * their documented forms. */
static void test_other_validators(void)
{
	struct xsd_config cfg;
	char err[256], longname[80];

	CU_ASSERT_EQUAL(xsd_config_init_defaults(&cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(parse_one("protocol", NULL, "batched", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.protocol, SHR_PROTO_BATCHED);
	CU_ASSERT_EQUAL(parse_one("protocol", NULL, "fast", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "'fast' is not one of auto|upstream|batched");
	CU_ASSERT_EQUAL(parse_one("xenstore_stats", NULL, "off", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_FALSE(cfg.xenstore_stats);
	CU_ASSERT_EQUAL(parse_one("xenstore_stats", NULL, "maybe", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("default_group", NULL, "web.prod-1", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(parse_one("default_group", NULL, "a b", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("default_group", NULL, "caf\xc3\xa9", &cfg, err, sizeof(err)), -EINVAL);
	memset(longname, 'g', 64);
	longname[64] = 0;
	CU_ASSERT_EQUAL(parse_one("default_group", NULL, longname, &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(cfg.default_group, "web.prod-1");
	CU_ASSERT_EQUAL(parse_one("pidfile", NULL, "relative/x.pid", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("control_socket", NULL, "/run/" "0123456789012345678901234567890123456789"
				  "0123456789012345678901234567890123456789012345678901234567890123456789",
				  &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("domain", "web-*", "on group web", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(parse_one("domain", "db", "zero", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.nr_rules, 2);
	CU_ASSERT_STRING_EQUAL(cfg.rules[0].group, "web");
	CU_ASSERT_EQUAL(cfg.rules[1].mode, SHR_MODE_ZERO);
	CU_ASSERT_STRING_EQUAL(cfg.rules[1].group, "");
	CU_ASSERT_EQUAL(parse_one("domain", "db", "on", &cfg, err, sizeof(err)), -EINVAL);  /* twice */
	CU_ASSERT_EQUAL(parse_one("domain", "x", "maybe", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("domain", "x", "on group", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("domain", "x", "on grp web", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("domain", "x", "on group web extra", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_one("domain", NULL, "on", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(cfg.nr_rules, 2);
	xsd_config_release(&cfg);
}

/* Proves the shipped dom0-daemon/xenshared.conf is exactly what the table
 * generates (run from the source root, as `make unit` does). */
static void test_shipped_conf_matches(void)
{
	char *gen = print_to_string(XSD_FMT_CONF), *file = NULL;
	size_t len = 0;
	FILE *f = fopen("dom0-daemon/xenshared.conf", "r");

	if (!f) {
		CU_FAIL("dom0-daemon/xenshared.conf not found (run from the source root)");
		free(gen);
		return;
	}
	file = calloc(1, 1 << 16);
	len = fread(file, 1, (1 << 16) - 1, f);
	fclose(f);
	CU_ASSERT(len > 0);
	CU_ASSERT_STRING_EQUAL(file, gen);
	free(file);
	free(gen);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* Proves every setting appears in the POD, markdown and --help outputs,
 * and that the POD's =over/=back are balanced. */
static void test_docs_cover_table(void)
{
	char *pod = print_to_string(XSD_FMT_POD);
	char *md = print_to_string(XSD_FMT_MARKDOWN);
	char *help = print_to_string(XSD_FMT_HELP);
	char want[128];
	size_t i;

	CU_ASSERT(strncmp(pod, "=head1 SETTINGS", 15) == 0);
	CU_ASSERT_EQUAL(count(pod, "=over"), count(pod, "=back"));
	for (i = 0; i < xsd_nr_settings; i++) {
		snprintf(want, sizeof(want), "=item B<%s>", xsd_settings[i].name);
		CU_ASSERT(strstr(pod, want) != NULL);
		snprintf(want, sizeof(want), "| `%s ", xsd_settings[i].name);
		CU_ASSERT(strstr(md, want) != NULL);
		snprintf(want, sizeof(want), "  %s ", xsd_settings[i].name);
		CU_ASSERT(strstr(help, want) != NULL);
	}
	CU_ASSERT(strstr(pod, "<domid>") == NULL);     /* escaped as E<lt>domid E<gt> */
	free(pod);
	free(md);
	free(help);
}

UT_MAIN("settings", NULL, NULL,
	UT(test_defaults_valid),
	UT(test_table_sane),
	UT(test_numeric_validators),
	UT(test_pass_target_zero),
	UT(test_size_units),
	UT(test_other_validators),
	UT(test_shipped_conf_matches),
	UT(test_docs_cover_table))
