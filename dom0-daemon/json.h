/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json.h - a small JSON writer for the control socket's answers.
 *
 * Why our own: the daemon only ever emits a few flat objects, and the one
 * subtle part, string escaping (domain names and values come from
 * xenstore and may hold quotes, control bytes or invalid UTF-8), is a few
 * lines that a unit test pins down; a library (json-c) would add a
 * dependency to a dom0 service for that.
 *
 * Usage: calls nest like the document; `key` is NULL inside arrays and for
 * the top-level value.  Memory errors are sticky and reported once by
 * xsd_json_finish(), so callers need not check every call.
 */
#ifndef XSD_JSON_H
#define XSD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSD_JSON_MAX_DEPTH 16

struct xsd_json {
	char *buf;
	size_t len, cap;
	bool oom;
	unsigned int depth;
	bool need_comma[XSD_JSON_MAX_DEPTH];
};

void xsd_json_init(struct xsd_json *j);
void xsd_json_free(struct xsd_json *j);

void xsd_json_obj_begin(struct xsd_json *j, const char *key);
void xsd_json_obj_end(struct xsd_json *j);
void xsd_json_arr_begin(struct xsd_json *j, const char *key);
void xsd_json_arr_end(struct xsd_json *j);
void xsd_json_str(struct xsd_json *j, const char *key, const char *s);
void xsd_json_strn(struct xsd_json *j, const char *key, const char *s, size_t n);
void xsd_json_u64(struct xsd_json *j, const char *key, uint64_t v);
void xsd_json_i64(struct xsd_json *j, const char *key, int64_t v);
/* Non-finite values become null (JSON has no NaN). */
void xsd_json_double(struct xsd_json *j, const char *key, double v);
void xsd_json_bool(struct xsd_json *j, const char *key, bool v);

/* Appends "\n"; returns 0, -ENOMEM if any call ran out of memory (or nested
 * deeper than XSD_JSON_MAX_DEPTH, or closed more than it opened), -EINVAL if
 * something was left open. */
int xsd_json_finish(struct xsd_json *j);

#endif /* XSD_JSON_H */
