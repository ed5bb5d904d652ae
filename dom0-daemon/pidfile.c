/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pidfile.c - locked pidfile (see pidfile.h).
 *
 * Invariant: the file is only truncated and written while we hold its lock,
 * and removed before the lock is dropped, so an instance that wins the lock
 * never sees its pid overwritten by a loser.
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct xsd_pidfile {
	int fd;
	char *path;
};

int xsd_pidfile_acquire(const char *path, struct xsd_pidfile **out, char *err, size_t errlen)
{
	struct xsd_pidfile *p;
	char *copy, buf[32] = "";
	ssize_t n;
	int rc;

	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	/* 0700 like the control socket's directory, which is usually the same one */
	if (mkdir(dirname(copy), 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "creating the directory of %s: %s", path, strerror(errno));
		free(copy);
		return rc;
	}
	free(copy);
	p = calloc(1, sizeof(*p));
	if (!p || !(p->path = strdup(path))) {
		free(p);
		return -ENOMEM;
	}
	p->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (p->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(p->fd, LOCK_EX | LOCK_NB)) {
		rc = errno == EWOULDBLOCK ? -EEXIST : -errno;
		n = pread(p->fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		if (rc == -EEXIST)
			snprintf(err, errlen, "another xenshared is running (pid %s, holds %s)",
				 buf[0] ? buf : "?", path);
		else
			snprintf(err, errlen, "locking %s: %s", path, strerror(-rc));
		close(p->fd);
		goto fail;
	}
	{
		/* The holder may have removed the file between our open and our
		 * lock: then we locked an orphan, and must not count it as ours. */
		struct stat a, b;

		if (fstat(p->fd, &a) || stat(path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			rc = -EAGAIN;
			snprintf(err, errlen, "%s was replaced while locking it; try again", path);
			close(p->fd);
			goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	free(p->path);
	free(p);
	return rc;
}

int xsd_pidfile_write(struct xsd_pidfile *p)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(p->fd, 0) || pwrite(p->fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

void xsd_pidfile_release(struct xsd_pidfile *p)
{
	if (!p)
		return;
	unlink(p->path);
	close(p->fd);
	free(p->path);
	free(p);
}
