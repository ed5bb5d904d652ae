/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simclient_ut.c - unit tests of xensim's drop-in Xen client libraries
 * (tools/xensim/client/), linked exactly as a program built against
 * Debian's libraries would be, against a small fake server.
 *
 * The fake server is a thread of this process that speaks wire.h on a
 * socket in a temporary directory ($XENSIM_SOCKET): it owns a memfd of host
 * frames with a recognisable pattern, one guest (domain 1) whose gfn g is
 * frame g + FAKE_MFN_BASE except for a hole at FAKE_HOLE_GFN, per-frame
 * reference counts for foreign mappings (so nominate of a mapped page gives
 * -E2BIG, as Xen), fixed share handles, a flat xenstore and event pushes.
 * It checks every request's encoding (lengths, fields) and answers -EPROTO
 * when something is off, so a wrong encoding fails the client-side test.
 * The real server is exercised by tests/integration/simlibs_*.test.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#define XC_WANT_COMPAT_MAP_FOREIGN_API   /* xen-memshare's xc_map_foreign_range */
#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#include "../../hypervisor-patch/include/xenshare_cmpshr.h"
#include "../../tools/xensim/wire.h"
#include "ut_common.h"

/* exported by the (patched or drop-in) libxenctrl, declared by nobody */
extern xenshare_cmpshr_fn xc_memshr_compare_share;
/* exported by libxenctrl, declared in Xen's private tools/libs/ctrl/xc_private.h */
int xc__hypercall_bounce_pre(xc_interface *xch, xc_hypercall_buffer_t *bounce);
void xc__hypercall_bounce_post(xc_interface *xch, xc_hypercall_buffer_t *bounce);

#define FAKE_FRAMES 8192u
#define FAKE_MFN_BASE 100u
#define FAKE_GUEST_GFNS 6000u
#define FAKE_HOLE_GFN 5u
#define FAKE_DISCONTIG_GFN 9u    /* gfn 9 maps an out-of-run frame */
#define FAKE_VIRQ_PORT 33u
#define FAKE_HANDLE(gfn) (0x1000u + (gfn))
#define FAKE_BITMAP_INLINE 64u       /* bitmap bytes a shadow op reply carries inline */
#define FAKE_BITMAP_MEMFD 300000u    /* ... or in a memfd (> SIM_WIRE_MAX_BULK), for pages beyond 8 x this */
#define FAKE_BITMAP_BYTE(i) ((uint8_t)((i) * 7u + 1u))

/* ---- the fake server ---------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	char dir[64];
	char path[128];
	int lfd;
	int memfd;
	uint8_t *mem;
	unsigned int refs[FAKE_FRAMES];
	unsigned int map_requests;
	uint64_t next_cookie;
	int events_fd[16];           /* by cookie */
	int watches_fd[16];
	char watch_path[16][128];    /* one watch per handle is enough here */
	uint32_t last_as_domid;
	int patched;
	struct { char path[128]; char val[256]; size_t len; } node[64];
	unsigned int nr_nodes;
	int pass_fd;                 /* a reply's fd to pass (closed once sent), or -1 */
	struct sim_wire_shadow_op shadow;   /* the last shadow op asked */
	struct { uint32_t domid, n; uint64_t first_pfn; } dm[8];   /* dm_ops, in order */
	unsigned int nr_dm;
} fk = { .lock = PTHREAD_MUTEX_INITIALIZER, .pass_fd = -1 };

static uint64_t fake_gfn_to_mfn(uint64_t gfn)
{
	if (gfn == FAKE_DISCONTIG_GFN)
		return 7000;
	return gfn + FAKE_MFN_BASE;
}

static void fake_send(int fd, uint32_t op, uint32_t seq, int64_t ret,
		      const void *p, size_t len, int pass_fd)
{
	struct sim_wire_hdr h = { .op = op, .seq = seq, .ret = ret, .len = (uint32_t)len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, len } };
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } cm;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		perror("fake server: sendmsg");
}

static int fake_find_node(const char *path)
{
	unsigned int i;

	for (i = 0; i < fk.nr_nodes; i++)
		if (!strcmp(fk.node[i].path, path))
			return (int)i;
	return -1;
}

static void fake_push_watch(uint64_t cookie, const char *path, const char *token)
{
	char buf[512];
	size_t lp = strlen(path) + 1, lt = strlen(token) + 1;

	memcpy(buf, path, lp);
	memcpy(buf + lp, token, lt);
	if (cookie < 16 && fk.watches_fd[cookie] >= 0)
		fake_send(fk.watches_fd[cookie], SIM_OP_XS_WATCH_EVENT, 0, 0, buf, lp + lt, -1);
}

