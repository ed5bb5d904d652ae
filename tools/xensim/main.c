/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * main.c - the xensim command line: `xensim start` runs a simulated Xen
 * 4.17 host (server.c); every other command talks to a running one
 * (cli.c), in the manner of xl.
 *
 * DOC: Overview
 *
 * xensim links libxlutil, which pulls in Debian's real libxenlight and
 * libxenctrl.  Tests run the daemon with LD_LIBRARY_PATH pointing at
 * xensim's drop-in libxenctrl; if xensim inherited it, the real
 * libxenlight would bind to the drop-in.  So the first thing main() does
 * is drop LD_LIBRARY_PATH and re-exec itself.
 *
 * `start` daemonises by default: the child creates the host and reports
 * "ok" or the error through a pipe, and the parent exits only then, so
 * `xensim start && xensim create ...` never races the socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "server.h"
#include "wire.h"

#define DEFAULT_HOST_MIB 4096
#define DEFAULT_DOM0_MIB 512
#define FRAMES_PER_MIB 256

static const char usage_text[] =
	"Usage: xensim COMMAND [OPTIONS] [ARGS]\n"
	"A simulated Xen 4.17 host (see docs/xensim.md).\n"
	"\n"
	"Host:\n"
	"  start [-F] [--socket PATH] [--mem MiB | --frames N] [--dom0-mem MiB]\n"
	"        [--patched] [--no-vmx] [--allow-svm] [--debug-build]\n"
	"        [--no-mem-sharing] [--faults SEED:RATE[:KIND[=RATE],...]]\n"
	"        [--pidfile FILE] [--log FILE]\n"
	"                    start a host (daemonised unless -F); prints its socket.\n"
	"                    --faults: make clients' calls fail as Xen can, with\n"
	"                    probability RATE (0..1) per operation, the same faults\n"
	"                    for the same SEED and requests; KINDS (default all,\n"
	"                    each at RATE or its own): hypercall, map-call,\n"
	"                    map-page, map, xenstore, event-drop, event-double,\n"
	"                    events, all\n"
	"  stop              stop the host and all its guests\n"
	"  info [--json]     host memory and sharing counters, per-domain pages\n"
	"  verify [--json]   check every guest page against what the guest wrote;\n"
	"                    exit 3 and list domain and gfn on any mismatch\n"
	"  frames [--json]   every shared frame (nominated-only ones too): its mfn,\n"
	"                    handle, number of sharers and each sharer domid:gfn;\n"
	"                    one line per frame, frames by mfn, sharers sorted\n"
	"\n"
	"Domains (DOM is a name or an id):\n"
	"  create FILE.cfg [key=value ...]   create a domain from an xl.cfg file\n"
	"  destroy DOM | pause DOM | unpause DOM\n"
	"  storm [--fraction F] DOM...\n"
	"                    each DOM's vCPUs rewrite F (0..1, default 0.5) of the\n"
	"                    gfns it shares now, at once and at full speed, pausing\n"
	"                    on ENOMEM as any guest write does; returns at once\n"
	"                    (list --json: storm_pages, storm_written)\n"
	"  list [--json]     Name ID Mem VCPUs State Shared, like xl list\n"
	"  save [--live] [--checkpoint] [--json] DOM FILE\n"
	"                    the toolstack's save (xg_sr_save.c, through the drop-in\n"
	"                    libraries): guest memory as a raw image in FILE, with\n"
	"                    log-dirty rounds if --live; DOM is destroyed, or keeps\n"
	"                    running with --checkpoint.  Exit 3 when the image lost\n"
	"                    dirty pages (checked against the paused guest)\n"
	"                    (restore: create CFG sim_image=FILE)\n"
	"\n"
	"Xenstore (as dom0, or as a guest with --as DOMID):\n"
	"  xenstore-read [--as DOMID] PATH\n"
	"  xenstore-write [--as DOMID] PATH VALUE\n"
	"  xenstore-rm [--as DOMID] PATH\n"
	"  xenstore-ls [--as DOMID] PATH\n"
	"  xenstore-chmod [--as DOMID] PATH PERM...   PERM: n|r|w|b<domid>\n"
	"\n"
	"Every command takes --socket PATH (default $" SIM_WIRE_ENV_SOCKET ", else "
	SIM_WIRE_DEFAULT_SOCKET ").\n"
	"Exit status: 0 ok, 1 the host failed or refused, 2 bad arguments,\n"
	"3 verify found mismatches (save: lost pages).\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xensim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'xensim --help'.\n");
	return SIM_EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Makes a socket path absolute, so the daemon can chdir("/"). */
