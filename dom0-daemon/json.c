/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json.c - JSON writer (see json.h for why it exists).
 *
 * Escaping rules (RFC 8259): '"' and '\\' are escaped, control bytes below
 * 0x20 become \n, \t, \r, \b, \f or \u00XX, valid UTF-8 is copied as is,
 * and every byte that is not part of a valid UTF-8 sequence (including
 * overlong forms and surrogates) becomes U+FFFD, so the output is always
 * valid JSON whatever a guest managed to put into xenstore.
 */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xsd_json_init(struct xsd_json *j)
{
	memset(j, 0, sizeof(*j));
}

void xsd_json_free(struct xsd_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static void put(struct xsd_json *j, const char *s, size_t n)
{
	if (j->oom)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *nb;

		while (cap < j->len + n + 1)
			cap *= 2;
		nb = realloc(j->buf, cap);
		if (!nb) {
			j->oom = true;
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

static void puts_(struct xsd_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void put_string(struct xsd_json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	char esc[8];

	put(j, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];
		size_t l;

		switch (c) {
		case '"': puts_(j, "\\\""); i++; continue;
		case '\\': puts_(j, "\\\\"); i++; continue;
		case '\n': puts_(j, "\\n"); i++; continue;
		case '\r': puts_(j, "\\r"); i++; continue;
		case '\t': puts_(j, "\\t"); i++; continue;
		case '\b': puts_(j, "\\b"); i++; continue;
		case '\f': puts_(j, "\\f"); i++; continue;
		default: break;
		}
		if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			puts_(j, esc);
			i++;
			continue;
		}
		l = utf8_len(s + i, n - i);
		if (!l) {
			puts_(j, "\\ufffd");
			i++;
			continue;
		}
		put(j, (const char *)s + i, l);
		i += l;
	}
	put(j, "\"", 1);
}

static void begin_value(struct xsd_json *j, const char *key)
{
	if (j->depth && j->need_comma[j->depth - 1])
		put(j, ",", 1);
	if (j->depth)
		j->need_comma[j->depth - 1] = true;
	if (key) {
		put_string(j, key, strlen(key));
		put(j, ":", 1);
	}
}

static void open_(struct xsd_json *j, const char *key, const char *brace)
{
	begin_value(j, key);
	puts_(j, brace);
	if (j->depth >= XSD_JSON_MAX_DEPTH) {
		j->oom = true;          /* reported as an error by finish() */
		return;
	}
	j->need_comma[j->depth++] = false;
}

static void close_(struct xsd_json *j, const char *brace)
{
	if (!j->depth) {
		j->oom = true;
		return;
	}
	j->depth--;
	puts_(j, brace);
}

void xsd_json_obj_begin(struct xsd_json *j, const char *key) { open_(j, key, "{"); }
void xsd_json_obj_end(struct xsd_json *j) { close_(j, "}"); }
void xsd_json_arr_begin(struct xsd_json *j, const char *key) { open_(j, key, "["); }
void xsd_json_arr_end(struct xsd_json *j) { close_(j, "]"); }

void xsd_json_strn(struct xsd_json *j, const char *key, const char *s, size_t n)
{
	begin_value(j, key);
	put_string(j, s, n);
}

void xsd_json_str(struct xsd_json *j, const char *key, const char *s)
{
	xsd_json_strn(j, key, s, strlen(s));
}

void xsd_json_u64(struct xsd_json *j, const char *key, uint64_t v)
{
	char b[32];

	begin_value(j, key);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	puts_(j, b);
}

void xsd_json_i64(struct xsd_json *j, const char *key, int64_t v)
{
	char b[32];

	begin_value(j, key);
	snprintf(b, sizeof(b), "%" PRId64, v);
	puts_(j, b);
}

void xsd_json_double(struct xsd_json *j, const char *key, double v)
{
	char b[40];

	begin_value(j, key);
	if (!isfinite(v)) {
		puts_(j, "null");
		return;
	}
	snprintf(b, sizeof(b), "%.6g", v);
	puts_(j, b);
}

void xsd_json_bool(struct xsd_json *j, const char *key, bool v)
{
	begin_value(j, key);
	puts_(j, v ? "true" : "false");
}

int xsd_json_finish(struct xsd_json *j)
{
	if (j->depth)
		return -EINVAL;
	put(j, "\n", 1);
	return j->oom ? -ENOMEM : 0;
}
