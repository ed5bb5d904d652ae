/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * settings.h - the one table of xenshared's settings.
 *
 * Every setting the daemon has is one row of xsd_settings[]: its name, type,
 * default (written in config-file syntax), whether SIGHUP may change it, the
 * parser that is also its validator, and its help text.  The config parser,
 * --help, --print-settings=pod|markdown|conf (the xenshared.conf(5) man page
 * section and the shipped default config) are all generated from this table,
 * so the documentation cannot drift from what the parser accepts.
 *
 * Invariants:
 *  - struct xsd_config is only ever filled through the table's parsers:
 *    xsd_config_init_defaults() parses each row's default with the row's own
 *    parser, so a default that fails its validator is a start-up error (and a
 *    unit test), never a silently odd value.
 *  - A setting is either scalar (one value, set once per file) or keyed
 *    (`domain NAME = ...`, one rule per NAME); keyed rules live in
 *    cfg->rules in file order, first match wins.
 */
#ifndef XSD_SETTINGS_H
#define XSD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libshare/engine.h"

#define XSD_GROUP_MAX 63            /* engine's policy.group[64] minus the NUL */
#define XSD_NAME_MAX 63             /* engine's domain name[64] minus the NUL */
#define XSD_SOCKET_PATH_MAX 107     /* sizeof(sun_path) - 1 */
#define XSD_PATH_MAX 255
#define XSD_PAGE_SIZE 4096u

enum xsd_log_target { XSD_LOG_AUTO = 0, XSD_LOG_SYSLOG, XSD_LOG_STDERR };

/* `domain NAME = MODE [group GROUP]`: opt-in by name for unpatched toolstacks. */
struct xsd_domain_rule {
	char pattern[XSD_NAME_MAX + 1];     /* fnmatch(3) pattern on the domain's name */
	enum shr_mode mode;
	char group[XSD_GROUP_MAX + 1];      /* "" = the default_group setting */
	unsigned int line;                  /* where it was written, for messages */
};

/* One parsed configuration; replaced as a whole on reload, never edited live. */
struct xsd_config {
	/* engine tunables */
	unsigned int batch_pages;
	unsigned int max_sharers;
	double pass_target_s;
	double cpu_cap_percent;
	uint64_t reserve_pages;
	double settle_percent;
	bool volatility_backoff;
	int protocol;                       /* enum shr_protocol */
	int scan_mode;                      /* enum shr_scan_mode */
	double sweep_period_s;
	/* policy */
	char default_group[XSD_GROUP_MAX + 1];
	struct xsd_domain_rule *rules;
	size_t nr_rules;
	bool dom0_balloon;
	uint64_t dom0_min_pages;
	/* daemon */
	char control_socket[XSD_SOCKET_PATH_MAX + 1];
	char pidfile[XSD_PATH_MAX + 1];
	int log_level;                      /* syslog priority: LOG_ERR .. LOG_DEBUG */
	int log_target;                     /* enum xsd_log_target */
	bool xenstore_stats;
	unsigned int xenstore_stats_interval;
};

enum xsd_setting_type {
	XSD_T_UINT, XSD_T_DOUBLE, XSD_T_SIZE, XSD_T_BOOL, XSD_T_ENUM,
	XSD_T_GROUP, XSD_T_PATH, XSD_T_DOMAIN_RULE,
};

struct xsd_choice { const char *name; int value; const char *help; };

struct xsd_setting;
/*
 * Parses value (already trimmed) into the config; on error writes a message
 * without file/line ("250 is not in 1..100") into err and returns -EINVAL.
 * key_arg is NAME for keyed settings, NULL otherwise.
 */
typedef int xsd_setting_parse_fn(const struct xsd_setting *s, const char *key_arg,
				 const char *value, struct xsd_config *cfg,
				 char *err, size_t errlen);

struct xsd_setting {
	const char *name;
	enum xsd_setting_type type;
	const char *def;                    /* default in file syntax; NULL: none (keyed) */
	bool reloadable;
	const char *metavar;                /* for docs: "N", "PERCENT", ... */
	double min, max;                    /* numeric range, inclusive */
	const struct xsd_choice *choices;   /* XSD_T_ENUM / XSD_T_BOOL, NULL-terminated */
	size_t offset, size;                /* field in struct xsd_config (scalar) */
	xsd_setting_parse_fn *parse;
	const char *help;
};

extern const struct xsd_setting xsd_settings[];
extern const size_t xsd_nr_settings;

const struct xsd_setting *xsd_setting_find(const char *name);
bool xsd_setting_keyed(const struct xsd_setting *s);

/* Fills cfg with every default; -EINVAL (message in err) if one is invalid. */
int xsd_config_init_defaults(struct xsd_config *cfg, char *err, size_t errlen);
/* Frees what a config owns (the rules); cfg can be re-initialised after. */
void xsd_config_release(struct xsd_config *cfg);
/* Deep copy (the rules array is duplicated); -ENOMEM. */
int xsd_config_copy(struct xsd_config *dst, const struct xsd_config *src);
/* True when the scalar setting s has the same value in a and b. */
bool xsd_setting_equal(const struct xsd_setting *s, const struct xsd_config *a,
		       const struct xsd_config *b);
/* The engine's view of a config. */
void xsd_config_to_params(const struct xsd_config *cfg, struct shr_params *p);

/*
 * Validators shared with the xenstore policy and xenshare-estimate (same
 * rules for every source of a group name).  xsd_group_name_check() is
 * xsd_group_name_valid() with the message: 0, or -EINVAL and why in err.
 */
bool xsd_group_name_valid(const char *g);
int xsd_group_name_check(const char *g, char *err, size_t errlen);
/* Copies untrusted bytes for messages: anything but printable ASCII (and the
 * backslash) as \xNN, cut at max-1 without splitting an escape. */
void xsd_printable(char *out, size_t max, const char *v, size_t len);
const char *xsd_mode_name(enum shr_mode m);
int xsd_mode_parse(const char *s, enum shr_mode *out);
const char *xsd_protocol_name(enum shr_protocol p);

enum xsd_settings_format { XSD_FMT_POD, XSD_FMT_MARKDOWN, XSD_FMT_CONF, XSD_FMT_HELP };
int xsd_settings_format_parse(const char *s, enum xsd_settings_format *out);
/* Writes the settings table in the given format; returns 0 or -errno. */
int xsd_settings_print(FILE *f, enum xsd_settings_format fmt);

#endif /* XSD_SETTINGS_H */
