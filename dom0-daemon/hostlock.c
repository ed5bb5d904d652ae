/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostlock.c - the host-wide single-instance lock (see hostlock.h).
 *
 * DOC: Overview
 *
 * Start-up takes the lock file first (flock, before the fork), then, with
 * xenstore open, the node XSD_HOSTLOCK_NODE in one transaction: read it,
 * judge its owner, write ourselves, commit; a commit that loses a race
 * (EAGAIN) starts over and then sees the winner.  Judging the owner:
 *
 *   unparsable value        stale (no daemon writes that), taken over
 *   another boot id         stale: written before dom0 last booted
 *   no /proc/PID, a zombie,
 *   or another start time   stale: killed, or the pid was reused
 *   otherwise               live: refuse, naming the pid
 *
 * A node naming this very process counts as ours.  The start time makes
 * a reused pid harmless; the boot id makes a node that outlived a dom0
 * reboot (xenstored in a stub domain, or a live-updated one) harmless.
 * Invariants: the node is only ever removed by its owner (checked in the
 * removing transaction); the lock file is never removed, only truncated,
 * so two daemons can never hold locks on two different inodes of it.
 */
#include "hostlock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenstore.h>

#include "logsink.h"
#include "settings.h"   /* xsd_printable() */

#define CLAIM_TRIES 16

struct xsd_hostlock {
	int fd;
	char path[4096];
	bool claimed;                    /* the xenstore node is ours */
	struct xsd_owner self;
};

/* ---- owner records ----------------------------------------------------- */

static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

/* State and start time of a process from /proc/PID/stat. */
static int proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024], *p;
	int i, rc;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	rc = read_small(path, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	/* the command name may hold anything, ')' included: skip to the last */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c", state) != 1)
		return -EINVAL;
	/* fields 3 (state) .. 22 (starttime) follow it, one blank before each */
	for (i = 3; i <= 22; i++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
	}
	if (sscanf(p + 1, "%" SCNu64, start) != 1)
		return -EINVAL;
	return 0;
}

static int boot_id(char *out, size_t len)
{
	int rc = read_small("/proc/sys/kernel/random/boot_id", out, len);

	if (rc < 0)
		return rc;
	out[strcspn(out, "\n")] = 0;
	return out[0] ? 0 : -EINVAL;
}

int xsd_owner_self(struct xsd_owner *o)
{
	char state;
	int rc;

	memset(o, 0, sizeof(*o));
	o->pid = getpid();
	rc = proc_stat(o->pid, &state, &o->start);
	if (!rc)
		rc = boot_id(o->boot_id, sizeof(o->boot_id));
	return rc;
}

