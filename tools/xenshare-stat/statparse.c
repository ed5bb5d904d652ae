/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statparse.c - the daemon's `stats` reply (parsed with json-c) and the
 * merge with the hypervisor's domain list.  See statparse.h.
 *
 * json-c (Debian libjson-c-dev) does the parsing: a hand-written JSON
 * parser is exactly the kind of code the project brief says not to write.
 * json_tokener_parse_ex with an explicit length is used so an embedded NUL
 * or trailing garbage in the reply is detected instead of silently ignored.
 */
#include "statparse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dom0-daemon/settings.h"   /* xsd_protocol_name() */
#include "dom0-daemon/xen.h"        /* XSD_DOMID_FIRST_RESERVED */

struct parse_ctx {
	char *err;
	size_t errlen;
	int bad;           /* set at the first error; later errors keep the first message */
};

static void fail(struct parse_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct parse_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

static struct json_object *member(struct parse_ctx *c, struct json_object *o,
				  const char *where, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		fail(c, "field %s.%s missing", where, key);
		return NULL;
	}
	if (type == json_type_double) {
		if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
			fail(c, "field %s.%s is not a number", where, key);
			return NULL;
		}
	} else if (!json_object_is_type(v, type)) {
		fail(c, "field %s.%s is not a%s %s", where, key,
		     type == json_type_int || type == json_type_object || type == json_type_array ? "n" : "",
		     json_type_to_name(type));
		return NULL;
	}
	return v;
}

static int64_t get_i64(struct parse_ctx *c, struct json_object *o, const char *where,
		       const char *key, int64_t min, const char *below)
{
	struct json_object *v = member(c, o, where, key, json_type_int);
	int64_t i;

	if (!v)
		return 0;
	i = json_object_get_int64(v);
	if (i < min) {
		fail(c, "field %s.%s = %lld %s", where, key, (long long)i, below);
		return 0;
	}
	return i;
}

static uint64_t get_u64(struct parse_ctx *c, struct json_object *o, const char *where,
			const char *key)
{
	struct json_object *v = member(c, o, where, key, json_type_int);

	if (!v)
		return 0;
	/* json-c parses integers as int64, or uint64 past INT64_MAX */
	if (json_object_get_int64(v) < 0) {
		fail(c, "field %s.%s is negative", where, key);
		return 0;
	}
	return json_object_get_uint64(v);
}

static double get_double(struct parse_ctx *c, struct json_object *o, const char *where,
			 const char *key, double min, double max)
{
	struct json_object *v = member(c, o, where, key, json_type_double);
	double d;

	if (!v)
		return 0;
	d = json_object_get_double(v);
	if (!(d >= min && d <= max)) {
		fail(c, "field %s.%s = %g is out of range", where, key, d);
		return 0;
	}
	return d;
}

static bool get_bool(struct parse_ctx *c, struct json_object *o, const char *where,
		     const char *key)
{
	struct json_object *v = member(c, o, where, key, json_type_boolean);

	return v ? json_object_get_boolean(v) : false;
}

static void get_str(struct parse_ctx *c, struct json_object *o, const char *where,
		    const char *key, char *dst, size_t size)
{
	struct json_object *v = member(c, o, where, key, json_type_string);
	const char *s;

	dst[0] = '\0';
	if (!v)
		return;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= size) {
		fail(c, "field %s.%s is longer than %zu bytes", where, key, size - 1);
		return;
	}
	if (strlen(s) != (size_t)json_object_get_string_len(v)) {
		fail(c, "field %s.%s contains a NUL byte", where, key);
		return;
	}
	memcpy(dst, s, strlen(s) + 1);
	/* "\u001b[2J" decodes to a terminal escape: keep it printable, as
	 * collect.c does for names read from xenstore */
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* The largest value a fraction, a percentage or another number may have. */
static double max_of(enum shr_stat_unit unit)
{
	return unit == SHR_UNIT_RATIO ? 1 : unit == SHR_UNIT_PERCENT ? 1e5 : 1e12;
}

/* Reads line s from object o (called `where` in messages) into base;
 * *has tells whether the reply carried it. */
