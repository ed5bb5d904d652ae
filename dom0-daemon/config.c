/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config.c - the xenshared.conf parser.
 *
 * Syntax (documented in xenshared.conf(5), generated from settings.c):
 *   name = value               scalar setting, at most once per file
 *   domain NAME = MODE [...]   keyed setting, once per NAME
 *   # comment                  at the start of a line, or after a blank
 * Blank lines are ignored, "\r\n" line ends are accepted.  The file may not
 * hold NUL bytes, lines over XSD_CONFIG_MAX_LINE bytes or more than
 * XSD_CONFIG_MAX_BYTES in all.
 *
 * Mechanism: the whole file is read into memory, then split into lines in
 * place; each line goes to the parser named by its setting's table row.
 * Invariant: the output config is either completely parsed (return 0) or
 * released (return < 0) -- never half-applied.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_REPORTED_ERRORS 20

struct errbuf {
	char *buf;
	size_t len, used;
	unsigned int count;
};

/*
 * Formats a message into out, escaped: a message quotes the file's bytes
 * and its name, and neither may reach a terminal or a log as control
 * sequences.
 */
static void vformat_printable(char *out, size_t outlen, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vformat_printable(char *out, size_t outlen, const char *fmt, va_list ap)
{
	char raw[XSD_CONFIG_MAX_LINE + 4096];   /* a quoted line and a path */
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);

	if (n < 0)
		n = 0;
	xsd_printable(out, outlen, raw, (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1);
}

static void set_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_printable(err, errlen, fmt, ap);
	va_end(ap);
}

