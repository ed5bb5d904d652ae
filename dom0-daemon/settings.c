/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * settings.c - xenshared's settings table, its parsers and its printers.
 *
 * Mechanism: each row of xsd_settings[] names a parser; the parser is the
 * validator (it refuses out-of-range or malformed values with a message that
 * names the value and the accepted range) and it stores the value at the
 * row's offset in struct xsd_config.  Defaults are strings in file syntax and
 * go through the same parser, so "every default is valid" is a checkable
 * property rather than a hope.  The printers walk the same rows to produce
 * the man page section (POD), markdown, the default xenshared.conf and the
 * --help list.
 *
 * Units: sizes are stored in 4 KiB pages (the engine's unit), percentages as
 * given in the file; xsd_config_to_params() converts to the engine's
 * fractions.
 */
#include "settings.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define FIELD(f) offsetof(struct xsd_config, f), sizeof(((struct xsd_config *)0)->f)

static int seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void *field(const struct xsd_setting *s, struct xsd_config *cfg)
{
	return (char *)cfg + s->offset;
}

/* Digits only: strtoull alone would accept "-1", " 1" and "0x10". */
static int parse_u64(const char *v, uint64_t *out)
{
	char *end;

	if (!*v || !isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*out = x;
	return (int)(end - v);
}

static int parse_uint(const struct xsd_setting *s, const char *key_arg,
		      const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)key_arg;
	uint64_t x;
	int n = parse_u64(v, &x);

	if (n < 0 || v[n])
		return seterr(err, errlen, "'%s' is not a whole number", v);
	if ((double)x < s->min || (double)x > s->max)
		return seterr(err, errlen, "%s is not in %.0f..%.0f", v, s->min, s->max);
	*(unsigned int *)field(s, cfg) = (unsigned int)x;
	return 0;
}

static int parse_double(const struct xsd_setting *s, const char *key_arg,
			const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)key_arg;
	char *end;
	double x;

	/* strtod would also take "inf", "nan", hex floats and leading blanks. */
	if (!isdigit((unsigned char)*v) && *v != '.')
		return seterr(err, errlen, "'%s' is not a number", v);
	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end || errno == ERANGE || !isfinite(x) || strpbrk(v, "xXpP"))
		return seterr(err, errlen, "'%s' is not a number", v);
	if (x < s->min || x > s->max)
		return seterr(err, errlen, "%s is not in %g..%g", v, s->min, s->max);
	*(double *)field(s, cfg) = x;
	return 0;
}

/* "64M", "64MiB", "2G", "2GiB", "16384p", "16384pages", or "0". */
static int parse_size(const struct xsd_setting *s, const char *key_arg,
		      const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)key_arg;
	static const struct { const char *suffix; uint64_t pages; } units[] = {
		{ "M", 256 }, { "MiB", 256 }, { "G", 256 * 1024 }, { "GiB", 256 * 1024 },
		{ "p", 1 }, { "pages", 1 },
	};
	uint64_t x, pages = 0;
	int n = parse_u64(v, &x);
	size_t i;

	if (n < 0)
		return seterr(err, errlen, "'%s' is not a size (e.g. 64M, 2G, 16384p)", v);
	if (!v[n] && x == 0)
		goto store;
	if (!v[n])
		return seterr(err, errlen, "'%s' needs a unit: M (MiB), G (GiB) or p (4 KiB pages)", v);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(v + n, units[i].suffix))
			continue;
		if (x > UINT64_MAX / units[i].pages)
			break;
		pages = x * units[i].pages;
		goto range;
	}
	return seterr(err, errlen, "'%s' is not a size (e.g. 64M, 2G, 16384p)", v);
range:
	if ((double)pages < s->min || (double)pages > s->max)
		return seterr(err, errlen, "%s is not in %.0f..%.0f pages", v, s->min, s->max);
store:
	*(uint64_t *)field(s, cfg) = pages;
	return 0;
}

static int choice_lookup(const struct xsd_choice *c, const char *v, int *out)
{
	for (; c->name; c++)
		if (!strcmp(c->name, v)) {
			*out = c->value;
			return 0;
		}
	return -EINVAL;
}