static char *absolute_path(const char *p)
{
	char cwd[PATH_MAX], *out;

	if (p[0] == '/')
		return strdup(p);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, p) < 0)
		return NULL;
	return out;
}

/*
 * The pid file must be a regular file: opening a FIFO for writing would wait
 * for a reader before the host ever listens.  O_NONBLOCK makes that open
 * fail (ENXIO) instead, and fstat() refuses whatever else is not a file.
 */
static int write_pidfile(const char *path)
{
	struct stat sb;
	FILE *f = NULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);

	if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
		fprintf(stderr, "xensim: pid file %s is not a regular file\n", path);
		close(fd);
		return -1;
	}
	if (fd >= 0 && ftruncate(fd, 0) == 0)
		f = fdopen(fd, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "xensim: cannot write pid file %s: %s\n", path, strerror(errno));
		if (!f && fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

static int cmd_start(int argc, char **argv)
{
	enum { O_SOCKET = 256, O_MEM, O_FRAMES, O_DOM0, O_PATCHED, O_NOVMX, O_SVM, O_DEBUG,
	       O_NOSHARING, O_FAULTS, O_PID, O_LOG };
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'F' },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "mem", required_argument, NULL, O_MEM },
		{ "frames", required_argument, NULL, O_FRAMES },
		{ "dom0-mem", required_argument, NULL, O_DOM0 },
		{ "patched", no_argument, NULL, O_PATCHED },
		{ "no-vmx", no_argument, NULL, O_NOVMX },
		{ "allow-svm", no_argument, NULL, O_SVM },
		{ "debug-build", no_argument, NULL, O_DEBUG },
		{ "no-mem-sharing", no_argument, NULL, O_NOSHARING },
		{ "faults", required_argument, NULL, O_FAULTS },
		{ "pidfile", required_argument, NULL, O_PID },
		{ "log", required_argument, NULL, O_LOG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_server_opts so = { .ready_fd = -1 };
	const char *sock_opt = NULL, *pidfile = NULL, *log = NULL;
	uint64_t mib = 0, frames = 0, dom0_mib = 0;
	bool foreground = false;
	char *sock, *logpath = NULL, *pidpath = NULL;
	int c, status;

	so.hv.cpu_vmx = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+Fh", opts, NULL)) != -1) {
		switch (c) {
		case 'F': foreground = true; break;
		case O_SOCKET: sock_opt = optarg; break;
		case O_MEM:
			if (parse_u64(optarg, 16, 1ULL << 22, &mib))
				return usage_error("--mem: \"%s\" is not a size in MiB (16 .. 4194304)", optarg);
			break;
		case O_FRAMES:
			if (parse_u64(optarg, 4096, 1ULL << 32, &frames))
				return usage_error("--frames: \"%s\" is not a frame count (4096 .. 2^32)", optarg);
			break;
		case O_DOM0:
			if (parse_u64(optarg, 1, 1ULL << 22, &dom0_mib))
				return usage_error("--dom0-mem: \"%s\" is not a size in MiB", optarg);
			break;
		case O_PATCHED: so.hv.patched = true; break;
		case O_NOVMX: so.hv.cpu_vmx = false; break;
		case O_SVM: so.hv.allow_svm_sharing = true; break;
		case O_DEBUG: so.hv.debug_build = true; break;
		case O_NOSHARING: so.hv.no_mem_sharing = true; break;
		case O_FAULTS: {
			char why[200];

			if (sim_fault_parse(optarg, &so.hv.faults, why, sizeof(why)))
				return usage_error("--faults: %s", why);
			break;
		}
		case O_PID: pidfile = optarg; break;
		case O_LOG: log = optarg; break;
		case 'h': fputs(usage_text, stdout); return SIM_EXIT_OK;
		default: return usage_error("%s", "start: bad option");
		}
	}
	if (optind < argc)
		return usage_error("start: unexpected argument \"%s\"", argv[optind]);
	if (mib && frames)
		return usage_error("%s", "start: give --mem or --frames, not both");
	so.hv.nr_frames = frames ? frames : (mib ? mib : DEFAULT_HOST_MIB) * FRAMES_PER_MIB;
	/* default: 512 MiB, but never more than a quarter of a small host */
	if (!dom0_mib)
		dom0_mib = so.hv.nr_frames / 4 / FRAMES_PER_MIB < DEFAULT_DOM0_MIB ?
			   so.hv.nr_frames / 4 / FRAMES_PER_MIB : DEFAULT_DOM0_MIB;
	if (!dom0_mib)
		dom0_mib = 1;
	so.hv.dom0_pages = dom0_mib * FRAMES_PER_MIB;
	if (so.hv.dom0_pages >= so.hv.nr_frames)
		return usage_error("%s", "start: --dom0-mem must be smaller than the host memory");

	sock = absolute_path(sim_cli_socket(sock_opt));
	if (!sock || (pidfile && !(pidpath = absolute_path(pidfile)))) {
		fprintf(stderr, "xensim: start: %s\n", strerror(errno));
		return SIM_EXIT_FAIL;
	}
	so.socket_path = sock;

	if (foreground) {
		if (pidpath && write_pidfile(pidpath))
			return SIM_EXIT_FAIL;
		printf("xensim: host listening on %s (pid %ld, foreground)\n", sock, (long)getpid());
		fflush(stdout);
		status = sim_server_run(&so);
		if (pidpath)
			unlink(pidpath);
		free(sock);
		free(pidpath);
		return status ? SIM_EXIT_FAIL : SIM_EXIT_OK;
	}

	/* Daemonise: the child reports through a pipe once it listens. */
	int p[2];
	pid_t pid;

	if (log)
		logpath = absolute_path(log);
	else if (asprintf(&logpath, "%s.log", sock) < 0)
		logpath = NULL;
	if (!logpath || pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "xensim: start: %s\n", strerror(errno));
		return SIM_EXIT_FAIL;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "xensim: start: fork: %s\n", strerror(errno));
		return SIM_EXIT_FAIL;
	}
	if (pid == 0) {
		int fd;

		close(p[0]);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		/*
		 * Never wait in open(): a FIFO without a reader fails (ENXIO)
		 * instead of hanging the start.  Writes then block as usual,
		 * so a log pipe whose reader stops stalls the host: its owner's
		 * choice, as with any daemon's log.
		 */
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
		if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
			dprintf(p[1], "error: cannot open log %s: %s%s\n", logpath, strerror(errno),
				errno == ENXIO ? " (a FIFO nobody reads)" : "");
			_exit(1);
		}
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
		if (chdir("/") < 0)
			_exit(1);
		if (pidpath && write_pidfile(pidpath)) {
			dprintf(p[1], "error: cannot write pid file %s\n", pidpath);
			_exit(1);
		}
		so.ready_fd = p[1];
		status = sim_server_run(&so);
		if (pidpath)
			unlink(pidpath);
		_exit(status ? 1 : 0);
	}
	close(p[1]);
	{
		char buf[700];
		size_t got = 0;
		ssize_t n;

		while (got < sizeof(buf) - 1 && (n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		buf[got] = '\0';
		close(p[0]);
		if (strncmp(buf, "ok", 2) != 0) {
			char *nl = strchr(buf, '\n');

			if (nl)
				*nl = '\0';
			fprintf(stderr, "xensim: start: %s (log: %s)\n",
				got ? (strncmp(buf, "error: ", 7) ? buf : buf + 7) : "the host died while starting",
				logpath);
			free(sock);
			free(logpath);
			free(pidpath);
			return SIM_EXIT_FAIL;
		}
	}
	printf("xensim: host listening on %s (pid %ld, log %s)\n", sock, (long)pid, logpath);
	free(sock);
	free(logpath);
	free(pidpath);
	return SIM_EXIT_OK;
}

/* Options every client command shares. */
struct client_args {
	const char *socket;
	int json;
	long as_domid;
	long permille;   /* --fraction, in thousandths (storm only; -1: not given) */
};

static int parse_client(int argc, char **argv, bool allow_json, bool allow_as,
			struct client_args *a, int *first_arg)
{
	enum { O_SOCKET = 256, O_JSON, O_AS, O_FRACTION };
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "fraction", required_argument, NULL, O_FRACTION },
		{ "json", no_argument, NULL, O_JSON },
		{ "as", required_argument, NULL, O_AS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->permille = -1;
	optind = 1;
	/* options may come anywhere; "key=value" and paths are arguments */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET: a->socket = optarg; break;
		case O_JSON:
			if (!allow_json)
				return usage_error("%s: --json is not an option of this command", argv[0]);
			a->json = 1;
			break;
		case O_AS: {
			uint64_t v;

			if (!allow_as)
				return usage_error("%s: --as is only for the xenstore commands", argv[0]);
			if (parse_u64(optarg, 0, 0x7fef, &v))
				return usage_error("--as: \"%s\" is not a domain id", optarg);
			a->as_domid = (long)v;
			break;
		}
		case O_FRACTION: {
			char *end;
			double f;

			if (strcmp(argv[0], "storm"))
				return usage_error("%s: --fraction is only for storm", argv[0]);
			errno = 0;
			f = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(f >= 0 && f <= 1))
				return usage_error("--fraction: \"%s\" is not a number from 0 to 1", optarg);
			a->permille = (long)(f * 1000 + 0.5);
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			exit(SIM_EXIT_OK);
		default:
			return usage_error("%s: bad option", argv[0]);
		}
	}
	*first_arg = optind;
	return -1;
}

