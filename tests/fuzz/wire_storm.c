/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wire_storm.c - throws random and malformed wire.h messages at a running
 * xensim host and checks that it keeps answering.
 *
 *   fuzz_wire_storm SOCKET SECONDS SEED
 *
 * Why a client and not a libFuzzer target: the server's dispatch() is
 * static in tools/xensim/server.c and owns the hypervisor model, the store
 * and the guests; the socket is its only interface.  So this is a
 * seeded-random robustness test in the spirit of a fuzzer, run by
 * tests/integration/fuzz_wire.test.sh (and under ASan/UBSan in the san
 * variant, where the server's own sanitizer reports catch what a reply
 * cannot show).
 *
 * Each round opens a connection in one of several states (no HELLO, CALLS
 * as dom0 (twice as likely), CALLS as a guest, a HELLO of garbage, EVENTS/WATCHES with a
 * random cookie) and sends a burst of messages: valid headers for every
 * known op with random, truncated, oversized or biased payloads (domids
 * around the reserved range, gfns near 2^64, counts past the limits),
 * headers whose length disagrees with the message, messages shorter than a
 * header, and random bytes.  SIM_OP_CLI_STOP is never sent.
 *
 * Checked for every request that the protocol says is answered: a reply
 * arrives within 5 s, with the request's op and seq, a length that matches
 * the message, and ret >= 0 or a negative errno.  A message shorter than
 * a header may close the connection (wire.h allows it); any other close is
 * a failure.  A guest's (as_domid != 0) connection gets -EPERM for every
 * op outside xenstore.  Every 100 messages a fresh dom0 connection (as the
 * command line, which a host injecting faults never faults) must get a sane
 * PHYSINFO answer.  Exit 0 when all held, 1 with the first broken rule.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/xensim/wire.h"

#define REPLY_TIMEOUT_MS 5000
#define BUF_MAX (SIM_WIRE_MAX_MSG + 4096)

static uint64_t rng_state;
static const char *sock_path;
static uint8_t *txbuf, *rxbuf;
static uint32_t next_seq = 1;

static struct {
	uint64_t sent, replies, errors, dropped_expected, conns, probes;
} st;

static uint64_t rnd(void)
{
	/* splitmix64: reproducible from the seed on the command line */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

__attribute__((noreturn, format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_wire_storm: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(after %" PRIu64 " messages, %" PRIu64 " connections)\n", st.sent, st.conns);
	exit(1);
}

static int connect_host(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail("the host does not accept connections on %s: %s", sock_path, strerror(errno));
	st.conns++;
	return fd;
}

/* Receives one message (closing any passed fds); returns its length,
 * 0 when the server closed the connection, -1 on timeout. */
static ssize_t recv_msg(int fd, int timeout_ms)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { rxbuf, BUF_MAX };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == ECONNRESET)
		return 0;
	if (n < 0)
		fail("recvmsg: %s", strerror(errno));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int pfd_in;

				memcpy(&pfd_in, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(pfd_in);
			}
	return n;
}

/* Sends hdr + payload; false when the socket refused it (too big, closed). */
static bool send_raw(int fd, const void *msg, size_t len)
{
	ssize_t n = send(fd, msg, len, MSG_NOSIGNAL);

	st.sent++;
	return n == (ssize_t)len;
}

/* Checks the reply to a request of op/seq; returns false if the server
 * closed the connection. */
static bool expect_reply(int fd, uint32_t op, uint32_t seq, const char *what)
{
	struct sim_wire_hdr h;
	ssize_t n = recv_msg(fd, REPLY_TIMEOUT_MS);

	if (n < 0)
		fail("no reply within %d ms to %s (op %u seq %u)", REPLY_TIMEOUT_MS, what, op, seq);
	if (n == 0)
		return false;
	if ((size_t)n < sizeof(h))
		fail("%zd-byte reply to %s (op %u)", n, what, op);
	memcpy(&h, rxbuf, sizeof(h));
	if (h.op != op || h.seq != seq)
		fail("reply to %s has op %u seq %u, expected op %u seq %u", what, h.op, h.seq, op, seq);
	if (h.len != (size_t)n - sizeof(h))
		fail("reply to %s (op %u) says %u payload bytes, carries %zu", what, op, h.len,
		     (size_t)n - sizeof(h));
	if (h.ret < -4095)
		fail("reply to %s (op %u) has ret %" PRId64 ", not a negative errno", what, op, h.ret);
	st.replies++;
	if (h.ret < 0)
		st.errors++;
	return true;
}

