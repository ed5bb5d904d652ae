/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * server.c - the xensim host process.
 *
 * DOC: Overview
 *
 * One thread runs a poll() loop over: the listening SOCK_SEQPACKET socket,
 * every client connection, an eventfd that hypervisor notifications wake,
 * and a signalfd for SIGTERM/SIGINT.  Every request is handled to the end
 * (hypercall into hv.c, xenstore operation, guest creation) before the next
 * one is read, so the store and the server's tables need no locks; the
 * hypervisor model has its own lock because guest vCPU threads (vcpu.c)
 * write memory concurrently.
 *
 * Connections (wire.h): a CALLS connection gets a cookie and the memfd of
 * host memory; foreign mappings, event channel bindings and xenstore
 * watches belong to that cookie, so when the connection goes away the
 * server drops all of them (sim_hv_unmap_owner(), bindings, watches) -- a
 * client killed with -9 leaks nothing, as with privcmd and xenstored.
 * EVENTS and WATCHES connections are paired with a CALLS cookie and only
 * ever receive pushed messages; those are queued per connection and sent
 * when the socket is writable, so a slow client never blocks the host.
 *
 * Hypervisor notifications (the sharing ring's event channel, VIRQ_ENOMEM)
 * arrive through sim_hv_set_notify() on whatever thread raised them, after
 * hv dropped its lock; the callback only queues them under nq_lock and
 * kicks the eventfd, and the poll loop forwards them.
 *
 * Domains created through the CLI are "guests": the server remembers their
 * configuration and vCPU threads, writes the xenstore nodes xl writes,
 * fires @introduceDomain / @releaseDomain, and implements on_crash.  The
 * balloon drivers of dom0 and the guests are emulated: writing a lower
 * /local/domain/<id>/memory/target gives that domain's frames back to the
 * free pool.
 *
 * Robustness: every request is length-checked before its payload is read;
 * anything malformed gets an error reply (-EINVAL / -EPROTO / -EMSGSIZE),
 * never a crash.  Replies to CALLS connections are sent blocking with a
 * send timeout; a client that stops reading its replies is disconnected.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>

#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "cli.h"
#include "genmem.h"
#include "guest.h"
#include "store.h"
#include "vcpu.h"
#include "wire.h"
#include "xlcfg.h"

#define SIM_SERVER_TICK_MS 250
#define SIM_OUTQ_MAX 65536          /* pushed messages queued per connection */
#define SIM_EVTCHN_FIRST_PORT 32    /* local ports below are "used by dom0's kernel" */

/* ---- state ---------------------------------------------------------------- */

struct sim_out_msg {
	struct sim_out_msg *next;
	size_t len;
	uint8_t data[];
};

struct sim_client {
	struct sim_client *next;
	int fd;
	uint32_t kind;                /* 0 until HELLO */
	uint64_t cookie;              /* CALLS: its own; EVENTS/WATCHES: its pair's */
	uint32_t as_domid;
	struct sim_out_msg *outq, *outq_tail;
	unsigned int outq_len;
	bool dropped_warned;
	bool dead;
	bool cli;                     /* the xensim command line: never faulted */
	bool xenstore;                /* CALLS half of a libxenstore handle */
};

struct sim_binding {
	struct sim_binding *next;
	uint64_t cookie;              /* the CALLS connection that bound it */
	uint32_t local_port;
	bool virq;
	uint32_t remote_dom;          /* interdomain */
	uint32_t remote_port;         /* interdomain: the port; virq: the virq */
};

struct sim_guest {
	struct sim_guest *next;
	uint32_t domid;
	struct sim_guest_cfg cfg;
	char vm_path[64];             /* /vm/<uuid> */
	struct sim_vcpu_set *vcpus;
	bool released;               /* @releaseDomain fired (crashed, preserved) */
};

struct sim_notice { uint32_t domid, port; };

struct sim_server {
	const struct sim_server_opts *opts;
	struct sim_hv *hv;
	struct sim_faults *faults;    /* the hypervisor's injector (NULL: off) */
	struct sim_store *store;
	int listen_fd, wake_fd, signal_fd;
	struct sim_client *clients;
	struct sim_binding *bindings;
	struct sim_guest *guests;
	uint64_t next_cookie;
	uint32_t next_port;
	bool stopping;

	pthread_mutex_t nq_lock;
	struct sim_notice *nq;
	size_t nq_len, nq_cap;

	uint8_t *rx, *tx;             /* one message each, SIM_WIRE_MAX_MSG */
};

__attribute__((format(printf, 1, 2)))
static void logf_(const char *fmt, ...)
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

static int write_all(int fd, const void *buf, size_t len)
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

/* ---- sending ------------------------------------------------------------ */

static int send_fd_msg(int fd, const struct sim_wire_hdr *hdr, const void *payload,
		       int pass_fd)
{
	struct iovec iov[2] = {
		{ (void *)hdr, sizeof(*hdr) }, { (void *)payload, hdr->len },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->len ? 2 : 1 };
	ssize_t r;

	if (pass_fd >= 0) {
		struct cmsghdr *ch;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &pass_fd, sizeof(int));
	}
	do
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return 0;
}

/* Flushes as much of a pushed-message queue as the socket takes. */
static void client_flush(struct sim_client *c)
{
	while (c->outq && !c->dead) {
		struct sim_out_msg *m = c->outq;
		ssize_t r = send(c->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			c->dead = true;
			return;
		}
		c->outq = m->next;
		if (!c->outq)
			c->outq_tail = NULL;
		c->outq_len--;
		free(m);
	}
}

static void client_push(struct sim_client *c, uint32_t op, const void *a, size_t alen,
			const void *b, size_t blen)
{
	struct sim_wire_hdr hdr = { .op = op, .len = (uint32_t)(alen + blen) };
	struct sim_out_msg *m;

	if (c->dead)
		return;
	if (c->outq_len >= SIM_OUTQ_MAX) {
		if (!c->dropped_warned)
			logf_("client cookie %" PRIu64 " does not read its %s: dropping pushed messages",
			      c->cookie, c->kind == SIM_CONN_EVENTS ? "events" : "watch events");
		c->dropped_warned = true;
		return;
	}
	m = malloc(sizeof(*m) + sizeof(hdr) + alen + blen);
	if (!m) {
		logf_("out of memory queueing a pushed message: dropped");
		return;
	}
	m->next = NULL;
	m->len = sizeof(hdr) + alen + blen;
	memcpy(m->data, &hdr, sizeof(hdr));
	if (alen)
		memcpy(m->data + sizeof(hdr), a, alen);
	if (blen)
		memcpy(m->data + sizeof(hdr) + alen, b, blen);
	if (c->outq_tail)
		c->outq_tail->next = m;
	else
		c->outq = m;
	c->outq_tail = m;
	c->outq_len++;
	client_flush(c);
}

/* ---- notifications from the hypervisor ------------------------------------ */

static void on_hv_notify(void *arg, uint32_t domid, uint32_t port)
{
	struct sim_server *srv = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&srv->nq_lock);
	if (srv->nq_len == srv->nq_cap) {
		size_t cap = srv->nq_cap ? srv->nq_cap * 2 : 64;
		struct sim_notice *n = realloc(srv->nq, cap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&srv->nq_lock);
			fprintf(stderr, "xensim: out of memory: lost notification dom%u port %u\n",
				domid, port);
			return;
		}
		srv->nq = n;
		srv->nq_cap = cap;
	}
	srv->nq[srv->nq_len++] = (struct sim_notice){ domid, port };
	pthread_mutex_unlock(&srv->nq_lock);
	if (write(srv->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "xensim: cannot wake the server: %s\n", strerror(errno));
}

static void deliver_event(struct sim_server *srv, const struct sim_binding *b)
{
	struct sim_wire_evtchn ev = { .domid = b->virq ? 0 : b->remote_dom, .port = b->local_port };

	for (struct sim_client *c = srv->clients; c; c = c->next)
		if (c->kind == SIM_CONN_EVENTS && c->cookie == b->cookie)
			client_push(c, SIM_OP_EVENT, &ev, sizeof(ev), NULL, 0);
}

/*
 * Fault injection: a notification may be lost or come twice (fault.c says
 * why a consumer must survive both).  Both draws are made for every
 * notification, so the two kinds stay independent.
 */
