/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.c - xensim's xl-like commands, as clients of a running host.
 *
 * DOC: Overview
 *
 * Each command opens one CALLS connection (wire.h), as dom0 or, for the
 * xenstore commands with --as, as a guest domain, so a test can act as a
 * guest trying to opt itself in.  Domain listing and counters use the same
 * ops libxenctrl uses (SIM_OP_DOMAIN_GETINFO, PHYSINFO, FREED_PAGES,
 * USED_FRAMES); creating, verifying, listing the shared frames and
 * stopping use the CLI ops, whose failures carry a message from the host
 * that is printed as it is.
 *
 * Exit status (cli.h): 0 ok, 1 the host refused or is unreachable, 2 bad
 * arguments, 3 verify found mismatches.  --json prints one JSON document
 * on stdout for scripts.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore_lib.h>

#include "wire.h"

#define CFG_MAX (1u << 20)

struct cli_conn {
	int fd;
	uint32_t seq;
	uint32_t patched;
	uint64_t nr_frames;
	uint8_t *buf;         /* one message */
};

const char *sim_cli_socket(const char *opt)
{
	const char *env = getenv(SIM_WIRE_ENV_SOCKET);

	if (opt && *opt)
		return opt;
	return env && *env ? env : SIM_WIRE_DEFAULT_SOCKET;
}

static int64_t cli_call(struct cli_conn *c, uint32_t op, const struct iovec *req, int nreq,
			const uint8_t **rep, size_t *replen, int *passed_fd)
{
	struct sim_wire_hdr hdr = { .op = op, .seq = ++c->seq };
	struct iovec iov[8];
	struct msghdr mh = { .msg_iov = iov };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct sim_wire_hdr rh;
	ssize_t n;
	size_t len = 0;

	if (rep)
		*rep = NULL;
	if (replen)
		*replen = 0;
	for (int i = 0; i < nreq; i++) {
		iov[i + 1] = req[i];
		len += req[i].iov_len;
	}
	if (len + sizeof(hdr) > SIM_WIRE_MAX_MSG)
		return -EMSGSIZE;
	hdr.len = (uint32_t)len;
	iov[0] = (struct iovec){ &hdr, sizeof(hdr) };
	mh.msg_iovlen = (size_t)nreq + 1;
	if (sendmsg(c->fd, &mh, MSG_NOSIGNAL) < 0)
		return -errno;

	memset(&mh, 0, sizeof(mh));
	iov[0] = (struct iovec){ c->buf, SIM_WIRE_MAX_MSG };
	mh.msg_iov = iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	for (struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch; ch = CMSG_NXTHDR(&mh, ch)) {
		if (ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS) {
			int fd;

			memcpy(&fd, CMSG_DATA(ch), sizeof(fd));
			if (passed_fd)
				*passed_fd = fd;
			else
				close(fd);
		}
	}
	if ((size_t)n < sizeof(rh))
		return -EPROTO;
	memcpy(&rh, c->buf, sizeof(rh));
	if (rh.op != op || rh.seq != hdr.seq || rh.len != (size_t)n - sizeof(rh))
		return -EPROTO;
	if (rep)
		*rep = c->buf + sizeof(rh);
	if (replen)
		*replen = rh.len;
	return rh.ret;
}

static int cli_connect(const char *sock, uint32_t as_domid, struct cli_conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sim_wire_hello h = { .version = SIM_WIRE_VERSION, .kind = SIM_CONN_CALLS,
				    .as_domid = as_domid, .flags = SIM_HELLO_CLI };
	struct sim_wire_hello_reply hr;
	struct iovec iov = { &h, sizeof(h) };
	const uint8_t *rep;
	size_t len;
	int memfd = -1;
	int64_t r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xensim: socket path %s is too long\n", sock);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, sock);
	c->buf = malloc(SIM_WIRE_MAX_MSG);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (!c->buf || c->fd < 0) {
		fprintf(stderr, "xensim: %s\n", strerror(errno));
		return -errno;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(stderr, "xensim: cannot reach a host at %s: %s (start one with: xensim start --socket %s)\n",
			sock, strerror(e), sock);
		return -e;
	}
	r = cli_call(c, SIM_OP_HELLO, &iov, 1, &rep, &len, &memfd);
	if (memfd >= 0)
		close(memfd);   /* the CLI never maps guest memory */
	if (r < 0 || len < sizeof(hr)) {
		fprintf(stderr, "xensim: the host at %s refused the connection: %s\n", sock,
			strerror(r < 0 ? (int)-r : EPROTO));
		return r < 0 ? (int)r : -EPROTO;
	}
	memcpy(&hr, rep, sizeof(hr));
	c->patched = hr.patched;
	c->nr_frames = hr.nr_frames;
	return 0;
}

