/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config_ut.c - unit tests of dom0-daemon/config.c: good files land in the
 * config, every kind of bad line is reported as "file:line: ...", a failed
 * parse never alters a config, and reload keeps restart-only settings.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dom0-daemon/config.h"
#include "ut_common.h"

static int parse(const char *text, struct xsd_config *cfg, char *err, size_t errlen)
{
	return xsd_config_parse_text("xenshared.conf", text, strlen(text), cfg, err, errlen);
}

/* Proves a file setting every kind of value stores each of them, with
 * comments, blank lines, CRLF line ends and inline comments understood. */
static void test_good_file(void)
{
	const char *text =
		"# comment\n"
		"\n"
		"batch_pages = 512\n"
		"  max_sharers=128   # inline comment\n"
		"pass_target = 12.5\r\n"
		"cpu_cap = 25\n"
		"reserve = 1G\n"
		"settle_threshold = 0.5\n"
		"protocol = upstream\n"
		"default_group = tenants\n"
		"domain web-* = on group web\n"
		"domain db1 = zero\n"
		"domain scratch = off\n"
		"control_socket = /tmp/x#y.sock\n"
		"pidfile = /tmp/xsd.pid\n"
		"log_level = debug\n"
		"log_target = stderr\n"
		"xenstore_stats = no\n"
		"volatility_backoff = off\n"
		"xenstore_stats_interval = 10";     /* no final newline */
	struct xsd_config cfg;
	struct shr_params params;
	char err[1024];

	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(cfg.batch_pages, 512);
	CU_ASSERT_EQUAL(cfg.max_sharers, 128);
	CU_ASSERT_EQUAL(cfg.pass_target_s, 12.5);
	CU_ASSERT_EQUAL(cfg.cpu_cap_percent, 25);
	CU_ASSERT_EQUAL(cfg.reserve_pages, 262144);
	CU_ASSERT_EQUAL(cfg.settle_percent, 0.5);
	CU_ASSERT_EQUAL(cfg.protocol, SHR_PROTO_UPSTREAM);
	CU_ASSERT_STRING_EQUAL(cfg.default_group, "tenants");
	CU_ASSERT_EQUAL_FATAL(cfg.nr_rules, 3);
	CU_ASSERT_STRING_EQUAL(cfg.rules[0].pattern, "web-*");
	CU_ASSERT_STRING_EQUAL(cfg.rules[0].group, "web");
	CU_ASSERT_EQUAL(cfg.rules[0].line, 11);
	CU_ASSERT_EQUAL(cfg.rules[1].mode, SHR_MODE_ZERO);
	CU_ASSERT_EQUAL(cfg.rules[2].mode, SHR_MODE_OFF);
	CU_ASSERT_STRING_EQUAL(cfg.control_socket, "/tmp/x#y.sock");  /* '#' not after a blank */
	CU_ASSERT_STRING_EQUAL(cfg.pidfile, "/tmp/xsd.pid");
	CU_ASSERT_EQUAL(cfg.log_level, 7);
	CU_ASSERT_EQUAL(cfg.log_target, XSD_LOG_STDERR);
	CU_ASSERT_FALSE(cfg.xenstore_stats);
	CU_ASSERT_EQUAL(cfg.xenstore_stats_interval, 10);
	CU_ASSERT_FALSE(cfg.volatility_backoff);
	/* and the engine gets the switch: volatility handling off */
	xsd_config_to_params(&cfg, &params);
	CU_ASSERT_TRUE(params.no_backoff);
	CU_ASSERT_EQUAL(params.protocol, SHR_PROTO_UPSTREAM);
	xsd_config_release(&cfg);
}

