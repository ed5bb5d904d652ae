/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * schema.c - the lists of statistics as tables, and what every consumer
 * does with a line (see schema.h).
 *
 * DOC: Overview
 *
 * The tables are the lists expanded once with XSD_STAT_ROW: one row per
 * line, in the list's order, with the field's offset in its struct.  A
 * consumer never names a statistic; it walks a table and reads or writes
 * each value at base + offset as the row's type says, so a line added to
 * a list appears in the struct, the `stats` JSON, the mirror,
 * xenshare-stat's parser and outputs and the docs without another edit.
 *
 * Invariants (schema_ut checks them on the real lists): keys are unique
 * within each object they are written to, and metric names unique; an
 * SHR_HV value has no metric (xenshare-stat exports the hypervisor's own
 * reading instead); a COUNTER's metric ends in _total and a GAUGE's does
 * not; every unit conversion xsd_stat_prom_scale() makes is one the
 * metric's name announces.
 */
#include "schema.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "settings.h"

#define ROW_DAEMON(...) XSD_STAT_ROW(struct xsd_stats, __VA_ARGS__)
#define ROW_ENGINE(...) XSD_STAT_ROW(struct shr_stats, __VA_ARGS__)
#define ROW_DOMAIN(...) XSD_STAT_ROW(struct shr_domain_stats, __VA_ARGS__)

static const struct xsd_stat daemon_rows[] = { XSD_STATS(ROW_DAEMON) };
static const struct xsd_stat engine_rows[] = { SHR_STATS(ROW_ENGINE) };
static const struct xsd_stat domain_rows[] = { SHR_DOMAIN_STATS(ROW_DOMAIN) };

_Static_assert(sizeof(daemon_rows) / sizeof(daemon_rows[0]) == XSD_NR_DAEMON_STATS, "rows");
_Static_assert(sizeof(engine_rows) / sizeof(engine_rows[0]) == XSD_NR_ENGINE_STATS, "rows");
_Static_assert(sizeof(domain_rows) / sizeof(domain_rows[0]) == XSD_NR_DOMAIN_STATS, "rows");

const struct xsd_stat_table xsd_stats_daemon = { "XSD_STATS", daemon_rows, XSD_NR_DAEMON_STATS };
const struct xsd_stat_table xsd_stats_engine = { "SHR_STATS", engine_rows, XSD_NR_ENGINE_STATS };
const struct xsd_stat_table xsd_stats_domain = { "SHR_DOMAIN_STATS", domain_rows, XSD_NR_DOMAIN_STATS };

const char *xsd_stat_section_name(enum shr_stat_section sec)
{
	switch (sec) {
	case SHR_SEC_DAEMON: return "daemon";
	case SHR_SEC_HOST: return "host";
	case SHR_SEC_COUNTERS: return "counters";
	case SHR_SEC_DOMAIN: return "domains";
	}
	return "?";
}

const char *xsd_stat_unit_name(enum shr_stat_unit unit)
{
	switch (unit) {
	case SHR_UNIT_NONE: return "";
	case SHR_UNIT_PAGES: return "pages";
	case SHR_UNIT_COUNT: return "count";
	case SHR_UNIT_BYTES: return "bytes";
	case SHR_UNIT_SECONDS: return "seconds";
	case SHR_UNIT_RATIO: return "0..1";
	case SHR_UNIT_PERCENT: return "percent";
	case SHR_UNIT_PER_S: return "per second";
	case SHR_UNIT_PID: return "process id";
	}
	return "?";
}

static const char *type_name(enum shr_stat_type type)
{
	switch (type) {
	case SHR_STAT_U64: return "integer";
	case SHR_STAT_I64: return "integer";
	case SHR_STAT_BOOL: return "boolean";
	case SHR_STAT_DBL: return "number";
	case SHR_STAT_PROTO: return "string";
	}
	return "?";
}

union xsd_stat_value xsd_stat_get(const struct xsd_stat *s, const void *base)
{
	const char *p = (const char *)base + s->offset;
	union xsd_stat_value v;

	memset(&v, 0, sizeof(v));
	switch (s->type) {
	case SHR_STAT_U64: memcpy(&v.u64, p, sizeof(v.u64)); break;
	case SHR_STAT_I64: memcpy(&v.i64, p, sizeof(v.i64)); break;
	case SHR_STAT_BOOL: memcpy(&v.b, p, sizeof(v.b)); break;
	case SHR_STAT_DBL: memcpy(&v.d, p, sizeof(v.d)); break;
	case SHR_STAT_PROTO: memcpy(&v.proto, p, sizeof(v.proto)); break;
	}
	return v;
}