static size_t put_hdr(uint32_t op, uint32_t seq, size_t payload_len)
{
	struct sim_wire_hdr h = { .op = op, .seq = seq, .len = (uint32_t)payload_len };

	memcpy(txbuf, &h, sizeof(h));
	return sizeof(h) + payload_len;
}

static const uint32_t ops[] = {
	SIM_OP_HELLO, SIM_OP_DOMAIN_GETINFO, SIM_OP_PHYSINFO, SIM_OP_DOMAIN_PAUSE,
	SIM_OP_DOMAIN_UNPAUSE, SIM_OP_DOMAIN_DESTROY, SIM_OP_DECREASE_RESERVATION,
	SIM_OP_GET_PARAM, SIM_OP_MEMSHR_CONTROL, SIM_OP_NOMINATE_GFN, SIM_OP_SHARE_GFNS,
	SIM_OP_ADD_TO_PHYSMAP, SIM_OP_RANGE_SHARE, SIM_OP_DEBUG_GFN, SIM_OP_AUDIT,
	SIM_OP_FREED_PAGES, SIM_OP_USED_FRAMES, SIM_OP_RING_ENABLE, SIM_OP_RING_DISABLE,
	SIM_OP_DOMAIN_RESUME, SIM_OP_COMPARE_SHARE, SIM_OP_ENOMEM_WAITERS,
	SIM_OP_ENOMEM_RESUME, SIM_OP_MAP, SIM_OP_SHADOW_OP, SIM_OP_DM_MODIFIED_MEMORY,
	SIM_OP_UNMAP, SIM_OP_EVTCHN_BIND_INTERDOMAIN, SIM_OP_EVTCHN_BIND_VIRQ,
	SIM_OP_EVTCHN_UNBIND, SIM_OP_EVTCHN_NOTIFY, SIM_OP_EVENT, SIM_OP_XS_READ,
	SIM_OP_XS_WRITE, SIM_OP_XS_MKDIR, SIM_OP_XS_RM, SIM_OP_XS_DIRECTORY,
	SIM_OP_XS_GET_PERMS, SIM_OP_XS_SET_PERMS, SIM_OP_XS_WATCH, SIM_OP_XS_UNWATCH,
	SIM_OP_XS_WATCH_EVENT, SIM_OP_XS_TRANSACTION_START, SIM_OP_XS_TRANSACTION_END,
	SIM_OP_XS_GET_DOMAIN_PATH, SIM_OP_XS_INTRODUCE, SIM_OP_CLI_CREATE, SIM_OP_CLI_VERIFY,
	SIM_OP_CLI_GUESTS, SIM_OP_CLI_RESIDUE, SIM_OP_CLI_FRAMES, SIM_OP_CLI_FAULTS,
	/* unknown ops around the known ranges */
	0, 9, 29, 49, 59, 79, 99, 199, SIM_OP_CLI_FAULTS + 1, 0xffffffffu,
};

static uint32_t pick_domid(void)
{
	static const uint32_t d[] = { 0, 1, 2, 3, 4, 0x7fef, 0x7ff0, 0x7ff2, 0xffff, 0xffffffffu };

	return below(4) ? d[below(sizeof(d) / sizeof(d[0]))] : (uint32_t)rnd();
}

