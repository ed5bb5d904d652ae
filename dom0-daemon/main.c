/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * main.c - xenshared: start-up, the main loop, reload and clean stop.
 *
 * DOC: Overview
 *
 * Start-up, in this order so that every failure has a clear message and
 * nothing is left behind:
 *   command line -> config path made absolute (the daemon chdirs to /) ->
 *   config (a bad file stops here, exit 1) -> signals blocked -> host lock
 *   file and pidfile locked (a second instance stops here, whatever its
 *   paths: hostlock.h) -> daemonise (unless -d; the parent waits on a pipe
 *   and exits 0 only once the daemon is ready, so `xenshared; echo $?`
 *   tells the truth) -> Xen handles: privcmd (libxenctrl), xenstore -> the
 *   host lock's xenstore node (a second instance with another runtime
 *   directory stops here, before any Xen state is touched) -> the sharing
 *   probe -> engine -> domain table (watches, first scan) -> control
 *   socket -> xenstore mirror -> sd_notify READY=1.
 * Xen handles are opened after the fork: libxenstore may start a thread,
 * and threads do not survive fork().
 *
 * The main loop is one poll() over: the signalfd, the xenstore watch fd,
 * the engine's event fd (sharing rings, VIRQ_ENOMEM) and the control
 * sockets.  The timeout is the delay the engine asked for (its rate
 * control), capped so the periodic tick (rescan, mirror, audit in debug
 * builds) runs.  On timeout shr_engine_run() gets a budget of
 * XSD_RUN_BUDGET_NS: short slices keep control clients and xenstore events
 * served promptly while the engine decides the long-run rate.
 *
 * Reload (SIGHUP or the `reload` command) parses into a new config; only a
 * complete, valid config that the engine accepts replaces the running one.
 *
 * Stop (SIGTERM/SIGINT): STOPPING=1, the control socket removed, every
 * domain removed from the engine, the engine freed (its mappings and
 * pending nominations released), the xenstore mirror removed, the host
 * lock's node removed, the pidfile removed.  A broken xenstore connection
 * or an engine that cannot go on also stops the daemon, with exit status 1
 * (systemd restarts it).
 *
 * `xenshared -C CMD` is not the daemon: it is a one-shot client of the
 * control socket named by the config, for scripts and tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <xenstore.h>

#include "libshare/engine.h"
#include "libshare/log.h"
#include "balloon.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "domains.h"
#include "hostlock.h"
#include "logsink.h"
#include "pidfile.h"
#include "report.h"
#include "settings.h"
#include "xen.h"
#include "xenshare_version.h"

#define XSD_RUN_BUDGET_NS (10 * 1000 * 1000)   /* 10 ms of engine work per slice */
#define XSD_MAX_SLEEP_MS 1000

#if defined(__SANITIZE_ADDRESS__)
#define XSD_DEBUG_AUDIT 1                      /* VARIANT=san: audit on every tick */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XSD_DEBUG_AUDIT 1
#endif
#endif
#ifndef XSD_DEBUG_AUDIT
#define XSD_DEBUG_AUDIT 0
#endif

struct xsd_daemon {
	struct xsd_cli cli;
	struct xsd_config cfg;
	bool config_missing;                   /* default path absent: running on defaults */
	struct xsd_pidfile *pidfile;
	struct xsd_hostlock *hostlock;
	int ready_fd;                          /* daemonised: tells the waiting parent */
	int sigfd;
	struct xs_handle *xs;
	struct xsd_xen *xen;
	struct shr_engine *engine;
	struct xsd_domains *doms;
	struct xsd_control *ctl;
	struct xsd_report *rep;
	struct xsd_balloon balloon;
	bool stop;
	int exit_status;
	uint64_t reloads, reload_failures;
	char last_reload_error[4096];
	char last_reload_warnings[1024];       /* restart-only settings kept, one per line */
};

/* ---- logging --------------------------------------------------------- */

static int effective_level(const struct xsd_daemon *dm)
{
	int lvl = dm->cfg.log_level + dm->cli.verbose;

	return lvl > LOG_DEBUG ? LOG_DEBUG : lvl;
}