/* Handles one request; returns the reply's ret and fills out/outlen. */
static int64_t fake_handle(uint64_t cookie, uint32_t op, const uint8_t *p,
			   size_t len, uint8_t *out, size_t *outlen)
{
	*outlen = 0;
	switch (op) {
	case SIM_OP_DOMAIN_GETINFO: {
		struct sim_wire_dom_range r;
		struct sim_dominfo d[2];
		unsigned int n = 0, id;

		if (len != sizeof(r))
			return -EPROTO;
		memcpy(&r, p, sizeof(r));
		memset(d, 0, sizeof(d));
		for (id = r.first; id <= 1 && n < r.max; id++, n++) {
			d[n].domid = id;
			d[n].flags = id ? SIM_DOMF_HVM | SIM_DOMF_PAUSED : SIM_DOMF_RUNNING;
			d[n].tot_pages = id ? 1000 : 5000;
			d[n].max_pages = id ? 2048 : 8192;
			d[n].shr_pages = id ? 12 : 0;
			d[n].nr_gfns = id ? FAKE_GUEST_GFNS : 5000;
			d[n].nr_online_vcpus = 2;
			snprintf(d[n].name, sizeof(d[n].name), "dom%u", id);
		}
		memcpy(out, d, n * sizeof(d[0]));
		*outlen = n * sizeof(d[0]);
		return n;
	}
	case SIM_OP_PHYSINFO: {
		struct sim_wire_physinfo pi = { FAKE_FRAMES, 1234, 2, 2000000 };

		memcpy(out, &pi, sizeof(pi));
		*outlen = sizeof(pi);
		return 0;
	}
	case SIM_OP_NOMINATE_GFN: {
		struct sim_wire_gfn g;
		struct sim_wire_u64 h;

		if (len != sizeof(g))
			return -EPROTO;
		memcpy(&g, p, sizeof(g));
		if (g.domid != 1)
			return -ESRCH;
		if (g.gfn == FAKE_HOLE_GFN || g.gfn >= FAKE_GUEST_GFNS)
			return -EINVAL;
		if (fk.refs[fake_gfn_to_mfn(g.gfn)])
			return -E2BIG;
		h.v = FAKE_HANDLE(g.gfn);
		memcpy(out, &h, sizeof(h));
		*outlen = sizeof(h);
		return 0;
	}
	case SIM_OP_SHARE_GFNS: {
		struct sim_wire_share s;

		if (len != sizeof(s))
			return -EPROTO;
		memcpy(&s, p, sizeof(s));
		if (s.sh != FAKE_HANDLE(s.sgfn))
			return XENMEM_SHARING_OP_S_HANDLE_INVALID;   /* -10 */
		if (s.ch != FAKE_HANDLE(s.cgfn))
			return XENMEM_SHARING_OP_C_HANDLE_INVALID;   /* -9 */
		return 0;
	}
	case SIM_OP_FREED_PAGES:
		return len ? -EPROTO : 7;
	case SIM_OP_USED_FRAMES:
		return len ? -EPROTO : 3;
	case SIM_OP_COMPARE_SHARE: {
		uint32_t n;
		xenshare_cmpshr_pair_t pr;
		uint32_t i;

		if (len < 8)
			return -EPROTO;
		memcpy(&n, p, 4);
		if (len != 8 + n * sizeof(pr))
			return -EPROTO;
		if (!fk.patched)
			return -ENOSYS;
		for (i = 0; i < n; i++) {
			memcpy(&pr, p + 8 + i * sizeof(pr), sizeof(pr));
			pr.result = pr.source_gfn == pr.client_gfn ? XENSHARE_CMPSHR_SHARED
								   : XENSHARE_CMPSHR_DIFFERENT;
			memcpy(out + i * sizeof(pr), &pr, sizeof(pr));
		}
		*outlen = n * sizeof(pr);
		return 0;
	}
	case SIM_OP_MAP: {
		struct sim_wire_map m;
		uint64_t *mfn = (uint64_t *)out;
		int32_t *err;
		uint32_t i;

		if (len < sizeof(m))
			return -EPROTO;
		memcpy(&m, p, sizeof(m));
		if (m.n > SIM_WIRE_MAX_MAP || len != sizeof(m) + m.n * 8ul)
			return -EPROTO;
		if (m.domid != 1)
			return -ESRCH;
		fk.map_requests++;
		err = (int32_t *)(out + m.n * 8ul);
		for (i = 0; i < m.n; i++) {
			uint64_t gfn;

			memcpy(&gfn, p + sizeof(m) + i * 8ul, 8);
			if (gfn == FAKE_HOLE_GFN || gfn >= FAKE_GUEST_GFNS) {
				mfn[i] = SIM_INVALID_MFN;
				err[i] = -EINVAL;
				continue;
			}
			mfn[i] = fake_gfn_to_mfn(gfn);
			err[i] = 0;
			fk.refs[mfn[i]]++;
		}
		*outlen = m.n * 12ul;
		return 0;
	}
	case SIM_OP_UNMAP: {
		uint32_t n, i;

		if (len < 8)
			return -EPROTO;
		memcpy(&n, p, 4);
		if (len != 8 + n * 8ul)
			return -EPROTO;
		for (i = 0; i < n; i++) {
			uint64_t m;

			memcpy(&m, p + 8 + i * 8ul, 8);
			if (m >= FAKE_FRAMES || !fk.refs[m])
				return -EINVAL;
			fk.refs[m]--;
		}
		return 0;
	}
	case SIM_OP_SHADOW_OP: {
		struct sim_wire_shadow_reply rep = { .fault_count = 7, .dirty_count = 9 };
		uint8_t *b;

		if (len != sizeof(fk.shadow))
			return -EPROTO;
		memcpy(&fk.shadow, p, sizeof(fk.shadow));
		if (fk.shadow.domid != 1)
			return -EINVAL;
		rep.pages = fk.shadow.pages;
		if (fk.shadow.bitmap) {
			rep.bitmap_len = (fk.shadow.pages + 7) / 8;
			if (fk.shadow.pages > 8ull * FAKE_BITMAP_MEMFD)
				rep.bitmap_len = FAKE_BITMAP_MEMFD;
			else if (rep.bitmap_len > FAKE_BITMAP_INLINE)
				rep.bitmap_len = FAKE_BITMAP_INLINE;
		}
		b = rep.bitmap_len == FAKE_BITMAP_MEMFD ? malloc(FAKE_BITMAP_MEMFD) : out + sizeof(rep);
		for (uint32_t i = 0; b && i < rep.bitmap_len; i++)
			b[i] = FAKE_BITMAP_BYTE(i);
		*outlen = sizeof(rep);
		if (rep.bitmap_len == FAKE_BITMAP_MEMFD) {
			fk.pass_fd = memfd_create("fake-bitmap", MFD_CLOEXEC);
			if (!b || fk.pass_fd < 0 ||
			    write(fk.pass_fd, b, FAKE_BITMAP_MEMFD) != FAKE_BITMAP_MEMFD)
				return -EIO;
			free(b);
			rep.in_memfd = 1;
		} else {
			*outlen += rep.bitmap_len;
		}
		memcpy(out, &rep, sizeof(rep));
		return 0;
	}
	case SIM_OP_DM_MODIFIED_MEMORY: {
		struct sim_wire_dm_op q;
		struct sim_dm_extent x = { 0 };

		if (len < sizeof(q))
			return -EPROTO;
		memcpy(&q, p, sizeof(q));
		if (len != sizeof(q) + q.n * sizeof(x))
			return -EPROTO;
		if (q.n)
			memcpy(&x, p + sizeof(q), sizeof(x));
		if (fk.nr_dm < 8)
			fk.dm[fk.nr_dm++] = (typeof(fk.dm[0])){ q.domid, q.n, x.first_pfn };
		return q.domid == 1 ? 0 : -EINVAL;
	}
	case SIM_OP_EVTCHN_BIND_VIRQ: {
		struct sim_wire_evtchn e;

		if (len != sizeof(e))
			return -EPROTO;
		memcpy(&e, p, sizeof(e));
		e.port = FAKE_VIRQ_PORT;
		/* raise it at once so the test can read it */
		if (cookie < 16 && fk.events_fd[cookie] >= 0)
			fake_send(fk.events_fd[cookie], SIM_OP_EVENT, 0, 0, &e, sizeof(e), -1);
		return FAKE_VIRQ_PORT;
	}
	case SIM_OP_EVTCHN_NOTIFY:
		return len == sizeof(struct sim_wire_evtchn) ? 0 : -EPROTO;
	case SIM_OP_XS_READ: {
		int i;

		if (!len || p[len - 1])
			return -EPROTO;
		i = fake_find_node((const char *)p);
		if (i < 0)
			return -ENOENT;
		memcpy(out, fk.node[i].val, fk.node[i].len);
		*outlen = fk.node[i].len;
		return (int64_t)fk.node[i].len;
	}
	case SIM_OP_XS_WRITE: {
		size_t pl = strnlen((const char *)p, len);
		int i;
		uint64_t c;

		if (pl == len || pl >= sizeof(fk.node[0].path) ||
		    len - pl - 1 > sizeof(fk.node[0].val))
			return -EPROTO;
		i = fake_find_node((const char *)p);
		if (i < 0) {
			if (fk.nr_nodes == 64)
				return -ENOSPC;
			i = (int)fk.nr_nodes++;
			strcpy(fk.node[i].path, (const char *)p);
		}
		fk.node[i].len = len - pl - 1;
		memcpy(fk.node[i].val, p + pl + 1, fk.node[i].len);
		for (c = 0; c < 16; c++) {
			size_t wl = strlen(fk.watch_path[c]);

			if (wl && !strncmp(fk.watch_path[c], (const char *)p, wl))
				fake_push_watch(c, (const char *)p, "tok");
		}
		return 0;
	}
	case SIM_OP_XS_DIRECTORY: {
		size_t pl, o = 0;
		unsigned int i, n = 0;

		if (!len || p[len - 1])
			return -EPROTO;
		pl = strlen((const char *)p);
		for (i = 0; i < fk.nr_nodes; i++) {
			const char *np = fk.node[i].path;

			if (!strncmp(np, (const char *)p, pl) && np[pl] == '/' &&
			    !strchr(np + pl + 1, '/')) {
				strcpy((char *)out + o, np + pl + 1);
				o += strlen(np + pl + 1) + 1;
				n++;
			}
		}
		*outlen = o;
		return n;
	}
	case SIM_OP_XS_GET_PERMS: {
		struct sim_wire_xs_perm pp[2] = { { 0, XS_PERM_NONE }, { 1, XS_PERM_READ } };

		if (!len || p[len - 1])
			return -EPROTO;
		if (fk.last_as_domid != 0)
			return -EACCES;
		memcpy(out, pp, sizeof(pp));
		*outlen = sizeof(pp);
		return 2;
	}
	case SIM_OP_XS_SET_PERMS: {
		uint32_t n;

		if (len < 8)
			return -EPROTO;
		memcpy(&n, p, 4);
		if (len <= 8 + n * 8ul || p[len - 1] ||
		    strcmp((const char *)p + 8 + n * 8ul, "/local/domain/1/memshare"))
			return -EPROTO;
		return 0;
	}
	case SIM_OP_XS_WATCH: {
		size_t pl = strnlen((const char *)p, len);

		if (pl + 1 >= len || p[len - 1] || pl >= sizeof(fk.watch_path[0]))
			return -EPROTO;
		if (cookie < 16)
			strcpy(fk.watch_path[cookie], (const char *)p);
		/* xenstored fires a new watch once at once */
		fake_push_watch(cookie, (const char *)p, (const char *)p + pl + 1);
		return 0;
	}
	case SIM_OP_XS_UNWATCH:
		if (cookie < 16)
			fk.watch_path[cookie][0] = '\0';
		return 0;
	case SIM_OP_XS_TRANSACTION_START:
		return 5;
	case SIM_OP_XS_TRANSACTION_END: {
		struct sim_wire_u64 v[2];

		if (len != sizeof(v))
			return -EPROTO;
		memcpy(v, p, sizeof(v));
		return v[0].v == 5 ? 0 : -ENOENT;
	}
	case SIM_OP_XS_GET_DOMAIN_PATH: {
		struct sim_wire_dom d;

		if (len != sizeof(d))
			return -EPROTO;
		memcpy(&d, p, sizeof(d));
		*outlen = (size_t)sprintf((char *)out, "/local/domain/%u", d.domid);
		return (int64_t)*outlen;
	}
	default:
		return -ENOSYS;
	}
}