static int choices_err(const struct xsd_setting *s, const char *v, char *err, size_t errlen)
{
	char list[256] = "";
	size_t used = 0;
	const struct xsd_choice *c;

	for (c = s->choices; c->name && used < sizeof(list); c++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
				 c == s->choices ? "" : "|", c->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return seterr(err, errlen, "'%s' is not one of %s", v, list);
}

static int parse_bool(const struct xsd_setting *s, const char *key_arg,
		      const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)key_arg;
	int x;

	if (choice_lookup(s->choices, v, &x))
		return choices_err(s, v, err, errlen);
	*(bool *)field(s, cfg) = x;
	return 0;
}

static int parse_enum(const struct xsd_setting *s, const char *key_arg,
		      const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)key_arg;
	int x;

	if (choice_lookup(s->choices, v, &x))
		return choices_err(s, v, err, errlen);
	*(int *)field(s, cfg) = x;
	return 0;
}

bool xsd_group_name_valid(const char *g)
{
	size_t n = strlen(g);

	if (n == 0 || n > XSD_GROUP_MAX)
		return false;
	for (; *g; g++)
		if (!isalnum((unsigned char)*g) && !strchr("._-", *g))
			return false;
	return true;
}

int xsd_group_name_check(const char *g, char *err, size_t errlen)
{
	if (xsd_group_name_valid(g))
		return 0;
	if (strlen(g) > XSD_GROUP_MAX)
		return seterr(err, errlen, "group name is longer than %d characters", XSD_GROUP_MAX);
	return seterr(err, errlen, "'%s' is not a group name (1..%d of A-Z a-z 0-9 . _ -)",
		      g, XSD_GROUP_MAX);
}

void xsd_printable(char *out, size_t max, const char *v, size_t len)
{
	size_t o = 0, i;

	if (!max)
		return;
	for (i = 0; i < len && o + 1 < max; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			if (o + 5 > max)
				break;
			snprintf(out + o, max - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = 0;
}

static int parse_group(const struct xsd_setting *s, const char *key_arg,
		       const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)key_arg;
	if (xsd_group_name_check(v, err, errlen))
		return -EINVAL;
	snprintf(field(s, cfg), s->size, "%s", v);
	return 0;
}

static int parse_path(const struct xsd_setting *s, const char *key_arg,
		      const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)key_arg;
	const char *p;

	if (v[0] != '/')
		return seterr(err, errlen, "'%s' is not an absolute path", v);
	if (strlen(v) >= s->size)
		return seterr(err, errlen, "path is longer than %zu characters", s->size - 1);
	for (p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return seterr(err, errlen, "path contains a control character");
	snprintf(field(s, cfg), s->size, "%s", v);
	return 0;
}

static const struct xsd_choice mode_choices[] = {
	{ "on", SHR_MODE_ON, "every page may be shared within the domain's group" },
	{ "off", SHR_MODE_OFF, "not scanned" },
	{ "zero", SHR_MODE_ZERO, "only zero pages are shared (no content side channel)" },
	{ NULL, 0, NULL },
};

int xsd_mode_parse(const char *s, enum shr_mode *out)
{
	int x;

	if (choice_lookup(mode_choices, s, &x))
		return -EINVAL;
	*out = (enum shr_mode)x;
	return 0;
}

const char *xsd_mode_name(enum shr_mode m)
{
	const struct xsd_choice *c;

	for (c = mode_choices; c->name; c++)
		if (c->value == (int)m)
			return c->name;
	return "?";
}

static bool pattern_valid(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > XSD_NAME_MAX)
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '=' || *p == '#')
			return false;
	return true;
}

