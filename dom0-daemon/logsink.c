/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logsink.c - the daemon's log sink: syslog (daemonised) or stderr
 * (foreground).
 *
 * Mechanism: a message is formatted once into a bounded buffer, filtered by
 * level, and written with one syslog() call or one write of a whole line to
 * stderr, so lines from the engine and the daemon never interleave
 * mid-line.  Under systemd (JOURNAL_STREAM set) stderr lines carry the
 * "<N>" priority prefix of sd-daemon(3) so the journal keeps the levels.
 * State is process-global because logging is (one daemon, one sink).
 */
#include "logsink.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static bool use_syslog;
static bool journal_prefix;
static int max_level = LOG_INFO;

static const char *const level_names[8] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

void xsd_log_open(bool to_syslog, int level)
{
	if (use_syslog && !to_syslog)
		closelog();
	use_syslog = to_syslog;
	journal_prefix = getenv("JOURNAL_STREAM") != NULL;
	if (use_syslog)
		openlog("xenshared", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	xsd_log_set_level(level);
}

void xsd_log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	max_level = level;
}

int xsd_log_get_level(void)
{
	return max_level;
}

void xsd_log_close(void)
{
	if (use_syslog)
		closelog();
	use_syslog = false;
}

static void emit(int level, const char *msg)
{
	char line[2048];
	int n;

	if (level > max_level)
		return;
	if (use_syslog) {
		syslog(level, "%s", msg);
		return;
	}
	if (journal_prefix)
		n = snprintf(line, sizeof(line), "<%d>%s\n", level, msg);
	else
		n = snprintf(line, sizeof(line), "xenshared: %s: %s\n",
			     level_names[level & 7], msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write per line; a failing stderr has nowhere to be reported. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void xsd_log(int level, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(level, msg);
}

void xsd_log_shr_sink(enum shr_log_level level, const char *msg, void *arg)
{
	(void)arg;
	emit((int)level, msg);
}
