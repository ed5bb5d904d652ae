/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xs.c - drop-in libxenstore.so.4 for xensim's xenstore.
 *
 * DOC: Overview
 * A handle is a CALLS connection for requests and a WATCHES connection on
 * which the server pushes one SIM_OP_XS_WATCH_EVENT (path\0token\0) per
 * fired watch.  xs_fileno() is the WATCHES socket: it polls readable
 * exactly when xs_read_watch() would not block, as the real library's watch
 * pipe does.  Requests act as the domain $XENSIM_AS_DOMID (default dom0),
 * which the server uses for permission checks, so a test can act as a
 * guest.
 *
 * Memory ownership is the real library's (tools/libs/store/xs.c): every
 * returned buffer is one malloc() block the caller free()s; xs_read()
 * NUL-terminates the value past *len; xs_directory() and xs_read_watch()
 * return an array of pointers followed, in the same block, by the strings.
 * Failures return NULL/false with errno = the server's error.
 *
 * Known differences (docs/xensim.md): the wire has no transaction id, so
 * operations inside a transaction apply at once and xs_transaction_end()
 * only reports what the server says; XS_OPEN_READONLY is accepted and, as in
 * Xen >= 4.15, gives an ordinary connection.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>

#include "conn.h"

struct sim_xs_watch {
	char *path;
	char *token;
};

struct xs_handle {
	struct sim_conn calls;
	struct sim_conn watches;
	bool unwatch_filter;
	pthread_mutex_t watch_lock;      /* protects watch list */
	struct sim_xs_watch *watch;
	size_t nr_watch;
};

/* ---- handles ------------------------------------------------------------ */

static struct xs_handle *open_handle(unsigned long flags)
{
	struct xs_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return NULL;
	rc = sim_conn_open_pair(&h->calls, &h->watches, SIM_CONN_WATCHES, NULL,
				"xenstore");
	if (rc)
		goto fail;
	h->unwatch_filter = !!(flags & XS_UNWATCH_FILTER);
	pthread_mutex_init(&h->watch_lock, NULL);
	return h;
fail:
	free(h);
	errno = -rc;
	return NULL;
}

struct xs_handle *xs_open(unsigned long flags)
{
	return open_handle(flags);
}

struct xs_handle *xs_daemon_open(void)
{
	return open_handle(0);
}

struct xs_handle *xs_domain_open(void)
{
	return open_handle(0);
}

struct xs_handle *xs_daemon_open_readonly(void)
{
	return open_handle(XS_OPEN_READONLY);
}

void xs_close(struct xs_handle *xsh)
{
	size_t i;

	if (!xsh)
		return;
	sim_conn_close(&xsh->watches);
	sim_conn_close(&xsh->calls);
	for (i = 0; i < xsh->nr_watch; i++) {
		free(xsh->watch[i].path);
		free(xsh->watch[i].token);
	}
	free(xsh->watch);
	pthread_mutex_destroy(&xsh->watch_lock);
	free(xsh);
}

void xs_daemon_close(struct xs_handle *h)
{
	xs_close(h);
}

/* In a forked child: drop the handle without talking to the server. */
void xs_daemon_destroy_postfork(struct xs_handle *h)
{
	xs_close(h);
}

int xs_fileno(struct xs_handle *h)
{
	return h->watches.fd;
}

/* ---- requests ----------------------------------------------------------- */

/*
 * One request whose reply is a byte string: returns a malloc()ed copy with
 * a NUL appended (so strings are usable as they are), its length in *len.
 */
static char *call_string(struct xs_handle *h, uint32_t op,
			 const struct iovec *req, int nreq, unsigned int *len,
			 int64_t *ret)
{
	char *buf = malloc(SIM_WIRE_MAX_MSG + 1);
	struct iovec rep = { buf, SIM_WIRE_MAX_MSG };
	size_t got = 0;
	char *small;
	int64_t r;

	if (!buf)
		return NULL;
	r = sim_conn_call(&h->calls, op, req, nreq, &rep, 1, &got);
	if (r < 0) {
		free(buf);
		errno = (int)-r;
		return NULL;
	}
	buf[got] = '\0';
	small = realloc(buf, got + 1);
	if (small)
		buf = small;
	if (len)
		*len = (unsigned int)got;
	if (ret)
		*ret = r;
	return buf;
}

static bool call_bool(struct xs_handle *h, uint32_t op, const struct iovec *req,
		      int nreq)
{
	int64_t r = sim_conn_call(&h->calls, op, req, nreq, NULL, 0, NULL);

	if (r < 0) {
		errno = (int)-r;
		return false;
	}
	return true;
}

static struct iovec str_iov(const char *s)
{
	return (struct iovec){ (void *)s, strlen(s) + 1 };
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	struct iovec req = str_iov(path);

