/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xenshare-stat - what memory sharing saves on this Xen host, per domain
 * and in total, in the manner of xentop and `xl list`.
 *
 * Each snapshot reads the hypervisor directly (libxenctrl) and asks
 * xenshared on its control socket; either may be missing and the output
 * says so (collect.c).  Formatting is statfmt.c (pure, golden-tested).
 * This file is only the command line, the loop and the terminal.
 *
 * Modes:
 *   (default)   one snapshot, then exit, like `xl list`
 *   -b [-n N]   N snapshots (forever without -n), -d seconds apart, for
 *               logs and pipes, like `xentop -b -i N`
 *   -w [SECS]   live view redrawn in place on a terminal, like watch(1);
 *               q or Ctrl-C leaves it and restores the terminal
 * Redrawing uses three VT100/ECMA-48 sequences (alternate screen, cursor
 * home, erase to end of line/screen) that every terminal emulator in use
 * understands; ncurses would be the library for a full-screen UI with
 * input widgets, which this is not.
 *
 * Exit status (documented in xenshare-stat(1)), from the last snapshot:
 *   0 both sources read; 1 hypervisor read, daemon not answering or
 *   answering garbage; 2 bad command line, or an --output FILE that cannot
 *   be created where it was asked (no such directory, no permission); 3
 *   hypervisor unreadable (no privilege, no Xen, sharing not built in); 4
 *   internal error (out of memory, the output cannot be written: disk full,
 *   I/O error).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "headroom.h"
#include "statfmt.h"
#include "statparse.h"
#include "xenshare_version.h"

#define DEFAULT_SOCKET "/run/xenshared/control.sock"
#define RECON_REREAD_NS 500000000L   /* a one-shot run's reads, 0.5 s apart */

enum {
	EXIT_OK = 0,
	EXIT_DAEMON_DOWN = 1,
	EXIT_USAGE = 2,
	EXIT_NO_HYPERVISOR = 3,
	EXIT_INTERNAL = 4,
};

enum out_format { FMT_TABLE, FMT_JSON, FMT_PROMETHEUS };

struct options {
	enum out_format format;
	bool watch, batch;
	double delay_s;
	long iterations;      /* 0: forever */
	const char *socket_path;
	double timeout_s;
	const char *output;   /* write atomically to this file instead of stdout */
	double burst_percent; /* the admission figure's burst */
	size_t nr_like;       /* --like: domains the table answers for */
	const char **like;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xenshare-stat [OPTION]...\n"
"Show what Xen memory sharing (xenshared) saves, per domain and in total.\n"
"Numbers come from the hypervisor (libxenctrl) and from the xenshared daemon;\n"
"either may be missing, and the output says so.\n"
"\n"
"Output:\n"
"      --json             one JSON object per snapshot (JSON Lines with -b)\n"
"      --prometheus       Prometheus text format (node_exporter textfile collector)\n"
"  -o, --output FILE      write each snapshot to FILE atomically (rename) instead\n"
"                         of stdout, e.g. .../node-exporter/xenshare.prom\n"
"Repetition:\n"
"  -w, --watch[=SECONDS]  live view, redrawn every SECONDS (default 2); q or\n"
"                         Ctrl-C quits\n"
"  -b, --batch            print snapshots one after another (for logs, pipes)\n"
"  -n, --iterations N     with -b: stop after N snapshots (default: forever)\n"
"  -d, --delay SECONDS    time between snapshots (default 2)\n"
"Admission:\n"
"      --like DOMAIN      the table's admission line only for DOMAIN (name or\n"
"                         domid; repeatable; default every guest)\n"
"      --burst PERCENT    keep the reserve against a burst of PERCENT of the\n"
"                         shared pages (0 to 100, default %g)\n"
"Sources:\n"
"  -s, --socket PATH      daemon control socket (default " DEFAULT_SOCKET ")\n"
"  -t, --timeout SECONDS  give up on the daemon after SECONDS (default 2)\n"
"Other:\n"
"  -V, --version          print the version and exit\n"
"  -h, --help             print this help and exit\n"
"\n"
"Exit status: 0 all numbers read; 1 daemon down or not answering (the\n"
"hypervisor's numbers are shown); 2 bad arguments (also an --output FILE that\n"
"cannot be created, a --like DOMAIN that does not exist); 3 the hypervisor's counters could not be read; 4 internal\n"
"error.\n"
"Every column and total is explained in xenshare-stat(1).\n",
		XST_BURST_DEFAULT_PERCENT);
}

