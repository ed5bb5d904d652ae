/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control_ut.c - unit tests of dom0-daemon/json.c and dom0-daemon/control.c:
 * JSON escaping of hostile strings, and the control protocol served over a
 * socketpair and a real socket file (one answer line per command, order
 * kept, slow clients throttled and bounded, socket file rules).
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dom0-daemon/control.h"
#include "dom0-daemon/json.h"
#include "dom0-daemon/logsink.h"
#include "ut_common.h"

static char *json_of_string(const char *s, size_t n)
{
	static char out[512];
	struct xsd_json j;

	xsd_json_init(&j);
	xsd_json_strn(&j, NULL, s, n);
	CU_ASSERT_EQUAL(xsd_json_finish(&j), 0);
	snprintf(out, sizeof(out), "%s", j.buf);
	xsd_json_free(&j);
	out[strcspn(out, "\n")] = 0;
	return out;
}
#define J(lit) json_of_string(lit, sizeof(lit) - 1)

/* Proves strings are escaped per RFC 8259: quotes, backslashes and control
 * bytes escaped, valid UTF-8 kept, every invalid byte (stray continuation,
 * truncated sequence, overlong form, surrogate, > U+10FFFF) replaced by
 * U+FFFD, so any xenstore value yields valid JSON. */
static void test_json_escaping(void)
{
	CU_ASSERT_STRING_EQUAL(J("plain"), "\"plain\"");
	CU_ASSERT_STRING_EQUAL(J("a\"b\\c"), "\"a\\\"b\\\\c\"");
	CU_ASSERT_STRING_EQUAL(J("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
	CU_ASSERT_STRING_EQUAL(J("\x01\x1f"), "\"\\u0001\\u001f\"");
	CU_ASSERT_STRING_EQUAL(J("x\0y"), "\"x\\u0000y\"");
	CU_ASSERT_STRING_EQUAL(J("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	CU_ASSERT_STRING_EQUAL(J("\x80"), "\"\\ufffd\"");
	CU_ASSERT_STRING_EQUAL(J("caf\xc3"), "\"caf\\ufffd\"");
	CU_ASSERT_STRING_EQUAL(J("\xc0\xaf"), "\"\\ufffd\\ufffd\"");          /* overlong '/' */
	CU_ASSERT_STRING_EQUAL(J("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");
	CU_ASSERT_STRING_EQUAL(J("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate */
	CU_ASSERT_STRING_EQUAL(J("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	CU_ASSERT_STRING_EQUAL(J("\xff"), "\"\\ufffd\"");
}

/* Proves the writer places commas and keys right through nesting, prints
 * numbers exactly, maps non-finite doubles to null, and refuses an
 * unbalanced document. */
static void test_json_structure(void)
{
	struct xsd_json j;

	xsd_json_init(&j);
	xsd_json_obj_begin(&j, NULL);
	xsd_json_u64(&j, "a", UINT64_MAX);
	xsd_json_i64(&j, "b", -5);
	xsd_json_arr_begin(&j, "c");
	xsd_json_bool(&j, NULL, true);
	xsd_json_obj_begin(&j, NULL);
	xsd_json_obj_end(&j);
	xsd_json_double(&j, NULL, NAN);
	xsd_json_double(&j, NULL, 0.25);
	xsd_json_arr_end(&j);
	xsd_json_str(&j, "k\"", "v");
	xsd_json_obj_end(&j);
	CU_ASSERT_EQUAL(xsd_json_finish(&j), 0);
	CU_ASSERT_STRING_EQUAL(j.buf, "{\"a\":18446744073709551615,\"b\":-5,\"c\":[true,{},null,0.25],\"k\\\"\":\"v\"}\n");
	xsd_json_free(&j);

	xsd_json_init(&j);
	xsd_json_obj_begin(&j, NULL);
	CU_ASSERT_EQUAL(xsd_json_finish(&j), -EINVAL);
	xsd_json_free(&j);
}

/* ---- protocol ---- */

static unsigned int calls;
static size_t answer_pad;

static void handler(void *arg, const char *cmd, const char *args, struct xsd_json *out)
{
	(void)arg;
	char pad[8192];

	calls++;
	xsd_json_obj_begin(out, NULL);
	if (!strcmp(cmd, "ping")) {
		xsd_json_bool(out, "ok", true);
	} else if (!strcmp(cmd, "echo")) {
		xsd_json_str(out, "args", args);
	} else if (!strcmp(cmd, "big")) {
		memset(pad, 'x', answer_pad);
		xsd_json_strn(out, "pad", pad, answer_pad);
	} else {
		xsd_json_str(out, "error", "unknown command");
		xsd_json_str(out, "command", cmd);
	}
	xsd_json_obj_end(out);
}

/* One poll round of the server, without blocking. */
static void pump(struct xsd_control *c)
{
	struct pollfd pfds[XSD_CONTROL_MAX_POLLFDS];
	size_t n = xsd_control_fill_pollfds(c, pfds, XSD_CONTROL_MAX_POLLFDS);

	CU_ASSERT(poll(pfds, n, 0) >= 0);
	xsd_control_handle(c, pfds, n);
}

/* Reads what is available now (the peer is non-blocking after a pump). */
static size_t drain(int fd, char *buf, size_t len)
{
	size_t used = 0;
	ssize_t n;

	while (used + 1 < len && (n = recv(fd, buf + used, len - 1 - used, MSG_DONTWAIT)) > 0)
		used += (size_t)n;
	buf[used] = 0;
	return used;
}

static struct xsd_control *server_with_client(int *peer)
{
	struct xsd_control *c;
	int sv[2];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_FATAL(xsd_control_alloc(handler, NULL, &c) == 0);
	CU_ASSERT_FATAL(xsd_control_add_client(c, sv[0]) == 0);
	*peer = sv[1];
	return c;
}

/* Proves one JSON line answers each command, pipelined commands are
 * answered in order, CRLF and blank lines are tolerated, args reach the
 * handler, and unknown commands get the documented error object. */
static void test_protocol_basic(void)
{
	static const char cmds[] = "ping\r\necho a \"b\"\n\nnope x\n";
	struct xsd_control *c;
	char buf[4096];
	int peer;

	c = server_with_client(&peer);
	CU_ASSERT_EQUAL(send(peer, cmds, sizeof(cmds) - 1, 0), (ssize_t)sizeof(cmds) - 1);
	pump(c);
	drain(peer, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
		"{\"ok\":true}\n"
		"{\"args\":\"a \\\"b\\\"\"}\n"
		"{\"error\":\"unknown command\",\"command\":\"nope\"}\n");
	close(peer);
	pump(c);
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 0);   /* EOF: client closed */
	xsd_control_free(c);
}

/* Proves a command split across reads waits for its newline, a final
 * command without newline is still answered at EOF, and a NUL byte in a
 * command is refused rather than cut. */
static void test_protocol_partial(void)
{
	struct xsd_control *c;
	char buf[1024];
	int peer;

	c = server_with_client(&peer);
	CU_ASSERT_EQUAL(send(peer, "pi", 2, 0), 2);
	pump(c);
	CU_ASSERT_EQUAL(drain(peer, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(send(peer, "ng\npi\0ng\nping", 13, 0), 13);
	shutdown(peer, SHUT_WR);
	pump(c);
	pump(c);
	drain(peer, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"ok\":true}\n{\"error\":\"command contains a NUL byte\"}\n{\"ok\":true}\n");
	close(peer);
	xsd_control_free(c);
}

/* Proves a line longer than the limit is answered with an error and the
 * client is dropped, so input memory per client is bounded. */
static void test_protocol_long_line(void)
{
	struct xsd_control *c;
	char big[XSD_CONTROL_MAX_LINE + 100], buf[512];
	unsigned int before = calls;
	int peer;

	c = server_with_client(&peer);
	memset(big, 'a', sizeof(big));
	CU_ASSERT_EQUAL(send(peer, big, sizeof(big), 0), (ssize_t)sizeof(big));
	pump(c);
	drain(peer, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":\"command line too long\"}\n");
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 0);
	CU_ASSERT_EQUAL(calls, before);          /* the handler never saw the line */
	close(peer);
	xsd_control_free(c);
}

/* Proves a client that sends many commands but never reads cannot block
 * the server or grow its memory without bound: the server stops reading
 * its commands once XSD_CONTROL_THROTTLE bytes of answers are pending, and
 * answers everything once the client reads. */
static void test_slow_client(void)
{
	struct xsd_control *c;
	char cmds[2000 * 4], *buf;
	unsigned int before, handled, i, lines = 0;
	size_t total = 0;
	int peer, fl;

	c = server_with_client(&peer);
	fl = fcntl(peer, F_GETFL);
	fcntl(peer, F_SETFL, fl | O_NONBLOCK);
	for (i = 0; i < 2000; i++)
		memcpy(cmds + 4 * i, "big\n", 4);
	answer_pad = 2000;                       /* ~2 KiB per answer, 4 MB in all */
	before = calls;
	while (total < sizeof(cmds)) {
		ssize_t n = send(peer, cmds + total, sizeof(cmds) - total, MSG_DONTWAIT);

		if (n <= 0)
			break;
		total += (size_t)n;
		pump(c);
	}
	for (i = 0; i < 50; i++)
		pump(c);                             /* each returns: nothing blocks */
	handled = calls - before;
	CU_ASSERT(handled < 2000);
	/* pending answers are bounded by the throttle plus the socket buffers */
	CU_ASSERT(handled * 2030 < XSD_CONTROL_THROTTLE + 2 * 1024 * 1024);
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 1);

	buf = malloc(1 << 16);
	for (i = 0; i < 100000 && lines < 2000; i++) {
		size_t n, k;

		if (total < sizeof(cmds)) {
			ssize_t s = send(peer, cmds + total, sizeof(cmds) - total, MSG_DONTWAIT);

			if (s > 0)
				total += (size_t)s;
		}
		pump(c);
		n = drain(peer, buf, 1 << 16);
		for (k = 0; k < n; k++)
			lines += buf[k] == '\n';
	}
	CU_ASSERT_EQUAL(lines, 2000);
	CU_ASSERT_EQUAL(calls - before, 2000);
	free(buf);
	close(peer);
	xsd_control_free(c);
}

static uint64_t fake_ns;
static uint64_t fake_clock(void)
{
	return fake_ns;
}
#define S(x) ((uint64_t)(x) * 1000000000ull)

/* A server on the fake clock, at t = 1000 s. */
static struct xsd_control *server_on_fake_clock(void)
{
	struct xsd_control *c;

	CU_ASSERT_FATAL(xsd_control_alloc(handler, NULL, &c) == 0);
	fake_ns = S(1000);
	xsd_control_set_clock(c, fake_clock);
	return c;
}

/* True when the peer sees the end of the stream (the server closed it). */
static bool peer_closed(int fd)
{
	char b[256];
	ssize_t n;

	while ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
		;
	return n == 0;
}

/* Proves a full server still takes a new client, by closing the one quiet
 * longest (here the second: the first was older but has talked since),
 * and leaves the others alone: a hung agent holding every slot cannot
 * lock the operator out. */
static void test_client_limit(void)
{
	struct xsd_control *c = server_on_fake_clock();
	int sv[2], peers[XSD_CONTROL_MAX_CLIENTS], i;
	char buf[256];

	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++) {
		CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
		CU_ASSERT_EQUAL(xsd_control_add_client(c, sv[0]), 0);
		peers[i] = sv[1];
		fake_ns += S(1);
	}
	CU_ASSERT_EQUAL(send(peers[0], "ping\n", 5, 0), 5);
	pump(c);
	drain(peers[0], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"ok\":true}\n");
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), XSD_CONTROL_MAX_CLIENTS);

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(xsd_control_add_client(c, sv[0]), 0);
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), XSD_CONTROL_MAX_CLIENTS);
	CU_ASSERT(peer_closed(peers[1]));
	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++)
		if (i != 1)
			CU_ASSERT(!peer_closed(peers[i]));
	/* and the newcomer is served */
	CU_ASSERT_EQUAL(send(sv[1], "ping\n", 5, 0), 5);
	pump(c);
	drain(sv[1], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"ok\":true}\n");
	close(sv[1]);
	for (i = 0; i < XSD_CONTROL_MAX_CLIENTS; i++)
		close(peers[i]);
	xsd_control_free(c);
}

