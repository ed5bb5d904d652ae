/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.h - xenshared's command line (getopt_long).
 *
 *   -d, --foreground          stay in the foreground, log to stderr (systemd)
 *   -n, --check-config        parse the config, report, exit 0 (good) or 1 (bad)
 *   -f, --config FILE         config file (default /etc/xen/xenshared.conf)
 *   -v, --verbose             one more log level (repeatable)
 *   -V, --version             print the version and exit
 *   -h, --help                usage and the settings table, exit 0
 *       --print-settings=FMT  the settings table as pod|markdown|conf, exit 0
 *   -C, --control CMD         send CMD to the running daemon's control socket,
 *                             print the answer; exit status XSD_EXIT_CTL_*
 * Bad arguments: a message on stderr and exit status 2.
 */
#ifndef XSD_CLI_H
#define XSD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "settings.h"

struct xsd_cli {
	bool foreground;
	bool check_only;
	const char *config_path;
	bool config_given;              /* -f: a missing file is an error */
	int verbose;
	const char *control_cmd;        /* -C: talk to the running daemon */
};

enum { XSD_CLI_RUN = -1 };
/* Exit status of `xenshared -C` (documented in xenshared(8)). */
enum {
	XSD_EXIT_CTL_OK = 0,            /* an answer that is not an error */
	XSD_EXIT_CTL_REFUSED = 1,       /* an error answer */
	XSD_EXIT_CTL_NO_DAEMON = 3,     /* nothing listens, or no answer */
	XSD_EXIT_CTL_DENIED = 4,        /* the socket or the daemon refuses this user */
};
/*
 * Parses argv.  Returns XSD_CLI_RUN to go on, or an exit status: 0 after
 * --help/--version/--print-settings/--print-stats (written to out), 2 after a bad
 * argument (message written to err).
 */
int xsd_cli_parse(int argc, char **argv, struct xsd_cli *cli, FILE *out, FILE *err);

#endif /* XSD_CLI_H */