static int parse_seconds(const char *opt, const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0.1 || v > 86400) {
		fprintf(stderr, "xenshare-stat: %s: '%s' is not a number of seconds between 0.1 and 86400\n",
			opt, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static bool looks_like_number(const char *s)
{
	char *end;

	if (!s || !*s)
		return false;
	(void)strtod(s, &end);
	return *end == '\0';
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_JSON = 256, OPT_PROM, OPT_LIKE, OPT_BURST };
	static const struct option longopts[] = {
		{ "watch", optional_argument, NULL, 'w' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "delay", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "prometheus", no_argument, NULL, OPT_PROM },
		{ "output", required_argument, NULL, 'o' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "like", required_argument, NULL, OPT_LIKE },
		{ "burst", required_argument, NULL, OPT_BURST },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_n = false;
	int c;

	*o = (struct options){ .format = FMT_TABLE, .delay_s = 2, .socket_path = DEFAULT_SOCKET,
			       .timeout_s = 2, .burst_percent = XST_BURST_DEFAULT_PERCENT };
	o->like = calloc((size_t)argc, sizeof(*o->like));
	if (!o->like) {
		fprintf(stderr, "xenshare-stat: out of memory\n");
		return -ENOMEM;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w::bn:d:o:s:t:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			o->watch = true;
			/* accept "-w 5" as well as "-w5" / "--watch=5" */
			if (!optarg && optind < argc && looks_like_number(argv[optind]))
				optarg = argv[optind++];
			if (optarg && parse_seconds("--watch", optarg, &o->delay_s) < 0)
				return -EINVAL;
			break;
		case 'b':
			o->batch = true;
			break;
		case 'n': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1) {
				fprintf(stderr, "xenshare-stat: --iterations: '%s' is not a positive integer\n",
					optarg);
				return -EINVAL;
			}
			o->iterations = v;
			have_n = true;
			break;
		}
		case 'd':
			if (parse_seconds("--delay", optarg, &o->delay_s) < 0)
				return -EINVAL;
			break;
		case OPT_JSON:
		case OPT_PROM:
			if (o->format != FMT_TABLE && o->format != (c == OPT_JSON ? FMT_JSON : FMT_PROMETHEUS)) {
				fprintf(stderr, "xenshare-stat: --json and --prometheus exclude each other\n");
				return -EINVAL;
			}
			o->format = c == OPT_JSON ? FMT_JSON : FMT_PROMETHEUS;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 's':
			if (!optarg[0] || strlen(optarg) >= 108) {
				fprintf(stderr, "xenshare-stat: --socket: path must be 1 to 107 bytes long\n");
				return -EINVAL;
			}
			o->socket_path = optarg;
			break;
		case 't':
			if (parse_seconds("--timeout", optarg, &o->timeout_s) < 0)
				return -EINVAL;
			break;
		case OPT_LIKE:
			if (!optarg[0]) {
				fprintf(stderr, "xenshare-stat: --like: a domain name or domid is needed\n");
				return -EINVAL;
			}
			o->like[o->nr_like++] = optarg;
			break;
		case OPT_BURST:
			if (xst_parse_burst(optarg, &o->burst_percent) < 0) {
				fprintf(stderr, "xenshare-stat: --burst: '%s' is not a percentage "
					"between 0 and 100\n", optarg);
				return -EINVAL;
			}
			break;
		case 'V':
			printf("xenshare-stat %s\n", XENSHARE_VERSION);
			exit(EXIT_OK);
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case ':':
			fprintf(stderr, "xenshare-stat: option '%s' needs an argument\n", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				fprintf(stderr, "xenshare-stat: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "xenshare-stat: unknown option '%s'\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xenshare-stat: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->watch && o->batch) {
		fprintf(stderr, "xenshare-stat: --watch and --batch exclude each other\n");
		return -EINVAL;
	}
	if (have_n && !o->batch) {
		fprintf(stderr, "xenshare-stat: --iterations needs --batch\n");
		return -EINVAL;
	}
	if (o->watch && o->output) {
		fprintf(stderr, "xenshare-stat: --watch draws on the terminal; use --batch with --output\n");
		return -EINVAL;
	}
	if (o->watch && o->format != FMT_TABLE) {
		fprintf(stderr, "xenshare-stat: --watch shows the table; use --batch for --json/--prometheus\n");
		return -EINVAL;
	}
	if (o->watch && !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "xenshare-stat: --watch needs a terminal on stdout; use --batch\n");
		return -EINVAL;
	}
	return 0;
}

/*
 * A --like naming no domain of the snapshot is a question about a guest
 * that does not exist: said on stderr, exit 2 (checked on every snapshot,
 * since a domain may go while -b runs).  Without a list of domains (no
 * hypervisor, no daemon) nothing can be said about one: the exit status
 * says why instead.
 */
static bool unknown_like(const struct options *o, const struct xst_snapshot *s)
{
	bool bad = false;

	if (!s->hv.ok && s->daemon.state != XST_DAEMON_UP)
		return false;

	for (size_t i = 0; i < o->nr_like; i++) {
		const struct xst_domain *d = xst_find_domain(s, o->like[i]);

		if (!d) {
			fprintf(stderr, "xenshare-stat: --like: no domain '%s' on this host\n", o->like[i]);
			bad = true;
		} else if (d->domid == 0) {
			fprintf(stderr, "xenshare-stat: --like: '%s' is dom0, not a guest\n", o->like[i]);
			bad = true;
		}
	}
	return bad;
}

static int exit_code_of(const struct xst_snapshot *s)
{
	if (!s->hv.ok)
		return EXIT_NO_HYPERVISOR;
	if (s->daemon.state != XST_DAEMON_UP)
		return EXIT_DAEMON_DOWN;
	return EXIT_OK;
}

static int format(FILE *f, const struct options *o, const struct xst_snapshot *s)
{
	switch (o->format) {
	case FMT_JSON:
		return xst_format_json(f, s);
	case FMT_PROMETHEUS:
		return xst_format_prometheus(f, s);
	case FMT_TABLE:
		break;
	}
	return xst_format_table(f, s);
}

/*
 * The exit status for a failed --output: a path the user named that cannot
 * be created (a missing directory, no permission, a read-only file system)
 * is a bad command line; a write that fails on the way is not.
 */
static int output_error_status(int r)
{
	switch (-r) {
	case ENOENT: case ENOTDIR: case EACCES: case EPERM: case EROFS:
	case EISDIR: case ENAMETOOLONG: case ELOOP:
		return EXIT_USAGE;
	default:
		return EXIT_INTERNAL;
	}
}

/* Writes FILE.tmp then renames, so a collector never reads half a file. */
static int write_output_file(const struct options *o, const struct xst_snapshot *s)
{
	char tmp[4096];
	FILE *f;
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", o->output) >= (int)sizeof(tmp)) {
		fprintf(stderr, "xenshare-stat: --output: path too long\n");
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "w");
	if (!f) {
		r = -errno;
		fprintf(stderr, "xenshare-stat: %s: %s\n", tmp, strerror(-r));
		return r;
	}
	r = format(f, o, s);
	if (fclose(f) != 0 || r < 0) {
		fprintf(stderr, "xenshare-stat: %s: write failed\n", tmp);
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, o->output) < 0) {
		r = -errno;
		fprintf(stderr, "xenshare-stat: rename %s -> %s: %s\n", tmp, o->output, strerror(-r));
		unlink(tmp);
		return r;
	}
	return 0;
}

