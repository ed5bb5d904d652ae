/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * schema.h - the statistics as the outside sees them: which values the
 * control socket's `stats` object and the xenstore mirror carry, under
 * which names, and how xenshare-stat and the docs show them.
 *
 * Three lists, one line per value, all with the columns that
 * libshare/stats.h explains:
 *   SHR_STATS         the engine's (libshare/stats.h), struct shr_stats
 *   SHR_DOMAIN_STATS  the engine's, per domain (libshare/stats.h),
 *                     struct shr_domain_stats
 *   XSD_STATS         the daemon's own (below), struct xsd_stats
 * schema.c makes each a table of descriptors (struct xsd_stat: the columns
 * and the field's offset in its struct), and every consumer walks the
 * tables instead of naming a statistic: the `stats` JSON and the mirror
 * (report.c), xenshare-stat's parser and its outputs, xenshared
 * --print-stats (the docs).  What is not a statistic stays with the code
 * that owns it: the version, and a domain's identity and policy (domid,
 * name, group, mode, ...).
 */
#ifndef XSD_SCHEMA_H
#define XSD_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libshare/engine.h"
#include "json.h"

/* The daemon's own values, beside the engine's (columns: libshare/stats.h). */
#define XSD_STATS(X) \
	X(pid, I64, GAUGE, PID, DAEMON, "pid", SHR_MIRROR | SHR_REQUIRED, \
	  "", "the daemon's process id") \
	X(uptime_s, DBL, GAUGE, SECONDS, DAEMON, "uptime_s", SHR_REQUIRED, \
	  "xenshare_daemon_uptime_seconds", "time since the daemon started") \
	X(cpu_percent, DBL, GAUGE, PERCENT, DAEMON, "cpu_percent", SHR_MIRROR | SHR_REQUIRED, \
	  "xenshare_daemon_cpu_ratio", "CPU used by the whole daemon over the last few seconds, of one CPU") \
	X(domains_known, U64, GAUGE, COUNT, DAEMON, "domains_known", 0, \
	  "xenshare_domains_known", "domains in the daemon's table (all but dom0)") \
	X(domains_sharing, U64, GAUGE, COUNT, DAEMON, "domains_sharing", 0, \
	  "xenshare_domains_sharing", "of those, the ones handed to the engine") \
	X(sharing_freed_pages, I64, GAUGE, PAGES, HOST, "sharing_freed_pages", SHR_MIRROR | SHR_HV | SHR_REQUIRED, \
	  "", "xc_sharing_freed_pages as the daemon read it (-1: the hypervisor did not answer)") \
	X(sharing_used_frames, I64, GAUGE, PAGES, HOST, "sharing_used_frames", SHR_MIRROR | SHR_HV | SHR_REQUIRED, \
	  "", "xc_sharing_used_frames as the daemon read it (-1: the hypervisor did not answer)") \
	X(dom0_balloon_pages, U64, COUNTER, PAGES, HOST, "dom0_balloon_pages", 0, \
	  "xenshare_dom0_balloon_pages_total", "pages the daemon asked dom0 to give back since start (dom0_balloon)")

struct xsd_stats {
	XSD_STATS(SHR_STATS_MEMBER)
};

/* One line of a list. */
struct xsd_stat {
	const char *name;               /* the struct field */
	const char *key;                /* JSON key and mirror node */
	const char *prom;               /* Prometheus metric, "" for none */
	const char *help;
	enum shr_stat_type type;
	enum shr_stat_kind kind;
	enum shr_stat_unit unit;
	enum shr_stat_section section;
	unsigned int flags;             /* SHR_MIRROR, SHR_HV, SHR_REQUIRED */
	size_t offset;                  /* of the field in the list's struct */
};

/* A list as a table; base pointers given with it point at its struct. */
struct xsd_stat_table {
	const char *list;               /* the list's macro, for messages */
	const struct xsd_stat *v;
	size_t n;
};

/* A line as a table row, for a struct: exactly what schema.c's tables
 * are made of, so a test can make a table of a list of its own. */
#define XSD_STAT_ROW(strct, name, type, kind, unit, section, key, flags, prom, help) \
	{ #name, key, prom, help, SHR_STAT_##type, SHR_STAT_##kind, SHR_UNIT_##unit, \
	  SHR_SEC_##section, flags, offsetof(strct, name) },
#define XSD_STAT_ONE(...) +1

enum {
	XSD_NR_DAEMON_STATS = 0 XSD_STATS(XSD_STAT_ONE),
	XSD_NR_ENGINE_STATS = 0 SHR_STATS(XSD_STAT_ONE),
	XSD_NR_DOMAIN_STATS = 0 SHR_DOMAIN_STATS(XSD_STAT_ONE),
};

extern const struct xsd_stat_table xsd_stats_daemon;   /* XSD_STATS, struct xsd_stats */
extern const struct xsd_stat_table xsd_stats_engine;   /* SHR_STATS, struct shr_stats */
extern const struct xsd_stat_table xsd_stats_domain;   /* SHR_DOMAIN_STATS, struct shr_domain_stats */

/* The name of a section's object in the `stats` reply ("daemon", "host",
 * "counters"; "domains" for DOMAIN). */
const char *xsd_stat_section_name(enum shr_stat_section sec);
/* The unit in words for the docs ("pages", "seconds", ...; "" for NONE). */
const char *xsd_stat_unit_name(enum shr_stat_unit unit);

/* A value, read from or written to the struct at base. */
union xsd_stat_value {
	uint64_t u64;
	int64_t i64;
	bool b;
	double d;
	enum shr_protocol proto;
};
union xsd_stat_value xsd_stat_get(const struct xsd_stat *s, const void *base);
void xsd_stat_set(const struct xsd_stat *s, void *base, union xsd_stat_value v);
/* A protocol by the name xsd_protocol_name() gives it: 0 or -EINVAL. */
int xsd_stat_proto_parse(const char *name, enum shr_protocol *out);

/* Writes key and value of s (read at base) into the open JSON object. */
void xsd_stat_json(struct xsd_json *j, const struct xsd_stat *s, const void *base);
/* Writes every value of the table that belongs to section sec. */
void xsd_stats_json(struct xsd_json *j, const struct xsd_stat_table *t,
		    enum shr_stat_section sec, const void *base);
/* The value as the xenstore mirror writes it: integers in decimal, booleans
 * 0 or 1, the protocol by name, ratios with 3 decimals and other fractions
 * with 1. */
void xsd_stat_text(const struct xsd_stat *s, const void *base, char *buf, size_t len);

/*
 * Prometheus: the factor from the value's unit to the metric's, read from
 * the metric's name as its naming rules want it (PAGES exported as
 * _bytes: the page size; PERCENT as _ratio: 1/100; else 1).
 */
double xsd_stat_prom_scale(const struct xsd_stat *s);

/*
 * The docs' reference of every value (xenshared --print-stats=FMT):
 * "pod" (the man pages' STATISTICS section) or "markdown" (the table of
 * docs/control-protocol.md).  0, -EINVAL for another format, -EIO if the
 * stream failed.
 */
int xsd_stats_print(FILE *f, const char *fmt);

#endif /* XSD_SCHEMA_H */