static void deliver_faulted(struct sim_server *srv, const struct sim_binding *b)
{
	bool drop = sim_fault_draw(srv->faults, SIM_FK_EVT_DROP, NULL);
	bool twice = sim_fault_draw(srv->faults, SIM_FK_EVT_DOUBLE, NULL);
	char what[96];

	snprintf(what, sizeof(what), "%s of client cookie %" PRIu64 " (local port %u)",
		 b->virq ? "VIRQ_ENOMEM" : "sharing ring event", b->cookie, b->local_port);
	if (drop) {
		sim_fault_note(srv->faults, SIM_FK_EVT_DROP, 1, "%s dropped", what);
		return;
	}
	deliver_event(srv, b);
	if (twice) {
		sim_fault_note(srv->faults, SIM_FK_EVT_DOUBLE, 1, "%s delivered twice", what);
		deliver_event(srv, b);
	}
}

static void drain_notices(struct sim_server *srv)
{
	struct sim_notice *q;
	size_t n;
	uint64_t v;

	if (read(srv->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		logf_("eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&srv->nq_lock);
	q = srv->nq;
	n = srv->nq_len;
	srv->nq = NULL;
	srv->nq_len = srv->nq_cap = 0;
	pthread_mutex_unlock(&srv->nq_lock);
	for (size_t i = 0; i < n; i++) {
		bool virq = q[i].domid == 0 && q[i].port == 0;

		for (struct sim_binding *b = srv->bindings; b; b = b->next) {
			if (virq ? (b->virq && b->remote_port == VIRQ_ENOMEM)
				 : (!b->virq && b->remote_dom == q[i].domid &&
				    b->remote_port == q[i].port))
				deliver_faulted(srv, b);
		}
	}
	free(q);
}

/* ---- xenstore glue -------------------------------------------------------- */

static void on_store_fire(void *arg, uint64_t cookie, const char *path, const char *token)
{
	struct sim_server *srv = arg;

	for (struct sim_client *c = srv->clients; c; c = c->next)
		if (c->kind == SIM_CONN_WATCHES && c->cookie == cookie)
			client_push(c, SIM_OP_XS_WATCH_EVENT, path, strlen(path) + 1,
				    token, strlen(token) + 1);
}

/* Writes a node as dom0 (the toolstack); logs failures, which would be our bug. */
__attribute__((format(printf, 3, 4)))
static int xs_put(struct sim_server *srv, const char *val, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	rc = sim_store_write(srv->store, 0, path, val, strlen(val));
	if (rc)
		logf_("xenstore write %s: %s", path, strerror(-rc));
	return rc;
}

__attribute__((format(printf, 4, 5)))
static int xs_perms(struct sim_server *srv, const struct xs_permissions *p, unsigned int n,
		    const char *fmt, ...)
{
	char path[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	rc = sim_store_set_perms(srv->store, 0, path, p, n);
	if (rc)
		logf_("xenstore set_perms %s: %s", path, strerror(-rc));
	return rc;
}

/* The nodes libxl__domain_make() and libxl__build_post() write, plus memshare/. */
static int guest_write_nodes(struct sim_server *srv, struct sim_guest *g)
{
	uint32_t id = g->domid;
	const uint8_t *u = g->cfg.spec.uuid;
	struct xs_permissions roperm[2] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = id, .perms = XS_PERM_READ },
	};
	struct xs_permissions rwperm[1] = { { .id = id, .perms = XS_PERM_NONE } };
	char uuid[37], buf[64];
	int rc = 0;

	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
		 u[11], u[12], u[13], u[14], u[15]);
	snprintf(g->vm_path, sizeof(g->vm_path), "/vm/%s", uuid);

	rc |= sim_store_mkdir(srv->store, 0, g->vm_path);
	rc |= xs_perms(srv, roperm, 2, "%s", g->vm_path);
	rc |= xs_put(srv, uuid, "%s/uuid", g->vm_path);
	rc |= xs_put(srv, g->cfg.spec.name, "%s/name", g->vm_path);

	rc |= xs_put(srv, "", "/local/domain/%u", id);
	rc |= xs_perms(srv, roperm, 2, "/local/domain/%u", id);
	rc |= xs_put(srv, g->vm_path, "/local/domain/%u/vm", id);
	rc |= xs_put(srv, g->cfg.spec.name, "/local/domain/%u/name", id);
	snprintf(buf, sizeof(buf), "%u", id);
	rc |= xs_put(srv, buf, "/local/domain/%u/domid", id);
	snprintf(buf, sizeof(buf), "%" PRIu64, g->cfg.spec.max_pages * (SIM_PAGE_SIZE / 1024));
	rc |= xs_put(srv, buf, "/local/domain/%u/memory/static-max", id);
	snprintf(buf, sizeof(buf), "%" PRIu64, g->cfg.spec.nr_pages * (SIM_PAGE_SIZE / 1024));
	rc |= xs_put(srv, buf, "/local/domain/%u/memory/target", id);
	for (uint32_t v = 0; v < g->cfg.spec.vcpus; v++)
		rc |= xs_put(srv, "online", "/local/domain/%u/cpu/%u/availability", id, v);
	rc |= xs_put(srv, "", "/local/domain/%u/device", id);
	rc |= xs_put(srv, "", "/local/domain/%u/control", id);
	rc |= xs_put(srv, "", "/local/domain/%u/control/shutdown", id);
	rc |= xs_perms(srv, rwperm, 1, "/local/domain/%u/control/shutdown", id);
	rc |= xs_put(srv, "", "/local/domain/%u/data", id);
	rc |= xs_perms(srv, rwperm, 1, "/local/domain/%u/data", id);
	/* the patched xl: owned by dom0, readable by the guest, never writable by it */
	if (g->cfg.mem_sharing[0] || g->cfg.mem_sharing_group[0]) {
		rc |= xs_put(srv, "", "/local/domain/%u/memshare", id);
		rc |= xs_perms(srv, roperm, 2, "/local/domain/%u/memshare", id);
	}
	if (g->cfg.mem_sharing[0]) {
		rc |= xs_put(srv, g->cfg.mem_sharing, "/local/domain/%u/memshare/enabled", id);
		rc |= xs_perms(srv, roperm, 2, "/local/domain/%u/memshare/enabled", id);
	}
	if (g->cfg.mem_sharing_group[0]) {
		rc |= xs_put(srv, g->cfg.mem_sharing_group, "/local/domain/%u/memshare/group", id);
		rc |= xs_perms(srv, roperm, 2, "/local/domain/%u/memshare/group", id);
	}
	return rc ? -EIO : 0;
}

static void dom0_write_nodes(struct sim_server *srv)
{
	char buf[32];
	uint64_t kib = srv->opts->hv.dom0_pages * (SIM_PAGE_SIZE / 1024);

	xs_put(srv, "", "/local/domain/0");
	xs_put(srv, "Domain-0", "/local/domain/0/name");
	xs_put(srv, "0", "/local/domain/0/domid");
	snprintf(buf, sizeof(buf), "%" PRIu64, kib);
	xs_put(srv, buf, "/local/domain/0/memory/static-max");
	xs_put(srv, buf, "/local/domain/0/memory/target");
	xs_put(srv, "", "/vm");
	xs_put(srv, "", "/tool");
}

/*
 * The guests' balloon drivers (dom0's included): a lower memory/target
 * (KiB) gives frames back to the hypervisor, as Linux's xen-balloon does on
 * its xenstore watch.  This is how a daemon makes memory available when an
 * unshare found none.  Balloons never grow: xensim has no
 * increase_reservation.
 */
static void balloon(struct sim_server *srv, uint32_t domid)
{
	char path[64], *val = NULL, *end;
	size_t len;
	unsigned long long kib;
	struct sim_dominfo d;
	uint64_t target;
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
	if (sim_store_read(srv->store, 0, path, &val, &len))
		return;
	errno = 0;
	kib = strtoull(val, &end, 10);
	if (errno || end == val || *end) {
		logf_("dom%u balloon: ignoring memory/target \"%s\" (not a number of KiB)", domid, val);
		free(val);
		return;
	}
	free(val);
	if (sim_hv_domain_getinfo(srv->hv, domid, 1, &d) != 1 || d.domid != domid)
		return;
	target = kib / (SIM_PAGE_SIZE / 1024);
	if (target >= d.tot_pages) {
		if (target > d.tot_pages)
			logf_("dom%u balloon: target %llu KiB is above the current %" PRIu64
			      " pages; growing is not simulated", domid, kib, d.tot_pages);
		return;
	}
	rc = sim_hv_decrease_reservation(srv->hv, domid, d.tot_pages - target);
	if (rc < 0)
		logf_("dom%u balloon: giving back %" PRIu64 " pages failed: %s", domid,
		      d.tot_pages - target, strerror(-rc));
	else
		logf_("dom%u balloon: gave %" PRIu64 " pages back to the hypervisor", domid,
		      d.tot_pages - target);
}

/* Is path (as caller wrote it) some domain's memory/target?  Which one? */
static bool is_memory_target(uint32_t caller, const char *path, uint32_t *domid)
{
	unsigned int id;
	int n = 0;

	if (path[0] != '/') {
		*domid = caller;
		return strcmp(path, "memory/target") == 0;
	}
	if (sscanf(path, "/local/domain/%u/memory/target%n", &id, &n) == 1 && n > 0 &&
	    path[n] == '\0') {
		*domid = id;
		return true;
	}
	return false;
}

/* ---- guests ----------------------------------------------------------------- */

static struct sim_guest *guest_find(struct sim_server *srv, uint32_t domid)
{
	for (struct sim_guest *g = srv->guests; g; g = g->next)
		if (g->domid == domid)
			return g;
	return NULL;
}

/*
 * Ends a guest: stop its vCPUs, destroy the domain (waking vCPUs asleep in
 * the hypervisor), join them, remove its xenstore nodes as xl does, fire
 * @releaseDomain.  hv_rc gets the hypervisor's answer.
 */
static int guest_destroy(struct sim_server *srv, struct sim_guest *g)
{
	char path[64];
	int rc;

	sim_vcpus_stop(g->vcpus);
	rc = sim_hv_domain_destroy(srv->hv, g->domid);
	if (rc && rc != -ESRCH)
		logf_("dom%u: destroy failed: %s", g->domid, strerror(-rc));
	sim_vcpus_free(g->vcpus);
	g->vcpus = NULL;
	snprintf(path, sizeof(path), "/local/domain/%u", g->domid);
	sim_store_rm(srv->store, 0, path);
	if (g->vm_path[0])
		sim_store_rm(srv->store, 0, g->vm_path);
	if (!g->released)
		sim_store_fire_special(srv->store, SIM_STORE_SPECIAL_RELEASE);
	for (struct sim_guest **pg = &srv->guests; *pg; pg = &(*pg)->next) {
		if (*pg == g) {
			*pg = g->next;
			break;
		}
	}
	logf_("dom%u (%s) destroyed", g->domid, g->cfg.spec.name);
	free(g);
	return rc == -ESRCH ? 0 : rc;
}

/* Crashed domains: @releaseDomain, then on_crash (xl's default: destroy). */
static void guests_check(struct sim_server *srv)
{
	struct sim_guest *g = srv->guests, *next;

	for (; g; g = next) {
		struct sim_dominfo info;
		int n = sim_hv_domain_getinfo(srv->hv, g->domid, 1, &info);
		bool gone = n != 1 || info.domid != g->domid;

		next = g->next;
		if (!gone && !(info.flags & (SIM_DOMF_SHUTDOWN | SIM_DOMF_CRASHED | SIM_DOMF_DYING)))
			continue;
		if (!gone && g->cfg.on_crash == SIM_ON_CRASH_PRESERVE) {
			if (!g->released) {
				logf_("dom%u (%s) crashed; preserved (on_crash=\"preserve\")",
				      g->domid, g->cfg.spec.name);
				sim_store_fire_special(srv->store, SIM_STORE_SPECIAL_RELEASE);
				g->released = true;
			}
			continue;
		}
		logf_("dom%u (%s) %s; destroying it (on_crash=\"destroy\")", g->domid,
		      g->cfg.spec.name, gone ? "disappeared" : "crashed");
		guest_destroy(srv, g);
	}
}

struct load_ctx {
	struct sim_hv *hv;
	uint32_t domid;
};

/* The domain starts zero-filled, so zero pages need no write. */
static int load_sink(void *arg, uint64_t gfn, const void *page)
{
	static const uint8_t zero[SIM_PAGE_SIZE];
	struct load_ctx *l = arg;

	if (memcmp(page, zero, SIM_PAGE_SIZE) == 0)
		return 0;
	return sim_hv_guest_write(l->hv, l->domid, SIM_HV_LOADER_VCPU, gfn, 0, page,
				  SIM_PAGE_SIZE);
}

__attribute__((format(printf, 3, 4)))
static int cli_error(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return 0;
}

static int guest_create(struct sim_server *srv, const char *filename, const char *basedir,
			const char *data, size_t data_len, const char *const *ov,
			unsigned int nr_ov, char *msg, size_t msglen)
{
	struct sim_guest *g = calloc(1, sizeof(*g));
	struct sim_dominfo infos[64];
	struct timespec t0, t1;
	struct load_ctx lc;
	char err[SIM_XLCFG_ERR_MAX];
	uint32_t first = 0;
	int rc, n;

	if (!g)
		return -ENOMEM;
	rc = sim_xlcfg_parse(filename, data, data_len, ov, nr_ov, basedir, &g->cfg, msg, msglen);
	if (rc)
		goto fail;
	/* names are unique, as xl insists */
	while ((n = sim_hv_domain_getinfo(srv->hv, first, 64, infos)) > 0) {
		for (int i = 0; i < n; i++) {
			if (strcmp(infos[i].name, g->cfg.spec.name) == 0) {
				rc = -EEXIST;
				cli_error(msg, msglen, "domain with name \"%s\" already exists (id %u)",
					  g->cfg.spec.name, infos[i].domid);
				goto fail;
			}
		}
		first = infos[n - 1].domid + 1;
	}
	if (!g->cfg.uuid_given && getrandom(g->cfg.spec.uuid, 16, 0) != 16) {
		rc = -errno;
		cli_error(msg, msglen, "cannot draw a uuid: %s", strerror(errno));
		goto fail;
	}
	if (!g->cfg.uuid_given) {
		g->cfg.spec.uuid[6] = (g->cfg.spec.uuid[6] & 0x0f) | 0x40;  /* RFC 4122 v4 */
		g->cfg.spec.uuid[8] = (g->cfg.spec.uuid[8] & 0x3f) | 0x80;
	}
	rc = sim_hv_domain_create(srv->hv, &g->cfg.spec, &g->domid);
	if (rc) {
		cli_error(msg, msglen, "%s: creating domain \"%s\" (%" PRIu64 " MiB) failed: %s",
			  filename, g->cfg.spec.name, g->cfg.spec.nr_pages / 256, strerror(-rc));
		goto fail;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	lc = (struct load_ctx){ srv->hv, g->domid };
	err[0] = '\0';
	switch (g->cfg.content) {
	case SIM_CONTENT_IMAGE:
		rc = sim_guest_load_image(g->cfg.content_path, g->cfg.spec.nr_pages, load_sink,
					  &lc, err, sizeof(err));
		break;
	case SIM_CONTENT_CORE:
		rc = sim_guest_load_core(g->cfg.content_path, g->cfg.spec.nr_pages, load_sink,
					 &lc, err, sizeof(err));
		break;
	case SIM_CONTENT_PROFILE:
		rc = sim_guest_gen_profile(&g->cfg.profile, g->cfg.os_dir, g->cfg.seed,
					   g->cfg.spec.nr_pages, load_sink, &lc, err, sizeof(err));
		break;
	case SIM_CONTENT_GENERATED:   /* sim_generated: keys only (genmem.h) */
		rc = sim_genmem_load(srv->hv, g->domid, &g->cfg.profile, g->cfg.seed,
				     g->cfg.spec.nr_pages, err, sizeof(err));
		break;
	default:
		rc = 0;
		break;
	}
	if (rc) {
		cli_error(msg, msglen, "%s: loading memory of \"%s\": %s", filename,
			  g->cfg.spec.name, err[0] ? err : strerror(-rc));
		sim_hv_domain_destroy(srv->hv, g->domid);
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	rc = guest_write_nodes(srv, g);
	if (rc) {
		char path[64];

		cli_error(msg, msglen, "writing the xenstore nodes of \"%s\" failed", g->cfg.spec.name);
		snprintf(path, sizeof(path), "/local/domain/%u", g->domid);
		sim_store_rm(srv->store, 0, path);
		sim_store_rm(srv->store, 0, g->vm_path);
		sim_hv_domain_destroy(srv->hv, g->domid);
		goto fail;
	}
	struct sim_vcpu_params vp = {
		.domid = g->domid, .nr_vcpus = g->cfg.spec.vcpus, .rate = g->cfg.write_rate,
		.working_set = g->cfg.working_set, .nr_pages = g->cfg.spec.nr_pages,
		.seed = g->cfg.seed, .write_aim = g->cfg.write_aim,
	};
	rc = sim_vcpus_start(srv->hv, &vp, &g->vcpus);
	if (rc) {
		cli_error(msg, msglen, "starting the vCPUs of \"%s\": %s", g->cfg.spec.name,
			  strerror(-rc));
		g->next = srv->guests;
		srv->guests = g;
		guest_destroy(srv, g);
		return rc;
	}
	g->next = srv->guests;
	srv->guests = g;
	sim_store_fire_special(srv->store, SIM_STORE_SPECIAL_INTRODUCE);
	logf_("dom%u (%s) created from %s: %" PRIu64 " MiB, memory loaded in %.2f s, %u vCPUs writing %.0f pages/s",
	      g->domid, g->cfg.spec.name, filename, g->cfg.spec.nr_pages / 256,
	      (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	      g->cfg.spec.vcpus, g->cfg.write_rate);
	return (int)g->domid;
fail:
	free(g);
	return rc;
}

/* ---- request dispatch ------------------------------------------------------ */

/* A reply under construction: ret, payload in srv->tx, optional fd to pass. */
struct sim_reply {
	int64_t ret;
	size_t len;
	int pass_fd;
	bool close_fd;    /* pass_fd is the reply's own: closed once sent */
};

#define NEED(cond) do { if (!(cond)) { r->ret = -EINVAL; return; } } while (0)
#define TX_MAX (SIM_WIRE_MAX_MSG - sizeof(struct sim_wire_hdr))

/* The NUL-terminated string at p within [p, p+len), or NULL. */
static const char *str_in(const uint8_t *p, size_t len, size_t *used)
{
	const uint8_t *nul = memchr(p, '\0', len);

	if (!nul)
		return NULL;
	if (used)
		*used = (size_t)(nul - p) + 1;
	return (const char *)p;
}

static void set_text(struct sim_server *srv, struct sim_reply *r, const char *msg)
{
	size_t l = strlen(msg) + 1;

	if (l > TX_MAX)
		l = TX_MAX;
	memcpy(srv->tx, msg, l);
	srv->tx[l - 1] = '\0';
	r->len = l;
}

static void op_hello(struct sim_server *srv, struct sim_client *c, const uint8_t *p,
		     size_t len, struct sim_reply *r)
{
	struct sim_wire_hello h;
	struct sim_wire_hello_reply rep = { 0 };
	uint64_t total = 0, free_frames = 0;

	NEED(len >= sizeof(h));
	memcpy(&h, p, sizeof(h));
	if (c->kind) {
		r->ret = -EISCONN;
		return;
	}
	if (h.version != SIM_WIRE_VERSION) {
		r->ret = -EPROTONOSUPPORT;
		return;
	}
	if (h.as_domid >= DOMID_FIRST_RESERVED) {
		r->ret = -EINVAL;
		return;
	}
	switch (h.kind) {
	case SIM_CONN_CALLS:
		c->cookie = ++srv->next_cookie;
		c->cli = h.flags & SIM_HELLO_CLI;
		r->pass_fd = sim_hv_frames_fd(srv->hv);
		break;
	case SIM_CONN_EVENTS:
	case SIM_CONN_WATCHES: {
		struct sim_client *pair = NULL;

		for (struct sim_client *o = srv->clients; o; o = o->next)
			if (o->kind == SIM_CONN_CALLS && o->cookie == h.cookie && !o->dead)
				pair = o;
		if (!pair) {
			r->ret = -ENOENT;
			return;
		}
		/* libxenstore's getinfo (xs_is_domain_introduced) asks xenstored,
		 * not the hypervisor: no hypercall faults on that connection */
		if (h.kind == SIM_CONN_WATCHES)
			pair->xenstore = true;
		c->cookie = h.cookie;
		break;
	}
	default:
		r->ret = -EINVAL;
		return;
	}
	c->kind = h.kind;
	c->as_domid = h.as_domid;
	sim_hv_physinfo(srv->hv, &total, &free_frames);
	rep.cookie = c->cookie;
	rep.nr_frames = total;
	rep.patched = srv->opts->hv.patched;
	memcpy(srv->tx, &rep, sizeof(rep));
	r->len = sizeof(rep);
}

static void op_xenstore(struct sim_server *srv, struct sim_client *c, uint32_t op,
			const uint8_t *p, size_t len, struct sim_reply *r)
{
	uint32_t caller = c->as_domid, target_dom;
	const char *path, *s2;
	size_t used = 0, used2 = 0;

	switch (op) {
	case SIM_OP_XS_READ: {
		char *val;
		size_t vlen;

		NEED((path = str_in(p, len, NULL)));
		r->ret = sim_store_read(srv->store, caller, path, &val, &vlen);
		if (r->ret == 0) {
			if (vlen > TX_MAX) {
				free(val);
				r->ret = -E2BIG;
				return;
			}
			memcpy(srv->tx, val, vlen);
			r->len = vlen;
			r->ret = (int64_t)vlen;
			free(val);
		}
		return;
	}
	case SIM_OP_XS_WRITE:
		NEED((path = str_in(p, len, &used)));
		r->ret = sim_store_write(srv->store, caller, path, p + used, len - used);
		if (r->ret == 0 && is_memory_target(caller, path, &target_dom))
			balloon(srv, target_dom);
		return;
	case SIM_OP_XS_MKDIR:
		NEED((path = str_in(p, len, NULL)));
		r->ret = sim_store_mkdir(srv->store, caller, path);
		return;
	case SIM_OP_XS_RM:
		NEED((path = str_in(p, len, NULL)));
		r->ret = sim_store_rm(srv->store, caller, path);
		return;
	case SIM_OP_XS_DIRECTORY: {
		char *names;
		size_t nlen;

		NEED((path = str_in(p, len, NULL)));
		r->ret = sim_store_directory(srv->store, caller, path, &names, &nlen);
		if (r->ret >= 0) {
			if (nlen > TX_MAX) {
				free(names);
				r->ret = -E2BIG;
				return;
			}
			memcpy(srv->tx, names, nlen);
			r->len = nlen;
			free(names);
		}
		return;
	}
	case SIM_OP_XS_GET_PERMS: {
		struct xs_permissions perms[SIM_STORE_MAX_PERMS];
		struct sim_wire_xs_perm *wp = (struct sim_wire_xs_perm *)srv->tx;

		NEED((path = str_in(p, len, NULL)));
		r->ret = sim_store_get_perms(srv->store, caller, path, perms, SIM_STORE_MAX_PERMS);
		for (int i = 0; i < r->ret && i < SIM_STORE_MAX_PERMS; i++)
			wp[i] = (struct sim_wire_xs_perm){ perms[i].id, perms[i].perms };
		if (r->ret > 0)
			r->len = (size_t)r->ret * sizeof(*wp);
		return;
	}
	case SIM_OP_XS_SET_PERMS: {
		uint32_t n;
		struct xs_permissions perms[SIM_STORE_MAX_PERMS];

		NEED(len >= 8);
		memcpy(&n, p, sizeof(n));
		if (n == 0 || n > SIM_STORE_MAX_PERMS) {
			r->ret = n ? -ENOSPC : -EINVAL;
			return;
		}
		NEED(len >= 8 + (size_t)n * sizeof(struct sim_wire_xs_perm));
		for (uint32_t i = 0; i < n; i++) {
			struct sim_wire_xs_perm wp;

			memcpy(&wp, p + 8 + i * sizeof(wp), sizeof(wp));
			perms[i] = (struct xs_permissions){ wp.id, wp.perms };
		}
		used = 8 + (size_t)n * sizeof(struct sim_wire_xs_perm);
		NEED((path = str_in(p + used, len - used, NULL)));
		r->ret = sim_store_set_perms(srv->store, caller, path, perms, n);
		return;
	}
	case SIM_OP_XS_WATCH:
	case SIM_OP_XS_UNWATCH:
		NEED((path = str_in(p, len, &used)));
		NEED((s2 = str_in(p + used, len - used, &used2)));
		if (op == SIM_OP_XS_WATCH)
			r->ret = sim_store_watch(srv->store, caller, c->cookie, path, s2);
		else
			r->ret = sim_store_unwatch(srv->store, caller, c->cookie, path, s2);
		return;
	case SIM_OP_XS_TRANSACTION_START: {
		uint32_t id;

		r->ret = sim_store_transaction_start(srv->store, &id);
		if (!r->ret)
			r->ret = id;
		return;
	}
	case SIM_OP_XS_TRANSACTION_END: {
		struct sim_wire_u64 v[2];

		NEED(len >= sizeof(v));
		memcpy(v, p, sizeof(v));
		NEED(v[0].v <= UINT32_MAX);
		r->ret = sim_store_transaction_end(srv->store, (uint32_t)v[0].v, v[1].v != 0);
		/*
		 * A commit that xenstored would accept may instead meet a
		 * conflicting change and answer EAGAIN, the client's cue to
		 * run the transaction again.  (xensim's transactions apply at
		 * once, so what the transaction wrote is already there.)
		 */
		if (v[1].v == 0 && sim_fault_draw(srv->faults, SIM_FK_XS_TXN, NULL) && r->ret == 0) {
			sim_fault_note(srv->faults, SIM_FK_XS_TXN, 1, "transaction %" PRIu64
				       " of client cookie %" PRIu64 ": EAGAIN", v[0].v, c->cookie);
			r->ret = -EAGAIN;
		}
		return;
	}
	case SIM_OP_XS_GET_DOMAIN_PATH: {
		struct sim_wire_dom d;

		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		r->len = (size_t)snprintf((char *)srv->tx, TX_MAX, "/local/domain/%u", d.domid);
		r->ret = (int64_t)r->len;
		return;
	}
	default:
		r->ret = -ENOSYS;
		return;
	}
}

static struct sim_binding *binding_find(struct sim_server *srv, uint64_t cookie, uint32_t port)
{
	for (struct sim_binding *b = srv->bindings; b; b = b->next)
		if (b->cookie == cookie && b->local_port == port)
			return b;
	return NULL;
}

static void op_evtchn(struct sim_server *srv, struct sim_client *c, uint32_t op,
		      const uint8_t *p, size_t len, struct sim_reply *r)
{
	struct sim_wire_evtchn e;
	struct sim_binding *b;

	NEED(len >= sizeof(e));
	memcpy(&e, p, sizeof(e));
	switch (op) {
	case SIM_OP_EVTCHN_BIND_INTERDOMAIN:
	case SIM_OP_EVTCHN_BIND_VIRQ:
		if (op == SIM_OP_EVTCHN_BIND_VIRQ) {
			if (e.port >= NR_VIRQS) {
				r->ret = -EINVAL;
				return;
			}
			/* a global VIRQ binds once in dom0 (evtchn_bind_virq: -EEXIST) */
			for (b = srv->bindings; b; b = b->next)
				if (b->virq && b->remote_port == e.port) {
					r->ret = -EEXIST;
					return;
				}
		} else {
			struct sim_dominfo info;

			if (sim_hv_domain_getinfo(srv->hv, e.domid, 1, &info) != 1 ||
			    info.domid != e.domid) {
				r->ret = -ESRCH;
				return;
			}
		}
		b = calloc(1, sizeof(*b));
		if (!b) {
			r->ret = -ENOMEM;
			return;
		}
		b->cookie = c->cookie;
		b->local_port = srv->next_port++;
		b->virq = op == SIM_OP_EVTCHN_BIND_VIRQ;
		b->remote_dom = b->virq ? 0 : e.domid;
		b->remote_port = e.port;
		b->next = srv->bindings;
		srv->bindings = b;
		r->ret = b->local_port;
		return;
	case SIM_OP_EVTCHN_UNBIND:
		for (struct sim_binding **pb = &srv->bindings; *pb; pb = &(*pb)->next) {
			if ((*pb)->cookie == c->cookie && (*pb)->local_port == e.port) {
				b = *pb;
				*pb = b->next;
				free(b);
				r->ret = 0;
				return;
			}
		}
		r->ret = -EINVAL;
		return;
	case SIM_OP_EVTCHN_NOTIFY:
		b = binding_find(srv, c->cookie, e.port);
		if (!b) {
			r->ret = -EINVAL;
			return;
		}
		/* the sharing ring's notification handler is vm_event_resume() */
		if (!b->virq) {
			int rc = sim_hv_domain_resume(srv->hv, b->remote_dom);

			if (rc < 0 && rc != -ESRCH && rc != -EINVAL)
				logf_("dom%u: resume on notify: %s", b->remote_dom, strerror(-rc));
		}
		r->ret = 0;
		return;
	default:
		r->ret = -EINVAL;
		return;
	}
}

static void hypercall(struct sim_server *srv, struct sim_client *c, uint32_t op,
		      const uint8_t *p, size_t len, struct sim_reply *r)
{
	struct sim_hv *hv = srv->hv;
	struct sim_wire_dom d;
	struct sim_wire_dom_nr dn;
	struct sim_wire_gfn g;
	struct sim_wire_share s;

	switch (op) {
	case SIM_OP_DOMAIN_GETINFO: {
		struct sim_wire_dom_range q;
		unsigned int max;

		NEED(len >= sizeof(q));
		memcpy(&q, p, sizeof(q));
		max = q.max;
		if (max > TX_MAX / sizeof(struct sim_dominfo))
			max = TX_MAX / sizeof(struct sim_dominfo);
		r->ret = sim_hv_domain_getinfo(hv, q.first, max, (struct sim_dominfo *)srv->tx);
		if (r->ret > 0)
			r->len = (size_t)r->ret * sizeof(struct sim_dominfo);
		return;
	}
	case SIM_OP_PHYSINFO: {
		struct sim_wire_physinfo pi = { 0 };
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		sim_hv_physinfo(hv, &pi.total_pages, &pi.free_pages);
		pi.nr_cpus = ncpu > 0 ? (uint64_t)ncpu : 1;
		pi.cpu_khz = 2000000;
		memcpy(srv->tx, &pi, sizeof(pi));
		r->len = sizeof(pi);
		return;
	}
	case SIM_OP_DOMAIN_PAUSE:
	case SIM_OP_DOMAIN_UNPAUSE:
	case SIM_OP_DOMAIN_DESTROY:
	case SIM_OP_RING_DISABLE:
	case SIM_OP_DOMAIN_RESUME:
		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		if (op == SIM_OP_DOMAIN_PAUSE)
			r->ret = sim_hv_domain_pause(hv, d.domid);
		else if (op == SIM_OP_DOMAIN_UNPAUSE)
			r->ret = sim_hv_domain_unpause(hv, d.domid);
		else if (op == SIM_OP_RING_DISABLE)
			r->ret = sim_hv_ring_disable(hv, d.domid);
		else if (op == SIM_OP_DOMAIN_RESUME)
			r->ret = sim_hv_domain_resume(hv, d.domid);
		else {
			struct sim_guest *gu = guest_find(srv, d.domid);

			r->ret = gu ? guest_destroy(srv, gu) : sim_hv_domain_destroy(hv, d.domid);
		}
		return;
	case SIM_OP_DECREASE_RESERVATION:
	case SIM_OP_MEMSHR_CONTROL:
		NEED(len >= sizeof(dn));
		memcpy(&dn, p, sizeof(dn));
		if (op == SIM_OP_MEMSHR_CONTROL)
			r->ret = sim_hv_memshr_control(hv, dn.domid, dn.nr != 0);
		else
			r->ret = sim_hv_decrease_reservation(hv, dn.domid, dn.nr);
		return;
	case SIM_OP_GET_PARAM: {
		struct sim_wire_param q;
		struct sim_wire_u64 v = { 0 };

		NEED(len >= sizeof(q));
		memcpy(&q, p, sizeof(q));
		r->ret = sim_hv_get_param(hv, q.domid, q.param, &v.v);
		if (r->ret >= 0) {
			memcpy(srv->tx, &v, sizeof(v));
			r->len = sizeof(v);
		}
		return;
	}
	case SIM_OP_NOMINATE_GFN:
	case SIM_OP_DEBUG_GFN: {
		struct sim_wire_u64 h = { 0 };

		NEED(len >= sizeof(g));
		memcpy(&g, p, sizeof(g));
		if (op == SIM_OP_DEBUG_GFN) {
			r->ret = sim_hv_debug_gfn(hv, g.domid, g.gfn);
			return;
		}
		r->ret = sim_hv_nominate_gfn(hv, g.domid, g.gfn, &h.v);
		if (r->ret >= 0) {
			memcpy(srv->tx, &h, sizeof(h));
			r->len = sizeof(h);
		}
		return;
	}
	case SIM_OP_SHARE_GFNS:
	case SIM_OP_ADD_TO_PHYSMAP:
		NEED(len >= sizeof(s));
		memcpy(&s, p, sizeof(s));
		if (op == SIM_OP_SHARE_GFNS)
			r->ret = sim_hv_share(hv, s.sdom, s.sgfn, s.sh, s.cdom, s.cgfn, s.ch);
		else
			r->ret = sim_hv_add_to_physmap(hv, s.sdom, s.sgfn, s.sh, s.cdom, s.cgfn);
		return;
	case SIM_OP_RANGE_SHARE: {
		struct sim_wire_range q;

		NEED(len >= sizeof(q));
		memcpy(&q, p, sizeof(q));
		r->ret = sim_hv_range_share(hv, q.sdom, q.cdom, q.first_gfn, q.last_gfn);
		return;
	}
	case SIM_OP_AUDIT:
		r->ret = sim_hv_audit(hv);
		return;
	case SIM_OP_FREED_PAGES:
		r->ret = sim_hv_sharing_freed_pages(hv);
		return;
	case SIM_OP_USED_FRAMES:
		r->ret = sim_hv_sharing_used_frames(hv);
		return;
	case SIM_OP_RING_ENABLE: {
		uint32_t port = 0;
		struct sim_wire_u64 v;

		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		r->ret = sim_hv_ring_enable(hv, d.domid, &port);
		if (r->ret >= 0) {
			v.v = port;
			memcpy(srv->tx, &v, sizeof(v));
			r->len = sizeof(v);
		}
		return;
	}
	case SIM_OP_COMPARE_SHARE: {
		uint32_t n;
		xenshare_cmpshr_pair_t *pairs = (xenshare_cmpshr_pair_t *)srv->tx;

		NEED(len >= 8);
		memcpy(&n, p, sizeof(n));
		if (n > XENSHARE_CMPSHR_MAX_BATCH) {
			r->ret = -EINVAL;
			return;
		}
		NEED(len >= 8 + (size_t)n * sizeof(*pairs));
		memcpy(pairs, p + 8, (size_t)n * sizeof(*pairs));
		r->ret = sim_hv_compare_share(hv, pairs, n);
		if (r->ret >= 0)
			r->len = (size_t)n * sizeof(*pairs);
		return;
	}
	case SIM_OP_ENOMEM_RESUME:
		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		r->ret = sim_hv_enomem_resume(hv, d.domid);
		return;
	case SIM_OP_ENOMEM_WAITERS: {
		unsigned int max = TX_MAX / sizeof(uint32_t);

		r->ret = sim_hv_enomem_waiters(hv, (uint32_t *)srv->tx, max);
		if (r->ret > 0)
			r->len = (size_t)r->ret * sizeof(uint32_t);
		return;
	}
	case SIM_OP_MAP: {
		struct sim_wire_map m;
		const uint64_t *gfns;
		uint64_t *mfns = (uint64_t *)srv->tx;
		int *errs;
		uint64_t gbuf[SIM_WIRE_MAX_MAP];

		NEED(len >= sizeof(m));
		memcpy(&m, p, sizeof(m));
		if (m.n == 0 || m.n > SIM_WIRE_MAX_MAP) {
			r->ret = -EINVAL;
			return;
		}
		NEED(len >= sizeof(m) + (size_t)m.n * sizeof(uint64_t));
		memcpy(gbuf, p + sizeof(m), (size_t)m.n * sizeof(uint64_t));
		gfns = gbuf;
		errs = (int *)(srv->tx + (size_t)m.n * sizeof(uint64_t));
		r->ret = sim_hv_map(hv, c->cookie, m.domid, gfns, m.n, m.writable != 0, mfns, errs);
		if (r->ret >= 0)
			r->len = (size_t)m.n * (sizeof(uint64_t) + sizeof(int32_t));
		return;
	}
	case SIM_OP_UNMAP: {
		uint32_t n;
		uint64_t mbuf[SIM_WIRE_MAX_MAP];

		NEED(len >= 8);
		memcpy(&n, p, sizeof(n));
		if (n == 0 || n > SIM_WIRE_MAX_MAP) {
			r->ret = -EINVAL;
			return;
		}
		NEED(len >= 8 + (size_t)n * sizeof(uint64_t));
		memcpy(mbuf, p + 8, (size_t)n * sizeof(uint64_t));
		r->ret = sim_hv_unmap(hv, c->cookie, mbuf, n);
		return;
	}
	default:
		r->ret = -ENOSYS;
		return;
	}
}

/*
 * `xensim frames`: the list of shared frames can be far larger than one
 * message (a zero page shared by a hundred thousand gfns), so it travels in
 * a memfd; it is one snapshot of the hypervisor's state.
 */
static void cli_frames(struct sim_server *srv, struct sim_reply *r)
{
	void *buf;
	size_t len;
	long n = sim_hv_shared_frames(srv->hv, &buf, &len);
	int fd;

	if (n < 0) {
		r->ret = n;
		set_text(srv, r, "out of memory listing the shared frames");
		return;
	}
	fd = memfd_create("xensim-frames", MFD_CLOEXEC);
	if (fd < 0 || write_all(fd, buf, len) < 0) {
		r->ret = -errno;
		set_text(srv, r, "cannot pass the list of shared frames (memfd)");
		if (fd >= 0)
			close(fd);
		free(buf);
		return;
	}
	free(buf);
	r->ret = n;
	r->pass_fd = fd;
	r->close_fd = true;
}

/*
 * The fault a libxenctrl / libxenforeignmemory call of wire op `op` can
 * meet (fault.h), SIM_FOP_NR for none.  fired_here: the fault is fired
 * before the call (the library's buffer), not by the hypervisor model at
 * the point where the call would succeed.
 */
static enum sim_fault_op fault_op(uint32_t op, bool *fired_here, bool *has_dom)
{
	*fired_here = true;
	*has_dom = true;   /* the payload starts with a domid */
	switch (op) {
	case SIM_OP_DOMAIN_GETINFO: return SIM_FOP_GETINFO;
	case SIM_OP_PHYSINFO: *has_dom = false; return SIM_FOP_PHYSINFO;
	case SIM_OP_DOMAIN_PAUSE: return SIM_FOP_PAUSE;
	case SIM_OP_DOMAIN_UNPAUSE: return SIM_FOP_UNPAUSE;
	case SIM_OP_DOMAIN_DESTROY: return SIM_FOP_DESTROY;
	case SIM_OP_DECREASE_RESERVATION: return SIM_FOP_DECREASE_RESERVATION;
	case SIM_OP_GET_PARAM: return SIM_FOP_GET_PARAM;
	case SIM_OP_MEMSHR_CONTROL: return SIM_FOP_MEMSHR_CONTROL;
	case SIM_OP_ADD_TO_PHYSMAP: return SIM_FOP_ADD_TO_PHYSMAP;
	case SIM_OP_RANGE_SHARE: return SIM_FOP_RANGE_SHARE;
	case SIM_OP_DEBUG_GFN: return SIM_FOP_DEBUG_GFN;
	case SIM_OP_AUDIT: *has_dom = false; return SIM_FOP_AUDIT;
	case SIM_OP_RING_ENABLE: return SIM_FOP_RING_ENABLE;
	case SIM_OP_RING_DISABLE: return SIM_FOP_RING_DISABLE;
	case SIM_OP_DOMAIN_RESUME: return SIM_FOP_DOMAIN_RESUME;
	case SIM_OP_COMPARE_SHARE: *has_dom = false; return SIM_FOP_COMPARE_SHARE;
	case SIM_OP_ENOMEM_WAITERS: *has_dom = false; return SIM_FOP_ENOMEM_WAITERS;
	case SIM_OP_ENOMEM_RESUME: return SIM_FOP_ENOMEM_RESUME;
	case SIM_OP_MAP: return SIM_FOP_MAP;
	case SIM_OP_NOMINATE_GFN:
		*fired_here = false;
		return SIM_FOP_NOMINATE;
	case SIM_OP_SHARE_GFNS:
		*fired_here = false;
		return SIM_FOP_SHARE;
	default:   /* the counters take no buffer; unmap cannot fail */
		return SIM_FOP_NR;
	}
}

/* A hypercall, with the fault it may meet (fault.c's rules). */
static void op_hypercall(struct sim_server *srv, struct sim_client *c, uint32_t op,
			 const uint8_t *p, size_t len, struct sim_reply *r)
{
	bool here, has_dom;
	enum sim_fault_op fop = fault_op(op, &here, &has_dom);

	if (!srv->faults || fop == SIM_FOP_NR || c->xenstore) {
		hypercall(srv, c, op, p, len, r);
		return;
	}
	sim_fault_arm(srv->faults, fop);
	if (here) {
		char dom[16] = "host";
		uint32_t domid;

		if (has_dom && len >= sizeof(domid)) {
			memcpy(&domid, p, sizeof(domid));
			snprintf(dom, sizeof(dom), "d%u", domid);
		}
		r->ret = sim_fault_fire(srv->faults, fop, SIM_FC_CALL, "%s (client cookie %" PRIu64 ")",
					dom, c->cookie);
	}
	if (r->ret == 0)
		hypercall(srv, c, op, p, len, r);
	sim_fault_disarm(srv->faults);
}

static void op_cli(struct sim_server *srv, struct sim_client *c, uint32_t op,
		   const uint8_t *p, size_t len, struct sim_reply *r)
{
	(void)c;
	char msg[SIM_XLCFG_ERR_MAX + 256];

	msg[0] = '\0';
	switch (op) {
	case SIM_OP_CLI_CREATE: {
		struct sim_wire_cli_create h;
		const char *fname, *basedir, *data;
		const char *ov[64];
		size_t off, used;

		if (len < sizeof(h)) {
			r->ret = -EINVAL;
			set_text(srv, r, "malformed create request");
			return;
		}
		memcpy(&h, p, sizeof(h));
		off = sizeof(h);
		fname = str_in(p + off, len - off, &used);
		off += fname ? used : 0;
		basedir = fname ? str_in(p + off, len - off, &used) : NULL;
		off += basedir ? used : 0;
		if (!basedir || h.data_len > len - off || h.nr_overrides > 64) {
			r->ret = -EINVAL;
			set_text(srv, r, "malformed create request");
			return;
		}
		data = (const char *)p + off;
		off += h.data_len;
		for (uint32_t i = 0; i < h.nr_overrides; i++) {
			if (!(ov[i] = str_in(p + off, len - off, &used))) {
				r->ret = -EINVAL;
				set_text(srv, r, "malformed create request (overrides)");
				return;
			}
			off += used;
		}
		r->ret = guest_create(srv, fname, basedir, data, h.data_len, ov, h.nr_overrides,
				      msg, sizeof(msg));
		if (r->ret < 0) {
			if (!msg[0])
				snprintf(msg, sizeof(msg), "%s: %s", fname, strerror((int)-r->ret));
			logf_("create refused: %s", msg);
			set_text(srv, r, msg);
		}
		return;
	}
	case SIM_OP_CLI_VERIFY: {
		struct sim_mismatch *mm = (struct sim_mismatch *)srv->tx;
		unsigned int max = SIM_WIRE_MAX_MISMATCH;
		long n;

		if (max > TX_MAX / sizeof(*mm))
			max = TX_MAX / sizeof(*mm);
		n = sim_hv_verify(srv->hv, mm, max);
		r->ret = n;
		r->len = (size_t)(n < (long)max ? n : (long)max) * sizeof(*mm);
		if (n)
			logf_("verify: %ld mismatches", n);
		return;
	}
	case SIM_OP_CLI_STOP:
		logf_("stop requested");
		srv->stopping = true;
		r->ret = 0;
		return;
	case SIM_OP_CLI_GUESTS: {
		struct sim_wire_cli_guest *out = (struct sim_wire_cli_guest *)srv->tx;
		unsigned int n = 0, max = TX_MAX / sizeof(*out);

		for (struct sim_guest *g = srv->guests; g && n < max; g = g->next, n++) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].domid = g->domid;
			out[n].vcpus_running = sim_vcpus_running(g->vcpus);
			out[n].writes = sim_vcpus_writes(g->vcpus);
			out[n].write_rate = (uint64_t)g->cfg.write_rate;
			out[n].working_set = g->cfg.working_set;
			memcpy(out[n].mem_sharing, g->cfg.mem_sharing, sizeof(out[n].mem_sharing));
			memcpy(out[n].mem_sharing_group, g->cfg.mem_sharing_group,
			       sizeof(out[n].mem_sharing_group));
		}
		r->ret = n;
		r->len = n * sizeof(*out);
		return;
	}
	case SIM_OP_CLI_RESIDUE: {
		struct sim_hv_residue res;
		struct sim_wire_cli_residue out;

		sim_hv_get_residue(srv->hv, &res);
		out.foreign_mappings = res.foreign_mappings;
		out.nominated_unshared = res.nominated_unshared;
		out.freed_pages = res.freed_pages;
		out.used_frames = res.used_frames;
		out.sum_shr_pages = res.sum_shr_pages;
		out.unshare_enomem = res.unshare_enomem;
		memcpy(srv->tx, &out, sizeof(out));
		r->ret = 0;
		r->len = sizeof(out);
		return;
	}
	case SIM_OP_CLI_FRAMES:
		cli_frames(srv, r);
		return;
	case SIM_OP_CLI_FAULTS: {
		struct sim_fault_stats st;

		sim_faults_stats(srv->faults, &st);
		memcpy(srv->tx, &st, sizeof(st));
		r->ret = 0;
		r->len = sizeof(st);
		return;
	}
	default:
		r->ret = -ENOSYS;
		set_text(srv, r, "unknown command (client and server versions differ?)");
		return;
	}
}

static void dispatch(struct sim_server *srv, struct sim_client *c,
		     const struct sim_wire_hdr *hdr, const uint8_t *p, size_t len,
		     struct sim_reply *r)
{
	uint32_t op = hdr->op;

	if (op == SIM_OP_HELLO) {
		op_hello(srv, c, p, len, r);
		return;
	}
	if (c->kind != SIM_CONN_CALLS) {
		/* no HELLO yet, or a push-only connection sending requests */
		r->ret = c->kind ? -EINVAL : -ENOTCONN;
		return;
	}
	if (op >= SIM_OP_XS_READ && op <= SIM_OP_XS_INTRODUCE) {
		if (op == SIM_OP_XS_WATCH_EVENT || op == SIM_OP_XS_INTRODUCE) {
			r->ret = op == SIM_OP_XS_INTRODUCE ? -ENOSYS : -EINVAL;
			return;
		}
		op_xenstore(srv, c, op, p, len, r);
		return;
	}
	/* Everything else is a privileged (dom0) interface. */
	if (c->as_domid != 0) {
		r->ret = -EPERM;
		if (op >= SIM_OP_CLI_FIRST)
			set_text(srv, r, "only dom0 may control the host");
		return;
	}
	if (op >= SIM_OP_CLI_FIRST)
		op_cli(srv, c, op, p, len, r);
	else if (op >= SIM_OP_EVTCHN_BIND_INTERDOMAIN && op <= SIM_OP_EVENT)
		op_evtchn(srv, c, op, p, len, r);
	else
		op_hypercall(srv, c, op, p, len, r);
}

/* Reads and answers one request. */
static void client_read(struct sim_server *srv, struct sim_client *c)
{
	struct sim_wire_hdr hdr, rh;
	struct sim_reply r = { .ret = 0, .len = 0, .pass_fd = -1 };
	struct msghdr mh = { 0 };
	struct iovec iov = { srv->rx, SIM_WIRE_MAX_MSG };
	ssize_t n;
	int rc;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->dead = true;
		return;
	}
	if (n == 0) {
		c->dead = true;
		return;
	}
	if ((size_t)n < sizeof(hdr)) {
		/* not even a header: nothing to answer to */
		logf_("client cookie %" PRIu64 ": %zd-byte message, dropping connection",
		      c->cookie, n);
		c->dead = true;
		return;
	}
	memcpy(&hdr, srv->rx, sizeof(hdr));
	if (mh.msg_flags & MSG_TRUNC)
		r.ret = -EMSGSIZE;
	else if (hdr.len != (size_t)n - sizeof(hdr))
		r.ret = -EPROTO;
	else {
		/* the command line's requests neither meet nor draw faults */
		sim_faults_set_active(srv->faults, !c->cli);
		dispatch(srv, c, &hdr, srv->rx + sizeof(hdr), hdr.len, &r);
		sim_faults_set_active(srv->faults, true);
	}
	if (sim_hv_panic_reason(srv->hv)) {
		/* A Xen BUG(): the whole host goes down, dom0 with it; nothing
		 * is answered and every client sees its connection drop. */
		logf_("(XEN) %s", sim_hv_panic_reason(srv->hv));
		logf_("(XEN) Panic on CPU 0 in op %u: host down", hdr.op);
		_exit(SIM_EXIT_PANIC);
	}
	if (c->kind == SIM_CONN_EVENTS || c->kind == SIM_CONN_WATCHES) {
		if (hdr.op != SIM_OP_HELLO)
			return;   /* push-only: requests get no reply, only HELLO does */
	}
	/* non-CLI ops carry no payload on failure (clients size their buffers for success) */
	if (r.ret < 0 && hdr.op < SIM_OP_CLI_FIRST)
		r.len = 0;
	if (r.ret < 0)
		r.pass_fd = -1;
	rh = (struct sim_wire_hdr){ .op = hdr.op, .seq = hdr.seq, .ret = r.ret, .len = (uint32_t)r.len };
	rc = send_fd_msg(c->fd, &rh, srv->tx, r.pass_fd);
	if (r.close_fd && r.pass_fd >= 0)
		close(r.pass_fd);
	if (rc) {
		logf_("client cookie %" PRIu64 ": reply to op %u failed (%s), dropping connection",
		      c->cookie, hdr.op, strerror(-rc));
		c->dead = true;
	}
}

static void client_free(struct sim_server *srv, struct sim_client *c)
{
	if (c->kind == SIM_CONN_CALLS) {
		/* a connection's mappings, bindings and watches die with it (cookies are unique) */
		sim_hv_unmap_owner(srv->hv, c->cookie);
		sim_store_unwatch_conn(srv->store, c->cookie);
		for (struct sim_binding **pb = &srv->bindings; *pb;) {
			if ((*pb)->cookie == c->cookie) {
				struct sim_binding *b = *pb;

				*pb = b->next;
				free(b);
			} else {
				pb = &(*pb)->next;
			}
		}
	}
	while (c->outq) {
		struct sim_out_msg *m = c->outq;

		c->outq = m->next;
		free(m);
	}
	close(c->fd);
	free(c);
}

static void accept_client(struct sim_server *srv)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sim_client *c;
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			logf_("accept: %s", strerror(errno));
		return;
	}
	/* replies are sent blocking; a client that never reads them is dropped */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->next = srv->clients;
	srv->clients = c;
}