	(void)t;
	return call_string(h, SIM_OP_XS_READ, &req, 1, len, NULL);
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
	      const void *data, unsigned int len)
{
	struct iovec req[2] = { str_iov(path), { (void *)data, len } };

	(void)t;
	return call_bool(h, SIM_OP_XS_WRITE, req, len ? 2 : 1);
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	struct iovec req = str_iov(path);

	(void)t;
	return call_bool(h, SIM_OP_XS_MKDIR, &req, 1);
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	struct iovec req = str_iov(path);

	(void)t;
	return call_bool(h, SIM_OP_XS_RM, &req, 1);
}

/* Array of n pointers to consecutive NUL-terminated strings, one block. */
static char **string_vector(const char *strings, size_t len, unsigned int n)
{
	char **v = malloc(sizeof(char *) * n + len);
	unsigned int i;

	if (!v)
		return NULL;
	if (len)
		memcpy(v + n, strings, len);
	if (n)
		v[0] = (char *)(v + n);
	for (i = 1; i < n; i++)
		v[i] = v[i - 1] + strlen(v[i - 1]) + 1;
	return v;
}

static unsigned int count_strings(const char *s, size_t len)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (!s[i])
			n++;
	return n;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path,
		    unsigned int *num)
{
	struct iovec req = str_iov(path);
	unsigned int len = 0, n;
	char *names, **v;

	(void)t;
	names = call_string(h, SIM_OP_XS_DIRECTORY, &req, 1, &len, NULL);
	if (!names)
		return NULL;
	/* count what arrived (trust the bytes, not the server's count) */
	n = count_strings(names, len);
	v = string_vector(names, len, n);
	free(names);
	if (v)
		*num = n;
	return v;
}

struct xs_permissions *xs_get_permissions(struct xs_handle *h,
					  xs_transaction_t t, const char *path,
					  unsigned int *num)
{
	struct iovec req = str_iov(path);
	struct sim_wire_xs_perm *wp;
	struct xs_permissions *p;
	unsigned int len = 0, n, i;
	int64_t r = 0;

	(void)t;
	wp = (struct sim_wire_xs_perm *)call_string(h, SIM_OP_XS_GET_PERMS, &req, 1,
						    &len, &r);
	if (!wp)
		return NULL;
	n = len / sizeof(*wp);
	if (len % sizeof(*wp) || r != n || !n) {
		free(wp);
		errno = EPROTO;
		return NULL;
	}
	p = malloc(n * sizeof(*p));
	if (!p) {
		free(wp);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		p[i].id = wp[i].id;
		p[i].perms = wp[i].perms;
	}
	free(wp);
	*num = n;
	return p;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t,
			const char *path, struct xs_permissions *perms,
			unsigned int num)
{
	uint32_t hdr[2] = { num, 0 };
	struct sim_wire_xs_perm *wp;
	struct iovec req[3];
	unsigned int i;
	bool ok;

	(void)t;
	if (!num || num > 1024) {
		errno = EINVAL;
		return false;
	}
	wp = malloc(num * sizeof(*wp));
	if (!wp)
		return false;
	for (i = 0; i < num; i++) {
		wp[i].id = perms[i].id;
		wp[i].perms = perms[i].perms;
	}
	req[0] = (struct iovec){ hdr, sizeof(hdr) };
	req[1] = (struct iovec){ wp, num * sizeof(*wp) };
	req[2] = str_iov(path);
	ok = call_bool(h, SIM_OP_XS_SET_PERMS, req, 3);
	free(wp);
	return ok;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	int64_t r = sim_conn_call(&h->calls, SIM_OP_XS_TRANSACTION_START, NULL, 0,
				  NULL, 0, NULL);

	if (r < 0) {
		errno = (int)-r;
		return XBT_NULL;
	}
	return (xs_transaction_t)r;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	struct sim_wire_u64 req[2] = { { t }, { abort } };
	struct iovec iov = { req, sizeof(req) };

	return call_bool(h, SIM_OP_XS_TRANSACTION_END, &iov, 1);
}

char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
	struct sim_wire_dom d = { .domid = domid };
	struct iovec req = { &d, sizeof(d) };

	return call_string(h, SIM_OP_XS_GET_DOMAIN_PATH, &req, 1, NULL, NULL);
}

/*
 * xensim introduces a domain to its xenstore when it creates it and
 * releases it when it is destroyed, so "introduced" is "exists".
 */
bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	struct sim_wire_dom_range req = { .first = domid, .max = 1 };
	struct sim_dominfo info;
	size_t got = 0;
	int64_t r = sim_conn_call1(&h->calls, SIM_OP_DOMAIN_GETINFO, &req,
				   sizeof(req), &info, sizeof(info), &got);

	if (r < 0) {
		errno = (int)-r;
		return false;
	}
	return r == 1 && got == sizeof(info) && info.domid == domid;
}