int xsd_owner_format(const struct xsd_owner *o, char *buf, size_t len)
{
	int n = snprintf(buf, len, "pid=%d start=%" PRIu64 " boot=%s", (int)o->pid, o->start, o->boot_id);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int xsd_owner_parse(const char *s, size_t len, struct xsd_owner *o)
{
	char buf[128], again[128];
	int pid, used = -1;

	if (len >= sizeof(buf) || memchr(s, 0, len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	memset(o, 0, sizeof(*o));
	if (sscanf(buf, "pid=%d start=%" SCNu64 " boot=%39[0-9a-f-]%n", &pid, &o->start,
		   o->boot_id, &used) != 3 || used != (int)len || pid <= 0)
		return -EINVAL;
	o->pid = pid;
	/* only the canonical form: what we would write for these values */
	if (xsd_owner_format(o, again, sizeof(again)) < 0 || strcmp(again, buf))
		return -EINVAL;
	return 0;
}

bool xsd_owner_alive(const struct xsd_owner *o, const char *this_boot_id)
{
	uint64_t start;
	char state;

	if (strcmp(o->boot_id, this_boot_id))
		return false;
	if (proc_stat(o->pid, &state, &start))
		return false;                    /* no such process */
	if (state == 'Z' || state == 'X')
		return false;                    /* dead, not yet reaped: it holds nothing */
	return start == o->start;
}

/* ---- the lock file ------------------------------------------------------- */

/* $RUNTIME_DIRECTORY (its first entry: systemd joins several with ':'). */
static void lock_path(char *out, size_t len)
{
	const char *rd = getenv("RUNTIME_DIRECTORY");
	size_t n = rd ? strcspn(rd, ":") : 0;

	if (n && rd[0] == '/')
		snprintf(out, len, "%.*s/" XSD_HOSTLOCK_FILE, (int)n, rd);
	else
		snprintf(out, len, XSD_HOSTLOCK_DIR "/" XSD_HOSTLOCK_FILE);
}

int xsd_hostlock_acquire(struct xsd_hostlock **out, char *err, size_t errlen)
{
	struct xsd_hostlock *h = calloc(1, sizeof(*h));
	char dir[4096], holder[32] = "";
	struct stat a, b;
	ssize_t n;
	int rc, tries;

	if (!h)
		return -ENOMEM;
	lock_path(h->path, sizeof(h->path));
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(h->path, '/') - h->path), h->path);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "creating %s: %s", dir, strerror(errno));
		goto fail;
	}
	for (tries = 0; tries < 3; tries++) {
		h->fd = open(h->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (h->fd < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", h->path, strerror(errno));
			goto fail;
		}
		if (flock(h->fd, LOCK_EX | LOCK_NB)) {
			rc = errno == EWOULDBLOCK ? -EEXIST : -errno;
			n = pread(h->fd, holder, sizeof(holder) - 1, 0);
			holder[n > 0 ? n : 0] = 0;
			holder[strcspn(holder, "\n")] = 0;
			if (rc == -EEXIST)
				snprintf(err, errlen, "another xenshared is running (pid %s, holds %s): "
					 "one daemon per host", holder[0] ? holder : "?", h->path);
			else
				snprintf(err, errlen, "locking %s: %s", h->path, strerror(-rc));
			close(h->fd);
			goto fail;
		}
		/* a file replaced between our open and our lock is not the lock */
		if (!fstat(h->fd, &a) && !stat(h->path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*out = h;
			return 0;
		}
		close(h->fd);
	}
	rc = -EAGAIN;
	snprintf(err, errlen, "%s keeps being replaced while we lock it", h->path);
fail:
	free(h);
	return rc;
}

int xsd_hostlock_write_pid(struct xsd_hostlock *h)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(h->fd, 0) || pwrite(h->fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

/* ---- the xenstore node ------------------------------------------------- */

static bool same_process(const struct xsd_owner *a, const struct xsd_owner *b)
{
	return a->pid == b->pid && a->start == b->start && !strcmp(a->boot_id, b->boot_id);
}

int xsd_hostlock_claim(struct xsd_hostlock *h, struct xs_handle *xs, char *err, size_t errlen)
{
	char mine[128], shown[160];
	struct xsd_owner them;
	int rc, tries;

	rc = xsd_owner_self(&h->self);
	if (rc || xsd_owner_format(&h->self, mine, sizeof(mine)) < 0) {
		snprintf(err, errlen, "reading this process's start time and boot id from /proc: %s",
			 strerror(rc ? -rc : ENOSPC));
		return rc ? rc : -ENOSPC;
	}
	for (tries = 0; tries < CLAIM_TRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		unsigned int len = 0;
		char *val;

		if (t == XBT_NULL) {
			rc = -errno;
			snprintf(err, errlen, "xenstore: starting a transaction: %s", strerror(errno));
			return rc;
		}
		val = xs_read(xs, t, XSD_HOSTLOCK_NODE, &len);
		if (!val && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "xenstore: reading %s: %s", XSD_HOSTLOCK_NODE, strerror(errno));
			xs_transaction_end(xs, t, true);
			return rc;
		}
		if (val && !xsd_owner_parse(val, len, &them) && !same_process(&them, &h->self) &&
		    xsd_owner_alive(&them, h->self.boot_id)) {
			snprintf(err, errlen, "another xenshared is running (pid %d, owns xenstore %s): "
				 "one daemon per host", (int)them.pid, XSD_HOSTLOCK_NODE);
			free(val);
			xs_transaction_end(xs, t, true);
			return -EEXIST;
		}
		if (!xs_write(xs, t, XSD_HOSTLOCK_NODE, mine, (unsigned int)strlen(mine))) {
			rc = -errno;
			snprintf(err, errlen, "xenstore: writing %s: %s", XSD_HOSTLOCK_NODE, strerror(errno));
			free(val);
			xs_transaction_end(xs, t, true);
			return rc;
		}
		if (!xs_transaction_end(xs, t, false)) {
			free(val);
			if (errno == EAGAIN)
				continue;              /* someone else wrote meanwhile: judge again */
			rc = -errno;
			snprintf(err, errlen, "xenstore: committing %s: %s", XSD_HOSTLOCK_NODE, strerror(errno));
			return rc;
		}
		if (val) {
			xsd_printable(shown, sizeof(shown), val, len);
			xsd_notice("xenstore %s was \"%s\", %s: taken over", XSD_HOSTLOCK_NODE, shown,
				   xsd_owner_parse(val, len, &them) ? "not an owner record" :
				   "whose daemon is gone (killed, or before a reboot)");
		}
		free(val);
		h->claimed = true;
		return 0;
	}
	snprintf(err, errlen, "xenstore: %s: %d transactions in a row lost a race", XSD_HOSTLOCK_NODE,
		 CLAIM_TRIES);
	return -EAGAIN;
}

/* Removes the node (and the then empty tool directory) if it is ours. */
static void unclaim(struct xsd_hostlock *h, struct xs_handle *xs)
{
	int tries;

	for (tries = 0; tries < CLAIM_TRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		struct xsd_owner them;
		unsigned int len = 0, nr = 0;
		char *val, **left;

		if (t == XBT_NULL)
			break;
		val = xs_read(xs, t, XSD_HOSTLOCK_NODE, &len);
		if (!val || xsd_owner_parse(val, len, &them) || !same_process(&them, &h->self)) {
			free(val);
			xs_transaction_end(xs, t, true);
			return;                  /* gone, or a successor's: not ours to remove */
		}
		free(val);
		xs_rm(xs, t, XSD_HOSTLOCK_NODE);
		left = xs_directory(xs, t, XSD_HOSTLOCK_TOOL, &nr);
		if (left && nr == 0)
			xs_rm(xs, t, XSD_HOSTLOCK_TOOL);
		free(left);
		if (xs_transaction_end(xs, t, false) || errno != EAGAIN)
			return;
	}
	xsd_warn("xenstore: could not remove %s", XSD_HOSTLOCK_NODE);
}

void xsd_hostlock_release(struct xsd_hostlock *h, struct xs_handle *xs)
{
	if (!h)
		return;
	if (h->claimed && xs)
		unclaim(h, xs);
	/* the pid inside would name a process that is gone */
	if (ftruncate(h->fd, 0))
		xsd_warn("truncating %s: %s", h->path, strerror(errno));
	close(h->fd);
	free(h);
}