/* `domain NAME = MODE [group GROUP]` */
static int parse_rule(const struct xsd_setting *s, const char *key_arg,
		      const char *v, struct xsd_config *cfg, char *err, size_t errlen)
{
	(void)s;
	char buf[256], *tok[4], *save = NULL, *t;
	struct xsd_domain_rule rule = { .line = 0 };
	struct xsd_domain_rule *grown;
	size_t n = 0, i;

	if (!key_arg || !*key_arg)
		return seterr(err, errlen, "needs a domain name: domain NAME = on|off|zero [group GROUP]");
	if (!pattern_valid(key_arg))
		return seterr(err, errlen, "'%s' is not a domain name pattern (1..%d printable characters, no blanks, '=' or '#')",
			      key_arg, XSD_NAME_MAX);
	if (strlen(v) >= sizeof(buf))
		return seterr(err, errlen, "value is too long");
	snprintf(buf, sizeof(buf), "%s", v);
	for (t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == 3)
			return seterr(err, errlen, "'%s': expected on|off|zero [group GROUP]", v);
		tok[n++] = t;
	}
	if (n == 0 || xsd_mode_parse(tok[0], &rule.mode))
		return seterr(err, errlen, "'%s': expected on|off|zero [group GROUP]", v);
	if (n == 2 || (n == 3 && strcmp(tok[1], "group")))
		return seterr(err, errlen, "'%s': expected on|off|zero [group GROUP]", v);
	if (n == 3) {
		if (xsd_group_name_check(tok[2], err, errlen))
			return -EINVAL;
		snprintf(rule.group, sizeof(rule.group), "%s", tok[2]);
	}
	for (i = 0; i < cfg->nr_rules; i++)
		if (!strcmp(cfg->rules[i].pattern, key_arg))
			return seterr(err, errlen, "domain '%s' is already set on line %u",
				      key_arg, cfg->rules[i].line);
	snprintf(rule.pattern, sizeof(rule.pattern), "%s", key_arg);
	grown = realloc(cfg->rules, (cfg->nr_rules + 1) * sizeof(*grown));
	if (!grown)
		return seterr(err, errlen, "out of memory");
	cfg->rules = grown;
	cfg->rules[cfg->nr_rules++] = rule;
	return 0;
}

static const struct xsd_choice bool_choices[] = {
	{ "on", 1, NULL }, { "off", 0, NULL }, { "yes", 1, NULL }, { "no", 0, NULL },
	{ "true", 1, NULL }, { "false", 0, NULL }, { "1", 1, NULL }, { "0", 0, NULL },
	{ NULL, 0, NULL },
};

static const struct xsd_choice protocol_choices[] = {
	{ "auto", SHR_PROTO_AUTO, "the batched compare-and-share op when the hypervisor has it (hypervisor-patch/), else upstream" },
	{ "upstream", SHR_PROTO_UPSTREAM, "Xen 4.17's own ops: nominate both pages, compare, share" },
	{ "batched", SHR_PROTO_BATCHED, "require the batched op; refuse to start without it" },
	{ NULL, 0, NULL },
};

static const struct xsd_choice level_choices[] = {
	{ "err", LOG_ERR, NULL }, { "warning", LOG_WARNING, NULL },
	{ "notice", LOG_NOTICE, NULL }, { "info", LOG_INFO, NULL },
	{ "debug", LOG_DEBUG, NULL }, { NULL, 0, NULL },
};

static const struct xsd_choice scan_mode_choices[] = {
	{ "auto", SHR_SCAN_AUTO, "from the dirty log where the hypervisor gives it, else every page (said once per domain in the log)" },
	{ "dirty", SHR_SCAN_DIRTY, "the same, with a warning for each domain that cannot" },
	{ "full", SHR_SCAN_FULL, "every page every pass" },
	{ NULL, 0, NULL },
};

static const struct xsd_choice target_choices[] = {
	{ "auto", XSD_LOG_AUTO, "stderr with -d (systemd's journal picks it up), syslog when daemonised" },
	{ "syslog", XSD_LOG_SYSLOG, "syslog(3), facility daemon" },
	{ "stderr", XSD_LOG_STDERR, "standard error" },
	{ NULL, 0, NULL },
};

const char *xsd_protocol_name(enum shr_protocol p)
{
	const struct xsd_choice *c;

	for (c = protocol_choices; c->name; c++)
		if (c->value == (int)p)
			return c->name;
	return "?";
}