static void parse_stat(struct parse_ctx *c, struct json_object *o, const char *where,
		       const struct xsd_stat *s, void *base, bool *has)
{
	union xsd_stat_value val;
	char name[16];

	*has = false;
	if (!json_object_object_get_ex(o, s->key, NULL)) {
		if (s->flags & SHR_REQUIRED)
			fail(c, "field %s.%s missing", where, s->key);
		return;
	}
	memset(&val, 0, sizeof(val));
	switch (s->type) {
	case SHR_STAT_U64:
		val.u64 = get_u64(c, o, where, s->key);
		break;
	case SHR_STAT_I64:
		if (s->unit == SHR_UNIT_PID)
			val.i64 = get_i64(c, o, where, s->key, 1, "is not a process id");
		else   /* -1: the hypervisor did not answer */
			val.i64 = get_i64(c, o, where, s->key, -1, "is below -1");
		break;
	case SHR_STAT_BOOL:
		val.b = get_bool(c, o, where, s->key);
		break;
	case SHR_STAT_DBL:
		val.d = get_double(c, o, where, s->key, 0, max_of(s->unit));
		break;
	case SHR_STAT_PROTO:
		get_str(c, o, where, s->key, name, sizeof(name));
		if (!c->bad && xsd_stat_proto_parse(name, &val.proto))
			fail(c, "field %s.%s = \"%s\" is not a protocol", where, s->key, name);
		break;
	}
	xsd_stat_set(s, base, val);
	*has = !c->bad;
}

/* Every line of table t whose section is in sec_obj (indexed by section). */
static void parse_table(struct parse_ctx *c, struct json_object *const *sec_obj,
			const struct xsd_stat_table *t, void *base, bool *has)
{
	for (size_t i = 0; i < t->n && !c->bad; i++)
		parse_stat(c, sec_obj[t->v[i].section], xsd_stat_section_name(t->v[i].section),
			   &t->v[i], base, &has[i]);
}

static void parse_domain(struct parse_ctx *c, struct json_object *o, size_t i,
			 struct xst_domain *d)
{
	char where[32];
	uint64_t domid;

	snprintf(where, sizeof(where), "domains[%zu]", i);
	if (!json_object_is_type(o, json_type_object)) {
		fail(c, "%s is not an object", where);
		return;
	}
	memset(d, 0, sizeof(*d));
	domid = get_u64(c, o, where, "domid");
	if (domid >= XSD_DOMID_FIRST_RESERVED)
		fail(c, "field %s.domid = %llu is not a domain id", where, (unsigned long long)domid);
	d->domid = (uint32_t)domid;
	get_str(c, o, where, "name", d->name, sizeof(d->name));
	get_str(c, o, where, "group", d->group, sizeof(d->group));
	get_str(c, o, where, "mode", d->mode, sizeof(d->mode));
	d->in_daemon = true;
	for (size_t k = 0; k < xsd_stats_domain.n && !c->bad; k++)
		parse_stat(c, o, where, &xsd_stats_domain.v[k], &d->dm, &d->dm_has[k]);
	d->tot_pages = d->dm.tot_pages;
}