static void cli_close(struct cli_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* Prints a CLI op's failure: the host's message if it sent one. */
static void print_failure(const char *what, int64_t r, const uint8_t *rep, size_t len)
{
	if (len && rep && memchr(rep, '\0', len) && rep[0])
		fprintf(stderr, "xensim: %s: %s\n", what, (const char *)rep);
	else
		fprintf(stderr, "xensim: %s: %s\n", what, strerror((int)-r));
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* ---- domains --------------------------------------------------------------- */

struct dom_table {
	struct sim_dominfo *d;
	unsigned int n;
	struct sim_wire_cli_guest *g;
	unsigned int ng;
};

static int fetch_domains(struct cli_conn *c, struct dom_table *t)
{
	uint32_t first = 0;

	memset(t, 0, sizeof(*t));
	for (;;) {
		struct sim_wire_dom_range q = { .first = first, .max = 256 };
		struct iovec iov = { &q, sizeof(q) };
		const uint8_t *rep;
		size_t len;
		int64_t r = cli_call(c, SIM_OP_DOMAIN_GETINFO, &iov, 1, &rep, &len, NULL);
		struct sim_dominfo *nd;

		if (r < 0)
			return (int)r;
		if (r == 0 || len < (size_t)r * sizeof(struct sim_dominfo))
			break;
		nd = realloc(t->d, (t->n + (size_t)r) * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		t->d = nd;
		memcpy(t->d + t->n, rep, (size_t)r * sizeof(*nd));
		t->n += (unsigned int)r;
		first = t->d[t->n - 1].domid + 1;
	}
	{
		const uint8_t *rep;
		size_t len;
		int64_t r = cli_call(c, SIM_OP_CLI_GUESTS, NULL, 0, &rep, &len, NULL);

		if (r > 0 && len >= (size_t)r * sizeof(struct sim_wire_cli_guest)) {
			t->g = malloc((size_t)r * sizeof(*t->g));
			if (t->g) {
				memcpy(t->g, rep, (size_t)r * sizeof(*t->g));
				t->ng = (unsigned int)r;
			}
		}
	}
	return 0;
}

static const struct sim_wire_cli_guest *guest_of(const struct dom_table *t, uint32_t domid)
{
	for (unsigned int i = 0; i < t->ng; i++)
		if (t->g[i].domid == domid)
			return &t->g[i];
	return NULL;
}

static void free_domains(struct dom_table *t)
{
	free(t->d);
	free(t->g);
}

/* xl's six-letter state: r b p s c d. */
static void state_str(uint32_t flags, char out[7])
{
	snprintf(out, 7, "%c%c%c%c%c%c", flags & SIM_DOMF_RUNNING ? 'r' : '-',
		 flags & SIM_DOMF_BLOCKED ? 'b' : '-', flags & SIM_DOMF_PAUSED ? 'p' : '-',
		 flags & SIM_DOMF_SHUTDOWN ? 's' : '-', flags & SIM_DOMF_CRASHED ? 'c' : '-',
		 flags & SIM_DOMF_DYING ? 'd' : '-');
}

/* DOM is a name or a number, as for xl. */
static int resolve_dom(const struct dom_table *t, const char *dom, uint32_t *domid)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(dom, &end, 10);
	for (unsigned int i = 0; i < t->n; i++) {
		if (!strcmp(t->d[i].name, dom) ||
		    (*dom && !*end && !errno && t->d[i].domid == v)) {
			*domid = t->d[i].domid;
			return 0;
		}
	}
	return -ESRCH;
}

int sim_cli_domain_op(const char *sock, const char *what, const char *dom)
{
	struct cli_conn c;
	struct dom_table t;
	uint32_t domid;
	uint32_t op = !strcmp(what, "pause") ? SIM_OP_DOMAIN_PAUSE :
		      !strcmp(what, "unpause") ? SIM_OP_DOMAIN_UNPAUSE : SIM_OP_DOMAIN_DESTROY;
	int status = SIM_EXIT_FAIL;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	if (fetch_domains(&c, &t) < 0) {
		fprintf(stderr, "xensim: %s: cannot list domains\n", what);
		goto out;
	}
	if (resolve_dom(&t, dom, &domid)) {
		fprintf(stderr, "xensim: %s: no domain named or numbered \"%s\"\n", what, dom);
		goto out_t;
	}
	{
		struct sim_wire_dom d = { .domid = domid };
		struct iovec iov = { &d, sizeof(d) };
		int64_t r = cli_call(&c, op, &iov, 1, NULL, NULL, NULL);

		if (r < 0) {
			fprintf(stderr, "xensim: %s %s (domain %u): %s\n", what, dom, domid,
				strerror((int)-r));
			goto out_t;
		}
	}
	status = SIM_EXIT_OK;
out_t:
	free_domains(&t);
out:
	cli_close(&c);
	return status;
}

int sim_cli_save(const char *sock, const char *dom, const char *file, bool live,
		 bool checkpoint, bool json)
{
	struct cli_conn c;
	struct dom_table t;
	char self[PATH_MAX], helper[PATH_MAX + 16], id[16], *slash;
	char *argv[8];
	uint32_t domid;
	ssize_t n;
	int argc = 0;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	if (fetch_domains(&c, &t) < 0) {
		fprintf(stderr, "xensim: save: cannot list domains\n");
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	if (resolve_dom(&t, dom, &domid)) {
		fprintf(stderr, "xensim: save: no domain named or numbered \"%s\"\n", dom);
		free_domains(&t);
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	free_domains(&t);
	cli_close(&c);
	if (domid == 0) {
		fprintf(stderr, "xensim: save: dom0 cannot be saved\n");
		return SIM_EXIT_USAGE;
	}
	/* the helper lives next to this binary */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		fprintf(stderr, "xensim: save: /proc/self/exe: %s\n", strerror(errno));
		return SIM_EXIT_FAIL;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(helper, sizeof(helper), "%s/xensim-save", self);
	snprintf(id, sizeof(id), "%u", domid);
	argv[argc++] = helper;
	if (live)
		argv[argc++] = "--live";
	if (checkpoint)
		argv[argc++] = "--checkpoint";
	if (json)
		argv[argc++] = "--json";
	argv[argc++] = id;
	argv[argc++] = (char *)file;
	argv[argc] = NULL;
	if (setenv(SIM_WIRE_ENV_SOCKET, sock, 1) < 0) {
		fprintf(stderr, "xensim: save: %s\n", strerror(errno));
		return SIM_EXIT_FAIL;
	}
	execv(helper, argv);
	fprintf(stderr, "xensim: save: cannot run %s: %s\n", helper, strerror(errno));
	return SIM_EXIT_FAIL;
}

/*
 * Every DOM is resolved before the first storm starts, so a typo starts
 * none; the storms then start one after another without waiting.
 */
int sim_cli_storm(const char *sock, uint32_t permille, int ndoms, char **doms)
{
	struct cli_conn c;
	struct dom_table t;
	uint32_t *ids;
	int status = SIM_EXIT_FAIL;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	ids = calloc((size_t)ndoms, sizeof(*ids));
	if (!ids || fetch_domains(&c, &t) < 0) {
		fprintf(stderr, "xensim: storm: cannot list domains\n");
		free(ids);
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	for (int i = 0; i < ndoms; i++) {
		if (resolve_dom(&t, doms[i], &ids[i])) {
			fprintf(stderr, "xensim: storm: no domain named or numbered \"%s\"\n", doms[i]);
			goto out;
		}
	}
	for (int i = 0; i < ndoms; i++) {
		struct sim_wire_cli_storm h = { .domid = ids[i], .permille = permille };
		struct iovec iov = { &h, sizeof(h) };
		const uint8_t *rep;
		size_t len;
		int64_t r = cli_call(&c, SIM_OP_CLI_STORM, &iov, 1, &rep, &len, NULL);

		if (r < 0) {
			fprintf(stderr, "xensim: storm %s: %s\n", doms[i],
				len ? (const char *)rep : strerror((int)-r));
			goto out;
		}
		printf("%s %" PRId64 "\n", doms[i], r);
	}
	status = SIM_EXIT_OK;
out:
	free(ids);
	free_domains(&t);
	cli_close(&c);
	return status;
}

int sim_cli_list(const char *sock, int json)
{
	struct cli_conn c;
	struct dom_table t;
	int status = SIM_EXIT_FAIL;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	if (fetch_domains(&c, &t) < 0) {
		fprintf(stderr, "xensim: list: cannot list domains\n");
		goto out;
	}
	if (json)
		printf("[");
	else
		printf("%-32s %5s %7s %5s %-6s %7s %-8s %s\n", "Name", "ID", "Mem", "VCPUs",
		       "State", "Shared", "Sharing", "Writes");
	for (unsigned int i = 0; i < t.n; i++) {
		const struct sim_dominfo *d = &t.d[i];
		const struct sim_wire_cli_guest *g = guest_of(&t, d->domid);
		char st[7];

		state_str(d->flags, st);
		if (json) {
			printf("%s\n  {\"name\": ", i ? "," : "");
			json_str(stdout, d->name);
			printf(", \"domid\": %u, \"mem_mib\": %" PRIu64 ", \"tot_pages\": %" PRIu64
			       ", \"shr_pages\": %" PRIu64 ", \"max_pages\": %" PRIu64
			       ", \"nr_gfns\": %" PRIu64 ", \"vcpus\": %u, \"paused_vcpus\": %u"
			       ", \"longest_vcpu_pause_ms\": %" PRIu64
			       ", \"vcpu_pauses\": %" PRIu64 ", \"vcpu_pause_total_us\": %" PRIu64
			       ", \"vcpu_pause_max_us\": %" PRIu64
			       ", \"state\": \"%s\", \"paused\": %s, \"crashed\": %s",
			       d->domid, d->tot_pages / 256, d->tot_pages, d->shr_pages,
			       d->max_pages, d->nr_gfns, d->nr_online_vcpus, d->paused_vcpus,
			       d->longest_pause_ns / 1000000, d->vcpu_pauses,
			       d->pause_total_ns / 1000, d->pause_max_ns / 1000, st,
			       d->flags & SIM_DOMF_PAUSED ? "true" : "false",
			       d->flags & SIM_DOMF_CRASHED ? "true" : "false");
			if (g) {
				printf(", \"mem_sharing\": ");
				json_str(stdout, g->mem_sharing);
				printf(", \"mem_sharing_group\": ");
				json_str(stdout, g->mem_sharing_group);
				printf(", \"writes\": %" PRIu64 ", \"write_rate\": %" PRIu64
				       ", \"vcpus_writing\": %u, \"storm_pages\": %" PRIu64
				       ", \"storm_written\": %" PRIu64 ", \"storm_running\": %s",
				       g->writes, g->write_rate, g->vcpus_running, g->storm_pages,
				       g->storm_written, g->storm_running ? "true" : "false");
			}
			printf(", \"vcpu_pause_hist_us\": [");
			for (unsigned int b = 0; b < SIM_PAUSE_BUCKETS; b++)
				printf("%s%" PRIu64, b ? ", " : "", d->pause_hist[b]);
			printf("]}");
		} else {
			char writes[24] = "-";

			if (g)
				snprintf(writes, sizeof(writes), "%" PRIu64, g->writes);
			printf("%-32s %5u %7" PRIu64 " %5u %-6s %7" PRIu64 " %-8s %s\n", d->name,
			       d->domid, d->tot_pages / 256, d->nr_online_vcpus, st,
			       d->shr_pages / 256,
			       g && g->mem_sharing[0] ? g->mem_sharing : "-", writes);
		}
	}
	if (json)
		printf("\n]\n");
	status = SIM_EXIT_OK;
	free_domains(&t);
out:
	cli_close(&c);
	return status;
}

/*
 * "faults": {"enabled": B, "seed": N, "rate": F, "kinds": [...], "rates": {KIND: F...},
 *  "injected": {KIND: N...}, "operations": {KIND: N...}, "hypercalls": {OP: N...}}
 */
static void print_faults_json(const struct sim_fault_stats *fs)
{
	bool first = true;

	printf("{\"enabled\": %s, \"seed\": %" PRIu64 ", \"rate\": %.17g, \"kinds\": [",
	       fs->enabled ? "true" : "false", fs->seed, fs->rate);
	for (unsigned int k = 0; k < SIM_FK_NR; k++) {
		if (!(fs->kinds & (1u << k)))
			continue;
		printf("%s\"%s\"", first ? "" : ", ", sim_fault_kind_name(k));
		first = false;
	}
	printf("], \"rates\": {");
	for (unsigned int k = 0; k < SIM_FK_NR; k++)
		printf("%s\"%s\": %.17g", k ? ", " : "", sim_fault_kind_name(k),
		       fs->kinds & (1u << k) ? fs->rates[k] : 0.0);
	printf("}, \"injected\": {");
	for (unsigned int k = 0; k < SIM_FK_NR; k++)
		printf("%s\"%s\": %" PRIu64, k ? ", " : "", sim_fault_kind_name(k), fs->injected[k]);
	printf("}, \"operations\": {");
	for (unsigned int k = 0; k < SIM_FK_NR; k++)
		printf("%s\"%s\": %" PRIu64, k ? ", " : "", sim_fault_kind_name(k), fs->draws[k]);
	printf("}, \"hypercalls\": {");
	for (unsigned int op = 0; op < SIM_FOP_NR; op++)
		printf("%s\"%s\": %" PRIu64, op ? ", " : "", sim_fault_op_name(op), fs->by_op[op]);
	printf("}}");
}

int sim_cli_info(const char *sock, int json)
{
	struct cli_conn c;
	struct dom_table t;
	struct sim_wire_physinfo pi;
	struct sim_wire_cli_residue res;
	struct sim_fault_stats fs;
	const uint8_t *rep;
	size_t len;
	int64_t freed, used, r;
	int status = SIM_EXIT_FAIL;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	r = cli_call(&c, SIM_OP_PHYSINFO, NULL, 0, &rep, &len, NULL);
	if (r < 0 || len < sizeof(pi)) {
		fprintf(stderr, "xensim: info: physinfo failed: %s\n", strerror(r < 0 ? (int)-r : EPROTO));
		goto out;
	}
	memcpy(&pi, rep, sizeof(pi));
	/*
	 * The invariant is judged on the residue's snapshot (one critical
	 * section in the host): the counters and the domain list below are
	 * separate calls, between which guests keep writing (unsharing).
	 */
	r = cli_call(&c, SIM_OP_CLI_RESIDUE, NULL, 0, &rep, &len, NULL);
	if (r >= 0 && len >= sizeof(res))
		memcpy(&res, rep, sizeof(res));
	else
		r = -EPROTO;
	freed = cli_call(&c, SIM_OP_FREED_PAGES, NULL, 0, NULL, NULL, NULL);
	used = cli_call(&c, SIM_OP_USED_FRAMES, NULL, 0, NULL, NULL, NULL);
	if (freed < 0 || used < 0 || r < 0 || fetch_domains(&c, &t) < 0) {
		fprintf(stderr, "xensim: info: the host did not answer its counters\n");
		goto out;
	}
	r = cli_call(&c, SIM_OP_CLI_FAULTS, NULL, 0, &rep, &len, NULL);
	if (r < 0 || len < sizeof(fs)) {
		fprintf(stderr, "xensim: info: the host did not answer its fault counters\n");
		free_domains(&t);
		goto out;
	}
	memcpy(&fs, rep, sizeof(fs));
	if (json) {
		printf("{\"total_frames\": %" PRIu64 ", \"free_frames\": %" PRIu64
		       ", \"total_mib\": %" PRIu64 ", \"free_mib\": %" PRIu64
		       ", \"sharing_freed_pages\": %" PRId64 ", \"sharing_used_frames\": %" PRId64
		       ", \"sum_shr_pages\": %" PRIu64 ", \"invariant_ok\": %s, \"patched\": %s"
		       ", \"nr_cpus\": %" PRIu64 ", \"foreign_mappings\": %" PRIu64
		       ", \"nominated_unshared\": %" PRIu64 ", \"nominated_unmerged\": %" PRIu64
		       ", \"unshare_enomem\": %" PRIu64
		       ", \"frame_merge_preemptions\": %" PRIu64 ", \"domains\": [",
		       pi.total_pages, pi.free_pages, pi.total_pages / 256, pi.free_pages / 256,
		       freed, used, res.sum_shr_pages,
		       res.sum_shr_pages == res.freed_pages + res.used_frames ? "true" : "false",
		       c.patched ? "true" : "false", pi.nr_cpus,
		       res.foreign_mappings, res.nominated_unshared, res.nominated_unmerged,
		       res.unshare_enomem,
		       res.frame_merge_preemptions);
		for (unsigned int i = 0; i < t.n; i++) {
			printf("%s{\"name\": ", i ? ", " : "");
			json_str(stdout, t.d[i].name);
			printf(", \"domid\": %u, \"tot_pages\": %" PRIu64 ", \"shr_pages\": %" PRIu64
			       ", \"nr_gfns\": %" PRIu64 ", \"holes\": %" PRIu64
			       ", \"paused_vcpus\": %u, \"longest_vcpu_pause_ms\": %" PRIu64
			       ", \"logdirty\": %s, \"logdirty_faults\": %" PRIu64 "}",
			       t.d[i].domid, t.d[i].tot_pages, t.d[i].shr_pages, t.d[i].nr_gfns,
			       t.d[i].nr_holes, t.d[i].paused_vcpus, t.d[i].longest_pause_ns / 1000000,
			       t.d[i].logdirty ? "true" : "false", t.d[i].logdirty_faults);
		}
		printf("], \"faults\": ");
		print_faults_json(&fs);
		printf("}\n");
	} else {
		printf("host_memory          : %" PRIu64 " MiB (%" PRIu64 " frames)\n",
		       pi.total_pages / 256, pi.total_pages);
		printf("free_memory          : %" PRIu64 " MiB (%" PRIu64 " frames)\n",
		       pi.free_pages / 256, pi.free_pages);
		printf("hypervisor           : %s\n", c.patched ? "patched (hypervisor-patch/)" : "unpatched Xen 4.17");
		printf("sharing_freed_pages  : %" PRId64 "\n", freed);
		printf("sharing_used_frames  : %" PRId64 "\n", used);
		printf("sum of shr_pages     : %" PRIu64 " (%s)\n", res.sum_shr_pages,
		       res.sum_shr_pages == res.freed_pages + res.used_frames ?
		       "= freed + used" : "INVARIANT VIOLATED");
		printf("foreign_mappings     : %" PRIu64 " (frames mapped by clients)\n",
		       res.foreign_mappings);
		printf("nominated_unshared   : %" PRIu64 " (shared frames with one sharer)\n",
		       res.nominated_unshared);
		printf("nominated_unmerged   : %" PRIu64 " (of those, never merged with another)\n",
		       res.nominated_unmerged);
		printf("unshare_enomem       : %" PRIu64 " (unshares that found no free frame)\n",
		       res.unshare_enomem);
		printf("frame_merge_preempts : %" PRIu64 " (frame-to-frame merges that yielded half way)\n",
		       res.frame_merge_preemptions);
		if (fs.enabled) {
			printf("fault_injection      : seed %" PRIu64 ", rate %g\n", fs.seed, fs.rate);
			for (unsigned int k = 0; k < SIM_FK_NR; k++)
				if (fs.kinds & (1u << k))
					printf("  %-19s: %" PRIu64 " of %" PRIu64 " operations (rate %g)\n",
					       sim_fault_kind_name(k), fs.injected[k], fs.draws[k], fs.rates[k]);
		} else {
			printf("fault_injection      : off\n");
		}
		printf("%-32s %5s %10s %10s %10s %8s %15s\n", "Name", "ID", "tot_pages", "shr_pages",
		       "holes", "logdirty", "logdirty_faults");
		for (unsigned int i = 0; i < t.n; i++)
			printf("%-32s %5u %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8s %15" PRIu64 "\n",
			       t.d[i].name, t.d[i].domid, t.d[i].tot_pages, t.d[i].shr_pages,
			       t.d[i].nr_holes, t.d[i].logdirty ? "on" : "off", t.d[i].logdirty_faults);
	}
	status = SIM_EXIT_OK;
	free_domains(&t);
out:
	cli_close(&c);
	return status;
}

int sim_cli_frames(const char *sock, int json)
{
	struct cli_conn c;
	const uint8_t *rep, *buf = MAP_FAILED;
	struct stat sb;
	size_t len, off = 0;
	uint64_t sharers = 0;
	int fd = -1, status = SIM_EXIT_FAIL;
	int64_t n;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	n = cli_call(&c, SIM_OP_CLI_FRAMES, NULL, 0, &rep, &len, &fd);
	if (n < 0) {
		print_failure("frames", n, rep, len);
		goto out;
	}
	if (fd < 0 || fstat(fd, &sb) < 0) {
		fprintf(stderr, "xensim: frames: the host passed no list (%s)\n", strerror(fd < 0 ? EPROTO : errno));
		goto out;
	}
	if (sb.st_size > 0) {
		buf = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (buf == MAP_FAILED) {
			fprintf(stderr, "xensim: frames: cannot map the list: %s\n", strerror(errno));
			goto out;
		}
	}
	if (json)
		printf("{\"frames\": [");
	else
		printf("%-12s %10s %7s  %s\n", "MFN", "Handle", "Sharers", "Domain:gfn ...");
	for (int64_t i = 0; i < n; i++) {
		struct sim_hv_frame_rec rec;

		if (off + sizeof(rec) > (size_t)sb.st_size)
			break;
		memcpy(&rec, buf + off, sizeof(rec));
		off += sizeof(rec);
		if (rec.nr_sharers > ((size_t)sb.st_size - off) / sizeof(struct sim_hv_sharer)) {
			off = SIZE_MAX;
			break;
		}
		if (json)
			printf("%s\n  {\"mfn\": %" PRIu64 ", \"handle\": %" PRIu64 ", \"sharers\": %u, \"gfns\": [",
			       i ? "," : "", rec.mfn, rec.handle, rec.nr_sharers);
		else
			printf("0x%-10" PRIx64 " %10" PRIu64 " %7u ", rec.mfn, rec.handle, rec.nr_sharers);
		for (uint32_t j = 0; j < rec.nr_sharers; j++) {
			struct sim_hv_sharer sh;

			memcpy(&sh, buf + off, sizeof(sh));
			off += sizeof(sh);
			if (json)
				printf("%s{\"domid\": %u, \"gfn\": %" PRIu64 "}", j ? ", " : "", sh.domid, sh.gfn);
			else
				printf(" %u:0x%" PRIx64, sh.domid, sh.gfn);
		}
		sharers += rec.nr_sharers;
		printf(json ? "]}" : "\n");
	}
	if (off != (size_t)sb.st_size) {
		fprintf(stderr, "xensim: frames: the host's list is malformed\n");
		goto out;
	}
	if (json)
		printf("\n], \"nr_frames\": %" PRId64 ", \"nr_sharers\": %" PRIu64 "}\n", n, sharers);
	status = SIM_EXIT_OK;
out:
	if (buf != MAP_FAILED)
		munmap((void *)buf, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
	cli_close(&c);
	return status;
}

int sim_cli_verify(const char *sock, int json)
{
	struct cli_conn c;
	struct dom_table t = { 0 };
	const uint8_t *rep;
	size_t len, shown;
	int64_t r;
	int status = SIM_EXIT_FAIL;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	if (fetch_domains(&c, &t) < 0)
		memset(&t, 0, sizeof(t));   /* names are a nicety */
	r = cli_call(&c, SIM_OP_CLI_VERIFY, NULL, 0, &rep, &len, NULL);
	if (r < 0) {
		print_failure("verify", r, rep, len);
		goto out;
	}
	shown = len / sizeof(struct sim_mismatch);
	if (json)
		printf("{\"mismatches\": %" PRId64 ", \"pages\": [", r);
	for (size_t i = 0; i < shown; i++) {
		struct sim_mismatch m;
		const char *name = "?";

		memcpy(&m, rep + i * sizeof(m), sizeof(m));
		for (unsigned int j = 0; j < t.n; j++)
			if (t.d[j].domid == m.domid)
				name = t.d[j].name;
		if (json) {
			printf("%s{\"domid\": %u, \"name\": ", i ? ", " : "", m.domid);
			json_str(stdout, name);
			printf(", \"gfn\": %" PRIu64 "}", m.gfn);
		} else {
			printf("MISMATCH domain %u (%s) gfn %#" PRIx64 "\n", m.domid, name, m.gfn);
		}
	}
	if (json)
		printf("]}\n");
	else if (r > (int64_t)shown)
		printf("... and %" PRId64 " more\n", r - (int64_t)shown);
	if (!json)
		printf("verify: %" PRId64 " mismatches\n", r);
	status = r ? SIM_EXIT_MISMATCH : SIM_EXIT_OK;
out:
	free_domains(&t);
	cli_close(&c);
	return status;
}

int sim_cli_stop(const char *sock)
{
	struct cli_conn c;
	const uint8_t *rep;
	size_t len;
	int64_t r;
	struct pollfd pfd;
	char b;

	if (cli_connect(sock, 0, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	r = cli_call(&c, SIM_OP_CLI_STOP, NULL, 0, &rep, &len, NULL);
	if (r < 0) {
		print_failure("stop", r, rep, len);
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	/* The host closes every connection when it has stopped its guests. */
	pfd = (struct pollfd){ .fd = c.fd, .events = POLLIN };
	if (poll(&pfd, 1, 60000) <= 0 || recv(c.fd, &b, 1, 0) > 0) {
		fprintf(stderr, "xensim: stop: the host did not exit within 60 s\n");
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	cli_close(&c);
	return SIM_EXIT_OK;
}

/* ---- create ---------------------------------------------------------------- */

int sim_cli_create(const char *sock, int argc, char **argv)
{
	const char *file;
	char *data = NULL, *real = NULL, *slash;
	size_t data_len = 0;
	struct iovec iov[8];
	struct sim_wire_cli_create h;
	char *ovbuf = NULL;
	size_t ovlen = 0;
	struct cli_conn c = { .fd = -1 };
	const uint8_t *rep;
	size_t len;
	int64_t r;
	int status = SIM_EXIT_FAIL;
	FILE *f;

	if (argc < 1) {
		fprintf(stderr, "xensim: create: missing FILE.cfg (usage: xensim create FILE.cfg [key=value ...])\n");
		return SIM_EXIT_USAGE;
	}
	file = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i]) {
			fprintf(stderr, "xensim: create: \"%s\" is not a key=value override\n", argv[i]);
			return SIM_EXIT_USAGE;
		}
	}
	if (argc - 1 > 64) {
		fprintf(stderr, "xensim: create: at most 64 overrides\n");
		return SIM_EXIT_USAGE;
	}
	fprintf(stderr, "Parsing config from %s\n", file);
	f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "xensim: create: cannot read config file %s: %s\n", file, strerror(errno));
		return SIM_EXIT_FAIL;
	}
	data = malloc(CFG_MAX + 1);
	if (data)
		data_len = fread(data, 1, CFG_MAX + 1, f);
	if (!data || ferror(f) || data_len > CFG_MAX) {
		fprintf(stderr, "xensim: create: %s: %s\n", file,
			data_len > CFG_MAX ? "larger than 1 MiB, not an xl.cfg" : strerror(errno));
		fclose(f);
		goto out;
	}
	fclose(f);
	real = realpath(file, NULL);
	if (!real) {
		fprintf(stderr, "xensim: create: %s: %s\n", file, strerror(errno));
		goto out;
	}
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	for (int i = 1; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		char *nb = realloc(ovbuf, ovlen + l);

		if (!nb)
			goto out;
		ovbuf = nb;
		memcpy(ovbuf + ovlen, argv[i], l);
		ovlen += l;
	}
	h = (struct sim_wire_cli_create){ .nr_overrides = (uint32_t)(argc - 1),
					  .data_len = (uint32_t)data_len };
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)file, strlen(file) + 1 };
	iov[2] = (struct iovec){ real, strlen(real) + 1 };
	iov[3] = (struct iovec){ data, data_len };
	iov[4] = (struct iovec){ ovbuf, ovlen };
	if (cli_connect(sock, 0, &c))
		goto out;
	r = cli_call(&c, SIM_OP_CLI_CREATE, iov, 5, &rep, &len, NULL);
	if (r < 0) {
		print_failure("create", r, rep, len);
		goto out;
	}
	printf("Domain %" PRId64 " created from %s\n", r, file);
	status = SIM_EXIT_OK;
out:
	cli_close(&c);
	free(ovbuf);
	free(real);
	free(data);
	return status;
}

/* ---- xenstore -------------------------------------------------------------- */

static struct iovec str_iov(const char *s)
{
	return (struct iovec){ (void *)s, strlen(s) + 1 };
}

static void xs_ls(struct cli_conn *c, const char *path, int depth)
{
	struct iovec iov = str_iov(path);
	const uint8_t *rep;
	size_t len, off = 0;
	char *names;
	int64_t n = cli_call(c, SIM_OP_XS_DIRECTORY, &iov, 1, &rep, &len, NULL);

	if (n < 0) {
		printf("%*s(%s: %s)\n", depth, "", path, strerror((int)-n));
		return;
	}
	names = malloc(len + 1);
	if (!names)
		return;
	memcpy(names, rep, len);
	names[len] = '\0';
	while (off < len) {
		const char *name = names + off;
		char child[4096];
		const uint8_t *v;
		size_t vlen;
		int64_t rr;

		off += strlen(name) + 1;
		snprintf(child, sizeof(child), "%s%s%s", path, strcmp(path, "/") ? "/" : "", name);
		iov = str_iov(child);
		rr = cli_call(c, SIM_OP_XS_READ, &iov, 1, &v, &vlen, NULL);
		if (rr < 0)
			printf("%*s%s: (%s)\n", depth, "", name, strerror((int)-rr));
		else
			printf("%*s%s = \"%.*s\"\n", depth, "", name, (int)vlen, (const char *)v);
		xs_ls(c, child, depth + 1);
	}
	free(names);
}

/* xenstore-chmod's PERM: n|r|w|b followed by a domid. */
static int parse_perm(const char *s, struct sim_wire_xs_perm *p)
{
	char *end;
	unsigned long id;

	switch (s[0]) {
	case 'n': p->perms = XS_PERM_NONE; break;
	case 'r': p->perms = XS_PERM_READ; break;
	case 'w': p->perms = XS_PERM_WRITE; break;
	case 'b': p->perms = XS_PERM_READ | XS_PERM_WRITE; break;
	default: return -EINVAL;
	}
	errno = 0;
	id = strtoul(s + 1, &end, 10);
	if (!s[1] || *end || errno || id > 0xffff)
		return -EINVAL;
	p->id = (uint32_t)id;
	return 0;
}

int sim_cli_xenstore(const char *sock, const char *cmd, unsigned int as_domid,
		     int argc, char **argv)
{
	struct cli_conn c;
	const uint8_t *rep;
	size_t len;
	int64_t r = 0;
	int want = !strcmp(cmd, "xenstore-write") ? 2 : !strcmp(cmd, "xenstore-chmod") ? -2 : 1;
	struct sim_wire_xs_perm perms[64];
	int status = SIM_EXIT_FAIL;

	if ((want > 0 && argc != want) || (want < 0 && (argc < 2 || argc > 65))) {
		fprintf(stderr, "xensim: %s: expected %s\n", cmd,
			want == 2 ? "PATH VALUE" : want < 0 ? "PATH PERM... (PERM: n|r|w|b<domid>)" : "PATH");
		return SIM_EXIT_USAGE;
	}
	if (want < 0) {
		for (int i = 1; i < argc; i++) {
			if (parse_perm(argv[i], &perms[i - 1])) {
				fprintf(stderr, "xensim: %s: bad permission \"%s\" (n|r|w|b followed by a domid, e.g. r5)\n",
					cmd, argv[i]);
				return SIM_EXIT_USAGE;
			}
		}
	}
	if (cli_connect(sock, as_domid, &c)) {
		cli_close(&c);
		return SIM_EXIT_FAIL;
	}
	if (!strcmp(cmd, "xenstore-read")) {
		struct iovec iov = str_iov(argv[0]);

		r = cli_call(&c, SIM_OP_XS_READ, &iov, 1, &rep, &len, NULL);
		if (r >= 0)
			printf("%.*s\n", (int)len, (const char *)rep);
	} else if (!strcmp(cmd, "xenstore-write")) {
		struct iovec iov[2] = { str_iov(argv[0]), { argv[1], strlen(argv[1]) } };

		r = cli_call(&c, SIM_OP_XS_WRITE, iov, 2, NULL, NULL, NULL);
	} else if (!strcmp(cmd, "xenstore-rm")) {
		struct iovec iov = str_iov(argv[0]);

		r = cli_call(&c, SIM_OP_XS_RM, &iov, 1, NULL, NULL, NULL);
	} else if (!strcmp(cmd, "xenstore-ls")) {
		struct iovec iov = str_iov(argv[0]);

		r = cli_call(&c, SIM_OP_XS_DIRECTORY, &iov, 1, &rep, &len, NULL);
		if (r >= 0)
			xs_ls(&c, argv[0], 0);
	} else {
		uint32_t hdr[2] = { (uint32_t)(argc - 1), 0 };
		struct iovec iov[3] = {
			{ hdr, sizeof(hdr) }, { perms, (size_t)(argc - 1) * sizeof(perms[0]) },
			str_iov(argv[0]),
		};

		r = cli_call(&c, SIM_OP_XS_SET_PERMS, iov, 3, NULL, NULL, NULL);
	}
	if (r < 0)
		fprintf(stderr, "xensim: %s %s%s: %s\n", cmd, argv[0],
			as_domid ? " (as a guest)" : "", strerror((int)-r));
	else
		status = SIM_EXIT_OK;
	cli_close(&c);
	return status;
}