static void logging_apply(struct xsd_daemon *dm, bool started)
{
	bool to_syslog;

	switch (dm->cfg.log_target) {
	case XSD_LOG_SYSLOG: to_syslog = true; break;
	case XSD_LOG_STDERR: to_syslog = false; break;
	default: to_syslog = !dm->cli.foreground; break;
	}
	/* Until the daemon is ready its messages go where the operator is looking. */
	if (!started)
		to_syslog = false;
	xsd_log_open(to_syslog, effective_level(dm));
	shr_log_set_level((enum shr_log_level)effective_level(dm));
}

/* Logs a multi-line message (config errors) one line at a time. */
static void log_lines(int level, const char *prefix, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");

		xsd_log(level, "%s%.*s", prefix, (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

/* ---- config ---------------------------------------------------------- */

/* Reads the config file (or the defaults when the default path is absent). */
static int config_load(const struct xsd_cli *cli, struct xsd_config *cfg, bool *missing,
		       char *err, size_t errlen)
{
	int rc = xsd_config_parse_file(cli->config_path, cfg, err, errlen);

	*missing = false;
	if (rc == -ENOENT && !cli->config_given) {
		*missing = true;
		return xsd_config_init_defaults(cfg, err, errlen);
	}
	return rc;
}

static int reload(struct xsd_daemon *dm)
{
	struct xsd_config next, old;
	struct shr_params params;
	char err[4096];
	bool missing;
	int rc;

	sd_notify(0, "RELOADING=1");
	dm->last_reload_warnings[0] = 0;
	rc = config_load(&dm->cli, &next, &missing, err, sizeof(err));
	if (rc) {
		log_lines(LOG_ERR, "reload failed, keeping the running config: ", err);
		goto fail;
	}
	if (xsd_config_keep_restart_only(dm->cli.config_path, &dm->cfg, &next, dm->last_reload_warnings,
					 sizeof(dm->last_reload_warnings)))
		log_lines(LOG_WARNING, "", dm->last_reload_warnings);
	xsd_config_to_params(&next, &params);
	rc = shr_engine_set_params(dm->engine, &params);
	if (rc) {
		snprintf(err, sizeof(err), "%s: the engine refused the new settings: %s",
			 dm->cli.config_path, strerror(-rc));
		xsd_err("reload failed, keeping the running config: %s", err);
		xsd_config_release(&next);
		goto fail;
	}
	old = dm->cfg;
	dm->cfg = next;
	dm->config_missing = missing;
	logging_apply(dm, true);
	xsd_domains_set_config(dm->doms, &dm->cfg);
	xsd_config_release(&old);
	dm->reloads++;
	dm->last_reload_error[0] = 0;
	xsd_notice("reloaded %s%s", dm->cli.config_path, missing ? " (absent: defaults)" : "");
	sd_notify(0, "READY=1");
	return 0;
fail:
	dm->reload_failures++;
	snprintf(dm->last_reload_error, sizeof(dm->last_reload_error), "%s", err);
	sd_notify(0, "READY=1");
	return rc ? rc : -EINVAL;
}

/* ---- control commands -------------------------------------------------- */

static int audit(struct xsd_daemon *dm, int *engine_v, int *table_v)
{
	*engine_v = shr_engine_audit(dm->engine);
	*table_v = xsd_domains_audit(dm->doms);
	if (*engine_v || *table_v)
		xsd_err("audit: %d engine and %d domain-table violations", *engine_v, *table_v);
	else
		xsd_info("audit: consistent");
	return *engine_v + *table_v;
}

/* The operator's audit adds the frame census (costly: not on every tick). */
static int audit_frames(struct xsd_daemon *dm, uint64_t *unaccounted)
{
	int rc = shr_engine_audit_frames(dm->engine, unaccounted);

	if (rc < 0)
		xsd_err("audit: frame census failed: %s", strerror(-rc));
	else if (rc)
		xsd_err("audit: %d shared frames hold pages of two sharing groups", rc);
	return rc;
}

/* A newline-separated text as a JSON array of its lines. */
static void json_lines(struct xsd_json *j, const char *key, const char *text)
{
	xsd_json_arr_begin(j, key);
	while (*text) {
		size_t n = strcspn(text, "\n");

		xsd_json_strn(j, NULL, text, n);
		text += n + (text[n] == '\n');
	}
	xsd_json_arr_end(j);
}

static void control_command(void *arg, const char *cmd, const char *args, struct xsd_json *j)
{
	(void)args;
	struct xsd_daemon *dm = arg;

	if (!strcmp(cmd, "stats")) {
		xsd_report_stats_json(dm->rep, j);
		return;
	}
	xsd_json_obj_begin(j, NULL);
	if (!strcmp(cmd, "ping")) {
		xsd_json_bool(j, "ok", true);
		xsd_json_str(j, "version", XENSHARE_VERSION);
	} else if (!strcmp(cmd, "reload")) {
		int rc = reload(dm);

		xsd_json_bool(j, "ok", rc == 0);
		if (rc)
			xsd_json_str(j, "error", dm->last_reload_error);
		else if (dm->last_reload_warnings[0])
			json_lines(j, "warnings", dm->last_reload_warnings);
	} else if (!strcmp(cmd, "audit")) {
		uint64_t unaccounted = 0;
		int ev, tv, n = audit(dm, &ev, &tv), fv = audit_frames(dm, &unaccounted);

		xsd_json_bool(j, "ok", n == 0 && fv == 0);
		xsd_json_i64(j, "engine_violations", ev);
		xsd_json_i64(j, "table_violations", tv);
		xsd_json_i64(j, "frame_violations", fv);
		xsd_json_i64(j, "frames_unaccounted", (int64_t)unaccounted);
	} else if (!strcmp(cmd, "help")) {
		xsd_json_arr_begin(j, "commands");
		xsd_json_str(j, NULL, "ping");
		xsd_json_str(j, NULL, "stats");
		xsd_json_str(j, NULL, "reload");
		xsd_json_str(j, NULL, "audit");
		xsd_json_str(j, NULL, "help");
		xsd_json_arr_end(j);
	} else {
		xsd_json_str(j, "error", "unknown command");
		xsd_json_str(j, "command", cmd);
	}
	xsd_json_obj_end(j);
}

/* ---- -C: a client of the running daemon --------------------------------- */

/*
 * Sends one command and prints the one-line answer: a scriptable way to
 * reach the control socket (tests, `xenshared -C reload`) without another
 * tool.  Exit XSD_EXIT_CTL_OK when the answer is not an error,
 * XSD_EXIT_CTL_REFUSED when it is, XSD_EXIT_CTL_NO_DAEMON when no daemon
 * answers, XSD_EXIT_CTL_DENIED when the socket (or the daemon) refuses this
 * user: a daemon that runs but is not ours to ask is not "no daemon".
 */
static int control_client(const char *path, const char *cmd)
{
	static const char denied[] = "{\"error\":\"permission denied\"}\n";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *buf = NULL;
	size_t used = 0, cap = 0;
	int fd, rc = XSD_EXIT_CTL_NO_DAEMON;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0 && (errno == EACCES || errno == EPERM)) {
			fprintf(stderr, "xenshared: permission denied on %s: the control socket "
				"is root's; run as root\n", path);
			rc = XSD_EXIT_CTL_DENIED;
		} else {
			fprintf(stderr, "xenshared: no daemon answers on %s: %s\n", path, strerror(errno));
		}
		goto out;
	}
	/* MSG_NOSIGNAL: a daemon that closes at once is an error, not SIGPIPE */
	if (send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "xenshared: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (used + 4096 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!nb) {
				fprintf(stderr, "xenshared: out of memory\n");
				goto out;
			}
			buf = nb;
		}
		if (poll(&pfd, 1, 30000) <= 0) {
			fprintf(stderr, "xenshared: no answer from %s within 30 s\n", path);
			goto out;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "xenshared: %s closed the connection without an answer\n", path);
			goto out;
		}
		used += (size_t)n;
		buf[used] = 0;
		if (memchr(buf, '\n', used))
			break;
	}
	fputs(buf, stdout);
	if (!strcmp(buf, denied)) {
		fprintf(stderr, "xenshared: the daemon on %s refused this user: run as root\n", path);
		rc = XSD_EXIT_CTL_DENIED;
	} else {
		rc = strstr(buf, "\"error\":") || strstr(buf, "\"ok\":false") ?
		     XSD_EXIT_CTL_REFUSED : XSD_EXIT_CTL_OK;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* ---- start-up ---------------------------------------------------------- */

/*
 * The daemon chdirs to /, so a relative config path would name another
 * file (or none) at the first reload.  Its directory is resolved now; the
 * file name is kept, so a symlinked config can still be switched between
 * reloads, as with an absolute path.
 */
static int absolute_config_path(struct xsd_cli *cli, char *buf, size_t len)
{
	const char *slash = strrchr(cli->config_path, '/');
	const char *name = slash ? slash + 1 : cli->config_path;
	char dir[PATH_MAX], shown[512];
	size_t used;
	int n;

	if (cli->config_path[0] == '/')
		return 0;
	n = snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - cli->config_path) : 1,
		     slash ? cli->config_path : ".");
	if (n < 0 || (size_t)n >= sizeof(dir) || !realpath(dir, buf)) {
		xsd_printable(shown, sizeof(shown), cli->config_path, strlen(cli->config_path));
		fprintf(stderr, "xenshared: cannot make the config path '%s' absolute: %s: %s\n",
			shown, dir, strerror(n < 0 || (size_t)n >= sizeof(dir) ? ENAMETOOLONG : errno));
		return -ENOENT;
	}
	used = strlen(buf);
	n = snprintf(buf + used, len - used, "%s%s", buf[used - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= len - used) {
		fprintf(stderr, "xenshared: the config path is longer than %zu bytes\n", len - 1);
		return -ENAMETOOLONG;
	}
	cli->config_path = buf;
	return 0;
}