static void *fake_conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *in = malloc(SIM_WIRE_MAX_MSG), *out = malloc(SIM_WIRE_MAX_MSG);
	uint64_t cookie = 0;

	for (;;) {
		struct sim_wire_hdr h;
		ssize_t n = recv(fd, in, SIM_WIRE_MAX_MSG, 0);
		size_t outlen;
		int64_t ret;

		if (n <= 0)
			break;
		if ((size_t)n < sizeof(h))
			break;
		memcpy(&h, in, sizeof(h));
		if (h.len != (size_t)n - sizeof(h))
			break;
		pthread_mutex_lock(&fk.lock);
		if (h.op == SIM_OP_HELLO) {
			struct sim_wire_hello hi;
			struct sim_wire_hello_reply rep = { 0 };

			memcpy(&hi, in + sizeof(h), sizeof(hi));
			fk.last_as_domid = hi.as_domid;
			if (hi.kind == SIM_CONN_CALLS) {
				cookie = ++fk.next_cookie;
				rep.cookie = cookie;
				rep.nr_frames = FAKE_FRAMES;
				rep.patched = (uint32_t)fk.patched;
				fake_send(fd, h.op, h.seq, 0, &rep, sizeof(rep), fk.memfd);
			} else {
				cookie = hi.cookie;
				if (cookie < 16 && hi.kind == SIM_CONN_EVENTS)
					fk.events_fd[cookie] = fd;
				if (cookie < 16 && hi.kind == SIM_CONN_WATCHES)
					fk.watches_fd[cookie] = fd;
				rep.cookie = cookie;
				fake_send(fd, h.op, h.seq, 0, &rep, sizeof(rep), -1);
			}
			pthread_mutex_unlock(&fk.lock);
			continue;
		}
		ret = fake_handle(cookie, h.op, in + sizeof(h), h.len, out, &outlen);
		fake_send(fd, h.op, h.seq, ret, out, outlen, ret < 0 ? -1 : fk.pass_fd);
		if (fk.pass_fd >= 0)
			close(fk.pass_fd);
		fk.pass_fd = -1;
		pthread_mutex_unlock(&fk.lock);
	}
	pthread_mutex_lock(&fk.lock);
	for (cookie = 0; cookie < 16; cookie++) {
		if (fk.events_fd[cookie] == fd)
			fk.events_fd[cookie] = -1;
		if (fk.watches_fd[cookie] == fd)
			fk.watches_fd[cookie] = -1;
	}
	pthread_mutex_unlock(&fk.lock);
	close(fd);
	free(in);
	free(out);
	return NULL;
}

static void *fake_accept_thread(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		int fd = accept4(fk.lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return NULL;
		pthread_create(&t, NULL, fake_conn_thread, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
}

static int fake_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pthread_t t;
	unsigned int i;

	strcpy(fk.dir, "/tmp/simclient_ut.XXXXXX");
	if (!mkdtemp(fk.dir))
		return -1;
	snprintf(fk.path, sizeof(fk.path), "%s/sim.sock", fk.dir);
	fk.memfd = memfd_create("fake-host", MFD_CLOEXEC);
	if (fk.memfd < 0 || ftruncate(fk.memfd, (off_t)FAKE_FRAMES * SIM_PAGE_SIZE))
		return -1;
	fk.mem = mmap(NULL, (size_t)FAKE_FRAMES * SIM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fk.memfd, 0);
	if (fk.mem == MAP_FAILED)
		return -1;
	/* every frame starts with its own number */
	for (i = 0; i < FAKE_FRAMES; i++)
		memcpy(fk.mem + (size_t)i * SIM_PAGE_SIZE, &i, sizeof(i));
	for (i = 0; i < 16; i++)
		fk.events_fd[i] = fk.watches_fd[i] = -1;
	fk.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, fk.path);
	if (fk.lfd < 0 || bind(fk.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fk.lfd, 16))
		return -1;
	setenv("XENSIM_SOCKET", fk.path, 1);
	return pthread_create(&t, NULL, fake_accept_thread, NULL);
}

