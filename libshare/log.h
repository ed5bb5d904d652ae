/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log.h - logging for libshare and the daemon.
 *
 * The library never decides where messages go: the daemon installs a sink
 * (syslog or stderr); the default sink writes to stderr.  Messages carry
 * context in a fixed form so they can be grepped: "d<domid> gfn 0x<gfn>
 * <operation>: <what happened>".
 */
#ifndef SHR_LOG_H
#define SHR_LOG_H

#include <stdarg.h>

enum shr_log_level { SHR_LOG_ERR = 3, SHR_LOG_WARNING = 4, SHR_LOG_NOTICE = 5,
		     SHR_LOG_INFO = 6, SHR_LOG_DEBUG = 7 };  /* syslog values */

typedef void shr_log_sink_fn(enum shr_log_level level, const char *msg, void *arg);

void shr_log_set_sink(shr_log_sink_fn *fn, void *arg);
void shr_log_set_level(enum shr_log_level max);
void shr_log(enum shr_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define shr_err(...)    shr_log(SHR_LOG_ERR, __VA_ARGS__)
#define shr_warn(...)   shr_log(SHR_LOG_WARNING, __VA_ARGS__)
#define shr_notice(...) shr_log(SHR_LOG_NOTICE, __VA_ARGS__)
#define shr_info(...)   shr_log(SHR_LOG_INFO, __VA_ARGS__)
#define shr_debug(...)  shr_log(SHR_LOG_DEBUG, __VA_ARGS__)

#endif /* SHR_LOG_H */