/* Sleeps delay_s unless a signal arrives; in watch mode also returns early on a key. */
static void wait_next(const struct options *o, bool *quit)
{
	int64_t ms = (int64_t)(o->delay_s * 1000);

	if (o->watch && isatty(STDIN_FILENO)) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		char ch;

		if (poll(&p, 1, (int)ms) > 0 && read(STDIN_FILENO, &ch, 1) == 1 &&
		    (ch == 'q' || ch == 'Q' || ch == 3 /* ^C in raw mode */))
			*quit = true;
		return;
	}
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);  /* EINTR: stop_requested is checked by the caller */
}

/* Redraws the screen from the top without clearing it first (no flicker). */
static int draw(const struct options *o, const struct xst_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int r;

	if (!m)
		return -ENOMEM;
	r = xst_format_table(m, s);
	fprintf(m, "\nEvery %.1fs. Press q to quit.\n", o->delay_s);
	if (fclose(m) != 0 || r < 0) {
		free(buf);
		return -ENOMEM;
	}
	fputs("\033[H", stdout);
	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		fwrite(line, 1, (size_t)(nl - line), stdout);
		fputs("\033[K\n", stdout);
	}
	fputs("\033[J", stdout);
	free(buf);
	return fflush(stdout) == 0 ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	struct xst_snapshot snap = { 0 };
	struct xst_collector *col = NULL;
	struct termios saved_tio;
	bool tio_saved = false, quit = false;
	struct sigaction sa = { .sa_handler = on_signal };
	struct options o;
	struct xst_recon recon = { { 0 } };
	int code = EXIT_INTERNAL, r;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "Try 'xenshare-stat --help' for more information.\n");
		free(o.like);
		return EXIT_USAGE;
	}
	/*
	 * Handlers first: a Ctrl-C during start-up (a slow daemon socket, a
	 * loaded host) must still end with the terminal restored and exit 0,
	 * not kill the process by the default action.
	 */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = xst_collector_alloc(o.socket_path, (int)(o.timeout_s * 1000), &col);
	if (r < 0) {
		fprintf(stderr, "xenshare-stat: %s\n", strerror(-r));
		free(o.like);
		return EXIT_INTERNAL;
	}

	if (o.watch) {
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
			struct termios raw = saved_tio;

			raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			raw.c_cc[VMIN] = 1;
			raw.c_cc[VTIME] = 0;
			tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		}
		fputs("\033[?1049h\033[H\033[2J", stdout);  /* alternate screen, like watch/top */
	}

	for (long i = 0; !stop_requested && !quit; i++) {
		int reads = 0;

		/* A single read cannot tell a lasting difference between the
		 * sources from motion: a one-shot run that prints notes (not
		 * Prometheus, whose numbers must be of one instant) reads
		 * again, a short while apart, while one is in doubt. */
		do {
			if (reads++)
				nanosleep(&(struct timespec){ .tv_nsec = RECON_REREAD_NS }, NULL);
			r = xst_collect(col, &snap);
			if (r < 0)
				break;
			xst_recon_update(&snap, &recon);
		} while (!o.watch && !o.batch && o.format != FMT_PROMETHEUS &&
			 reads < XST_RECON_READS && xst_recon_pending(&recon) && !stop_requested);
		if (r < 0) {
			fprintf(stderr, "xenshare-stat: out of memory\n");
			code = EXIT_INTERNAL;
			break;
		}
		snap.recon = recon;
		code = exit_code_of(&snap);
		snap.burst_percent = o.burst_percent;
		snap.nr_like = o.nr_like;
		snap.like = o.like;
		if (unknown_like(&o, &snap)) {
			code = EXIT_USAGE;
			break;
		}
		if (o.watch) {
			r = draw(&o, &snap);
		} else if (o.output) {
			r = write_output_file(&o, &snap);
			if (r < 0) {
				code = output_error_status(r);
				break;
			}
		} else {
			if (o.batch && o.format == FMT_TABLE && i > 0)
				fputc('\n', stdout);
			r = format(stdout, &o, &snap);
			if (fflush(stdout) != 0)
				r = -EIO;
			if (r < 0)
				fprintf(stderr, "xenshare-stat: cannot write to stdout: %s\n", strerror(errno));
		}
		if (r < 0) {
			code = EXIT_INTERNAL;
			break;
		}
		/* the reason goes to stderr too, so scripts and logs see it */
		if (!o.watch && code != EXIT_OK && o.format != FMT_TABLE) {
			if (!snap.hv.ok)
				fprintf(stderr, "xenshare-stat: hypervisor counters unreadable: %s\n",
					snap.hv.error);
			if (snap.daemon.state != XST_DAEMON_UP)
				fprintf(stderr, "xenshare-stat: daemon %s: %s\n",
					xst_daemon_state_name(snap.daemon.state), snap.daemon.error);
		}
		if (!o.watch && !o.batch)
			break;
		if (o.batch && o.iterations && i + 1 >= o.iterations)
			break;
		wait_next(&o, &quit);
	}

	if (o.watch) {
		fputs("\033[?1049l", stdout);
		fflush(stdout);
		if (tio_saved)
			tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		if (stop_requested || quit)
			code = code == EXIT_INTERNAL ? code : EXIT_OK;
	}
	if (code != EXIT_OK && o.format == FMT_TABLE && !o.watch) {
		if (!snap.hv.ok)
			fprintf(stderr, "xenshare-stat: hypervisor counters unreadable: %s\n", snap.hv.error);
		if (snap.daemon.state != XST_DAEMON_UP)
			fprintf(stderr, "xenshare-stat: daemon %s: %s\n",
				xst_daemon_state_name(snap.daemon.state), snap.daemon.error);
	}
	xst_snapshot_put_domains(&snap);
	xst_collector_free(col);
	free(o.like);
	return code;
}
