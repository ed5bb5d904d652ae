/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store.h - xensim's xenstore: a tree of nodes with values, permissions and
 * watches, with the semantics of Xen 4.17's C xenstored
 * (tools/xenstore/xenstored_core.c, xenstored_watch.c).
 *
 * Every operation names the caller's domain: domain 0 is privileged and may
 * do anything; any other domain is checked against the node's permissions
 * (struct xs_permissions of <xenstore_lib.h>; entry 0 is the owner and the
 * default for everybody else, further entries grant a domain
 * XS_PERM_READ / XS_PERM_WRITE).  Relative paths are relative to
 * /local/domain/<caller>, as xenstored's canonicalize() makes them.
 *
 * Watches belong to a connection (an opaque 64-bit id chosen by the server)
 * and fire through the callback given to sim_store_create(); the store never
 * does I/O itself, so it is a pure module that unit tests drive directly.
 *
 * Errors are negative errno values, the same ones xenstored answers.
 */
#ifndef XENSIM_STORE_H
#define XENSIM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <xenstore_lib.h>

#define SIM_STORE_SPECIAL_INTRODUCE "@introduceDomain"
#define SIM_STORE_SPECIAL_RELEASE "@releaseDomain"
#define SIM_STORE_MAX_PERMS 64

struct sim_store;

/* Called for every watch event: conn owns the watch; path as the watcher sees it. */
typedef void sim_store_fire_fn(void *arg, uint64_t conn, const char *path,
			       const char *token);

int sim_store_alloc(sim_store_fire_fn *fire, void *arg, struct sim_store **out);
void sim_store_free(struct sim_store *st);

/* Reads a node's value: *val is malloc'ed with a NUL after len bytes. */
int sim_store_read(struct sim_store *st, uint32_t caller, const char *path,
		   char **val, size_t *len);
/* Writes (creating the node and missing parents), fires watches. */
int sim_store_write(struct sim_store *st, uint32_t caller, const char *path,
		    const void *val, size_t len);
int sim_store_mkdir(struct sim_store *st, uint32_t caller, const char *path);
/* Removes a node and its subtree; a missing node whose parent exists is fine. */
int sim_store_rm(struct sim_store *st, uint32_t caller, const char *path);
/*
 * Children names, each NUL-terminated, packed in a malloc'ed buffer of
 * *len bytes; returns the number of children.
 */
int sim_store_directory(struct sim_store *st, uint32_t caller,
			const char *path, char **names, size_t *len);
/* Returns the number of entries (up to max stored in perms). */
int sim_store_get_perms(struct sim_store *st, uint32_t caller,
			const char *path, struct xs_permissions *perms,
			unsigned int max);
int sim_store_set_perms(struct sim_store *st, uint32_t caller,
			const char *path, const struct xs_permissions *perms,
			unsigned int n);

/* Registers a watch (fires once at once, as xenstored does); -EEXIST on duplicates. */
int sim_store_watch(struct sim_store *st, uint32_t caller, uint64_t conn,
		    const char *path, const char *token);
int sim_store_unwatch(struct sim_store *st, uint32_t caller, uint64_t conn,
		      const char *path, const char *token);
/* Drops every watch of a connection (it went away). */
void sim_store_unwatch_conn(struct sim_store *st, uint64_t conn);
/* Fires @introduceDomain or @releaseDomain. */
void sim_store_fire_special(struct sim_store *st, const char *special);

/*
 * Transactions: see store.c -- operations inside a transaction apply at
 * once, ending one never fails with EAGAIN and abort does not roll back.
 */
int sim_store_transaction_start(struct sim_store *st, uint32_t *id);
int sim_store_transaction_end(struct sim_store *st, uint32_t id, int abort);

#endif /* XENSIM_STORE_H */