/* Proves an empty file yields exactly the defaults. */
static void test_empty_is_defaults(void)
{
	struct xsd_config cfg, def;
	char err[256];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(parse("", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(xsd_config_init_defaults(&def, err, sizeof(err)), 0);
	for (i = 0; i < xsd_nr_settings; i++)
		CU_ASSERT(xsd_setting_equal(&xsd_settings[i], &cfg, &def));
	CU_ASSERT_TRUE(cfg.volatility_backoff);   /* volatility handling on by default */
	xsd_config_release(&cfg);
	xsd_config_release(&def);
}

/* Proves the shipped default config, with every line uncommented, parses
 * to the defaults: what the file shows is what the daemon does. */
static void test_shipped_conf_uncommented(void)
{
	struct xsd_config cfg, def;
	char *text = calloc(1, 1 << 16), line[512], err[1024];
	FILE *f = fopen("dom0-daemon/xenshared.conf", "r");
	size_t i;

	CU_ASSERT_FATAL(text != NULL);
	if (!f) {
		CU_FAIL("dom0-daemon/xenshared.conf not found (run from the source root)");
		free(text);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		/* "#name = value" lines are settings; "# text" lines are prose */
		if (line[0] == '#' && line[1] != ' ' && line[1] != '\n' && strchr(line, '='))
			strcat(text, line + 1);
	}
	fclose(f);
	CU_ASSERT(strstr(text, "cpu_cap = ") != NULL);
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(xsd_config_init_defaults(&def, err, sizeof(err)), 0);
	for (i = 0; i < xsd_nr_settings; i++)
		if (!xsd_setting_keyed(&xsd_settings[i]))
			CU_ASSERT(xsd_setting_equal(&xsd_settings[i], &cfg, &def));
	CU_ASSERT_EQUAL(cfg.nr_rules, 1);      /* the example rule */
	xsd_config_release(&cfg);
	xsd_config_release(&def);
	free(text);
}

struct bad_case { const char *text; const char *want; };

/* Proves each kind of bad line is refused with a message naming the file,
 * the line and the problem. */
static void test_bad_lines(void)
{
	static const struct bad_case cases[] = {
		{ "cpu_cap = 250\n", "xenshared.conf:1: cpu_cap: 250 is not in 1..100" },
		{ "\n\nbogus = 1\n", "xenshared.conf:3: unknown setting 'bogus'" },
		{ "cpu_cap 50\n", "xenshared.conf:1: expected 'name = value', got 'cpu_cap 50'" },
		{ "cpu_cap =\n", "xenshared.conf:1: cpu_cap: missing value" },
		{ "= 5\n", "xenshared.conf:1: missing setting name before '='" },
		{ "cpu_cap = 5\ncpu_cap = 6\n", "xenshared.conf:2: cpu_cap: already set on line 1" },
		{ "protocol = fast\n", "xenshared.conf:1: protocol: 'fast' is not one of auto|upstream|batched" },
		{ "reserve = 64\n", "xenshared.conf:1: reserve: '64' needs a unit" },
		{ "domain = on\n", "xenshared.conf:1: domain: needs a domain name" },
		{ "domain a b = on\n", "xenshared.conf:1: domain: 'a b' is not one domain name pattern" },
		{ "domain web = maybe\n", "xenshared.conf:1: domain: 'maybe': expected on|off|zero [group GROUP]" },
		{ "domain web = on\ndomain web = off\n", "xenshared.conf:2: domain: domain 'web' is already set on line 1" },
		{ "domain web = on group bad/name\n", "xenshared.conf:1: domain: 'bad/name' is not a group name" },
		{ "cpu_cap x = 5\n", "xenshared.conf:1: cpu_cap: unexpected 'x' before '='" },
		{ "pidfile = run/x.pid\n", "xenshared.conf:1: pidfile: 'run/x.pid' is not an absolute path" },
		{ "default_group = 0123456789012345678901234567890123456789012345678901234567890123\n",
		  "xenshared.conf:1: default_group: group name is longer than 63 characters" },
	};
	struct xsd_config cfg;
	char err[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text, &cfg, err, sizeof(err));

		CU_ASSERT_EQUAL(rc, -EINVAL);
		if (!strstr(err, cases[i].want))
			fprintf(stderr, "\n  case %zu: got '%s'\n  want '%s'\n", i, err, cases[i].want);
		CU_ASSERT(strstr(err, cases[i].want) == err);
	}
}

/* Proves bytes a text editor would not produce (NUL, over-long lines) are
 * refused with their line number rather than truncated or skipped. */
static void test_binary_and_long_lines(void)
{
	static const char nul[] = "cpu_cap = 5\nlog_level = info\0debug\n";
	char *longline = malloc(XSD_CONFIG_MAX_LINE + 64);
	struct xsd_config cfg;
	char err[1024];

	CU_ASSERT_EQUAL(xsd_config_parse_text("f.conf", nul, sizeof(nul) - 1, &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "f.conf:2: line contains a NUL byte");
	memset(longline, ' ', XSD_CONFIG_MAX_LINE + 10);
	memcpy(longline + XSD_CONFIG_MAX_LINE, "x = 1\n", 7);
	CU_ASSERT_EQUAL(xsd_config_parse_text("f.conf", longline, strlen(longline), &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strstr(err, "f.conf:1: line is longer than") == err);
	free(longline);
}

static bool has_control_bytes(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n') || (unsigned char)*s >= 0x7f)
			return true;
	return false;
}

/* Proves the bytes a message quotes (a bad line, a value, the file name)
 * come out as \xNN, never raw: `xenshared -n` on a file holding terminal
 * escapes cannot replay them on the operator's terminal or into the log. */
static void test_messages_escaped(void)
{
	static const char text[] = "\x1b]0;owned\x07" "bogus = 1\n"
				   "default_group = \x1b[2J\n"
				   "cpu_cap = 5\xc3\xa9\n";
	struct xsd_config cfg;
	char err[1024];

	CU_ASSERT_EQUAL(xsd_config_parse_text("a\x1b[31m.conf", text, sizeof(text) - 1, &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err,
		"a\\x1b[31m.conf:1: unknown setting '\\x1b]0;owned\\x07bogus'\n"
		"a\\x1b[31m.conf:2: default_group: '\\x1b[2J' is not a group name (1..63 of A-Z a-z 0-9 . _ -)\n"
		"a\\x1b[31m.conf:3: cpu_cap: '5\\xc3\\xa9' is not a number");
	CU_ASSERT(!has_control_bytes(err));
	/* a file that cannot be opened: its name is escaped too */
	CU_ASSERT_EQUAL(xsd_config_parse_file("/nonexistent/\x1b[1m.conf", &cfg, err, sizeof(err)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/\\x1b[1m.conf: No such file or directory");
}

/* Proves every bad line is reported (not only the first), in file order,
 * one per output line. */
static void test_all_errors_reported(void)
{
	struct xsd_config cfg;
	char err[1024];

	CU_ASSERT_EQUAL(parse("cpu_cap = 0\nbatch_pages = 1\nfoo = 1\nmax_sharers = 1\n", &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err,
		"xenshared.conf:1: cpu_cap: 0 is not in 1..100\n"
		"xenshared.conf:3: unknown setting 'foo'\n"
		"xenshared.conf:4: max_sharers: 1 is not in 2..65535");
}

/* Proves a failed parse of a new file leaves a running config untouched
 * (the daemon parses into a new struct and swaps only on success). */
static void test_failed_reload_keeps_old(void)
{
	struct xsd_config cur, next, snapshot;
	char err[1024];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(parse("cpu_cap = 20\ndomain a = on\n", &cur, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(xsd_config_copy(&snapshot, &cur), 0);
	CU_ASSERT_EQUAL(parse("cpu_cap = 30\ndomain b = on\nbatch_pages = 0\n", &next, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NULL(next.rules);          /* released on failure */
	for (i = 0; i < xsd_nr_settings; i++)
		CU_ASSERT(xsd_setting_equal(&xsd_settings[i], &cur, &snapshot));
	CU_ASSERT_EQUAL(cur.cpu_cap_percent, 20);
	xsd_config_release(&cur);
	xsd_config_release(&snapshot);
}

/* Proves reload keeps the running value of a restart-only setting (with a
 * warning naming it) and takes the reloadable ones. */
static void test_reload_restart_only(void)
{
	struct xsd_config cur, next;
	char err[1024], warn[512];

	CU_ASSERT_EQUAL_FATAL(parse("control_socket = /tmp/a.sock\ncpu_cap = 20\n", &cur, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(parse("control_socket = /tmp/b.sock\ncpu_cap = 40\nprotocol = batched\n",
				    &next, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xsd_config_keep_restart_only("x.conf", &cur, &next, warn, sizeof(warn)), 2);
	CU_ASSERT_STRING_EQUAL(next.control_socket, "/tmp/a.sock");
	CU_ASSERT_EQUAL(next.protocol, SHR_PROTO_AUTO);
	CU_ASSERT_EQUAL(next.cpu_cap_percent, 40);
	CU_ASSERT(strstr(warn, "x.conf: control_socket changed, but it needs a restart") != NULL);
	CU_ASSERT(strstr(warn, "x.conf: protocol changed") != NULL);
	xsd_config_release(&cur);
	xsd_config_release(&next);
}

/* Proves a missing or unreadable file is an error naming the path, and that
 * a real file on disk parses like the same text. */
static void test_files(void)
{
	char path[] = "/tmp/xsd_config_ut.XXXXXX", err[512];
	struct xsd_config cfg;
	FILE *f;
	int fd;

	CU_ASSERT_EQUAL(xsd_config_parse_file("/nonexistent/xenshared.conf", &cfg, err, sizeof(err)), -ENOENT);
	CU_ASSERT(strstr(err, "/nonexistent/xenshared.conf: No such file") == err);
	CU_ASSERT_EQUAL(xsd_config_parse_file("/tmp", &cfg, err, sizeof(err)), -EISDIR);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	fputs("cpu_cap = 33\nmax_sharers = 9999999\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(xsd_config_parse_file(path, &cfg, err, sizeof(err)), -EINVAL);
	CU_ASSERT(strncmp(err, path, strlen(path)) == 0);
	CU_ASSERT(strstr(err, ":2: max_sharers: 9999999 is not in 2..65535") != NULL);
	unlink(path);
}

/* Proves arbitrary bytes never crash the parser (run under ASan/UBSan in
 * `make check`) and that every rejection names the file and a line. */
static void test_random_input(void)
{
	static const char *const pieces[] = {
		"cpu_cap", "=", " ", "\n", "#", "domain", "web-*", "on", "group", "250", "64M",
		"\r\n", "\t", "\xff", "reserve", "max_sharers", "=", "\0", "1e309", "-1",
	};
	struct xsd_config cfg;
	char text[512], err[4096];
	unsigned int seed = 12345, round;

	for (round = 0; round < 20000; round++) {
		size_t len = 0;

		while (len < sizeof(text) - 16) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 8 == 0)
				break;
			if ((seed >> 8) % 3 == 0) {
				text[len++] = (char)(seed >> 20);
			} else {
				const char *p = pieces[(seed >> 12) % (sizeof(pieces) / sizeof(pieces[0]))];
				size_t n = p[0] ? strlen(p) : 1;

				memcpy(text + len, p, n);
				len += n;
			}
		}
		if (xsd_config_parse_text("r.conf", text, len, &cfg, err, sizeof(err)) == 0) {
			CU_ASSERT(cfg.cpu_cap_percent >= 1 && cfg.cpu_cap_percent <= 100);
			xsd_config_release(&cfg);
		} else {
			CU_ASSERT(strncmp(err, "r.conf:", 7) == 0);
		}
	}
}

UT_MAIN("config", NULL, NULL,
	UT(test_good_file),
	UT(test_empty_is_defaults),
	UT(test_shipped_conf_uncommented),
	UT(test_bad_lines),
	UT(test_binary_and_long_lines),
	UT(test_all_errors_reported),
	UT(test_messages_escaped),
	UT(test_failed_reload_keeps_old),
	UT(test_reload_restart_only),
	UT(test_files),
	UT(test_random_input))