/* ---- watches ------------------------------------------------------------ */

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	struct iovec req[2] = { str_iov(path), str_iov(token) };
	struct sim_xs_watch *w;
	char *p, *t;

	if (!call_bool(h, SIM_OP_XS_WATCH, req, 2))
		return false;
	p = strdup(path);
	t = strdup(token);
	pthread_mutex_lock(&h->watch_lock);
	w = realloc(h->watch, (h->nr_watch + 1) * sizeof(*w));
	if (w && p && t) {
		h->watch = w;
		h->watch[h->nr_watch++] = (struct sim_xs_watch){ p, t };
		p = t = NULL;
	} else if (w) {
		h->watch = w;
	}
	pthread_mutex_unlock(&h->watch_lock);
	free(p);
	free(t);
	return true;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	struct iovec req[2] = { str_iov(path), str_iov(token) };
	size_t i;

	if (!call_bool(h, SIM_OP_XS_UNWATCH, req, 2))
		return false;
	pthread_mutex_lock(&h->watch_lock);
	for (i = 0; i < h->nr_watch; i++)
		if (!strcmp(h->watch[i].path, path) && !strcmp(h->watch[i].token, token)) {
			free(h->watch[i].path);
			free(h->watch[i].token);
			h->watch[i] = h->watch[--h->nr_watch];
			break;
		}
	pthread_mutex_unlock(&h->watch_lock);
	return true;
}

/* XS_UNWATCH_FILTER: does a still-registered watch explain this event? */
static bool event_wanted(struct xs_handle *h, const char *path, const char *token)
{
	bool ok = false;
	size_t i;

	pthread_mutex_lock(&h->watch_lock);
	for (i = 0; i < h->nr_watch && !ok; i++)
		ok = !strcmp(h->watch[i].token, token) &&
		     (h->watch[i].path[0] == '@' ? !strcmp(h->watch[i].path, path)
						 : xs_path_is_subpath(h->watch[i].path, path));
	pthread_mutex_unlock(&h->watch_lock);
	return ok;
}

static char **read_watch(struct xs_handle *h, unsigned int *num, bool nonblock)
{
	char *buf = malloc(SIM_WIRE_MAX_MSG);
	char **v = NULL;

	if (!buf)
		return NULL;
	for (;;) {
		uint32_t op;
		long n;

		if (!nonblock) {
			/* block regardless of O_NONBLOCK on xs_fileno(), as the real one */
			struct pollfd pfd = { .fd = h->watches.fd, .events = POLLIN };

			if (poll(&pfd, 1, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
		}
		n = sim_conn_recv_push(&h->watches, &op, buf, SIM_WIRE_MAX_MSG, 1);
		if (n == -EAGAIN && !nonblock)
			continue;   /* another thread took it */
		if (n < 0) {
			errno = (int)-n;
			break;
		}
		if (op != SIM_OP_XS_WATCH_EVENT || n < 2 || buf[n - 1] ||
		    count_strings(buf, (size_t)n) != 2) {
			errno = EPROTO;
			break;
		}
		if (h->unwatch_filter &&
		    !event_wanted(h, buf, buf + strlen(buf) + 1))
			continue;
		v = string_vector(buf, (size_t)n, 2);
		if (v)
			*num = 2;
		break;
	}
	free(buf);
	return v;
}

char **xs_read_watch(struct xs_handle *h, unsigned int *num)
{
	return read_watch(h, num, false);
}

char **xs_check_watch(struct xs_handle *h)
{
	unsigned int num;

	return read_watch(h, &num, true);
}

/* ---- pure helpers, as tools/xenstore/xs_lib.c ---------------------------- */

const char *xs_daemon_rundir(void)
{
	const char *s = getenv("XENSTORED_RUNDIR");

	return s ? s : "/var/run/xenstored";
}

/* The socket this library talks to: xensim's, unless XENSTORED_PATH says. */
const char *xs_daemon_socket(void)
{
	const char *s = getenv("XENSTORED_PATH");

	return s ? s : sim_conn_socket_path();
}

const char *xs_daemon_socket_ro(void)
{
	return xs_daemon_socket();
}

bool xs_write_all(int fd, const void *data, unsigned int len)
{
	const char *p = data;

	while (len) {
		ssize_t done = write(fd, p, len);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return false;
		p += done;
		len -= (unsigned int)done;
	}
	return true;
}

bool xs_strings_to_perms(struct xs_permissions *perms, unsigned int num,
			 const char *strings)
{
	const char *p;
	char *end;
	unsigned int i;

	for (p = strings, i = 0; i < num; i++) {
		switch (*p) {
		case 'r':
			perms[i].perms = XS_PERM_READ;
			break;
		case 'w':
			perms[i].perms = XS_PERM_WRITE;
			break;
		case 'b':
			perms[i].perms = XS_PERM_READ | XS_PERM_WRITE;
			break;
		case 'n':
			perms[i].perms = XS_PERM_NONE;
			break;
		default:
			errno = EINVAL;
			return false;
		}
		p++;
		perms[i].id = (unsigned int)strtol(p, &end, 0);
		if (*end || !*p) {
			errno = EINVAL;
			return false;
		}
		p = end + 1;
	}
	return true;
}

bool xs_path_is_subpath(const char *parent, const char *child)
{
	size_t childlen = strlen(child);
	size_t parentlen = strlen(parent);

	if (childlen < parentlen)
		return false;
	if (memcmp(child, parent, parentlen))
		return false;
	if (childlen > parentlen && child[parentlen] != '/')
		return false;
	return true;
}