const struct xsd_setting xsd_settings[] = {
	{ "batch_pages", XSD_T_UINT, "256", true, "N", 1, 4096, NULL, FIELD(batch_pages), parse_uint,
	  "Guest pages mapped and fingerprinted per xenforeignmemory_map call.  "
	  "Larger batches need fewer hypercalls; each batch is unmapped before any of "
	  "its pages is nominated." },
	{ "max_sharers", XSD_T_UINT, "256", true, "N", 2, 65535, NULL, FIELD(max_sharers), parse_uint,
	  "Most guest pages that may share one machine frame (KSM's max_page_sharing).  "
	  "Further copies start a new shared frame, so one write storm on a popular page "
	  "costs at most this many unshares." },
	{ "pass_target", XSD_T_DOUBLE, "30", true, "SECONDS", 0, 86400, NULL, FIELD(pass_target_s), parse_double,
	  "Aim for one full pass over the memory of all opted-in domains in this time; "
	  "the scan rate adapts to the amount of guest memory, within cpu_cap.  "
	  "0 means no pacing: as fast as cpu_cap allows, each pass starting as the last "
	  "one ends (the scanner then uses cpu_cap of a CPU for as long as it runs)." },
	{ "cpu_cap", XSD_T_DOUBLE, "50", true, "PERCENT", 1, 100, NULL, FIELD(cpu_cap_percent), parse_double,
	  "Most CPU time the scanner may use, in percent of one CPU.  When pass_target "
	  "would need more, passes take longer (and stats show it)." },
	{ "reserve", XSD_T_SIZE, "64M", true, "SIZE", 0, (double)(1ull << 32), NULL, FIELD(reserve_pages), parse_size,
	  "Free host memory to keep for unshares: every page saved can be asked back "
	  "when a guest writes it.  Below it the daemon asks for memory (dom0_balloon).  "
	  "Sharing itself goes on below it (each share frees a frame as it puts a page "
	  "at risk); domains whose unshares would crash them (no sharing ring, unpatched "
	  "hypervisor) get no new share while free memory is below the reserve plus "
	  "their pages at risk.  Units: M (MiB), G (GiB) or p (4 KiB pages); 0 turns "
	  "the check off." },
	{ "dom0_balloon", XSD_T_BOOL, "on", true, "on|off", 0, 0, bool_choices, FIELD(dom0_balloon), parse_bool,
	  "When free host memory is below the reserve, or a guest waits because an "
	  "unshare found no free memory, lower dom0's memory target "
	  "(/local/domain/0/memory/target, as `xl mem-set 0` does) so dom0's balloon "
	  "driver gives the pages to Xen.  The target is never raised back." },
	{ "dom0_min_memory", XSD_T_SIZE, "512M", true, "SIZE", 0, (double)(1ull << 32), NULL, FIELD(dom0_min_pages), parse_size,
	  "dom0_balloon never takes dom0 below this." },
	{ "settle_threshold", XSD_T_DOUBLE, "0.1", true, "PERCENT", 0, 100, NULL, FIELD(settle_percent), parse_double,
	  "A full pass that adds fewer new shares than this percent of the pages "
	  "already shared counts as settled (reported as \"settled\" by the control socket)." },
	{ "volatility_backoff", XSD_T_BOOL, "on", true, "on|off", 0, 0, bool_choices, FIELD(volatility_backoff), parse_bool,
	  "Back off pages whose shares keep breaking: a page its guest unshared is "
	  "looked at only one pass in 2, 4 ... 64, and shared again only once its "
	  "content stayed the same between two looks, so churning pages cost "
	  "almost no faults.  off offers every page for merging at every pass "
	  "(for measurements; see docs/design.md)." },
	{ "protocol", XSD_T_ENUM, "auto", false, "NAME", 0, 0, protocol_choices, FIELD(protocol), parse_enum,
	  "How pages are shared." },
	{ "scan_mode", XSD_T_ENUM, "auto", true, "NAME", 0, 0, scan_mode_choices, FIELD(scan_mode), parse_enum,
	  "Which pages a pass looks at.  After a domain's first full pass, the dirty "
	  "log (Xen's log-dirty mode, as live migration uses it) names the pages its "
	  "guest wrote: the daemon reads it every second, whatever pass_target, and "
	  "looks at those pages only, so its CPU follows the write rate, not the memory "
	  "size, and new content is merged within seconds.  The price: a guest's first "
	  "write to a page after each read takes one extra fault in Xen (at most one "
	  "per page per second; on the emulated e2e host 470-700 a round for a guest "
	  "rewriting 2 MiB every few seconds).  A live migration or xl save "
	  "takes the dirty log over; the daemon then gives back what it read, uses "
	  "full passes for that domain and tries again a sweep_period later.  See "
	  "docs/design.md, \"Dirty-log scanning\"." },
	{ "sweep_period", XSD_T_DOUBLE, "3600", true, "SECONDS", 60, 7 * 86400, NULL, FIELD(sweep_period_s), parse_double,
	  "With the dirty log, every page is still looked at once in this time (a "
	  "slow background sweep, the safety net for anything the log does not name)." },
	{ "default_group", XSD_T_GROUP, "default", true, "GROUP", 0, 0, NULL, FIELD(default_group), parse_group,
	  "Sharing group of opted-in domains that name none (no memshare/group node, "
	  "no group in their domain rule).  Pages of domains in different groups are "
	  "never merged.  Group names: 1 to 63 of A-Z a-z 0-9 . _ -." },
	{ "domain", XSD_T_DOMAIN_RULE, NULL, true, "NAME", 0, 0, mode_choices, 0, 0, parse_rule,
	  "For hosts whose xl does not write /local/domain/<domid>/memshare/enabled: "
	  "opt the domains whose xenstore name matches the fnmatch(3) pattern NAME "
	  "(e.g. web-*) in or out, as \"domain NAME = on|off|zero [group GROUP]\".  "
	  "A memshare/enabled node written by the toolstack takes precedence; the "
	  "first matching rule wins; a domain with neither is not scanned.  Repeat "
	  "the line for several patterns." },
	{ "control_socket", XSD_T_PATH, "/run/xenshared/control.sock", false, "PATH", 0, 0, NULL, FIELD(control_socket), parse_path,
	  "Unix socket serving counters and commands to xenshare-stat "
	  "(docs/control-protocol.md); created mode 0600, root only." },
	{ "pidfile", XSD_T_PATH, "/run/xenshared/xenshared.pid", false, "PATH", 0, 0, NULL, FIELD(pidfile), parse_path,
	  "Holds the daemon's pid under a lock.  Whatever this path, one daemon runs per "
	  "host: a second one is refused by the host lock (xenshared(8))." },
	{ "log_level", XSD_T_ENUM, "info", true, "LEVEL", 0, 0, level_choices, FIELD(log_level), parse_enum,
	  "Least important messages logged; each -v on the command line raises it one step." },
	{ "log_target", XSD_T_ENUM, "auto", true, "TARGET", 0, 0, target_choices, FIELD(log_target), parse_enum,
	  "Where messages go." },
	{ "xenstore_stats", XSD_T_BOOL, "on", true, "on|off", 0, 0, bool_choices, FIELD(xenstore_stats), parse_bool,
	  "Mirror the counters into xenstore under /local/domain/0/xenshared/." },
	{ "xenstore_stats_interval", XSD_T_UINT, "5", true, "SECONDS", 1, 3600, NULL, FIELD(xenstore_stats_interval), parse_uint,
	  "Seconds between two updates of the xenstore mirror (only changed values are written)." },
};