/* Proves a client with nothing pending is closed once it has been idle
 * longer than XSD_CONTROL_IDLE_S (not before), and that talking restarts
 * the count. */
static void test_idle_timeout(void)
{
	struct xsd_control *c = server_on_fake_clock();
	int sv[2];
	char buf[256];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(xsd_control_add_client(c, sv[0]), 0);
	fake_ns += S(XSD_CONTROL_IDLE_S) - 1;
	pump(c);
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 1);
	CU_ASSERT_EQUAL(send(sv[1], "ping\n", 5, 0), 5);
	pump(c);
	drain(sv[1], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"ok\":true}\n");
	fake_ns += S(XSD_CONTROL_IDLE_S);
	pump(c);
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 1);   /* exactly the limit: kept */
	fake_ns += 1;
	pump(c);
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 0);
	CU_ASSERT(peer_closed(sv[1]));
	close(sv[1]);
	xsd_control_free(c);
}

/* Proves a line left unfinished longer than XSD_CONTROL_LINE_S is answered
 * with an error and its client closed, timed from the line's first byte:
 * one more byte every two seconds does not keep the slot; and a line
 * finished in time is answered and stops that clock. */
static void test_partial_line_timeout(void)
{
	struct xsd_control *c = server_on_fake_clock();
	int sv[2], i;
	char buf[256];

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(xsd_control_add_client(c, sv[0]), 0);
	/* a complete command, then the start of the next: its clock starts */
	CU_ASSERT_EQUAL(send(sv[1], "ping\nst", 7, 0), 7);
	pump(c);
	drain(sv[1], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"ok\":true}\n");
	for (i = 0; i < XSD_CONTROL_LINE_S / 2; i++) {
		fake_ns += S(2);
		CU_ASSERT_EQUAL(send(sv[1], "a", 1, 0), 1);
		pump(c);
	}
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 1);   /* exactly the limit: kept */
	fake_ns += 1;
	pump(c);
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 0);
	drain(sv[1], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"error\":\"command line not finished in time\"}\n");
	close(sv[1]);

	CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CU_ASSERT_EQUAL(xsd_control_add_client(c, sv[0]), 0);
	CU_ASSERT_EQUAL(send(sv[1], "pi", 2, 0), 2);
	pump(c);
	fake_ns += S(XSD_CONTROL_LINE_S);
	CU_ASSERT_EQUAL(send(sv[1], "ng\n", 3, 0), 3);
	pump(c);
	fake_ns += S(XSD_CONTROL_LINE_S);
	pump(c);
	drain(sv[1], buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"ok\":true}\n");
	CU_ASSERT_EQUAL(xsd_control_nr_clients(c), 1);
	close(sv[1]);
	xsd_control_free(c);
}