void xsd_stat_set(const struct xsd_stat *s, void *base, union xsd_stat_value v)
{
	char *p = (char *)base + s->offset;

	switch (s->type) {
	case SHR_STAT_U64: memcpy(p, &v.u64, sizeof(v.u64)); break;
	case SHR_STAT_I64: memcpy(p, &v.i64, sizeof(v.i64)); break;
	case SHR_STAT_BOOL: memcpy(p, &v.b, sizeof(v.b)); break;
	case SHR_STAT_DBL: memcpy(p, &v.d, sizeof(v.d)); break;
	case SHR_STAT_PROTO: memcpy(p, &v.proto, sizeof(v.proto)); break;
	}
}

int xsd_stat_proto_parse(const char *name, enum shr_protocol *out)
{
	static const enum shr_protocol all[] = { SHR_PROTO_AUTO, SHR_PROTO_UPSTREAM, SHR_PROTO_BATCHED };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(name, xsd_protocol_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	return -EINVAL;
}

void xsd_stat_json(struct xsd_json *j, const struct xsd_stat *s, const void *base)
{
	union xsd_stat_value v = xsd_stat_get(s, base);

	switch (s->type) {
	case SHR_STAT_U64: xsd_json_u64(j, s->key, v.u64); break;
	case SHR_STAT_I64: xsd_json_i64(j, s->key, v.i64); break;
	case SHR_STAT_BOOL: xsd_json_bool(j, s->key, v.b); break;
	case SHR_STAT_DBL: xsd_json_double(j, s->key, v.d); break;
	case SHR_STAT_PROTO: xsd_json_str(j, s->key, xsd_protocol_name(v.proto)); break;
	}
}

void xsd_stats_json(struct xsd_json *j, const struct xsd_stat_table *t,
		    enum shr_stat_section sec, const void *base)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].section == sec)
			xsd_stat_json(j, &t->v[i], base);
}

void xsd_stat_text(const struct xsd_stat *s, const void *base, char *buf, size_t len)
{
	union xsd_stat_value v = xsd_stat_get(s, base);

	switch (s->type) {
	case SHR_STAT_U64: snprintf(buf, len, "%" PRIu64, v.u64); break;
	case SHR_STAT_I64: snprintf(buf, len, "%" PRId64, v.i64); break;
	case SHR_STAT_BOOL: snprintf(buf, len, "%d", v.b ? 1 : 0); break;
	case SHR_STAT_DBL: snprintf(buf, len, "%.*f", s->unit == SHR_UNIT_RATIO ? 3 : 1, v.d); break;
	case SHR_STAT_PROTO: snprintf(buf, len, "%s", xsd_protocol_name(v.proto)); break;
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

double xsd_stat_prom_scale(const struct xsd_stat *s)
{
	if (s->unit == SHR_UNIT_PAGES && ends_with(s->prom, "_bytes"))
		return XSD_PAGE_SIZE;
	if (s->unit == SHR_UNIT_PERCENT && ends_with(s->prom, "_ratio"))
		return 0.01;
	return 1;
}

/* ---- the docs ------------------------------------------------------------ */

static const struct xsd_stat_table *const all_tables[] = {
	&xsd_stats_daemon, &xsd_stats_engine, &xsd_stats_domain,
};
static const enum shr_stat_section all_sections[] = {
	SHR_SEC_DAEMON, SHR_SEC_HOST, SHR_SEC_COUNTERS, SHR_SEC_DOMAIN,
};

/* help texts are words: only the characters POD gives a meaning are
 * escaped, and the first letter is made a capital to start a sentence */
static void pod_text(FILE *f, const char *s)
{
	if (*s >= 'a' && *s <= 'z')
		fputc(*s++ - 'a' + 'A', f);
	for (; *s; s++) {
		if (*s == '<')
			fputs("E<lt>", f);
		else if (*s == '>')
			fputs("E<gt>", f);
		else
			fputc(*s, f);
	}
}

static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else
			fputc(*s, f);
	}
}