static int cmd_save(int argc, char **argv)
{
	enum { O_SOCKET = 256, O_LIVE, O_CHECKPOINT, O_JSON };
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "live", no_argument, NULL, O_LIVE },
		{ "checkpoint", no_argument, NULL, O_CHECKPOINT },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock_opt = NULL;
	bool live = false, checkpoint = false, json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SOCKET: sock_opt = optarg; break;
		case O_LIVE: live = true; break;
		case O_CHECKPOINT: checkpoint = true; break;
		case O_JSON: json = true; break;
		case 'h': fputs(usage_text, stdout); return SIM_EXIT_OK;
		default: return usage_error("%s", "save: bad option");
		}
	}
	if (argc - optind != 2)
		return usage_error("%s", "save: expected DOM (a name or an id) and FILE");
	return sim_cli_save(sim_cli_socket(sock_opt), argv[optind], argv[optind + 1], live,
			    checkpoint, json);
}

/* Drops LD_LIBRARY_PATH by re-executing (see the overview). */
static void drop_ld_library_path(char **argv)
{
	if (!getenv("LD_LIBRARY_PATH"))
		return;
	unsetenv("LD_LIBRARY_PATH");
	execv("/proc/self/exe", argv);
	fprintf(stderr, "xensim: warning: cannot re-exec without LD_LIBRARY_PATH: %s\n",
		strerror(errno));
}