int xst_parse_daemon_reply(const char *text, size_t len, struct xst_daemon *dm,
			   struct xst_domain **doms, size_t *nr,
			   char *err, size_t errlen)
{
	struct parse_ctx c = { .err = err, .errlen = errlen };
	struct json_tokener *tok;
	struct json_object *root = NULL, *d, *arr, *sec[SHR_SEC_DOMAIN + 1] = { NULL };
	struct xst_domain *list = NULL;
	size_t n = 0;

	*doms = NULL;
	*nr = 0;
	memset(dm, 0, sizeof(*dm));
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len > INT32_MAX) {
		fail(&c, "reply too long");
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		fail(&c, "out of memory");
		goto out;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		fail(&c, "reply is not JSON: %s",
		     json_tokener_error_desc(json_tokener_get_error(tok) == json_tokener_success
					     ? json_tokener_continue : json_tokener_get_error(tok)));
	} else if (json_tokener_get_parse_end(tok) != len) {
		fail(&c, "trailing bytes after the JSON object");
	}
	json_tokener_free(tok);
	if (c.bad)
		goto out;
	if (!json_object_is_type(root, json_type_object)) {
		fail(&c, "reply is not a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(root, "error", &d)) {
		fail(&c, "daemon answered an error: %s", json_object_get_string(d));
		goto out;
	}
	get_str(&c, root, "reply", "version", dm->version, sizeof(dm->version));
	for (int k = SHR_SEC_DAEMON; k <= SHR_SEC_COUNTERS; k++)
		sec[k] = member(&c, root, "reply", xsd_stat_section_name(k), json_type_object);
	arr = member(&c, root, "reply", xsd_stat_section_name(SHR_SEC_DOMAIN), json_type_array);
	if (c.bad)
		goto out;
	parse_table(&c, sec, &xsd_stats_daemon, &dm->own, dm->own_has);
	parse_table(&c, sec, &xsd_stats_engine, &dm->engine, dm->engine_has);
	if (c.bad)
		goto out;

	n = json_object_array_length(arr);
	if (n) {
		list = calloc(n, sizeof(*list));
		if (!list) {
			fail(&c, "out of memory for %zu domains", n);
			goto out;
		}
	}
	for (size_t i = 0; i < n && !c.bad; i++)
		parse_domain(&c, json_object_array_get_idx(arr, i), i, &list[i]);
	for (size_t i = 0; i < n && !c.bad; i++)
		for (size_t j = i + 1; j < n; j++)
			if (list[i].domid == list[j].domid) {
				fail(&c, "domain %u listed twice", list[i].domid);
				break;
			}
out:
	json_object_put(root);
	if (c.bad) {
		free(list);
		memset(dm, 0, sizeof(*dm));
		dm->state = XST_DAEMON_BAD_REPLY;
		return -EPROTO;
	}
	dm->state = XST_DAEMON_UP;
	*doms = list;
	*nr = n;
	return 0;
}

static int cmp_domid(const void *a, const void *b)
{
	const struct xst_domain *x = a, *y = b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

static void copy_if_empty(char *dst, const char *src, size_t size)
{
	if (!dst[0] && src[0])
		snprintf(dst, size, "%s", src);
}

int xst_snapshot_merge(struct xst_snapshot *s,
		       const struct xst_domain *hv_doms, size_t nr_hv,
		       const struct xst_domain *dm_doms, size_t nr_dm)
{
	struct xst_domain *out;
	size_t n = 0;

	xst_snapshot_put_domains(s);
	out = calloc(nr_hv + nr_dm ? nr_hv + nr_dm : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < nr_hv; i++) {
		out[n] = hv_doms[i];
		out[n].in_hv = true;
		out[n].in_daemon = false;
		n++;
	}
	for (size_t j = 0; j < nr_dm; j++) {
		const struct xst_domain *dd = &dm_doms[j];
		struct xst_domain *o = NULL;

		for (size_t i = 0; i < nr_hv; i++)
			if (out[i].domid == dd->domid) {
				o = &out[i];
				break;
			}
		if (!o) {
			o = &out[n++];
			*o = *dd;
			o->in_hv = false;
			o->shr_pages = 0;
			continue;
		}
		/* the daemon's policy is what it applies: it wins over xenstore's */
		if (dd->group[0])
			snprintf(o->group, sizeof(o->group), "%s", dd->group);
		if (dd->mode[0])
			snprintf(o->mode, sizeof(o->mode), "%s", dd->mode);
		copy_if_empty(o->name, dd->name, sizeof(o->name));
		o->in_daemon = true;
		o->dm = dd->dm;
		memcpy(o->dm_has, dd->dm_has, sizeof(o->dm_has));
	}
	qsort(out, n, sizeof(*out), cmp_domid);
	s->domains = out;
	s->nr_domains = n;
	return 0;
}

void xst_snapshot_put_domains(struct xst_snapshot *s)
{
	free(s->domains);
	s->domains = NULL;
	s->nr_domains = 0;
}