static uint64_t pick_u64(void)
{
	switch (below(6)) {
	case 0: return 0;
	case 1: return below(16);
	case 2: return below(1 << 20);
	case 3: return ~(uint64_t)0 - below(4);
	case 4: return (uint64_t)1 << below(64);
	default: return rnd();
	}
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Builds a payload for op that is sometimes well-formed, sometimes not. */
static size_t make_payload(uint32_t op, uint8_t *p)
{
	size_t n;

	switch (below(8)) {
	case 0:
		return 0;
	case 1:
		n = below(64);
		fill_random(p, n);
		return n;
	default:
		break;
	}
	/* structured: a run of fields a real request would carry */
	n = 0;
	for (int i = 0; i < 8; i++) {
		uint32_t d = pick_domid();
		uint64_t v = pick_u64();

		memcpy(p + n, &d, 4);
		memcpy(p + n + 4, below(2) ? &d : (void *)&v, 4);
		memcpy(p + n + 8, &v, 8);
		n += 16;
	}
	if (op >= SIM_OP_XS_READ && op <= SIM_OP_XS_INTRODUCE && below(2)) {
		static const char *paths[] = { "/local/domain/0", "/local/domain/1/memshare/enabled",
					       "@introduceDomain", "", "/", "//x", "relative/path",
					       "/local/domain/1/memory/target" };
		const char *a = paths[below(sizeof(paths) / sizeof(paths[0]))];

		if (op == SIM_OP_XS_SET_PERMS) {
			uint32_t cnt = (uint32_t)below(6);

			memcpy(p, &cnt, 4);
			n = 8 + cnt * 8;
		} else {
			n = 0;
		}
		memcpy(p + n, a, strlen(a) + 1);
		n += strlen(a) + (below(8) ? 1 : 0);       /* sometimes unterminated */
		if (below(2)) {
			n += (size_t)snprintf((char *)p + n, 64, "%" PRIu64, rnd() % 100000);
			p[n++] = 0;
		}
	}
	if (op == SIM_OP_SHADOW_OP && below(2)) {
		/* a log-dirty op Xen knows: OFF, ENABLE_LOGDIRTY, CLEAN, PEEK, ENABLE, an allocation op */
		static const uint32_t sops[] = { 0, 2, 11, 12, 32, 30, 31, 1 };
		uint32_t mode = (uint32_t)below(5);

		memcpy(p + 4, &sops[below(sizeof(sops) / sizeof(sops[0]))], 4);
		memcpy(p + 8, &mode, 4);
	}
	if (op == SIM_OP_MAP || op == SIM_OP_UNMAP || op == SIM_OP_COMPARE_SHARE ||
	    op == SIM_OP_DM_MODIFIED_MEMORY) {
		uint32_t cnt = below(3) ? (uint32_t)below(8) : (uint32_t)pick_u64();
		size_t at = op == SIM_OP_MAP ? 8 : op == SIM_OP_DM_MODIFIED_MEMORY ? 4 : 0;
		size_t each = op == SIM_OP_COMPARE_SHARE ? 48 : op == SIM_OP_DM_MODIFIED_MEMORY ? 16 : 8;

		memcpy(p + at, &cnt, 4);
		if (cnt <= 4096 && below(2)) {
			size_t want = (op == SIM_OP_MAP ? 16 : 8) + (size_t)cnt * each;

			if (want > n) {
				fill_random(p + n, want - n);
				n = want;
			}
		}
	}
	if (op == SIM_OP_CLI_CREATE && below(2)) {
		struct sim_wire_cli_create cc = { 0 };
		char cfg[256];
		int cl = snprintf(cfg, sizeof(cfg), "name = \"storm%u\"\nmemory = %u\n%s",
				  (unsigned int)below(4), (unsigned int)(1 + below(4)),
				  below(2) ? "sim_profile = \"zero=0.5,unique=0.5\"\n" : "vcpus = 0\n");

		cc.data_len = (uint32_t)cl;
		cc.nr_overrides = (uint32_t)below(2);
		memcpy(p, &cc, sizeof(cc));
		n = sizeof(cc);
		memcpy(p + n, "storm.cfg", 10);
		n += 10;
		memcpy(p + n, "/tmp", 5);
		n += 5;
		memcpy(p + n, cfg, (size_t)cl);
		n += (size_t)cl;
		if (cc.nr_overrides) {
			memcpy(p + n, "sim_seed=3", 11);
			n += 11;
		}
		if (!below(4))
			n -= below(n);      /* truncated somewhere */
	}
	return n;
}

/* One connection and a burst of messages on it. */
static void round_once(void)
{
	int fd = connect_host();
	int kind = (int)below(6);
	bool answers = true;          /* does the server reply on this connection? */
	bool as_guest = false;        /* CALLS connection of a domain other than dom0 */
	unsigned int burst = 1 + (unsigned int)below(40);

	if (kind >= 1) {
		struct sim_wire_hello h = { .version = SIM_WIRE_VERSION, .kind = SIM_CONN_CALLS };
		uint32_t seq = next_seq++;
		size_t len;

		if (kind == 2)
			h.as_domid = 1 + (uint32_t)below(8);
		if (kind == 3) {
			h.kind = (uint32_t)below(5);
			h.version = below(4) ? SIM_WIRE_VERSION : (uint32_t)rnd();
			h.as_domid = pick_domid();
			h.cookie = below(2) ? below(8) : rnd();
		}
		if (kind == 4) {
			h.kind = below(2) ? SIM_CONN_EVENTS : SIM_CONN_WATCHES;
			h.cookie = below(16);
		}
		memcpy(txbuf + sizeof(struct sim_wire_hdr), &h, sizeof(h));
		len = put_hdr(SIM_OP_HELLO, seq, sizeof(h));
		if (!send_raw(fd, txbuf, len))
			fail("HELLO could not be sent: %s", strerror(errno));
		if (!expect_reply(fd, SIM_OP_HELLO, seq, "HELLO"))
			fail("connection closed after a whole HELLO");
		{
			struct sim_wire_hdr rh;

			memcpy(&rh, rxbuf, sizeof(rh));
			if (rh.ret == 0 && (h.kind == SIM_CONN_EVENTS || h.kind == SIM_CONN_WATCHES))
				answers = false;      /* push-only from now on */
			as_guest = rh.ret == 0 && h.kind == SIM_CONN_CALLS && h.as_domid != 0;
		}
	}

	for (unsigned int i = 0; i < burst; i++) {
		uint32_t op = ops[below(sizeof(ops) / sizeof(ops[0]))];
		uint32_t seq = next_seq++;
		size_t plen = make_payload(op, txbuf + sizeof(struct sim_wire_hdr));
		size_t len = put_hdr(op, seq, plen);
		int how = (int)below(16);
		bool may_close = false;

		if (how == 0) {
			/* header length disagrees with the message */
			struct sim_wire_hdr h;

			memcpy(&h, txbuf, sizeof(h));
			h.len = (uint32_t)pick_u64();
			memcpy(txbuf, &h, sizeof(h));
		} else if (how == 1) {
			/* shorter than a header: the server may drop us */
			len = below(sizeof(struct sim_wire_hdr));
			fill_random(txbuf, len);
			may_close = true;
		} else if (how == 2 && below(4) == 0) {
			/* bigger than the largest message */
			len = SIM_WIRE_MAX_MSG + 1 + below(1024);
			fill_random(txbuf + sizeof(struct sim_wire_hdr), len - sizeof(struct sim_wire_hdr));
			put_hdr(op, seq, len - sizeof(struct sim_wire_hdr));
		}
		if (!send_raw(fd, txbuf, len)) {
			if (errno == EMSGSIZE || errno == ENOBUFS)
				continue;     /* the kernel refused it; nothing reached the host */
			if (errno == EPIPE || errno == ECONNRESET)
				fail("host closed the connection before op %u", op);
			fail("send: %s", strerror(errno));
		}
		if (!answers) {
			/* push-only: requests get no reply; a pushed event may come */
			while (recv_msg(fd, 0) > 0)
				;
			continue;
		}
		if (len == 0) {
			/* an empty seqpacket message reads as end-of-file on the host */
			st.dropped_expected++;
			break;
		}
		if (!expect_reply(fd, op, seq, how == 0 ? "a header with a wrong length" : "a request")) {
			if (!may_close)
				fail("host closed the connection after op %u (message of %zu bytes)", op, len);
			st.dropped_expected++;
			break;
		}
		if (may_close)
			fail("a %zu-byte message got an answer", len);
		if (as_guest && how != 0 && len <= SIM_WIRE_MAX_MSG && op != SIM_OP_HELLO &&
		    !(op >= SIM_OP_XS_READ && op <= SIM_OP_XS_INTRODUCE)) {
			/* only xenstore is open to guests; the rest is dom0's (privcmd) */
			struct sim_wire_hdr rh;

			memcpy(&rh, rxbuf, sizeof(rh));
			if (rh.ret != -EPERM)
				fail("a guest's op %u answered %" PRId64 ", not -EPERM", op, rh.ret);
		}
		if (op == SIM_OP_HELLO && how != 0 && plen >= sizeof(struct sim_wire_hello)) {
			/* a random HELLO that worked turns the connection push-only */
			struct sim_wire_hdr rh;
			struct sim_wire_hello h;

			memcpy(&rh, rxbuf, sizeof(rh));
			memcpy(&h, txbuf + sizeof(struct sim_wire_hdr), sizeof(h));
			if (rh.ret == 0 && (h.kind == SIM_CONN_EVENTS || h.kind == SIM_CONN_WATCHES))
				answers = false;
		}
	}
	close(fd);
}

/* A fresh dom0 connection must still get a sane PHYSINFO. */
static void probe(void)
{
	int fd = connect_host();
	/* as the command line: a host injecting faults (--faults) must still answer it */
	struct sim_wire_hello h = { .version = SIM_WIRE_VERSION, .kind = SIM_CONN_CALLS,
				    .flags = SIM_HELLO_CLI };
	struct sim_wire_hdr rh;
	struct sim_wire_physinfo pi;
	uint32_t seq = next_seq++;

	memcpy(txbuf + sizeof(struct sim_wire_hdr), &h, sizeof(h));
	if (!send_raw(fd, txbuf, put_hdr(SIM_OP_HELLO, seq, sizeof(h))) ||
	    !expect_reply(fd, SIM_OP_HELLO, seq, "probe HELLO"))
		fail("probe: HELLO not answered");
	memcpy(&rh, rxbuf, sizeof(rh));
	if (rh.ret != 0)
		fail("probe: HELLO refused (%" PRId64 ")", rh.ret);
	seq = next_seq++;
	if (!send_raw(fd, txbuf, put_hdr(SIM_OP_PHYSINFO, seq, 0)) ||
	    !expect_reply(fd, SIM_OP_PHYSINFO, seq, "probe PHYSINFO"))
		fail("probe: PHYSINFO not answered");
	memcpy(&rh, rxbuf, sizeof(rh));
	if (rh.ret != 0 || rh.len != sizeof(pi))
		fail("probe: PHYSINFO ret %" PRId64 " len %u", rh.ret, rh.len);
	memcpy(&pi, rxbuf + sizeof(rh), sizeof(pi));
	if (!pi.total_pages || pi.free_pages > pi.total_pages)
		fail("probe: PHYSINFO total %" PRIu64 " free %" PRIu64, pi.total_pages, pi.free_pages);
	close(fd);
	st.probes++;
}

int main(int argc, char **argv)
{
	struct timespec t0, now;
	double seconds;
	uint64_t last_probe = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SOCKET SECONDS SEED\n", argv[0]);
		return 2;
	}
	sock_path = argv[1];
	seconds = strtod(argv[2], NULL);
	rng_state = strtoull(argv[3], NULL, 0);
	txbuf = calloc(1, BUF_MAX);
	rxbuf = calloc(1, BUF_MAX);
	if (!txbuf || !rxbuf)
		return 1;
	probe();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
			break;
		round_once();
		if (st.sent - last_probe >= 100) {
			probe();
			last_probe = st.sent;
		}
	}
	probe();
	printf("fuzz_wire_storm: %" PRIu64 " messages on %" PRIu64 " connections, %" PRIu64
	       " replies (%" PRIu64 " errors), %" PRIu64 " expected drops, %" PRIu64 " probes: host kept serving\n",
	       st.sent, st.conns, st.replies, st.errors, st.dropped_expected, st.probes);
	free(txbuf);
	free(rxbuf);
	return 0;
}