static void print_pod(FILE *f)
{
	fputs("=head1 STATISTICS\n\n"
	      "Generated from the lists of statistics (F<libshare/stats.h>,\n"
	      "F<dom0-daemon/schema.h>) by B<xenshared --print-stats=pod>.  Each value\n"
	      "is named by its key in the object of the control socket's C<stats> reply\n"
	      "that holds it (F<docs/control-protocol.md>).  I<xenstore>: also a node of\n"
	      "the mirror under F</local/domain/0/xenshared/> (a domain's under\n"
	      "F<domain/>I<DOMID>), booleans as 0 or 1; I<hypervisor's>: the hypervisor's\n"
	      "own count, which B<xenshare-stat> reads itself where it can;\n"
	      "I<always>: in every reply (B<xenshare-stat> refuses one without it);\n"
	      "I<Prometheus>: the metric of B<xenshare-stat --prometheus>.  Page counts\n"
	      "are 4 KiB pages.\n\n", f);
	for (size_t k = 0; k < sizeof(all_sections) / sizeof(all_sections[0]); k++) {
		enum shr_stat_section sec = all_sections[k];

		fprintf(f, "=head2 %s\n\n=over 4\n\n", xsd_stat_section_name(sec));
		for (size_t t = 0; t < sizeof(all_tables) / sizeof(all_tables[0]); t++) {
			for (size_t i = 0; i < all_tables[t]->n; i++) {
				const struct xsd_stat *s = &all_tables[t]->v[i];
				const char *unit = xsd_stat_unit_name(s->unit);

				if (s->section != sec)
					continue;
				/* a key that is also a global one names another item */
				fprintf(f, "=item B<%s>%s", s->key, sec == SHR_SEC_DOMAIN ? " of a domain" : "");
				if (strcmp(s->key, s->name))
					fprintf(f, " (the engine's field C<%s>)", s->name);
				fputs("\n\n", f);
				pod_text(f, type_name(s->type));
				fprintf(f, "%s%s, a %s%s%s%s", unit[0] ? ", " : "",
					unit, s->kind == SHR_STAT_COUNTER ? "counter" : "gauge",
					s->flags & SHR_MIRROR ? "; xenstore" : "",
					s->flags & SHR_HV ? "; hypervisor's" : "",
					s->flags & SHR_REQUIRED ? "; always" : "");
				if (s->prom[0])
					fprintf(f, "; Prometheus B<%s>", s->prom);
				fputs(".\n", f);
				pod_text(f, s->help);
				fputs(".\n\n", f);
			}
		}
		fputs("=back\n\n", f);
	}
}

static void print_markdown(FILE *f)
{
	fputs("<!-- generated by: xenshared --print-stats=markdown -->\n"
	      "| key | object | type | unit | kind | always | xenstore | Prometheus (xenshare-stat) | meaning |\n"
	      "|---|---|---|---|---|---|---|---|---|\n", f);
	for (size_t k = 0; k < sizeof(all_sections) / sizeof(all_sections[0]); k++) {
		for (size_t t = 0; t < sizeof(all_tables) / sizeof(all_tables[0]); t++) {
			for (size_t i = 0; i < all_tables[t]->n; i++) {
				const struct xsd_stat *s = &all_tables[t]->v[i];

				if (s->section != all_sections[k])
					continue;
				fprintf(f, "| `%s`", s->key);
				if (strcmp(s->key, s->name))
					fprintf(f, " (field `%s`)", s->name);
				fprintf(f, " | %s | %s | %s | %s | %s | %s | ",
					xsd_stat_section_name(s->section), type_name(s->type),
					xsd_stat_unit_name(s->unit),
					s->kind == SHR_STAT_COUNTER ? "counter" : "gauge",
					s->flags & SHR_REQUIRED ? "yes" : "",
					s->flags & SHR_MIRROR ? "yes" : "");
				if (s->prom[0])
					fprintf(f, "`%s`", s->prom);
				fputs(" | ", f);
				if (s->flags & SHR_HV)
					fputs("the hypervisor's: ", f);
				md_text(f, s->help);
				fputs(" |\n", f);
			}
		}
	}
}

int xsd_stats_print(FILE *f, const char *fmt)
{
	if (!strcmp(fmt, "pod"))
		print_pod(f);
	else if (!strcmp(fmt, "markdown"))
		print_markdown(f);
	else
		return -EINVAL;
	return ferror(f) ? -EIO : 0;
}