/* The signals the daemon takes through its signalfd (blocked otherwise). */
static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/*
 * Double fork: the grandchild is the daemon (no controlling terminal, not a
 * session leader).  The original process waits until the daemon writes one
 * byte (ready) or closes the pipe (failed) and exits 0 or 1 accordingly.
 */
static int daemonise(struct xsd_daemon *dm)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC)) {
		xsd_err("pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		xsd_err("fork: %s", strerror(errno));
		return -errno;
	}
	if (pid > 0) {
		sigset_t set;
		ssize_t n;

		/* the waiting parent stays interruptible (Ctrl-C on a hung start) */
		handled_signals(&set);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		close(fds[1]);
		do
			n = read(fds[0], &c, 1);
		while (n < 0 && errno == EINTR);
		/* nothing read: the daemon failed and said why on stderr */
		_exit(n == 1 && c == 'R' ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	if (chdir("/"))
		_exit(1);
	umask(022);
	dm->ready_fd = fds[1];
	return 0;
}

static void announce_ready(struct xsd_daemon *dm)
{
	int fd;

	sd_notifyf(0, "READY=1\nSTATUS=watching %zu domains\nMAINPID=%d",
		   xsd_domains_count(dm->doms), (int)getpid());
	if (dm->ready_fd >= 0) {
		/* stdio to /dev/null, then let the parent go */
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		if (write(dm->ready_fd, "R", 1) != 1)
			xsd_warn("could not tell the parent process we are ready: %s", strerror(errno));
		close(dm->ready_fd);
		dm->ready_fd = -1;
	}
	logging_apply(dm, true);
	xsd_notice("xenshared %s ready: %zu domains known, control socket %s", XENSHARE_VERSION,
		   xsd_domains_count(dm->doms), dm->cfg.control_socket);
}

static int open_xen(struct xsd_daemon *dm)
{
	char err[512];
	int rc;

	/* privcmd first: its absence is the plainest sign that this is not dom0 */
	rc = xsd_xen_open(&dm->xen);
	if (rc) {
		int e = -rc;

		if (e == ENOENT || access("/dev/xen/privcmd", F_OK))
			xsd_err("cannot open /dev/xen/privcmd (%s): this is not dom0 of a running "
				"Xen host, or the xen kernel modules / proc-xen.mount are missing",
				strerror(e));
		else if (e == EACCES || e == EPERM)
			xsd_err("cannot open /dev/xen/privcmd (%s): xenshared must run as root in dom0",
				strerror(e));
		else
			xsd_err("cannot open libxenctrl (%s)", strerror(e));
		return -e;
	}
	dm->xs = xs_open(XS_UNWATCH_FILTER);
	if (!dm->xs) {
		rc = -errno;
		xsd_err("cannot reach xenstore (xs_open: %s): is xenstored running "
			"(xenstored.service) and is this dom0?", strerror(errno));
		return rc;
	}
	/* before anything below changes Xen's state: one daemon per host */
	rc = xsd_hostlock_claim(dm->hostlock, dm->xs, err, sizeof(err));
	if (rc) {
		xsd_err("%s", err);
		return rc;
	}
	/* a hypervisor built without memory sharing cannot be helped */
	rc = xsd_xen_sharing_probe(dm->xen);
	if (rc) {
		xsd_err("%s", xsd_engine_refusal(rc));
		return rc;
	}
	return 0;
}

static int open_engine(struct xsd_daemon *dm)
{
	struct shr_params params;
	int rc;

	xsd_config_to_params(&dm->cfg, &params);
	rc = shr_engine_alloc(&params, &dm->engine);
	if (!rc)
		return 0;
	switch (rc) {
	case -ENOENT:
	case -EACCES:
	case -EPERM:
		xsd_err("engine: cannot open the Xen devices (%s): run as root in dom0", strerror(-rc));
		break;
	case -EOPNOTSUPP:
		if (dm->cfg.protocol == SHR_PROTO_BATCHED) {
			xsd_err("engine: protocol = batched, but the hypervisor has no batched "
				"compare-and-share op: use protocol = auto or the patched hypervisor "
				"(hypervisor-patch/)");
			break;
		}
		/* fall through */
	case -ENOSYS:
		xsd_err("engine: %s", xsd_engine_refusal(rc));
		break;
	default:
		xsd_err("engine: start failed: %s", strerror(-rc));
		break;
	}
	return rc;
}

static int open_signals(struct xsd_daemon *dm)
{
	sigset_t set;

	handled_signals(&set);
	dm->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (dm->sigfd < 0) {
		xsd_err("signalfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void block_signals(void)
{
	sigset_t set;

	handled_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- main loop ---------------------------------------------------------- */

static void handle_signals(struct xsd_daemon *dm)
{
	struct signalfd_siginfo si;

	while (read(dm->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			xsd_notice("SIGHUP: reloading %s", dm->cli.config_path);
			reload(dm);
			break;
		case SIGTERM:
		case SIGINT:
			xsd_notice("%s: stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			dm->stop = true;
			break;
		default:
			break;
		}
	}
}

static void handle_xenstore(struct xsd_daemon *dm)
{
	char **ev;
	unsigned int budget = 4096;       /* a flood of events cannot starve the loop */

	while (budget && (ev = xs_check_watch(dm->xs))) {
		xsd_domains_watch_event(dm->doms, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
		free(ev);
		budget--;
	}
	if (budget && errno != EAGAIN && errno != EWOULDBLOCK) {
		/* the connection to xenstored is broken: nothing more will come */
		xsd_err("xenstore watch connection failed (%s): stopping", strerror(errno));
		dm->stop = true;
		dm->exit_status = 1;
	}
	xsd_domains_settle(dm->doms);
}

static void tick(struct xsd_daemon *dm)
{
	struct shr_stats st;

	xsd_domains_rescan(dm->doms);
	xsd_domains_settle(dm->doms);
	xsd_report_tick(dm->rep);
	if (dm->cfg.xenstore_stats)
		xsd_report_mirror(dm->rep);
	else
		xsd_report_mirror_clear(dm->rep);
	shr_engine_get_stats(dm->engine, &st);
	sd_notifyf(0, "STATUS=%zu domains, %" PRIu64 " pages saved, pass %.0f%%%s%s",
		   xsd_domains_count(dm->doms), st.pages_sharing, st.pass_progress * 100,
		   st.settled ? ", settled" : "", st.sharing_paused ? ", PAUSED (below reserve)" : "");
	if (XSD_DEBUG_AUDIT) {
		int ev, tv;

		audit(dm, &ev, &tv);
	}
}

static int run(struct xsd_daemon *dm)
{
	uint64_t next_run = xsd_now_ns(), next_tick = xsd_now_ns();

	while (!dm->stop) {
		struct pollfd pfds[3 + XSD_CONTROL_MAX_POLLFDS];
		size_t n = 0, nctl, first_ctl;
		int sig_i, xs_i, ev_i = -1, efd, timeout;
		uint64_t now = xsd_now_ns(), wake = next_run < next_tick ? next_run : next_tick;

		timeout = wake <= now ? 0 : (int)((wake - now + 999999) / 1000000);
		if (timeout > XSD_MAX_SLEEP_MS)
			timeout = XSD_MAX_SLEEP_MS;
		sig_i = (int)n;
		pfds[n++] = (struct pollfd){ .fd = dm->sigfd, .events = POLLIN };
		xs_i = (int)n;
		pfds[n++] = (struct pollfd){ .fd = xs_fileno(dm->xs), .events = POLLIN };
		efd = shr_engine_event_fd(dm->engine);
		if (efd >= 0) {
			ev_i = (int)n;
			pfds[n++] = (struct pollfd){ .fd = efd, .events = POLLIN };
		}
		first_ctl = n;
		nctl = xsd_control_fill_pollfds(dm->ctl, pfds + n, XSD_CONTROL_MAX_POLLFDS);
		n += nctl;
		if (poll(pfds, n, timeout) < 0 && errno != EINTR) {
			xsd_err("poll: %s", strerror(errno));
			return 1;
		}
		if (pfds[sig_i].revents)
			handle_signals(dm);
		if (dm->stop)
			break;
		if (pfds[xs_i].revents & (POLLIN | POLLHUP | POLLERR))
			handle_xenstore(dm);
		if (ev_i >= 0 && pfds[ev_i].revents) {
			int rc = shr_engine_handle_events(dm->engine);

			if (rc < 0)
				xsd_warn("engine events: %s", strerror(-rc));
		}
		xsd_control_handle(dm->ctl, pfds + first_ctl, nctl);

		now = xsd_now_ns();
		if (now >= next_run) {
			int64_t delay = shr_engine_run(dm->engine, XSD_RUN_BUDGET_NS);

			if (delay < 0) {
				xsd_err("engine cannot go on: %s", strerror((int)-delay));
				return 1;
			}
			next_run = xsd_now_ns() + (uint64_t)delay;
			xsd_domains_sync_held(dm->doms);
		}
		if (now >= next_tick) {
			tick(dm);
			next_tick = xsd_now_ns() + (uint64_t)dm->cfg.xenstore_stats_interval * 1000000000ull;
		}
	}
	return 0;
}

static void shutdown_all(struct xsd_daemon *dm, bool clean)
{
	sd_notify(0, "STOPPING=1");
	xsd_control_free(dm->ctl);
	dm->ctl = NULL;
	xsd_domains_free(dm->doms);       /* every domain removed from the engine */
	dm->doms = NULL;
	xsd_report_free(dm->rep, clean);
	dm->rep = NULL;
	shr_engine_free(dm->engine);      /* mappings and nominations released */
	dm->engine = NULL;
	xsd_hostlock_release(dm->hostlock, dm->xs);
	if (dm->xs)
		xs_close(dm->xs);
	xsd_xen_close(dm->xen);
	if (dm->sigfd >= 0)
		close(dm->sigfd);
	xsd_pidfile_release(dm->pidfile);
	xsd_config_release(&dm->cfg);
}

/*
 * The daemon lives for months and reallocates its largest blocks as the
 * host changes: the index's tables at each rebuild, a domain's page state
 * at each create and destroy.  glibc's default mmap threshold adapts
 * upwards the first time such a block is freed, after which the next ones
 * come from the heap and a freed table stays in the daemon's RSS wherever
 * a live block sits above it.  A fixed threshold keeps every block of
 * XSD_HEAP_MMAP_MIN or more in its own mapping, returned to the kernel
 * when freed, so RSS follows the memory in use (docs/design.md's budget
 * of bytes per page).  An allocator that does not take the setting (a
 * sanitizer's) is named in the log; nothing else depends on it.
 */
#define XSD_HEAP_MMAP_MIN (128 * 1024)
static void heap_fix_threshold(void)
{
	if (mallopt(M_MMAP_THRESHOLD, XSD_HEAP_MMAP_MIN) != 1)
		xsd_notice("malloc ignores M_MMAP_THRESHOLD: freed tables may stay in the RSS");
}

int main(int argc, char **argv)
{
	struct xsd_daemon dm = { .ready_fd = -1, .sigfd = -1 };
	char err[4096], config_path[PATH_MAX];
	int rc, status;

	status = xsd_cli_parse(argc, argv, &dm.cli, stdout, stderr);
	if (status != XSD_CLI_RUN)
		return status;
	xsd_log_open(false, LOG_INFO);

	if (dm.cli.control_cmd) {
		/* the daemon is worth reaching even while the file has errors */
		rc = xsd_config_parse_file_partial(dm.cli.config_path, &dm.cfg, err, sizeof(err));
		if (rc == -ENOENT && !dm.cli.config_given)
			rc = xsd_config_init_defaults(&dm.cfg, err, sizeof(err));
		else if (rc == -EINVAL) {
			/* the valid lines (and defaults) name the socket; say so */
			fprintf(stderr, "xenshared: warning: %s has errors (xenshared -n shows them); "
				"using control socket %s\n", dm.cli.config_path, dm.cfg.control_socket);
			rc = 0;
		}
		if (rc) {
			log_lines(LOG_ERR, "", err);
			return XSD_EXIT_CTL_NO_DAEMON;
		}
		status = control_client(dm.cfg.control_socket, dm.cli.control_cmd);
		xsd_config_release(&dm.cfg);
		return status;
	}
	if (!dm.cli.check_only && absolute_config_path(&dm.cli, config_path, sizeof(config_path)))
		return 1;
	rc = config_load(&dm.cli, &dm.cfg, &dm.config_missing, err, sizeof(err));
	if (dm.cli.check_only) {
		if (rc) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s: OK%s\n", dm.cli.config_path, dm.config_missing ? " (absent: defaults)" : "");
		xsd_config_release(&dm.cfg);
		return 0;
	}
	if (rc) {
		log_lines(LOG_ERR, "", err);
		return 1;
	}
	logging_apply(&dm, false);
	heap_fix_threshold();
	if (dm.config_missing)
		xsd_notice("%s is absent: running with the defaults", dm.cli.config_path);

	block_signals();
	rc = xsd_hostlock_acquire(&dm.hostlock, err, sizeof(err));
	if (rc) {
		xsd_err("%s", err);
		xsd_config_release(&dm.cfg);
		return 1;
	}
	rc = xsd_pidfile_acquire(dm.cfg.pidfile, &dm.pidfile, err, sizeof(err));
	if (rc) {
		xsd_err("%s", err);
		xsd_hostlock_release(dm.hostlock, NULL);
		xsd_config_release(&dm.cfg);
		return 1;
	}
	if (!dm.cli.foreground && daemonise(&dm)) {
		xsd_pidfile_release(dm.pidfile);
		xsd_hostlock_release(dm.hostlock, NULL);
		return 1;
	}
	if (xsd_pidfile_write(dm.pidfile))
		xsd_warn("writing the pid into %s: %s", dm.cfg.pidfile, strerror(errno));
	if (xsd_hostlock_write_pid(dm.hostlock))
		xsd_warn("writing the pid into the host lock file: %s", strerror(errno));

	shr_log_set_sink(xsd_log_shr_sink, NULL);
	shr_log_set_level((enum shr_log_level)effective_level(&dm));
	status = 1;
	if (open_signals(&dm) || open_xen(&dm) || open_engine(&dm))
		goto out;
	dm.balloon = (struct xsd_balloon){ .xs = dm.xs, .xen = dm.xen, .cfg = &dm.cfg, .last_s = -1e9 };
	shr_engine_set_need_memory_fn(dm.engine, xsd_balloon_need, &dm.balloon);
	rc = xsd_domains_alloc(dm.xs, dm.xen, dm.engine, &dm.cfg, &dm.doms);
	if (!rc)
		rc = xsd_domains_start(dm.doms);
	if (rc) {
		xsd_err("domain table: cannot start: %s", strerror(-rc));
		goto out;
	}
	rc = xsd_control_open(dm.cfg.control_socket, control_command, &dm, &dm.ctl, err, sizeof(err));
	if (rc) {
		xsd_err("control socket: %s", err);
		goto out;
	}
	rc = xsd_report_alloc(dm.xs, dm.xen, dm.engine, dm.doms, &dm.rep);
	if (rc) {
		xsd_err("out of memory");
		goto out;
	}
	xsd_report_set_balloon_counter(dm.rep, &dm.balloon.pages_requested);
	announce_ready(&dm);
	status = run(&dm);
	if (dm.exit_status)
		status = dm.exit_status;
	xsd_notice("stopping: releasing %zu domains", xsd_domains_count(dm.doms));
out:
	shutdown_all(&dm, status == 0);
	if (status == 0)
		xsd_notice("stopped");
	xsd_log_close();
	return status;
}
