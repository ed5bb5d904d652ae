/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostlock.h - one xenshared per host, whatever its configured paths.
 *
 * Two daemons on one host would both take the domains' sharing rings and
 * race each other's shares.  The pidfile only guards its own path, so the
 * host is guarded twice more:
 *
 *  - A lock file, XSD_HOSTLOCK_FILE in the runtime directory
 *    ($RUNTIME_DIRECTORY when set, as systemd's RuntimeDirectory= does,
 *    else /run/xenshared), locked with flock(2) before the daemon forks, so
 *    a refusal is the exit status of `xenshared` itself.  The kernel drops
 *    the lock with the holder's last descriptor: nothing is ever stale.
 *  - A xenstore node, XSD_HOSTLOCK_NODE, written in a transaction once
 *    xenstore is open and before anything else touches Xen (no engine, no
 *    ring).  It names its owner by pid, process start time and boot id; a
 *    node whose owner is not running (killed with -9, or written before
 *    dom0 last booted) is stale and taken over, a live one refuses.  It
 *    guards what the file cannot see: a daemon with another runtime
 *    directory or in another mount namespace.  Removed on a clean stop.
 */
#ifndef XSD_HOSTLOCK_H
#define XSD_HOSTLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XSD_HOSTLOCK_DIR "/run/xenshared"
#define XSD_HOSTLOCK_FILE "xenshared.lock"
#define XSD_HOSTLOCK_TOOL "/tool/xenshared"          /* xenstore's /tool/<name>: ours */
#define XSD_HOSTLOCK_NODE XSD_HOSTLOCK_TOOL "/owner"

/* Who owns the node: "pid=P start=S boot=B" (start: /proc/PID/stat field 22). */
struct xsd_owner {
	pid_t pid;
	uint64_t start;                 /* clock ticks after boot */
	char boot_id[40];               /* /proc/sys/kernel/random/boot_id */
};

int xsd_owner_self(struct xsd_owner *o);
int xsd_owner_format(const struct xsd_owner *o, char *buf, size_t len);
/* -EINVAL unless s (len bytes) is exactly what xsd_owner_format() writes. */
int xsd_owner_parse(const char *s, size_t len, struct xsd_owner *o);
/* Is the process o names running on this boot (a zombie is not)? */
bool xsd_owner_alive(const struct xsd_owner *o, const char *this_boot_id);

struct xsd_hostlock;
struct xs_handle;

/* Locks the lock file (its directory 0700 if missing).  -EEXIST when
 * another daemon holds it: err names its pid and the file. */
int xsd_hostlock_acquire(struct xsd_hostlock **out, char *err, size_t errlen);
/* Writes the current pid into the lock file (call after daemonising). */
int xsd_hostlock_write_pid(struct xsd_hostlock *h);
/* Claims the xenstore node for this process.  -EEXIST when a live daemon
 * owns it (err names its pid), other -errno on xenstore errors. */
int xsd_hostlock_claim(struct xsd_hostlock *h, struct xs_handle *xs, char *err, size_t errlen);
/* Removes the node if it is still ours (xs may be NULL: skipped), then
 * drops the file lock.  The lock file itself stays: removing it would let
 * a starting daemon lock an unlinked inode. */
void xsd_hostlock_release(struct xsd_hostlock *h, struct xs_handle *xs);

#endif /* XSD_HOSTLOCK_H */
