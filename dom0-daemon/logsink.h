/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * logsink.h - where xenshared's and libshare's messages go.
 *
 * One sink for both: the daemon logs with xsd_log(), the engine with
 * shr_log() (libshare/log.h), and main() installs xsd_log_shr_sink() as the
 * engine's sink, so both obey the same level and target.  Messages about a
 * domain carry "d<domid>" (and "gfn 0x..." where a page is concerned), the
 * grep-able form libshare/log.h fixes.
 */
#ifndef XSD_LOGSINK_H
#define XSD_LOGSINK_H

#include <stdbool.h>

#include "libshare/log.h"

/* to_syslog: syslog(3) facility daemon; else stderr ("<N>" prefixes when
 * stderr is systemd's journal stream, "xenshared: level: " otherwise). */
void xsd_log_open(bool to_syslog, int level);
/* Our own filter only; main() passes the same level to shr_log_set_level(). */
void xsd_log_set_level(int level);
int xsd_log_get_level(void);
void xsd_log_close(void);

void xsd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For shr_log_set_sink(). */
void xsd_log_shr_sink(enum shr_log_level level, const char *msg, void *arg);

#define xsd_err(...)    xsd_log(3, __VA_ARGS__)
#define xsd_warn(...)   xsd_log(4, __VA_ARGS__)
#define xsd_notice(...) xsd_log(5, __VA_ARGS__)
#define xsd_info(...)   xsd_log(6, __VA_ARGS__)
#define xsd_debug(...)  xsd_log(7, __VA_ARGS__)

#endif /* XSD_LOGSINK_H */
