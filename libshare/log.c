/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.c - the logging sink of libshare (see log.h).
 *
 * Mechanism: one process-wide sink and level, set by the daemon before it
 * starts the engine (the engine is single-threaded, so no lock).  Messages
 * are formatted into a bounded stack buffer (truncated, never allocated) and
 * handed to the sink; the default sink writes "xenshare: <msg>\n" to stderr.
 *
 * Invariant: shr_log() never fails and never allocates, so it may be called
 * on any error path, including out-of-memory ones.
 */
#include "log.h"

#include <stdio.h>

static void shr_log_stderr(enum shr_log_level level, const char *msg, void *arg)
{
	(void)arg;
	static const char *const names[] = {
		[SHR_LOG_ERR] = "error", [SHR_LOG_WARNING] = "warning",
		[SHR_LOG_NOTICE] = "notice", [SHR_LOG_INFO] = "info",
		[SHR_LOG_DEBUG] = "debug",
	};
	const char *name = (level >= SHR_LOG_ERR && level <= SHR_LOG_DEBUG) ?
			   names[level] : "log";

	fprintf(stderr, "xenshare: %s: %s\n", name, msg);
}

static shr_log_sink_fn *log_sink = shr_log_stderr;
static void *log_sink_arg;
static enum shr_log_level log_max = SHR_LOG_INFO;

void shr_log_set_sink(shr_log_sink_fn *fn, void *arg)
{
	log_sink = fn ? fn : shr_log_stderr;
	log_sink_arg = fn ? arg : NULL;
}

void shr_log_set_level(enum shr_log_level max)
{
	log_max = max;
}

void shr_log(enum shr_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_sink(level, msg, log_sink_arg);
}