/* Proves blanks before a command are not part of it: "  ping" is ping and
 * an unknown command is named as sent, not as ""; a line of blanks asks
 * nothing (no answer), like an empty one. */
static void test_leading_blanks(void)
{
	static const char cmds[] = "  ping\n\t echo  a b\n \t \n   nope x\n";
	struct xsd_control *c;
	char buf[1024];
	int peer;

	c = server_with_client(&peer);
	CU_ASSERT_EQUAL(send(peer, cmds, sizeof(cmds) - 1, 0), (ssize_t)sizeof(cmds) - 1);
	pump(c);
	drain(peer, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
		"{\"ok\":true}\n"
		"{\"args\":\"a b\"}\n"
		"{\"error\":\"unknown command\",\"command\":\"nope\"}\n");
	close(peer);
	xsd_control_free(c);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Proves the socket file is created 0600 in a 0700 directory made for it,
 * serves a real connection, refuses to start beside a live server or over
 * a non-socket, replaces a stale socket, and is removed on free. */
static void test_socket_file(void)
{
	char dir[] = "/tmp/xsd_control_ut.XXXXXX", path[100], err[256], buf[256];
	struct xsd_control *c, *c2;
	struct stat st;
	int fd, i;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sub/control.sock", dir);
	CU_ASSERT_EQUAL_FATAL(xsd_control_open(path, handler, NULL, &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	snprintf(buf, sizeof(buf), "%s/sub", dir);
	CU_ASSERT_EQUAL(stat(buf, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);

	fd = connect_to(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(send(fd, "ping\n", 5, 0), 5);
	for (i = 0; i < 5; i++)
		pump(c);
	drain(fd, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "{\"ok\":true}\n");

	CU_ASSERT_EQUAL(xsd_control_open(path, handler, NULL, &c2, err, sizeof(err)), -EADDRINUSE);
	CU_ASSERT(strstr(err, "another xenshared") != NULL);
	close(fd);
	xsd_control_free(c);
	CU_ASSERT_EQUAL(stat(path, &st), -1);            /* removed */

	/* a stale socket (bound, nobody listening) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(fd);
	CU_ASSERT_EQUAL(xsd_control_open(path, handler, NULL, &c, err, sizeof(err)), 0);
	xsd_control_free(c);

	/* a regular file is never replaced */
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	close(fd);
	CU_ASSERT_EQUAL(xsd_control_open(path, handler, NULL, &c, err, sizeof(err)), -EEXIST);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	unlink(path);
	snprintf(buf, sizeof(buf), "%s/sub", dir);
	rmdir(buf);
	rmdir(dir);
}

/* Proves arbitrary bytes from a client never crash the server (ASan/UBSan
 * in `make check`) and every answer it sends is one complete line. */
static void test_random_client(void)
{
	unsigned int seed = 777, round;
	char buf[1 << 16];

	for (round = 0; round < 300; round++) {
		struct xsd_control *c;
		char junk[3000];
		size_t n = 0, i, got;
		int peer;

		c = server_with_client(&peer);
		for (i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (seed >> 16) % 5 == 0 ? '\n' : (char)(seed >> 20);
		}
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 8) % sizeof(junk);
		CU_ASSERT_EQUAL(send(peer, junk, n, 0), (ssize_t)n);
		shutdown(peer, SHUT_WR);
		for (i = 0; i < 4; i++)
			pump(c);
		got = drain(peer, buf, sizeof(buf));
		CU_ASSERT(got == 0 || buf[got - 1] == '\n');
		CU_ASSERT(got == 0 || buf[0] == '{');
		close(peer);
		pump(c);
		xsd_control_free(c);
	}
}

int main(void)
{
	static const struct ut_test tests[] = {
		UT(test_json_escaping),
		UT(test_json_structure),
		UT(test_protocol_basic),
		UT(test_protocol_partial),
		UT(test_protocol_long_line),
		UT(test_slow_client),
		UT(test_client_limit),
		UT(test_idle_timeout),
		UT(test_partial_line_timeout),
		UT(test_leading_blanks),
		UT(test_socket_file),
		UT(test_random_client),
	};

	xsd_log_open(false, 3);
	return UT_RUN("control", NULL, NULL, tests);
}