int main(int argc, char **argv)
{
	struct client_args a;
	const char *cmd;
	int first = 1, rc, nargs;
	char **args;

	drop_ld_library_path(argv);
	if (argc < 2)
		return usage_error("%s", "missing command");
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage_text, stdout);
		return SIM_EXIT_OK;
	}
	if (!strcmp(cmd, "start"))
		return cmd_start(argc - 1, argv + 1);
	if (!strcmp(cmd, "save"))
		return cmd_save(argc - 1, argv + 1);

	bool is_xs = !strncmp(cmd, "xenstore-", 9);
	bool takes_json = !strcmp(cmd, "list") || !strcmp(cmd, "info") || !strcmp(cmd, "verify") ||
			  !strcmp(cmd, "frames");

	rc = parse_client(argc - 1, argv + 1, takes_json, is_xs, &a, &first);
	if (rc >= 0)
		return rc;
	args = argv + 1 + first;
	nargs = argc - 1 - first;
	const char *sock = sim_cli_socket(a.socket);

	if (!strcmp(cmd, "create"))
		return sim_cli_create(sock, nargs, args);
	if (!strcmp(cmd, "destroy") || !strcmp(cmd, "pause") || !strcmp(cmd, "unpause")) {
		if (nargs != 1)
			return usage_error("%s: expected exactly one DOM (a name or an id)", cmd);
		return sim_cli_domain_op(sock, cmd, args[0]);
	}
	if (!strcmp(cmd, "storm")) {
		if (nargs < 1)
			return usage_error("%s: expected one DOM or more (names or ids)", cmd);
		return sim_cli_storm(sock, a.permille < 0 ? 500 : (uint32_t)a.permille, nargs, args);
	}
	if (!strcmp(cmd, "list") || !strcmp(cmd, "info") || !strcmp(cmd, "verify") ||
	    !strcmp(cmd, "frames") || !strcmp(cmd, "stop")) {
		if (nargs != 0)
			return usage_error("%s: takes no arguments", cmd);
		if (!strcmp(cmd, "list"))
			return sim_cli_list(sock, a.json);
		if (!strcmp(cmd, "info"))
			return sim_cli_info(sock, a.json);
		if (!strcmp(cmd, "verify"))
			return sim_cli_verify(sock, a.json);
		if (!strcmp(cmd, "frames"))
			return sim_cli_frames(sock, a.json);
		return sim_cli_stop(sock);
	}
	if (!strcmp(cmd, "xenstore-read") || !strcmp(cmd, "xenstore-write") ||
	    !strcmp(cmd, "xenstore-rm") || !strcmp(cmd, "xenstore-ls") ||
	    !strcmp(cmd, "xenstore-chmod"))
		return sim_cli_xenstore(sock, cmd, (unsigned int)a.as_domid, nargs, args);
	return usage_error("unknown command \"%s\"", cmd);
}
