/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv.c - helpers of the xensim server's request handlers: the host's log,
 * writing a whole buffer, reading a string out of a request, and a command
 * line reply's message.
 *
 * DOC: Overview
 *
 * The log is stderr (the daemonised host points it at its log file), one
 * line per event with the time of day, so a test can tail it.  Request
 * payloads are never trusted: a string is only ever read after its
 * terminating NUL was found inside the payload.
 */
#include "srv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void srv_log(const char *fmt, ...)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(stderr, "%s xensim: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int srv_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The NUL-terminated string at p within [p, p+len), or NULL. */
const char *srv_str_in(const uint8_t *p, size_t len, size_t *used)
{
	const uint8_t *nul = memchr(p, '\0', len);

	if (!nul)
		return NULL;
	if (used)
		*used = (size_t)(nul - p) + 1;
	return (const char *)p;
}

void srv_set_text(struct sim_server *srv, struct sim_reply *r, const char *msg)
{
	size_t l = strlen(msg) + 1;

	if (l > TX_MAX)
		l = TX_MAX;
	memcpy(srv->tx, msg, l);
	srv->tx[l - 1] = '\0';
	r->len = l;
}
