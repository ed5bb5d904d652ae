/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pidfile.h - the daemon's pid, where the config's pidfile setting says.
 *
 * The pidfile is locked with flock(2) for the daemon's whole life: a
 * second instance with the same pidfile finds the lock taken and refuses
 * to start, naming the pid inside (one daemon per host, whatever the
 * paths, is hostlock.h's job).  A daemon killed with -9 loses its lock with
 * its last descriptor, so a stale file never blocks a restart (no guessing
 * from pids).
 */
#ifndef XSD_PIDFILE_H
#define XSD_PIDFILE_H

#include <stddef.h>

struct xsd_pidfile;

/* Creates (directory 0700 if missing) and locks path.  -EEXIST when a live
 * instance holds it (err names its pid). */
int xsd_pidfile_acquire(const char *path, struct xsd_pidfile **out, char *err, size_t errlen);
/* Writes the current pid (call after daemonising). */
int xsd_pidfile_write(struct xsd_pidfile *p);
/* Removes the file and drops the lock. */
void xsd_pidfile_release(struct xsd_pidfile *p);

#endif /* XSD_PIDFILE_H */