static unsigned int total_refs(void)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&fk.lock);
	for (i = 0; i < FAKE_FRAMES; i++)
		n += fk.refs[i];
	pthread_mutex_unlock(&fk.lock);
	return n;
}

static uint32_t frame_tag(const void *page)
{
	uint32_t v;

	memcpy(&v, page, sizeof(v));
	return v;
}

/* ---- tests -------------------------------------------------------------- */

/*
 * Without a server every open fails like the real libraries without
 * /dev/xen: NULL with errno ENOENT (no socket) or ECONNREFUSED (a stale
 * socket file nobody listens on), never a crash.
 */
static void test_open_without_server(void)
{
	char stale[160];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(stale, sizeof(stale), "%s/none.sock", fk.dir);
	setenv("XENSIM_SOCKET", stale, 1);
	errno = 0;
	CU_ASSERT_PTR_NULL(xc_interface_open(NULL, NULL, 0));
	CU_ASSERT_EQUAL(errno, ENOENT);
	errno = 0;
	CU_ASSERT_PTR_NULL(xenforeignmemory_open(NULL, 0));
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NULL(xenevtchn_open(NULL, 0));
	CU_ASSERT_PTR_NULL(xs_open(0));
	CU_ASSERT_EQUAL(errno, ENOENT);

	/* a socket file with no listener */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	strcpy(sa.sun_path, stale);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	errno = 0;
	CU_ASSERT_PTR_NULL(xc_interface_open(NULL, NULL, 0));
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	unlink(stale);
	setenv("XENSIM_SOCKET", fk.path, 1);
}

/*
 * Domain info arrives in both of libxenctrl's layouts with Xen's flag
 * encoding; getinfo() past the last domain is -1/ESRCH like the domctl;
 * the p2m size comes out as XENMEM_maximum_gpfn reports it.
 */
static void test_xc_domain_info(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xc_domaininfo_t dl[4];
	xc_dominfo_t di[4];
	xc_physinfo_t pi;
	xen_pfn_t gpfn = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	CU_ASSERT_EQUAL(xc_domain_getinfolist(xch, 0, 4, dl), 2);
	CU_ASSERT_EQUAL(dl[1].domain, 1);
	CU_ASSERT(dl[1].flags & XEN_DOMINF_hvm_guest);
	CU_ASSERT(dl[1].flags & XEN_DOMINF_paused);
	CU_ASSERT_EQUAL(dl[1].tot_pages, 1000);
	CU_ASSERT_EQUAL(dl[1].shr_pages, 12);
	CU_ASSERT_EQUAL(dl[1].max_vcpu_id, 1);
	CU_ASSERT(dl[0].flags & XEN_DOMINF_running);

	CU_ASSERT_EQUAL(xc_domain_getinfo(xch, 1, 4, di), 1);
	CU_ASSERT_EQUAL(di[0].domid, 1);
	CU_ASSERT(di[0].hvm && di[0].paused && !di[0].running);
	CU_ASSERT_EQUAL(di[0].nr_pages, 1000);
	CU_ASSERT_EQUAL(di[0].nr_shared_pages, 12);
	CU_ASSERT_EQUAL(di[0].max_memkb, 2048 * 4);
	errno = 0;
	CU_ASSERT_EQUAL(xc_domain_getinfo(xch, 2, 1, di), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);

	/* XENMEM_maximum_gpfn is the highest gfn, nr_gpfns one more */
	CU_ASSERT_EQUAL(xc_domain_maximum_gpfn(xch, 1, &gpfn), 0);
	CU_ASSERT_EQUAL(gpfn, FAKE_GUEST_GFNS - 1);
	CU_ASSERT_EQUAL(xc_domain_nr_gpfns(xch, 1, &gpfn), 0);
	CU_ASSERT_EQUAL(gpfn, FAKE_GUEST_GFNS);
	errno = 0;
	CU_ASSERT_EQUAL(xc_domain_maximum_gpfn(xch, 7, &gpfn), -1);
	CU_ASSERT_EQUAL(errno, ESRCH);

	CU_ASSERT_EQUAL(xc_physinfo(xch, &pi), 0);
	CU_ASSERT_EQUAL(pi.total_pages, FAKE_FRAMES);
	CU_ASSERT_EQUAL(pi.free_pages, 1234);
	CU_ASSERT_EQUAL(pi.nr_cpus, 2);
	CU_ASSERT_EQUAL(xc_interface_close(xch), 0);
}

/*
 * Sharing ops follow libxenctrl's convention: handles come back through
 * the pointer, hypervisor errors become -1 with errno = -rc, so a stale
 * source handle is errno 10 and a stale client handle errno 9.
 */
static void test_xc_sharing_convention(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	uint64_t h = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, 20, &h), 0);
	CU_ASSERT_EQUAL(h, FAKE_HANDLE(20));
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, FAKE_HOLE_GFN, &h), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(xc_memshr_share_gfns(xch, 1, 20, FAKE_HANDLE(20), 1, 21,
					     FAKE_HANDLE(21)), 0);
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_share_gfns(xch, 1, 20, 999, 1, 21, FAKE_HANDLE(21)), -1);
	CU_ASSERT_EQUAL(errno, 10);   /* -XENMEM_SHARING_OP_S_HANDLE_INVALID */
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_share_gfns(xch, 1, 20, FAKE_HANDLE(20), 1, 21, 999), -1);
	CU_ASSERT_EQUAL(errno, 9);    /* -XENMEM_SHARING_OP_C_HANDLE_INVALID */
	CU_ASSERT_EQUAL(xc_sharing_freed_pages(xch), 7);
	CU_ASSERT_EQUAL(xc_sharing_used_frames(xch), 3);
	/* checked before the hypercall, as the real library does */
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_ring_enable(xch, 1, NULL), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	xc_interface_close(xch);
}

/*
 * The patched-hypervisor op round-trips a batch with per-pair results, and
 * on an unpatched host is -1/ENOSYS, which is how the daemon probes it.
 */
static void test_xc_compare_share(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenshare_cmpshr_pair_t p[3] = {
		{ .source_gfn = 1, .client_gfn = 1, .source_domain = 1, .client_domain = 1, .result = 77 },
		{ .source_gfn = 1, .client_gfn = 2, .source_domain = 1, .client_domain = 1, .result = 77 },
		{ .source_gfn = 4, .client_gfn = 4, .source_domain = 1, .client_domain = 1, .result = 77 },
	};

	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	fk.patched = 0;
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_compare_share(xch, p, 0), -1);
	CU_ASSERT_EQUAL(errno, ENOSYS);
	fk.patched = 1;
	CU_ASSERT_EQUAL(xc_memshr_compare_share(xch, p, 0), 0);
	CU_ASSERT_EQUAL(xc_memshr_compare_share(xch, p, 3), 0);
	CU_ASSERT_EQUAL(p[0].result, XENSHARE_CMPSHR_SHARED);
	CU_ASSERT_EQUAL(p[1].result, XENSHARE_CMPSHR_DIFFERENT);
	CU_ASSERT_EQUAL(p[2].result, XENSHARE_CMPSHR_SHARED);
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_compare_share(xch, p, XENSHARE_CMPSHR_MAX_BATCH + 1), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	fk.patched = 0;
	xc_interface_close(xch);
}

