/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_cli.c - xenshared's command line (dom0-daemon/cli.c): the input
 * split at NUL bytes is argv[1..] (at most 32 arguments).
 *
 * Properties: the result is "run" or an exit status of 0, 1 or 2 (cli.h);
 * a bad argument (2) always writes a message, a good run never; a "run"
 * result names a non-empty config file and a one-line -C command.
 */
#include <getopt.h>

#include "fuzz_common.h"

#include "dom0-daemon/cli.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 2], *outbuf = NULL, *errbuf = NULL;
	size_t outlen = 0, errlen = 0;
	char *dummy[] = { "reset", NULL };
	struct xsd_cli cli;
	FILE *out, *err;
	int argc = 1, rc;

	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = "xenshared";
	for (char *p = buf; p <= buf + size && argc <= MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	/*
	 * glibc's getopt keeps a pointer into the previous argv when a parse
	 * stopped inside a cluster ("-Vd" returns at V); xsd_cli_parse() sets
	 * optind = 1, which does not reset that.  The daemon parses once per
	 * process, so reset fully here (optind = 0) to not blame cli.c for
	 * the harness's freed argv.
	 */
	optind = 0;
	opterr = 0;
	getopt(1, dummy, "");

	out = open_memstream(&outbuf, &outlen);
	err = open_memstream(&errbuf, &errlen);
	if (!out || !err)
		abort();
	rc = xsd_cli_parse(argc, argv, &cli, out, err);
	fflush(out);
	fflush(err);
	fz_check(rc == XSD_CLI_RUN || rc == 0 || rc == 1 || rc == 2, "rc %d", rc);
	if (rc == 2)
		fz_check(errlen > 0, "bad arguments without a message");
	if (rc == XSD_CLI_RUN) {
		fz_check(errlen == 0, "run, but said: %s", errbuf);
		fz_check(cli.config_path && cli.config_path[0], "no config path");
		fz_check(!cli.control_cmd || (cli.control_cmd[0] && !strchr(cli.control_cmd, '\n')),
			 "bad -C command passed");
		fz_check(cli.verbose >= 0 && cli.verbose <= MAX_ARGS * 4096, "verbose %d", cli.verbose);
	}
	fclose(out);
	fclose(err);
	free(outbuf);
	free(errbuf);
	free(buf);
	return 0;
}