const size_t xsd_nr_settings = sizeof(xsd_settings) / sizeof(xsd_settings[0]);

const struct xsd_setting *xsd_setting_find(const char *name)
{
	size_t i;

	for (i = 0; i < xsd_nr_settings; i++)
		if (!strcmp(xsd_settings[i].name, name))
			return &xsd_settings[i];
	return NULL;
}

bool xsd_setting_keyed(const struct xsd_setting *s)
{
	return s->type == XSD_T_DOMAIN_RULE;
}

int xsd_config_init_defaults(struct xsd_config *cfg, char *err, size_t errlen)
{
	char msg[256];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];

		if (!s->def)
			continue;
		if (s->parse(s, NULL, s->def, cfg, msg, sizeof(msg)))
			return seterr(err, errlen, "default of %s: %s", s->name, msg);
	}
	return 0;
}

void xsd_config_release(struct xsd_config *cfg)
{
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->nr_rules = 0;
}

int xsd_config_copy(struct xsd_config *dst, const struct xsd_config *src)
{
	*dst = *src;
	dst->rules = NULL;
	if (src->nr_rules) {
		dst->rules = malloc(src->nr_rules * sizeof(*dst->rules));
		if (!dst->rules) {
			dst->nr_rules = 0;
			return -ENOMEM;
		}
		memcpy(dst->rules, src->rules, src->nr_rules * sizeof(*dst->rules));
	}
	return 0;
}

bool xsd_setting_equal(const struct xsd_setting *s, const struct xsd_config *a,
		       const struct xsd_config *b)
{
	size_t i;

	if (xsd_setting_keyed(s)) {
		if (a->nr_rules != b->nr_rules)
			return false;
		for (i = 0; i < a->nr_rules; i++) {
			const struct xsd_domain_rule *x = &a->rules[i], *y = &b->rules[i];

			if (strcmp(x->pattern, y->pattern) || x->mode != y->mode ||
			    strcmp(x->group, y->group))
				return false;
		}
		return true;
	}
	if (s->type == XSD_T_PATH || s->type == XSD_T_GROUP)
		return !strcmp((const char *)a + s->offset, (const char *)b + s->offset);
	return !memcmp((const char *)a + s->offset, (const char *)b + s->offset, s->size);
}