/*
 * A batch mapping shows each guest page's own frame (runs and a
 * discontiguous frame alike), reports a hole in err[] as -EINVAL while
 * mapping the rest, holds one server reference per mapped page and gives
 * them all back on unmap.
 */
static void test_xfm_map_contents_and_refs(void)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t gfns[16];
	int err[16];
	uint8_t *p;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fm);
	for (i = 0; i < 16; i++)
		gfns[i] = i;
	p = xenforeignmemory_map(fm, 1, PROT_READ, 16, gfns, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; i < 16; i++) {
		if (i == FAKE_HOLE_GFN) {
			CU_ASSERT_EQUAL(err[i], -EINVAL);
			continue;
		}
		CU_ASSERT_EQUAL(err[i], 0);
		CU_ASSERT_EQUAL(frame_tag(p + i * SIM_PAGE_SIZE), fake_gfn_to_mfn(i));
	}
	CU_ASSERT_EQUAL(total_refs(), 15);
	CU_ASSERT_EQUAL(xenforeignmemory_unmap(fm, p, 16), 0);
	CU_ASSERT_EQUAL(total_refs(), 0);
	CU_ASSERT_EQUAL(xenforeignmemory_close(fm), 0);
}

/*
 * With err == NULL one bad page fails the whole call with that page's
 * errno, and nothing stays mapped or referenced.
 */
static void test_xfm_map_all_or_nothing(void)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t gfns[3] = { 3, FAKE_HOLE_GFN, 4 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(fm);
	errno = 0;
	CU_ASSERT_PTR_NULL(xenforeignmemory_map(fm, 1, PROT_READ, 3, gfns, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(total_refs(), 0);
	/* a domain the server does not know fails the call as a whole */
	errno = 0;
	CU_ASSERT_PTR_NULL(xenforeignmemory_map(fm, 9, PROT_READ, 1, gfns, NULL));
	CU_ASSERT_EQUAL(errno, ESRCH);
	xenforeignmemory_close(fm);
}

/*
 * Batches larger than SIM_WIRE_MAX_MAP are split into several requests and
 * still land at the right offsets.
 */
static void test_xfm_map_large_batch(void)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	unsigned int n = SIM_WIRE_MAX_MAP + 100, i, before;
	xen_pfn_t *gfns = malloc(n * sizeof(*gfns));
	int *err = malloc(n * sizeof(*err));
	uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fm);
	for (i = 0; i < n; i++)
		gfns[i] = 10 + i;
	pthread_mutex_lock(&fk.lock);
	before = fk.map_requests;
	pthread_mutex_unlock(&fk.lock);
	p = xenforeignmemory_map(fm, 1, PROT_READ, n, gfns, err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(fk.map_requests - before, 2);
	CU_ASSERT_EQUAL(err[n - 1], 0);
	CU_ASSERT_EQUAL(frame_tag(p + (size_t)(n - 1) * SIM_PAGE_SIZE),
			fake_gfn_to_mfn(10 + n - 1));
	CU_ASSERT_EQUAL(frame_tag(p), fake_gfn_to_mfn(10));
	CU_ASSERT_EQUAL(xenforeignmemory_unmap(fm, p, n), 0);
	CU_ASSERT_EQUAL(total_refs(), 0);
	free(gfns);
	free(err);
	xenforeignmemory_close(fm);
}

/*
 * A mapped page holds a reference, so nominating it gives E2BIG as on Xen;
 * after unmap the same nominate succeeds.  Closing a handle with live
 * mappings is the server's business (the connection ends).
 */
static void test_xfm_mapping_blocks_nominate(void)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xen_pfn_t gfn = 42;
	uint64_t h;
	void *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	p = xenforeignmemory_map(fm, 1, PROT_READ, 1, &gfn, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, gfn, &h), -1);
	CU_ASSERT_EQUAL(errno, E2BIG);
	CU_ASSERT_EQUAL(xenforeignmemory_unmap(fm, p, 1), 0);
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, gfn, &h), 0);
	xc_interface_close(xch);
	xenforeignmemory_close(fm);
}

/*
 * libxenctrl's compat mappings are released with plain munmap(), as
 * xen-memshare's unshare does: the frame reference goes with the next
 * hypercall, so nominate behaves as on Xen before and after the munmap.
 */
static void test_xc_compat_map_munmap(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	uint64_t h;
	uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	p = xc_map_foreign_range(xch, 1, 2 * SIM_PAGE_SIZE, PROT_READ, 50);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(frame_tag(p + SIM_PAGE_SIZE), fake_gfn_to_mfn(51));
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, 50, &h), -1);
	CU_ASSERT_EQUAL(errno, E2BIG);
	munmap(p, SIM_PAGE_SIZE);                 /* half of it */
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, 50, &h), 0);
	errno = 0;
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, 51, &h), -1);
	CU_ASSERT_EQUAL(errno, E2BIG);
	munmap(p + SIM_PAGE_SIZE, SIM_PAGE_SIZE);
	CU_ASSERT_EQUAL(xc_memshr_nominate_gfn(xch, 1, 51, &h), 0);
	CU_ASSERT_EQUAL(total_refs(), 0);
	/* all-or-nothing like xenforeignmemory_map with err == NULL */
	errno = 0;
	CU_ASSERT_PTR_NULL(xc_map_foreign_range(xch, 1, 8 * SIM_PAGE_SIZE, PROT_READ, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(total_refs(), 0);
	xc_interface_close(xch);
}

/*
 * A writable mapping writes through to the host frame, and a restricted
 * handle refuses other domains with EPERM.
 */
static void test_xfm_writable_and_restrict(void)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t gfn = 30;
	uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fm);
	p = xenforeignmemory_map(fm, 1, PROT_READ | PROT_WRITE, 1, &gfn, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p[100] = 0xab;
	CU_ASSERT_EQUAL(fk.mem[fake_gfn_to_mfn(30) * SIM_PAGE_SIZE + 100], 0xab);
	CU_ASSERT_EQUAL(xenforeignmemory_unmap(fm, p, 1), 0);
	CU_ASSERT_EQUAL(xenforeignmemory_restrict(fm, 1), 0);
	errno = 0;
	CU_ASSERT_PTR_NULL(xenforeignmemory_map(fm, 2, PROT_READ, 1, &gfn, NULL));
	CU_ASSERT_EQUAL(errno, EPERM);
	CU_ASSERT_EQUAL(xenforeignmemory_restrict(fm, 2), -1);
	xenforeignmemory_close(fm);
}

