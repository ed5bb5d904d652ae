/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_control.c - the daemon's control socket (dom0-daemon/control.c):
 * arbitrary bytes from a client, split into commands the way the server
 * does it (line framing, "\r\n", NUL bytes, over-long lines, a last line
 * without its newline), and the answers written with the daemon's JSON
 * writer (dom0-daemon/json.c) from whatever the command and its arguments
 * held.
 *
 * The client is one end of a socketpair adopted with
 * xsd_control_add_client(), the same path a connection takes after
 * accept(); the server is driven with its own fill_pollfds/handle pair.
 * The command handler answers like xenshared's (ping, help, unknown
 * command naming the command) and echoes the arguments, so every byte a
 * client sends reaches the JSON writer.
 *
 * Input: one byte of flags (bit 0: close the sending side after the data;
 * bits 1-3: write in pieces of 4 << n bytes), then the bytes to send.
 * Properties: the server never crashes or stalls, every answer is one line
 * of valid JSON (strict UTF-8) holding an object, and there are never more
 * answers than commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fuzz_common.h"

#include "dom0-daemon/control.h"
#include "dom0-daemon/logsink.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	xsd_log_open(false, 2);   /* no warnings about dropped clients on stderr */
	return 0;
}

static void handler(void *arg, const char *cmd, const char *args, struct xsd_json *j)
{
	(void)arg;
	xsd_json_obj_begin(j, NULL);
	if (!strcmp(cmd, "ping")) {
		xsd_json_bool(j, "ok", true);
	} else if (!strcmp(cmd, "help")) {
		xsd_json_arr_begin(j, "commands");
		xsd_json_str(j, NULL, "ping");
		xsd_json_str(j, NULL, "help");
		xsd_json_arr_end(j);
	} else {
		xsd_json_str(j, "error", "unknown command");
		xsd_json_str(j, "command", cmd);
	}
	xsd_json_strn(j, "args", args, strlen(args));
	xsd_json_obj_end(j);
}

static void check_answers(const char *buf, size_t len, size_t max_answers)
{
	json_tokener *tok = json_tokener_new();
	size_t answers = 0;
	const char *line = buf;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	while (line < buf + len) {
		const char *nl = memchr(line, '\n', (size_t)(buf + len - line));
		json_object *o;

		fz_check(nl, "answer without its newline: '%.*s'", (int)(buf + len - line), line);
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, line, (int)(nl - line));
		fz_check(o && json_tokener_get_error(tok) == json_tokener_success &&
			 json_object_is_type(o, json_type_object) &&
			 json_tokener_get_parse_end(tok) == (size_t)(nl - line),
			 "answer is not one JSON object: '%.*s'", (int)(nl - line), line);
		json_object_put(o);
		answers++;
		line = nl + 1;
	}
	fz_check(answers <= max_answers, "%zu answers to at most %zu commands", answers, max_answers);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xsd_control *c;
	struct pollfd pfds[XSD_CONTROL_MAX_POLLFDS];
	char *answers = NULL;
	size_t alen = 0, acap = 0, sent = 0, piece, idle = 0, max_answers;
	bool close_after;
	int sv[2];

	if (!size)
		return 0;
	close_after = data[0] & 1;
	piece = (size_t)4 << ((data[0] >> 1) & 7);
	data++;
	size--;
	/* one answer per newline, one for a last line without it, one "too long" */
	max_answers = 2;
	for (size_t i = 0; i < size; i++)
		max_answers += data[i] == '\n';

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	if (xsd_control_alloc(handler, NULL, &c) || xsd_control_add_client(c, sv[0]))
		abort();

	for (unsigned int round = 0; round < 100000; round++) {
		size_t n, nfds;
		ssize_t r;
		bool progress = false;

		if (sent < size) {
			n = size - sent < piece ? size - sent : piece;
			r = send(sv[1], data + sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0) {
				sent += (size_t)r;
				progress = true;
				if (sent == size && close_after)
					shutdown(sv[1], SHUT_WR);
			} else if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
				sent = size;      /* the server closed on us (line too long) */
			}
		}
		nfds = xsd_control_fill_pollfds(c, pfds, XSD_CONTROL_MAX_POLLFDS);
		if (nfds && poll(pfds, nfds, 0) > 0)
			progress = true;
		xsd_control_handle(c, pfds, nfds);
		for (;;) {
			if (alen + 4096 > acap) {
				acap = acap ? acap * 2 : 65536;
				answers = realloc(answers, acap);
				if (!answers)
					abort();
			}
			r = recv(sv[1], answers + alen, acap - alen, MSG_DONTWAIT);
			if (r <= 0)
				break;
			alen += (size_t)r;
			progress = true;
		}
		if (!xsd_control_nr_clients(c) && sent == size)
			break;
		idle = progress ? 0 : idle + 1;
		if (idle > 3 && sent == size)
			break;
		fz_check(idle < 1000, "no progress: sent %zu of %zu", sent, size);
	}
	check_answers(answers ? answers : "", alen, max_answers);
	xsd_control_free(c);
	close(sv[1]);
	free(answers);
	return 0;
}
