/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli_ut.c - unit tests of dom0-daemon/cli.c: every kind of bad command
 * line gets exit status 2 and a message that names the real mistake, and a
 * good one fills struct xsd_cli.
 */
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dom0-daemon/cli.h"
#include "dom0-daemon/config.h"
#include "ut_common.h"

/* Parses the NULL-terminated words; returns the status, stderr in err. */
static int parse(struct xsd_cli *cli, char *err, size_t errlen, ...)
{
	char *argv[16] = { "xenshared" };
	static char outbuf[1 << 16];   /* --print-stats writes several KiB */
	FILE *out = fmemopen(outbuf, sizeof(outbuf), "w");
	FILE *ef = fmemopen(err, errlen, "w");
	va_list ap;
	int argc = 1, rc;

	CU_ASSERT_FATAL(out && ef);
	va_start(ap, errlen);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	rc = xsd_cli_parse(argc, argv, cli, out, ef);
	fclose(out);
	fclose(ef);
	return rc;
}

/* Proves a long option that takes no argument, given one (--foreground=1),
 * is reported as such under its own name, not as an unknown "-d". */
static void test_flag_with_argument(void)
{
	static const char *const cases[][2] = {
		{ "--foreground=1", "xenshared: option '--foreground' doesn't take an argument\n" },
		{ "--check-config=1", "xenshared: option '--check-config' doesn't take an argument\n" },
		{ "--verbose=3", "xenshared: option '--verbose' doesn't take an argument\n" },
		{ "--version=x", "xenshared: option '--version' doesn't take an argument\n" },
	};
	struct xsd_cli cli;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), cases[i][0], NULL), 2);
		CU_ASSERT(strstr(err, cases[i][1]) == err);
		CU_ASSERT(strstr(err, "unknown option") == NULL);
	}
}

/* Proves unknown options, short or long, and missing arguments keep their
 * own messages and exit status 2. */
static void test_other_mistakes(void)
{
	struct xsd_cli cli;
	char err[512];

	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "-x", NULL), 2);
	CU_ASSERT(strstr(err, "xenshared: unknown option '-x'\n") == err);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "--bogus", NULL), 2);
	CU_ASSERT(strstr(err, "xenshared: unknown option '--bogus'\n") == err);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "--bogus=1", NULL), 2);
	CU_ASSERT(strstr(err, "xenshared: unknown option '--bogus=1'\n") == err);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "-d", "--config", NULL), 2);
	CU_ASSERT(strstr(err, "xenshared: option '--config' needs an argument\n") == err);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "-C", "", NULL), 2);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "stray", NULL), 2);
	CU_ASSERT(strstr(err, "unexpected argument 'stray'") != NULL);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "--print-stats=conf", NULL), 2);
	CU_ASSERT(strstr(err, "xenshared: --print-stats: 'conf' is not pod or markdown\n") == err);
}

/* Proves a good command line fills the struct and asks to run. */
static void test_good(void)
{
	struct xsd_cli cli;
	char err[512];

	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "-d", "-vv", "--verbose", "-f", "x.conf", NULL),
			XSD_CLI_RUN);
	CU_ASSERT(cli.foreground);
	CU_ASSERT_EQUAL(cli.verbose, 3);
	CU_ASSERT_STRING_EQUAL(cli.config_path, "x.conf");
	CU_ASSERT(cli.config_given);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "--control=ping", NULL), XSD_CLI_RUN);
	CU_ASSERT_STRING_EQUAL(cli.control_cmd, "ping");
	CU_ASSERT_STRING_EQUAL(cli.config_path, XSD_DEFAULT_CONFIG);
	CU_ASSERT(!cli.config_given);
	/* the docs' formats print and exit 0 */
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "--print-stats=pod", NULL), 0);
	CU_ASSERT_EQUAL(parse(&cli, err, sizeof(err), "--print-stats=markdown", NULL), 0);
}

UT_MAIN("cli", NULL, NULL,
	UT(test_flag_with_argument),
	UT(test_other_mistakes),
	UT(test_good))