/*
 * Unmapping part of a mapping gives back exactly those pages' frames; the
 * rest stays mapped and readable until unmapped in turn.
 */
static void test_xfm_partial_unmap(void)
{
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xen_pfn_t gfns[16];
	uint8_t *p;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fm);
	for (i = 0; i < 16; i++)
		gfns[i] = 100 + i;
	p = xenforeignmemory_map(fm, 1, PROT_READ, 16, gfns, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(xenforeignmemory_unmap(fm, p + 4 * SIM_PAGE_SIZE, 4), 0);
	CU_ASSERT_EQUAL(total_refs(), 12);
	CU_ASSERT_EQUAL(frame_tag(p + 15 * SIM_PAGE_SIZE), fake_gfn_to_mfn(115));
	CU_ASSERT_EQUAL(xenforeignmemory_unmap(fm, p, 4), 0);
	CU_ASSERT_EQUAL(xenforeignmemory_unmap(fm, p + 8 * SIM_PAGE_SIZE, 8), 0);
	CU_ASSERT_EQUAL(total_refs(), 0);
	xenforeignmemory_close(fm);
}

static xenforeignmemory_handle *shared_fm;

static void *map_unmap_loop(void *arg)
{
	unsigned int base = (unsigned int)(uintptr_t)arg, round, i, bad = 0;
	xen_pfn_t gfns[64];

	for (round = 0; round < 200; round++) {
		uint8_t *p;

		for (i = 0; i < 64; i++)
			gfns[i] = base + i;
		p = xenforeignmemory_map(shared_fm, 1, PROT_READ, 64, gfns, NULL);
		if (!p) {
			bad++;
			continue;
		}
		for (i = 0; i < 64; i++)
			bad += frame_tag(p + i * SIM_PAGE_SIZE) != fake_gfn_to_mfn(base + i);
		bad += xenforeignmemory_unmap(shared_fm, p, 64) != 0;
	}
	return (void *)(uintptr_t)bad;
}

/*
 * One handle used by several threads at once (the daemon's scanner and its
 * ring thread share handles): every mapping shows its own frames and all
 * references come back.
 */
static void test_xfm_threads(void)
{
	pthread_t t[4];
	unsigned int i;
	void *bad;

	shared_fm = xenforeignmemory_open(NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(shared_fm);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, map_unmap_loop, (void *)(uintptr_t)(1000 + i * 100));
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &bad);
		CU_ASSERT_EQUAL((uintptr_t)bad, 0);
	}
	CU_ASSERT_EQUAL(total_refs(), 0);
	xenforeignmemory_close(shared_fm);
}

/*
 * Event channels: bind returns the server's port, the event arrives on
 * xenevtchn_fd() and pending() returns it; with O_NONBLOCK on the fd an
 * empty queue is -1/EAGAIN, as with /dev/xen/evtchn.
 */
static void test_evtchn(void)
{
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	struct pollfd pfd;
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xce);
	fd = xenevtchn_fd(xce);
	CU_ASSERT(fd >= 0);
	CU_ASSERT_EQUAL(xenevtchn_bind_virq(xce, 7), (int)FAKE_VIRQ_PORT);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	CU_ASSERT_EQUAL(poll(&pfd, 1, 5000), 1);
	CU_ASSERT_EQUAL(xenevtchn_pending(xce), (int)FAKE_VIRQ_PORT);
	CU_ASSERT_EQUAL(xenevtchn_unmask(xce, FAKE_VIRQ_PORT), 0);
	CU_ASSERT_EQUAL(xenevtchn_notify(xce, FAKE_VIRQ_PORT), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	errno = 0;
	CU_ASSERT_EQUAL(xenevtchn_pending(xce), -1);
	CU_ASSERT_EQUAL(errno, EAGAIN);
	CU_ASSERT_EQUAL(xenevtchn_close(xce), 0);
}

/*
 * xenstore: values round-trip with the NUL terminator past *len, directory
 * and watch vectors are single free()able blocks, permissions decode.
 */