/* ---- set-up and main loop --------------------------------------------------- */

static void ready(const struct sim_server_opts *o, const char *status)
{
	if (o->ready_fd < 0)
		return;
	if (write(o->ready_fd, status, strlen(status)) < 0)
		fprintf(stderr, "xensim: cannot report start-up status: %s\n", strerror(errno));
	close(o->ready_fd);
}

static int listen_on(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	mode_t old;
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	/* a socket file nobody listens on is stale; one that answers is a running host */
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen, "another xensim is already listening on %s", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	old = umask(077);   /* the socket is created 0600 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		umask(old);
		close(fd);
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(e));
		return -e;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		return -e;
	}
	return fd;
}

static void server_loop(struct sim_server *srv)
{
	struct pollfd *pfd = NULL;
	struct timespec now, last_check = { 0, 0 };
	size_t cap = 0;

	while (!srv->stopping) {
		size_t n = 3, i;
		struct sim_client *c;

		for (c = srv->clients; c; c = c->next)
			n++;
		if (n > cap) {
			struct pollfd *np = realloc(pfd, n * 2 * sizeof(*pfd));

			if (!np) {
				logf_("out of memory in the poll loop; stopping");
				break;
			}
			pfd = np;
			cap = n * 2;
		}
		pfd[0] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = srv->wake_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = srv->signal_fd, .events = POLLIN };
		for (i = 3, c = srv->clients; c; c = c->next, i++)
			pfd[i] = (struct pollfd){ .fd = c->fd,
						  .events = POLLIN | (c->outq ? POLLOUT : 0) };
		if (poll(pfd, n, SIM_SERVER_TICK_MS) < 0) {
			if (errno == EINTR)
				continue;
			logf_("poll: %s", strerror(errno));
			break;
		}
		if (pfd[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(srv->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				logf_("signal %u: stopping", si.ssi_signo);
			srv->stopping = true;
		}
		if (pfd[1].revents & POLLIN)
			drain_notices(srv);
		/* clients: the list may only grow at the head (accept below) */
		for (i = 3, c = srv->clients; c && i < n; c = c->next, i++) {
			if (pfd[i].revents & POLLOUT)
				client_flush(c);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (pfd[i].revents & POLLIN)
					client_read(srv, c);
				else
					c->dead = true;
			}
		}
		for (struct sim_client **pc = &srv->clients; *pc;) {
			if ((*pc)->dead) {
				c = *pc;
				*pc = c->next;
				client_free(srv, c);
			} else {
				pc = &(*pc)->next;
			}
		}
		if (pfd[0].revents & POLLIN)
			accept_client(srv);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - last_check.tv_sec) * 1000 +
		    (now.tv_nsec - last_check.tv_nsec) / 1000000 >= SIM_SERVER_TICK_MS) {
			guests_check(srv);
			last_check = now;
		}
	}
	free(pfd);
}

