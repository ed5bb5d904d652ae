/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.c - command line parsing (see cli.h).  The --help text lists the
 * settings from the settings table, so it cannot go stale.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "config.h"
#include "report.h"
#include "schema.h"
#include "xenshare_version.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"Memory deduplication service for Xen hosts: finds identical guest pages\n"
		"and has the hypervisor share them copy-on-write.\n"
		"\n"
		"  -d, --foreground          stay in the foreground, log to stderr (for systemd)\n"
		"  -n, --check-config        check the config file and exit (0 good, 1 bad)\n"
		"  -f, --config FILE         config file (default " XSD_DEFAULT_CONFIG ")\n"
		"  -v, --verbose             log more (repeatable: info, then debug)\n"
		"  -V, --version             print the version and exit\n"
		"  -h, --help                print this help and exit\n"
		"      --print-settings=FMT  print the settings as pod, markdown or conf and exit\n"
		"      --print-stats=FMT     print the statistics' reference as pod or markdown\n"
		"                            and exit\n"
		"  -C, --control CMD         send CMD (ping, stats, reload, audit) to the running\n"
		"                            daemon and print its answer (exit 0 ok, 1 refused,\n"
		"                            3 no daemon, 4 permission denied)\n"
		"\n"
		"Settings of the config file (see xenshared.conf(5)):\n", prog);
	xsd_settings_print(f, XSD_FMT_HELP);
	fprintf(f,
		"\n"
		"Signals: SIGHUP reloads the config (a bad file keeps the running one),\n"
		"SIGTERM/SIGINT stop cleanly.  Counters: xenshare-stat(1), the control\n"
		"socket (docs/control-protocol.md), xenstore " XSD_MIRROR_ROOT "/.\n");
}

int xsd_cli_parse(int argc, char **argv, struct xsd_cli *cli, FILE *out, FILE *err)
{
	enum { OPT_PRINT_SETTINGS = 256, OPT_PRINT_STATS };
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "print-settings", required_argument, NULL, OPT_PRINT_SETTINGS },
		{ "print-stats", required_argument, NULL, OPT_PRINT_STATS },
		{ "control", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = argc > 0 && argv[0] ? argv[0] : "xenshared";
	enum xsd_settings_format fmt;
	int c, rc;

	memset(cli, 0, sizeof(*cli));
	cli->config_path = XSD_DEFAULT_CONFIG;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":dnf:vVhC:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cli->foreground = true;
			break;
		case 'n':
			cli->check_only = true;
			break;
		case 'f':
			if (!optarg[0]) {
				fprintf(err, "%s: -f/--config needs a file name\n", prog);
				return 2;
			}
			cli->config_path = optarg;
			cli->config_given = true;
			break;
		case 'v':
			cli->verbose++;
			break;
		case 'C':
			if (!optarg[0] || strchr(optarg, '\n')) {
				fprintf(err, "%s: -C/--control needs one command (ping, stats, reload, audit)\n", prog);
				return 2;
			}
			cli->control_cmd = optarg;
			break;
		case 'V':
			fprintf(out, "xenshared %s\n", XENSHARE_VERSION);
			return 0;
		case 'h':
			usage(out, prog);
			return 0;
		case OPT_PRINT_SETTINGS:
			if (xsd_settings_format_parse(optarg, &fmt)) {
				fprintf(err, "%s: --print-settings: '%s' is not pod, markdown or conf\n",
					prog, optarg);
				return 2;
			}
			return xsd_settings_print(out, fmt) ? 1 : 0;
		case OPT_PRINT_STATS:
			rc = xsd_stats_print(out, optarg);
			if (rc == -EINVAL) {
				fprintf(err, "%s: --print-stats: '%s' is not pod or markdown\n", prog, optarg);
				return 2;
			}
			return rc ? 1 : 0;
		case ':':
			fprintf(err, "%s: option '%s' needs an argument\n", prog, argv[optind - 1]);
			fprintf(err, "Try '%s --help'.\n", prog);
			return 2;
		default:
			/*
			 * getopt_long reports a long option given an argument it
			 * does not take (--foreground=1) by the option's short name
			 * in optopt, like an unknown short option: tell them apart
			 * by the word it stopped at.
			 */
			if (optopt && !strncmp(argv[optind - 1], "--", 2))
				fprintf(err, "%s: option '%.*s' doesn't take an argument\n", prog,
					(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			else if (optopt)
				fprintf(err, "%s: unknown option '-%c'\n", prog, optopt);
			else
				fprintf(err, "%s: unknown option '%s'\n", prog, argv[optind - 1]);
			fprintf(err, "Try '%s --help'.\n", prog);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(err, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		fprintf(err, "Try '%s --help'.\n", prog);
		return 2;
	}
	return XSD_CLI_RUN;
}