static void test_xenstore(void)
{
	struct xs_handle *xs = xs_open(0);
	struct xs_permissions *perms, setp[2];
	unsigned int len = 0, num = 0;
	char **v, *val;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xs);
	CU_ASSERT(xs_write(xs, XBT_NULL, "/local/domain/1/memshare/enabled", "1", 1));
	CU_ASSERT(xs_write(xs, XBT_NULL, "/local/domain/1/memshare/group", "web", 3));
	val = xs_read(xs, XBT_NULL, "/local/domain/1/memshare/group", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(val);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_STRING_EQUAL(val, "web");
	free(val);
	errno = 0;
	CU_ASSERT_PTR_NULL(xs_read(xs, XBT_NULL, "/nope", &len));
	CU_ASSERT_EQUAL(errno, ENOENT);

	v = xs_directory(xs, XBT_NULL, "/local/domain/1/memshare", &num);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(num, 2);
	if (num == 2) {
		CU_ASSERT_STRING_EQUAL(v[0], "enabled");
		CU_ASSERT_STRING_EQUAL(v[1], "group");
	}
	free(v);

	perms = xs_get_permissions(xs, XBT_NULL, "/local/domain/1/memshare", &num);
	CU_ASSERT_PTR_NOT_NULL_FATAL(perms);
	CU_ASSERT_EQUAL(num, 2);
	CU_ASSERT_EQUAL(perms[1].id, 1);
	CU_ASSERT_EQUAL(perms[1].perms, XS_PERM_READ);
	free(perms);
	CU_ASSERT(xs_strings_to_perms(setp, 2, "n0\0r1"));
	CU_ASSERT_EQUAL(setp[1].perms, XS_PERM_READ);
	CU_ASSERT_EQUAL(setp[1].id, 1);
	CU_ASSERT(!xs_strings_to_perms(setp, 1, "x0"));
	CU_ASSERT(xs_set_permissions(xs, XBT_NULL, "/local/domain/1/memshare", setp, 2));

	/* a new watch fires once at once; then on a write */
	CU_ASSERT(xs_watch(xs, "/local/domain/1/memshare", "tok"));
	v = xs_read_watch(xs, &num);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(num, 2);
	CU_ASSERT_STRING_EQUAL(v[XS_WATCH_PATH], "/local/domain/1/memshare");
	CU_ASSERT_STRING_EQUAL(v[XS_WATCH_TOKEN], "tok");
	free(v);
	errno = 0;
	CU_ASSERT_PTR_NULL(xs_check_watch(xs));
	CU_ASSERT_EQUAL(errno, EAGAIN);
	CU_ASSERT(xs_write(xs, XBT_NULL, "/local/domain/1/memshare/enabled", "0", 1));
	for (i = 0; i < 50 && !(v = xs_check_watch(xs)); i++)
		usleep(10000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(v[XS_WATCH_PATH], "/local/domain/1/memshare/enabled");
	free(v);
	CU_ASSERT(xs_unwatch(xs, "/local/domain/1/memshare", "tok"));

	CU_ASSERT_EQUAL(xs_transaction_start(xs), 5);
	CU_ASSERT(xs_transaction_end(xs, 5, false));
	val = xs_get_domain_path(xs, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(val);
	CU_ASSERT_STRING_EQUAL(val, "/local/domain/3");
	free(val);
	CU_ASSERT(xs_is_domain_introduced(xs, 1));
	CU_ASSERT(!xs_is_domain_introduced(xs, 2));
	CU_ASSERT(xs_path_is_subpath("/a/b", "/a/b/c"));
	CU_ASSERT(!xs_path_is_subpath("/a/b", "/a/bc"));
	xs_close(xs);
}

/*
 * With XS_UNWATCH_FILTER, events of a watch already removed are dropped
 * even if they were queued before xs_unwatch (the real library's promise).
 */
static void test_xenstore_unwatch_filter(void)
{
	struct xs_handle *xs = xs_open(XS_UNWATCH_FILTER);
	unsigned int num;
	char **v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xs);
	CU_ASSERT(xs_watch(xs, "/filter", "tok"));
	v = xs_read_watch(xs, &num);       /* the initial event */
	CU_ASSERT_PTR_NOT_NULL(v);
	free(v);
	CU_ASSERT(xs_write(xs, XBT_NULL, "/filter/a", "x", 1));   /* queues an event */
	CU_ASSERT(xs_unwatch(xs, "/filter", "tok"));
	usleep(20000);
	errno = 0;
	CU_ASSERT_PTR_NULL(xs_check_watch(xs));
	CU_ASSERT_EQUAL(errno, EAGAIN);
	xs_close(xs);
}

/* XENSIM_AS_DOMID reaches the server, which checks permissions with it. */
static void test_xenstore_as_guest(void)
{
	struct xs_handle *xs;
	unsigned int num;

	setenv("XENSIM_AS_DOMID", "1", 1);
	xs = xs_open(0);
	unsetenv("XENSIM_AS_DOMID");
	CU_ASSERT_PTR_NOT_NULL_FATAL(xs);
	errno = 0;
	CU_ASSERT_PTR_NULL(xs_get_permissions(xs, XBT_NULL, "/local/domain/1", &num));
	CU_ASSERT_EQUAL(errno, EACCES);
	xs_close(xs);
}

/*
 * Calls xensim does not model exist and fail with ENOSYS and their type's
 * failure value instead of crashing: int -1, pointer NULL, bool false.
 */
static void test_stubs_enosys(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xenforeignmemory_handle *fm = xenforeignmemory_open(NULL, 0);
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	struct xs_handle *xs = xs_open(0);
	xen_domain_handle_t uuid = { 0 };
	void *addr = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xce);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xs);
	errno = 0;
	CU_ASSERT_EQUAL(xc_domain_setmaxmem(xch, 1, 1024), -1);
	CU_ASSERT_EQUAL(errno, ENOSYS);
	errno = 0;
	CU_ASSERT_EQUAL(xc_domain_sethandle(xch, 1, uuid), -1);
	CU_ASSERT_EQUAL(errno, ENOSYS);
	errno = 0;
	CU_ASSERT_PTR_NULL(xc_cpupool_getinfo(xch, 0));
	CU_ASSERT_EQUAL(errno, ENOSYS);
	errno = 0;
	CU_ASSERT_PTR_NULL(xenforeignmemory_map_resource(fm, 1, 0, 0, 0, 1, &addr,
							 PROT_READ, 0));
	CU_ASSERT_EQUAL(errno, ENOSYS);
	errno = 0;
	CU_ASSERT_EQUAL(xenevtchn_bind_unbound_port(xce, 1), -1);
	CU_ASSERT_EQUAL(errno, ENOSYS);
	errno = 0;
	CU_ASSERT(!xs_introduce_domain(xs, 1, 0, 0));
	CU_ASSERT_EQUAL(errno, ENOSYS);
	xs_close(xs);
	xenevtchn_close(xce);
	xenforeignmemory_close(fm);
	xc_interface_close(xch);
}

/*
 * Hypercall buffers work as libxenctrl's: DECLARE_HYPERCALL_BUFFER plus
 * alloc_pages gives zeroed page-aligned memory the caller uses through its
 * pointer, the byte-sized kind frees with its own header, bounce copies in
 * and out by direction, arrays hand back the buffer stored at an index.
 */