int sim_server_run(const struct sim_server_opts *opts)
{
	struct sim_server srv = { .opts = opts, .listen_fd = -1, .wake_fd = -1, .signal_fd = -1 };
	char err[512] = "";
	sigset_t mask;
	int rc, status = 1;

	pthread_mutex_init(&srv.nq_lock, NULL);
	srv.next_port = SIM_EVTCHN_FIRST_PORT;
	srv.rx = malloc(SIM_WIRE_MAX_MSG);
	srv.tx = malloc(SIM_WIRE_MAX_MSG);
	if (!srv.rx || !srv.tx) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	rc = sim_hv_create(&opts->hv, &srv.hv);
	if (rc) {
		snprintf(err, sizeof(err), "cannot create the host (%" PRIu64 " frames, dom0 %" PRIu64
			 " frames): %s", opts->hv.nr_frames, opts->hv.dom0_pages, strerror(-rc));
		goto out;
	}
	sim_hv_set_notify(srv.hv, on_hv_notify, &srv);
	srv.faults = sim_hv_faults(srv.hv);
	rc = sim_store_alloc(on_store_fire, &srv, &srv.store);
	if (rc) {
		snprintf(err, sizeof(err), "cannot create the xenstore: %s", strerror(-rc));
		goto out;
	}
	dom0_write_nodes(&srv);
	srv.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);   /* before any vCPU thread exists */
	signal(SIGPIPE, SIG_IGN);
	srv.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv.wake_fd < 0 || srv.signal_fd < 0) {
		snprintf(err, sizeof(err), "eventfd/signalfd: %s", strerror(errno));
		goto out;
	}
	srv.listen_fd = listen_on(opts->socket_path, err, sizeof(err));
	if (srv.listen_fd < 0)
		goto out;
	logf_("host up: %" PRIu64 " MiB (%" PRIu64 " frames), dom0 %" PRIu64 " MiB, %s hypervisor%s%s%s; listening on %s",
	      opts->hv.nr_frames / 256, opts->hv.nr_frames, opts->hv.dom0_pages / 256,
	      opts->hv.patched ? "patched" : "unpatched", opts->hv.cpu_vmx ? "" : ", no VMX",
	      opts->hv.debug_build ? ", debug build" : "",
	      opts->hv.no_mem_sharing ? ", no CONFIG_MEM_SHARING" : "", opts->socket_path);
	if (srv.faults) {
		char kinds[256] = "";

		for (unsigned int k = 0; k < SIM_FK_NR; k++)
			if (opts->hv.faults.kinds & (1u << k))
				snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%s=%g",
					 kinds[0] ? "," : "", sim_fault_kind_name(k),
					 opts->hv.faults.rates[k]);
		logf_("fault injection on: seed %" PRIu64 ", rate %g per operation, kinds %s",
		      opts->hv.faults.seed, opts->hv.faults.rate, kinds);
	}
	ready(opts, "ok\n");
	server_loop(&srv);
	status = 0;