static void add_error(struct errbuf *eb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_error(struct errbuf *eb, const char *fmt, ...)
{
	va_list ap;

	eb->count++;
	if (!eb->len || eb->used + 1 >= eb->len)
		return;
	if (eb->count > MAX_REPORTED_ERRORS) {
		if (eb->count == MAX_REPORTED_ERRORS + 1) {
			int n = snprintf(eb->buf + eb->used, eb->len - eb->used, "\n(more errors not shown)");

			if (n > 0)
				eb->used += (size_t)n < eb->len - eb->used ? (size_t)n : eb->len - eb->used - 1;
		}
		return;
	}
	if (eb->used) {
		eb->buf[eb->used++] = '\n';
		eb->buf[eb->used] = 0;
	}
	va_start(ap, fmt);
	vformat_printable(eb->buf + eb->used, eb->len - eb->used, fmt, ap);
	va_end(ap);
	eb->used += strlen(eb->buf + eb->used);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static void strip_comment(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = 0;
			return;
		}
}

static void parse_line(const char *name, unsigned int lineno, char *line,
		       struct xsd_config *cfg, unsigned int *seen, struct errbuf *eb)
{
	char *eq, *key, *val, *arg = NULL, msg[512];
	const struct xsd_setting *s;

	strip_comment(line);
	line = trim(line);
	if (!*line)
		return;
	eq = strchr(line, '=');
	if (!eq) {
		add_error(eb, "%s:%u: expected 'name = value', got '%.64s'", name, lineno, line);
		return;
	}
	*eq = 0;
	key = trim(line);
	val = trim(eq + 1);
	arg = key + strcspn(key, " \t");
	if (*arg) {
		*arg++ = 0;
		arg = trim(arg);
	} else {
		arg = NULL;
	}
	if (!*key) {
		add_error(eb, "%s:%u: missing setting name before '='", name, lineno);
		return;
	}
	s = xsd_setting_find(key);
	if (!s) {
		add_error(eb, "%s:%u: unknown setting '%.64s'", name, lineno, key);
		return;
	}
	if (!xsd_setting_keyed(s) && arg) {
		add_error(eb, "%s:%u: %s: unexpected '%.64s' before '='", name, lineno, key, arg);
		return;
	}
	if (xsd_setting_keyed(s) && arg && strpbrk(arg, " \t")) {
		add_error(eb, "%s:%u: %s: '%.64s' is not one domain name pattern", name, lineno, key, arg);
		return;
	}
	if (!*val) {
		add_error(eb, "%s:%u: %s: missing value", name, lineno, key);
		return;
	}
	if (!xsd_setting_keyed(s)) {
		size_t idx = (size_t)(s - xsd_settings);

		if (seen[idx]) {
			add_error(eb, "%s:%u: %s: already set on line %u", name, lineno, key, seen[idx]);
			return;
		}
		seen[idx] = lineno;
	}
	if (s->parse(s, arg, val, cfg, msg, sizeof(msg))) {
		add_error(eb, "%s:%u: %s: %s", name, lineno, key, msg);
		return;
	}
	if (xsd_setting_keyed(s))
		cfg->rules[cfg->nr_rules - 1].line = lineno;
}

static int parse_text(const char *name, const char *text, size_t len,
		      struct xsd_config *out, char *err, size_t errlen, bool keep_partial);

int xsd_config_parse_text(const char *name, const char *text, size_t len,
			  struct xsd_config *out, char *err, size_t errlen)
{
	return parse_text(name, text, len, out, err, errlen, false);
}

static int parse_text(const char *name, const char *text, size_t len,
		      struct xsd_config *out, char *err, size_t errlen, bool keep_partial)
{
	struct errbuf eb = { .buf = err, .len = errlen };
	unsigned int *seen = NULL, lineno = 0;
	char *copy = NULL, *line, *next;
	int rc;

	if (errlen)
		err[0] = 0;
	rc = xsd_config_init_defaults(out, err, errlen);
	if (rc)
		return rc;
	if (len > XSD_CONFIG_MAX_BYTES) {
		add_error(&eb, "%s: larger than %d bytes", name, XSD_CONFIG_MAX_BYTES);
		rc = -EINVAL;
		goto out;
	}
	seen = calloc(xsd_nr_settings, sizeof(*seen));
	copy = malloc(len + 1);
	if (!seen || !copy) {
		add_error(&eb, "%s: out of memory", name);
		rc = -ENOMEM;
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = 0;
	for (line = copy; line < copy + len; line = next) {
		char *nl = memchr(line, '\n', (size_t)(copy + len - line));
		size_t linelen;

		next = nl ? nl + 1 : copy + len;
		if (nl)
			*nl = 0;
		linelen = (size_t)((nl ? nl : copy + len) - line);
		lineno++;
		if (memchr(line, 0, linelen)) {
			add_error(&eb, "%s:%u: line contains a NUL byte", name, lineno);
			continue;
		}
		if (linelen > XSD_CONFIG_MAX_LINE) {
			add_error(&eb, "%s:%u: line is longer than %d bytes", name, lineno, XSD_CONFIG_MAX_LINE);
			continue;
		}
		parse_line(name, lineno, line, out, seen, &eb);
	}
	rc = eb.count ? -EINVAL : 0;
out:
	free(seen);
	free(copy);
	if (rc && !(keep_partial && rc == -EINVAL))
		xsd_config_release(out);
	return rc;
}

static int parse_file(const char *path, struct xsd_config *out, char *err, size_t errlen,
		      bool keep_partial);

int xsd_config_parse_file(const char *path, struct xsd_config *out,
			  char *err, size_t errlen)
{
	return parse_file(path, out, err, errlen, false);
}

int xsd_config_parse_file_partial(const char *path, struct xsd_config *out,
				  char *err, size_t errlen)
{
	return parse_file(path, out, err, errlen, true);
}

static int parse_file(const char *path, struct xsd_config *out, char *err, size_t errlen,
		      bool keep_partial)
{
	char *buf = NULL;
	size_t used = 0;
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer;
	 * anything but a regular file is refused below */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		set_error(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st)) {
		rc = -errno;
		set_error(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		set_error(err, errlen, "%s: not a regular file (%s)", path,
			  S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
			  S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : "a special file");
		goto out;
	}
	buf = malloc(XSD_CONFIG_MAX_BYTES + 1);
	if (!buf) {
		rc = -ENOMEM;
		set_error(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, XSD_CONFIG_MAX_BYTES + 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			set_error(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > XSD_CONFIG_MAX_BYTES) {
			rc = -EFBIG;
			set_error(err, errlen, "%s: larger than %d bytes", path, XSD_CONFIG_MAX_BYTES);
			goto out;
		}
	}
	rc = parse_text(path, buf, used, out, err, errlen, keep_partial);
out:
	free(buf);
	close(fd);
	return rc;
}

int xsd_config_keep_restart_only(const char *name, const struct xsd_config *cur,
				 struct xsd_config *next, char *warn, size_t warnlen)
{
	struct errbuf eb = { .buf = warn, .len = warnlen };
	size_t i;

	if (warnlen)
		warn[0] = 0;
	for (i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];

		if (s->reloadable || xsd_setting_equal(s, cur, next))
			continue;
		/* Restart-only settings are all scalar: copy the old bytes back. */
		memcpy((char *)next + s->offset, (const char *)cur + s->offset, s->size);
		add_error(&eb, "%s: %s changed, but it needs a restart: keeping the running value",
			  name, s->name);
	}
	return (int)eb.count;
}