static void test_hypercall_buffers(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	DECLARE_HYPERCALL_BUFFER(uint8_t, pages);
	DECLARE_HYPERCALL_BUFFER(uint64_t, bytes);
	DECLARE_HYPERCALL_BUFFER(char, elem);
	xc_hypercall_buffer_array_t *arr;
	xc_hypercall_buffer_t bounce;
	char user[32] = "in", *got;
	size_t zero = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	pages = xc_hypercall_buffer_alloc_pages(xch, pages, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pages);
	CU_ASSERT_EQUAL((uintptr_t)pages % XC_PAGE_SIZE, 0);
	for (size_t i = 0; i < 3 * XC_PAGE_SIZE; i++)
		zero += pages[i] == 0;
	CU_ASSERT_EQUAL(zero, 3 * XC_PAGE_SIZE);
	pages[3 * XC_PAGE_SIZE - 1] = 1;
	CU_ASSERT_PTR_EQUAL(HYPERCALL_BUFFER(pages)->hbuf, pages);
	xc_hypercall_buffer_free_pages(xch, pages, 3);

	bytes = xc_hypercall_buffer_alloc(xch, bytes, 10000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
	bytes[10000 / 8 - 1] = 42;
	xc_hypercall_buffer_free(xch, bytes);

	memset(&bounce, 0, sizeof(bounce));
	bounce.ubuf = user;
	bounce.sz = sizeof(user);
	bounce.dir = 3;   /* XC_HYPERCALL_BUFFER_BOUNCE_BOTH of xc_private.h */
	CU_ASSERT_EQUAL(xc__hypercall_bounce_pre(xch, &bounce), 0);
	CU_ASSERT_STRING_EQUAL(bounce.hbuf, "in");
	strcpy(bounce.hbuf, "out");
	xc__hypercall_bounce_post(xch, &bounce);
	CU_ASSERT_STRING_EQUAL(user, "out");

	arr = xc_hypercall_buffer_array_create(xch, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(arr);
	elem = xc_hypercall_buffer_array_alloc(xch, arr, 1, elem, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(elem);
	strcpy(elem, "slot1");
	got = xc__hypercall_buffer_array_get(xch, arr, 1, HYPERCALL_BUFFER(elem));
	CU_ASSERT_STRING_EQUAL(got, "slot1");
	xc_hypercall_buffer_array_destroy(xch, arr);
	xc_interface_close(xch);
}

/*
 * xc_logdirty_control() asks with the handle's buffer, writes ceil(pages/8)
 * bytes into it -- what the host sent, then zeros -- also when the bitmap
 * comes in a memfd, returns the pages and fills the stats; a null handle
 * asks for no bitmap; xc_shadow_control() passes op and mode; errors are
 * -1/errno.
 */
static void test_xc_logdirty(void)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	DECLARE_HYPERCALL_BUFFER(uint8_t, bitmap);
	xc_shadow_op_stats_t st = { 0, 0 };
	unsigned long big = 8ul * FAKE_BITMAP_MEMFD + 800000;   /* 400000 bytes of bitmap */
	unsigned int mb = 5, ok = 0;
	long long r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xch);
	bitmap = xc_hypercall_buffer_alloc_pages(xch, bitmap, 100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bitmap);
	memset(bitmap, 0xff, 100 * XC_PAGE_SIZE);
	r = xc_logdirty_control(xch, 1, XEN_DOMCTL_SHADOW_OP_CLEAN, HYPERCALL_BUFFER(bitmap),
				1000, XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL, &st);
	CU_ASSERT_EQUAL(r, 1000);
	CU_ASSERT(fk.shadow.domid == 1 && fk.shadow.op == XEN_DOMCTL_SHADOW_OP_CLEAN &&
		  fk.shadow.mode == XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL && fk.shadow.bitmap == 1 &&
		  fk.shadow.pages == 1000);
	CU_ASSERT(st.fault_count == 7 && st.dirty_count == 9);
	for (uint32_t i = 0; i < 125; i++)
		ok += bitmap[i] == (i < FAKE_BITMAP_INLINE ? FAKE_BITMAP_BYTE(i) : 0);
	CU_ASSERT_EQUAL(ok, 125);
	CU_ASSERT_EQUAL(bitmap[125], 0xff);   /* nothing beyond ceil(pages/8) */

	memset(bitmap, 0xff, 100 * XC_PAGE_SIZE);
	r = xc_logdirty_control(xch, 1, XEN_DOMCTL_SHADOW_OP_PEEK, HYPERCALL_BUFFER(bitmap),
				big, 0, NULL);
	CU_ASSERT_EQUAL(r, (long long)big);
	ok = 0;
	for (uint32_t i = 0; i < big / 8; i++)
		ok += bitmap[i] == (i < FAKE_BITMAP_MEMFD ? FAKE_BITMAP_BYTE(i) : 0);
	CU_ASSERT_EQUAL(ok, big / 8);
	CU_ASSERT_EQUAL(bitmap[big / 8], 0xff);

	r = xc_logdirty_control(xch, 1, XEN_DOMCTL_SHADOW_OP_CLEAN, NULL, 64, 0, &st);
	CU_ASSERT(r == 64 && fk.shadow.bitmap == 0);
	errno = 0;
	r = xc_logdirty_control(xch, 2, XEN_DOMCTL_SHADOW_OP_PEEK, HYPERCALL_BUFFER(bitmap),
				64, 0, &st);
	CU_ASSERT(r == -1 && errno == EINVAL);
	CU_ASSERT_EQUAL(xc_shadow_control(xch, 1, XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, &mb, 0), 0);
	CU_ASSERT(fk.shadow.op == XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY && fk.shadow.bitmap == 0 &&
		  mb == 5);
	CU_ASSERT_EQUAL(xc_shadow_control(xch, 1, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0), 0);
	CU_ASSERT_EQUAL(fk.shadow.op, XEN_DOMCTL_SHADOW_OP_OFF);
	xc_hypercall_buffer_free_pages(xch, bitmap, 100);
	xc_interface_close(xch);
}

/*
 * libxendevicemodel: modified_memory sends its extent; a bulk call larger
 * than a message goes as several, the last extents first (Xen's order);
 * errors are -1/errno; restrict() refuses other domains with EPERM.
 */
static void test_devicemodel(void)
{
	xendevicemodel_handle *dm = xendevicemodel_open(NULL, 0);
	size_t n = SIM_WIRE_MAX_DM_EXTENTS + 5;
	struct xen_dm_op_modified_memory_extent *x = calloc(n, sizeof(*x));

	CU_ASSERT_PTR_NOT_NULL_FATAL(dm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	fk.nr_dm = 0;
	CU_ASSERT_EQUAL(xendevicemodel_modified_memory(dm, 1, 77, 3), 0);
	CU_ASSERT(fk.nr_dm == 1 && fk.dm[0].domid == 1 && fk.dm[0].n == 1 &&
		  fk.dm[0].first_pfn == 77);
	for (size_t i = 0; i < n; i++)
		x[i] = (struct xen_dm_op_modified_memory_extent){ .first_pfn = i, .nr = 1 };
	fk.nr_dm = 0;
	CU_ASSERT_EQUAL(xendevicemodel_modified_memory_bulk(dm, 1, x, (uint32_t)n), 0);
	CU_ASSERT(fk.nr_dm == 2 && fk.dm[0].n == SIM_WIRE_MAX_DM_EXTENTS && fk.dm[0].first_pfn == 5 &&
		  fk.dm[1].n == 5 && fk.dm[1].first_pfn == 0);
	errno = 0;
	CU_ASSERT_EQUAL(xendevicemodel_modified_memory(dm, 3, 1, 1), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(xendevicemodel_restrict(dm, 1), 0);
	errno = 0;
	CU_ASSERT_EQUAL(xendevicemodel_modified_memory(dm, 3, 1, 1), -1);
	CU_ASSERT_EQUAL(errno, EPERM);
	CU_ASSERT_EQUAL(xendevicemodel_restrict(dm, 2), -1);
	CU_ASSERT_EQUAL(xendevicemodel_modified_memory(dm, 1, 1, 1), 0);
	errno = 0;
	CU_ASSERT_EQUAL(xendevicemodel_set_mem_type(dm, 1, HVMMEM_ram_rw, 0, 1), -1);
	CU_ASSERT_EQUAL(errno, ENOSYS);
	free(x);
	CU_ASSERT_EQUAL(xendevicemodel_close(dm), 0);
}

int main(void)
{
	static const struct ut_test tests[] = {
		UT(test_open_without_server),
		UT(test_xc_domain_info),
		UT(test_xc_sharing_convention),
		UT(test_xc_compare_share),
		UT(test_xfm_map_contents_and_refs),
		UT(test_xfm_map_all_or_nothing),
		UT(test_xfm_map_large_batch),
		UT(test_xfm_mapping_blocks_nominate),
		UT(test_xfm_writable_and_restrict),
		UT(test_xc_compat_map_munmap),
		UT(test_xfm_partial_unmap),
		UT(test_xfm_threads),
		UT(test_evtchn),
		UT(test_xenstore),
		UT(test_xenstore_unwatch_filter),
		UT(test_xenstore_as_guest),
		UT(test_stubs_enosys),
		UT(test_hypercall_buffers),
		UT(test_xc_logdirty),
		UT(test_devicemodel),
	};
	int failed;

	if (fake_start()) {
		perror("simclient_ut: fake server");
		return 1;
	}
	failed = UT_RUN("simclient", NULL, NULL, tests);
	unlink(fk.path);
	rmdir(fk.dir);
	return failed;
}