void xsd_config_to_params(const struct xsd_config *cfg, struct shr_params *p)
{
	memset(p, 0, sizeof(*p));
	p->batch_pages = cfg->batch_pages;
	p->max_sharers = cfg->max_sharers;
	p->pass_target_s = cfg->pass_target_s;
	p->cpu_cap = cfg->cpu_cap_percent / 100.0;
	p->reserve_pages = cfg->reserve_pages;
	p->settle_ratio = cfg->settle_percent / 100.0;
	p->no_backoff = !cfg->volatility_backoff;
	p->protocol = (enum shr_protocol)cfg->protocol;
	p->scan_mode = (enum shr_scan_mode)cfg->scan_mode;
	p->sweep_period_s = cfg->sweep_period_s;
}

/* ---- printers ---------------------------------------------------------- */

int xsd_settings_format_parse(const char *s, enum xsd_settings_format *out)
{
	if (!strcmp(s, "pod"))
		*out = XSD_FMT_POD;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*out = XSD_FMT_MARKDOWN;
	else if (!strcmp(s, "conf"))
		*out = XSD_FMT_CONF;
	else if (!strcmp(s, "help"))
		*out = XSD_FMT_HELP;
	else
		return -EINVAL;
	return 0;
}

/* The range or choices of a setting, in words, for every format. */
static void describe_values(const struct xsd_setting *s, char *buf, size_t len,
			    const char *code_open, const char *code_close)
{
	const struct xsd_choice *c;
	size_t used = 0;

	buf[0] = 0;
	switch (s->type) {
	case XSD_T_UINT:
	case XSD_T_DOUBLE:
		snprintf(buf, len, "%.15g to %.15g", s->min, s->max);
		break;
	case XSD_T_SIZE:
		snprintf(buf, len, "0 to %.0f pages (16 TiB)", s->max);
		break;
	case XSD_T_ENUM:
	case XSD_T_DOMAIN_RULE:
		for (c = s->choices; c->name && used < len; c++) {
			int n = snprintf(buf + used, len - used, "%s%s%s%s", c == s->choices ? "" : ", ",
					 code_open, c->name, code_close);
			if (n < 0)
				break;
			used += (size_t)n;
		}
		break;
	case XSD_T_BOOL:
		snprintf(buf, len, "%son%s or %soff%s (also yes/no, true/false, 1/0)",
			 code_open, code_close, code_open, code_close);
		break;
	case XSD_T_GROUP:
	case XSD_T_PATH:
		break;
	}
}

static void pod_text(FILE *f, const char *t)
{
	for (; *t; t++) {
		if (*t == '<')
			fputs("E<lt>", f);
		else if (*t == '>')
			fputs("E<gt>", f);
		else
			fputc(*t, f);
	}
}

static void wrap_comment(FILE *f, const char *t)
{
	const char *p = t;
	int col = 0;

	while (*p) {
		const char *w = p;
		size_t n;

		while (*w == ' ')
			w++;
		n = strcspn(w, " ");
		if (!n)
			break;
		if (col == 0) {
			fputs("#", f);
			col = 1;
		}
		if (col > 1 && col + 1 + (int)n > 76) {
			fputs("\n#", f);
			col = 1;
		}
		fprintf(f, " %.*s", (int)n, w);
		col += 1 + (int)n;
		p = w + n;
	}
	if (col)
		fputc('\n', f);
}