out:
	if (err[0]) {
		char line[600];

		fprintf(stderr, "xensim: %s\n", err);
		snprintf(line, sizeof(line), "error: %s\n", err);
		ready(opts, line);
	}
	/*
	 * Take the name down first: clients learn that the host stopped when
	 * their connection closes below, and by then the socket must be gone
	 * (`xensim stop` returns on that close; a new start may follow).
	 */
	if (srv.listen_fd >= 0) {
		close(srv.listen_fd);
		srv.listen_fd = -1;
		unlink(opts->socket_path);
	}
	while (srv.guests)
		guest_destroy(&srv, srv.guests);
	if (srv.hv)
		sim_hv_set_notify(srv.hv, NULL, NULL);   /* no vCPU is left to raise one */
	while (srv.clients) {
		struct sim_client *c = srv.clients;

		srv.clients = c->next;
		client_free(&srv, c);
	}
	while (srv.bindings) {
		struct sim_binding *b = srv.bindings;

		srv.bindings = b->next;
		free(b);
	}
	if (srv.listen_fd >= 0) {
		close(srv.listen_fd);
		unlink(opts->socket_path);
	}
	if (srv.wake_fd >= 0)
		close(srv.wake_fd);
	if (srv.signal_fd >= 0)
		close(srv.signal_fd);
	sim_store_free(srv.store);
	if (srv.hv)
		sim_hv_destroy(srv.hv);
	free(srv.nq);
	free(srv.rx);
	free(srv.tx);
	pthread_mutex_destroy(&srv.nq_lock);
	if (status == 0)
		logf_("host stopped");
	return status;
}