static void print_pod(FILE *f)
{
	char vals[512];
	size_t i;

	fputs("=head1 SETTINGS\n\n"
	      "Generated from xenshared's settings table (B<xenshared --print-settings=pod>).\n"
	      "Each line of the file is I<name> B<=> I<value>; B<#> starts a comment.\n"
	      "Settings marked I<reloadable> take effect on B<systemctl reload xenshared>\n"
	      "(SIGHUP); the others need a restart.\n\n=over 4\n\n", f);
	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];
		const struct xsd_choice *c;

		if (xsd_setting_keyed(s))
			fprintf(f, "=item B<%s> I<%s> B<=> B<on>|B<off>|B<zero> [B<group> I<GROUP>]\n\n",
				s->name, s->metavar);
		else
			fprintf(f, "=item B<%s> = I<%s>\n\n", s->name, s->metavar);
		pod_text(f, s->help);
		fputs("\n\n", f);
		if (s->choices && s->type == XSD_T_ENUM && s->choices[0].help) {
			fputs("=over 4\n\n", f);
			for (c = s->choices; c->name; c++) {
				fprintf(f, "=item B<%s>\n\n", c->name);
				pod_text(f, c->help);
				fputs("\n\n", f);
			}
			fputs("=back\n\n", f);
		}
		describe_values(s, vals, sizeof(vals), "C<", ">");
		if (s->def)
			fprintf(f, "Default: C<%s>.", s->def);
		else
			fputs("Default: none.", f);
		if (vals[0])
			fprintf(f, " Values: %s.", vals);
		fprintf(f, " %s.\n\n", s->reloadable ? "Reloadable" : "Needs a restart");
	}
	fputs("=back\n\n", f);
}

static void print_markdown(FILE *f)
{
	char vals[512];
	size_t i;

	fputs("<!-- generated by: xenshared --print-settings=markdown -->\n"
	      "| setting | default | values | reload | meaning |\n"
	      "|---|---|---|---|---|\n", f);
	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];

		describe_values(s, vals, sizeof(vals), "`", "`");
		if (xsd_setting_keyed(s))
			fprintf(f, "| `%s %s = MODE [group GROUP]` |", s->name, s->metavar);
		else
			fprintf(f, "| `%s = %s` |", s->name, s->metavar);
		fprintf(f, " %s%s%s | %s | %s | %s |\n", s->def ? "`" : "", s->def ? s->def : "none",
			s->def ? "`" : "", vals, s->reloadable ? "yes" : "restart", s->help);
	}
}

static void print_conf(FILE *f)
{
	char vals[512];
	size_t i;

	fputs("# /etc/xen/xenshared.conf - configuration of xenshared(8), see xenshared.conf(5).\n"
	      "#\n"
	      "# Generated by `xenshared --print-settings=conf`: every setting is shown\n"
	      "# commented out at its default.  Syntax: one `name = value` per line;\n"
	      "# `#` at the start of a line or after a blank starts a comment.  Check a\n"
	      "# file with `xenshared -n -f FILE`; apply it with `systemctl reload xenshared`.\n", f);
	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];
		char line[600];

		fputc('\n', f);
		wrap_comment(f, s->help);
		if (s->choices && s->type == XSD_T_ENUM && s->choices[0].help) {
			const struct xsd_choice *c;

			for (c = s->choices; c->name; c++) {
				snprintf(line, sizeof(line), "%s: %s.", c->name, c->help);
				wrap_comment(f, line);
			}
		}
		describe_values(s, vals, sizeof(vals), "", "");
		if (vals[0])
			snprintf(line, sizeof(line), "Values: %s. %s.", vals,
				 s->reloadable ? "Reloadable" : "Needs a restart");
		else
			snprintf(line, sizeof(line), "%s.", s->reloadable ? "Reloadable" : "Needs a restart");
		wrap_comment(f, line);
		if (xsd_setting_keyed(s))
			fprintf(f, "#%s web-* = on group web\n", s->name);
		else
			fprintf(f, "#%s = %s\n", s->name, s->def);
	}
}

static void print_help(FILE *f)
{
	size_t i;

	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];
		char lhs[64];

		if (xsd_setting_keyed(s))
			snprintf(lhs, sizeof(lhs), "%s NAME = MODE [group G]", s->name);
		else
			snprintf(lhs, sizeof(lhs), "%s = %s", s->name, s->metavar);
		fprintf(f, "  %-36s default %s%s\n", lhs, s->def ? s->def : "none",
			s->reloadable ? "" : " (restart)");
	}
}

int xsd_settings_print(FILE *f, enum xsd_settings_format fmt)
{
	switch (fmt) {
	case XSD_FMT_POD: print_pod(f); break;
	case XSD_FMT_MARKDOWN: print_markdown(f); break;
	case XSD_FMT_CONF: print_conf(f); break;
	case XSD_FMT_HELP: print_help(f); break;
	}
	return ferror(f) ? -EIO : 0;
}
