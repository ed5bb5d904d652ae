/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store.c - xensim's xenstore model.
 *
 * DOC: Overview
 *
 * The store is a tree of struct sim_store_node rooted at "/".  Each node
 * has a value (bytes, may be empty), an ordered list of children (creation
 * order, which is the order xenstored's directory returns) and a
 * permission vector.  The rules are those of Xen 4.17's xenstored:
 *
 *  - perm_for_conn(): dom0, and the owner (perms[0].id), get read, write
 *    and owner rights; otherwise the first later entry naming the caller
 *    decides; otherwise perms[0].perms is the default for everybody.
 *  - Reading needs READ; writing an existing node needs WRITE; creating a
 *    node needs WRITE on the nearest existing ancestor.  New nodes inherit
 *    the parent's permissions, but a node an unprivileged domain creates is
 *    owned by that domain.
 *  - A failed lookup answers ENOENT only if the caller may read/write the
 *    nearest existing ancestor, else EACCES (errno_from_parents()), so a
 *    guest learns nothing about nodes it cannot see.
 *  - set_perms needs the owner's rights; an unprivileged owner cannot give
 *    the node away (EPERM).
 *  - rm of a missing node whose parent exists succeeds; rm of "/" is EINVAL.
 *  - Watches: a change of node N fires every watch on N or an ancestor of N,
 *    with path N.  Removing a subtree additionally fires the watches set
 *    exactly on each removed descendant.  A watch fires only for a
 *    connection whose domain may read the node (or, failing that, its
 *    parent) -- checked before the change for rm, and against the old
 *    permissions too for set_perms, as xenstored does.  Registering a
 *    watch fires it once at once.  @introduceDomain / @releaseDomain fire
 *    only for connections allowed by the special node's permissions
 *    (default: dom0 only).  Relative watches report relative paths.
 *
 * Invariants: the root always exists and has at least one permission
 * entry; every node has 1..SIM_STORE_MAX_PERMS entries; paths stored in
 * watches are canonical (absolute or special).
 *
 * Transactions are simplified (documented in docs/xensim.md): operations
 * apply at once, watches fire at once, ending never returns EAGAIN and an
 * abort does not roll back.  Quotas (node count, value size per domain) are
 * not enforced beyond XENSTORE_PAYLOAD_MAX per value.
 *
 * Not thread-safe: the server calls it from its single poll loop.
 */
#include "store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

struct sim_store_node {
	char *name;                     /* one path component ("" for the root) */
	struct sim_store_node *parent;
	struct sim_store_node **children;
	unsigned int nr_children, cap_children;
	char *value;                    /* NUL-terminated after len bytes */
	size_t len;
	struct xs_permissions *perms;
	unsigned int nr_perms;
};

struct sim_store_watch {
	struct sim_store_watch *next;
	uint64_t conn;
	uint32_t domid;
	char *path;                     /* canonical */
	char *relative_prefix;          /* /local/domain/<id> for relative watches, else NULL */
	char *token;
};

struct sim_store_special {
	const char *name;
	struct xs_permissions perms[SIM_STORE_MAX_PERMS];
	unsigned int nr_perms;
};

struct sim_store {
	struct sim_store_node *root;
	struct sim_store_watch *watches;
	sim_store_fire_fn *fire;
	void *fire_arg;
	uint32_t next_transaction;
	struct sim_store_special special[2];
};

/* ---- nodes ----------------------------------------------------------- */

static struct sim_store_node *node_alloc(const char *name, size_t namelen,
					 struct sim_store_node *parent,
					 const struct xs_permissions *perms,
					 unsigned int nr_perms)
{
	struct sim_store_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->name = strndup(name, namelen);
	n->value = calloc(1, 1);
	n->perms = malloc(nr_perms * sizeof(*perms));
	if (!n->name || !n->value || !n->perms) {
		free(n->name);
		free(n->value);
		free(n->perms);
		free(n);
		return NULL;
	}
	memcpy(n->perms, perms, nr_perms * sizeof(*perms));
	n->nr_perms = nr_perms;
	n->parent = parent;
	return n;
}

static void node_free(struct sim_store_node *n)
{
	for (unsigned int i = 0; i < n->nr_children; i++)
		node_free(n->children[i]);
	free(n->children);
	free(n->name);
	free(n->value);
	free(n->perms);
	free(n);
}

static int node_add_child(struct sim_store_node *parent, struct sim_store_node *child)
{
	if (parent->nr_children == parent->cap_children) {
		unsigned int cap = parent->cap_children ? parent->cap_children * 2 : 4;
		struct sim_store_node **c = realloc(parent->children, cap * sizeof(*c));

		if (!c)
			return -ENOMEM;
		parent->children = c;
		parent->cap_children = cap;
	}
	parent->children[parent->nr_children++] = child;
	return 0;
}

static void node_unlink(struct sim_store_node *n)
{
	struct sim_store_node *p = n->parent;

	for (unsigned int i = 0; i < p->nr_children; i++) {
		if (p->children[i] == n) {
			memmove(&p->children[i], &p->children[i + 1],
				(p->nr_children - i - 1) * sizeof(*p->children));
			p->nr_children--;
			return;
		}
	}
}

static struct sim_store_node *node_child(const struct sim_store_node *n,
					 const char *name, size_t len)
{
	for (unsigned int i = 0; i < n->nr_children; i++)
		if (strlen(n->children[i]->name) == len &&
		    memcmp(n->children[i]->name, name, len) == 0)
			return n->children[i];
	return NULL;
}

/*
 * Walks a canonical path.  Returns the node, or NULL with *nearest set to
 * the deepest existing ancestor and *rest to the first missing component.
 */
static struct sim_store_node *node_lookup(struct sim_store *st, const char *path,
					  struct sim_store_node **nearest,
					  const char **rest)
{
	struct sim_store_node *n = st->root;
	const char *p = path + 1;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		struct sim_store_node *c = node_child(n, p, len);

		if (!c) {
			if (nearest)
				*nearest = n;
			if (rest)
				*rest = p;
			return NULL;
		}
		n = c;
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

/* ---- paths and permissions ---------------------------------------------- */

static bool is_special(const char *path)
{
	return strcmp(path, SIM_STORE_SPECIAL_INTRODUCE) == 0 ||
	       strcmp(path, SIM_STORE_SPECIAL_RELEASE) == 0;
}

/* xenstored's is_valid_nodename(). */
static bool path_valid(const char *path)
{
	size_t len = strlen(path);
	unsigned int domid;
	int off = 0;

	if (path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	if (sscanf(path, "/local/domain/%5u/%n", &domid, &off) != 1)
		off = 0;
	if (len > (size_t)off + XENSTORE_REL_PATH_MAX)
		return false;
	return strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz"
			    "0123456789-/_@") == len;
}

/* Canonicalises path for caller into a malloc'ed string, or NULL with *err. */
static char *path_canonical(uint32_t caller, const char *path, int *err)
{
	char *out;

	if (!path || !*path) {
		*err = -EINVAL;
		return NULL;
	}
	if (path[0] == '/' || path[0] == '@')
		out = strdup(path);
	else if (asprintf(&out, "/local/domain/%u/%s", caller, path) < 0)
		out = NULL;
	if (!out) {
		*err = -ENOMEM;
		return NULL;
	}
	if (out[0] == '@' ? !is_special(out) : !path_valid(out)) {
		free(out);
		*err = -EINVAL;
		return NULL;
	}
	return out;
}

static unsigned int perm_for(uint32_t caller, const struct xs_permissions *perms,
			     unsigned int nr)
{
	const unsigned int all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

	if (caller == 0 || perms[0].id == caller)
		return all;
	for (unsigned int i = 1; i < nr; i++)
		if (!(perms[i].perms & XS_PERM_IGNORE) && perms[i].id == caller)
			return perms[i].perms & all;
	return perms[0].perms & all;
}

static unsigned int node_perm(uint32_t caller, const struct sim_store_node *n)
{
	return perm_for(caller, n->perms, n->nr_perms);
}

/*
 * xenstored's get_node(): the node if the caller has perm on it, else NULL
 * and *err -EACCES, or -ENOENT (or -EACCES when the nearest ancestor does
 * not grant perm either, so nothing leaks).
 */
static struct sim_store_node *node_get(struct sim_store *st, uint32_t caller,
				       const char *path, unsigned int perm,
				       int *err, struct sim_store_node **nearest)
{
	struct sim_store_node *near = NULL;
	struct sim_store_node *n = node_lookup(st, path, &near, NULL);

	if (nearest)
		*nearest = near;
	if (n) {
		if ((node_perm(caller, n) & perm) == perm)
			return n;
		*err = -EACCES;
		near = n->parent;
		if (!near)
			return NULL;
	} else {
		*err = -ENOENT;
	}
	/* errno_from_parents(): the parent decides what the caller may learn. */
	if (!(node_perm(caller, near) & perm))
		*err = -EACCES;
	return NULL;
}

/* ---- watches ------------------------------------------------------------ */

static bool is_child(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return true;
	if (strncmp(child, parent, len) != 0)
		return false;
	return child[len] == '/' || child[len] == '\0';
}

static const char *watch_path_for(const struct sim_store_watch *w, const char *name)
{
	const char *p = name;

	if (w->relative_prefix) {
		p += strlen(w->relative_prefix);
		if (*p == '/')
			p++;
	}
	return p;
}

/* xenstored's watch_permitted(): the node, or failing that its parent, readable. */
static bool watch_permitted(uint32_t domid, const struct sim_store_node *n,
			    const struct xs_permissions *old, unsigned int nr_old)
{
	if (old && (perm_for(domid, old, nr_old) & XS_PERM_READ))
		return true;
	if (node_perm(domid, n) & XS_PERM_READ)
		return true;
	return n->parent && (node_perm(domid, n->parent) & XS_PERM_READ);
}

static const struct sim_store_special *special_get(const struct sim_store *st,
						   const char *name)
{
	for (unsigned int i = 0; i < 2; i++)
		if (strcmp(st->special[i].name, name) == 0)
			return &st->special[i];
	return NULL;
}

/*
 * Fires watches for a change of name (a canonical path whose node is n).
 * exact: only watches set on name itself (removed descendants).
 */
static void fire_watches(struct sim_store *st, const char *name,
			 const struct sim_store_node *n, bool exact,
			 const struct xs_permissions *old, unsigned int nr_old)
{
	for (struct sim_store_watch *w = st->watches; w; w = w->next) {
		bool match = exact ? strcmp(name, w->path) == 0 : is_child(name, w->path);

		if (!match)
			continue;
		if (!watch_permitted(w->domid, n, old, nr_old))
			continue;
		st->fire(st->fire_arg, w->conn, watch_path_for(w, name), w->token);
	}
}

void sim_store_fire_special(struct sim_store *st, const char *special)
{
	const struct sim_store_special *sp = special_get(st, special);

	if (!sp)
		return;
	for (struct sim_store_watch *w = st->watches; w; w = w->next) {
		if (strcmp(w->path, special) != 0)
			continue;
		if (!(perm_for(w->domid, sp->perms, sp->nr_perms) & XS_PERM_READ))
			continue;
		st->fire(st->fire_arg, w->conn, w->path, w->token);
	}
}

/* ---- operations ------------------------------------------------------- */

int sim_store_alloc(sim_store_fire_fn *fire, void *arg, struct sim_store **out)
{
	static const struct xs_permissions root_perms = { .id = 0, .perms = XS_PERM_NONE };
	struct sim_store *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	st->root = node_alloc("", 0, NULL, &root_perms, 1);
	if (!st->root) {
		free(st);
		return -ENOMEM;
	}
	st->fire = fire;
	st->fire_arg = arg;
	st->next_transaction = 1;
	st->special[0].name = SIM_STORE_SPECIAL_INTRODUCE;
	st->special[1].name = SIM_STORE_SPECIAL_RELEASE;
	for (unsigned int i = 0; i < 2; i++) {
		st->special[i].perms[0] = root_perms;
		st->special[i].nr_perms = 1;
	}
	*out = st;
	return 0;
}

void sim_store_free(struct sim_store *st)
{
	if (!st)
		return;
	while (st->watches) {
		struct sim_store_watch *w = st->watches;

		st->watches = w->next;
		free(w->path);
		free(w->relative_prefix);
		free(w->token);
		free(w);
	}
	node_free(st->root);
	free(st);
}

int sim_store_read(struct sim_store *st, uint32_t caller, const char *path,
		   char **val, size_t *len)
{
	int err = 0;
	char *name = path_canonical(caller, path, &err);
	struct sim_store_node *n;

	if (!name)
		return err;
	if (name[0] == '@') {
		free(name);
		return -EINVAL;
	}
	n = node_get(st, caller, name, XS_PERM_READ, &err, NULL);
	free(name);
	if (!n)
		return err;
	*val = malloc(n->len + 1);
	if (!*val)
		return -ENOMEM;
	memcpy(*val, n->value, n->len + 1);
	*len = n->len;
	return 0;
}

/*
 * Creates the missing nodes of name below nearest (xenstored's
 * construct_node()): they inherit nearest's permissions, and an
 * unprivileged creator owns them.
 */
static struct sim_store_node *node_create(struct sim_store_node *nearest,
					  const char *rest, uint32_t caller)
{
	struct sim_store_node *parent = nearest;
	struct sim_store_node *first = NULL;

	while (*rest) {
		const char *slash = strchr(rest, '/');
		size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
		struct sim_store_node *c = node_alloc(rest, len, parent,
						      parent->perms, parent->nr_perms);

		if (!c || node_add_child(parent, c) < 0) {
			if (c)
				node_free(c);
			if (first) {
				node_unlink(first);
				node_free(first);
			}
			return NULL;
		}
		if (caller != 0)
			c->perms[0].id = caller;
		if (!first)
			first = c;
		parent = c;
		rest += len;
		if (*rest == '/')
			rest++;
	}
	return parent;
}

static int node_set_value(struct sim_store_node *n, const void *val, size_t len)
{
	char *v = malloc(len + 1);

	if (!v)
		return -ENOMEM;
	if (len)
		memcpy(v, val, len);
	v[len] = '\0';
	free(n->value);
	n->value = v;
	n->len = len;
	return 0;
}

/* Shared by write and mkdir: find or create name; *created says which. */
static int node_get_or_create(struct sim_store *st, uint32_t caller,
			      const char *name, struct sim_store_node **out,
			      bool *created)
{
	struct sim_store_node *nearest = NULL;
	const char *rest = NULL;
	int err = 0;
	struct sim_store_node *n = node_get(st, caller, name, XS_PERM_WRITE, &err, NULL);

	*created = false;
	if (n) {
		*out = n;
		return 0;
	}
	if (err != -ENOENT)
		return err;
	if (node_lookup(st, name, &nearest, &rest))
		return -EIO;   /* cannot happen: node_get said ENOENT */
	n = node_create(nearest, rest, caller);
	if (!n)
		return -ENOMEM;
	*created = true;
	*out = n;
	return 0;
}

int sim_store_write(struct sim_store *st, uint32_t caller, const char *path,
		    const void *val, size_t len)
{
	int err = 0;
	char *name = path_canonical(caller, path, &err);
	struct sim_store_node *n;
	bool created;

	if (!name)
		return err;
	if (name[0] == '@' || len > XENSTORE_PAYLOAD_MAX) {
		free(name);
		return -EINVAL;
	}
	err = node_get_or_create(st, caller, name, &n, &created);
	if (!err)
		err = node_set_value(n, val, len);
	if (!err)
		fire_watches(st, name, n, false, NULL, 0);
	free(name);
	return err;
}

int sim_store_mkdir(struct sim_store *st, uint32_t caller, const char *path)
{
	int err = 0;
	char *name = path_canonical(caller, path, &err);
	struct sim_store_node *n;
	bool created;

	if (!name)
		return err;
	if (name[0] == '@') {
		free(name);
		return -EINVAL;
	}
	err = node_get_or_create(st, caller, name, &n, &created);
	if (!err && created)
		fire_watches(st, name, n, false, NULL, 0);
	free(name);
	return err;
}

/* Fires exact watches on every descendant of n (path name), deepest last. */
static int fire_subtree(struct sim_store *st, struct sim_store_node *n, const char *name)
{
	for (unsigned int i = 0; i < n->nr_children; i++) {
		struct sim_store_node *c = n->children[i];
		char *cname;

		if (asprintf(&cname, "%s%s%s", name, strcmp(name, "/") ? "/" : "",
			     c->name) < 0)
			return -ENOMEM;
		fire_watches(st, cname, c, true, NULL, 0);
		fire_subtree(st, c, cname);
		free(cname);
	}
	return 0;
}

int sim_store_rm(struct sim_store *st, uint32_t caller, const char *path)
{
	int err = 0;
	char *name = path_canonical(caller, path, &err);
	struct sim_store_node *n, *nearest = NULL;

	if (!name)
		return err;
	if (name[0] == '@') {
		free(name);
		return -EINVAL;
	}
	n = node_get(st, caller, name, XS_PERM_WRITE, &err, &nearest);
	if (!n) {
		/* Didn't exist already?  Fine, if the parent exists. */
		if (err == -ENOENT) {
			const char *rest = NULL;

			node_lookup(st, name, NULL, &rest);
			if (rest && !strchr(rest, '/'))
				err = 0;
		}
		free(name);
		return err;
	}
	if (n == st->root) {
		free(name);
		return -EINVAL;
	}
	/* Fire while the permissions can still be seen, as delnode_sub() does. */
	fire_watches(st, name, n, false, NULL, 0);
	fire_subtree(st, n, name);
	node_unlink(n);
	node_free(n);
	free(name);
	return 0;
}

int sim_store_directory(struct sim_store *st, uint32_t caller,
			const char *path, char **names, size_t *len)
{
	int err = 0;
	char *name = path_canonical(caller, path, &err);
	struct sim_store_node *n;
	size_t total = 0;
	char *buf, *p;

	if (!name)
		return err;
	if (name[0] == '@') {
		free(name);
		return -EINVAL;
	}
	n = node_get(st, caller, name, XS_PERM_READ, &err, NULL);
	free(name);
	if (!n)
		return err;
	for (unsigned int i = 0; i < n->nr_children; i++)
		total += strlen(n->children[i]->name) + 1;
	buf = malloc(total ? total : 1);
	if (!buf)
		return -ENOMEM;
	p = buf;
	for (unsigned int i = 0; i < n->nr_children; i++) {
		size_t l = strlen(n->children[i]->name) + 1;

		memcpy(p, n->children[i]->name, l);
		p += l;
	}
	*names = buf;
	*len = total;
	return (int)n->nr_children;
}

int sim_store_get_perms(struct sim_store *st, uint32_t caller,
			const char *path, struct xs_permissions *perms,
			unsigned int max)
{
	int err = 0;
	char *name = path_canonical(caller, path, &err);
	const struct xs_permissions *src;
	unsigned int nr;

	if (!name)
		return err;
	if (name[0] == '@') {
		const struct sim_store_special *sp = special_get(st, name);

		src = sp->perms;
		nr = sp->nr_perms;
	} else {
		struct sim_store_node *n = node_get(st, caller, name, XS_PERM_READ,
						    &err, NULL);

		if (!n) {
			free(name);
			return err;
		}
		src = n->perms;
		nr = n->nr_perms;
	}
	free(name);
	memcpy(perms, src, (nr < max ? nr : max) * sizeof(*perms));
	return (int)nr;
}

int sim_store_set_perms(struct sim_store *st, uint32_t caller,
			const char *path, const struct xs_permissions *perms,
			unsigned int nr)
{
	int err = 0;
	char *name;
	struct sim_store_node *n;
	struct xs_permissions *copy, *old;
	unsigned int nr_old;

	if (nr < 1 || nr > SIM_STORE_MAX_PERMS)
		return nr < 1 ? -EINVAL : -ENOSPC;
	for (unsigned int i = 0; i < nr; i++)
		if (perms[i].perms & ~(unsigned int)(XS_PERM_READ | XS_PERM_WRITE))
			return -EINVAL;
	name = path_canonical(caller, path, &err);
	if (!name)
		return err;
	if (name[0] == '@') {
		struct sim_store_special *sp = (struct sim_store_special *)special_get(st, name);

		free(name);
		/* set_perms_special(): only privileged callers. */
		if (caller != 0)
			return -EACCES;
		memcpy(sp->perms, perms, nr * sizeof(*perms));
		sp->nr_perms = nr;
		return 0;
	}
	n = node_get(st, caller, name, XS_PERM_WRITE | XS_PERM_OWNER, &err, NULL);
	if (!n) {
		free(name);
		return err;
	}
	if (caller != 0 && perms[0].id != n->perms[0].id) {
		free(name);
		return -EPERM;
	}
	copy = malloc(nr * sizeof(*copy));
	if (!copy) {
		free(name);
		return -ENOMEM;
	}
	memcpy(copy, perms, nr * sizeof(*copy));
	old = n->perms;
	nr_old = n->nr_perms;
	n->perms = copy;
	n->nr_perms = nr;
	fire_watches(st, name, n, false, old, nr_old);
	free(old);
	free(name);
	return 0;
}

int sim_store_watch(struct sim_store *st, uint32_t caller, uint64_t conn,
		    const char *path, const char *token)
{
	int err = 0;
	char *name;
	struct sim_store_watch *w;

	if (!token)
		return -EINVAL;
	name = path_canonical(caller, path, &err);
	if (!name)
		return err;
	for (w = st->watches; w; w = w->next) {
		if (w->conn == conn && strcmp(w->path, name) == 0 &&
		    strcmp(w->token, token) == 0) {
			free(name);
			return -EEXIST;
		}
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		free(name);
		return -ENOMEM;
	}
	w->conn = conn;
	w->domid = caller;
	w->path = name;
	w->token = strdup(token);
	if (path[0] != '/' && path[0] != '@' &&
	    asprintf(&w->relative_prefix, "/local/domain/%u", caller) < 0)
		w->relative_prefix = NULL, err = -ENOMEM;
	if (!w->token || err) {
		free(w->token);
		free(w->path);
		free(w->relative_prefix);
		free(w);
		return -ENOMEM;
	}
	/* Append, so events reach a connection in registration order. */
	struct sim_store_watch **tail = &st->watches;

	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	/* "We fire once up front: simplifies clients and restart." */
	st->fire(st->fire_arg, conn, watch_path_for(w, w->path), w->token);
	return 0;
}

int sim_store_unwatch(struct sim_store *st, uint32_t caller, uint64_t conn,
		      const char *path, const char *token)
{
	int err = 0;
	char *name = path_canonical(caller, path, &err);

	if (!name)
		return err;
	if (!token) {
		free(name);
		return -EINVAL;
	}
	for (struct sim_store_watch **pw = &st->watches; *pw; pw = &(*pw)->next) {
		struct sim_store_watch *w = *pw;

		if (w->conn == conn && strcmp(w->path, name) == 0 &&
		    strcmp(w->token, token) == 0) {
			*pw = w->next;
			free(w->path);
			free(w->relative_prefix);
			free(w->token);
			free(w);
			free(name);
			return 0;
		}
	}
	free(name);
	return -ENOENT;
}

void sim_store_unwatch_conn(struct sim_store *st, uint64_t conn)
{
	struct sim_store_watch **pw = &st->watches;

	while (*pw) {
		struct sim_store_watch *w = *pw;

		if (w->conn != conn) {
			pw = &w->next;
			continue;
		}
		*pw = w->next;
		free(w->path);
		free(w->relative_prefix);
		free(w->token);
		free(w);
	}
}

int sim_store_transaction_start(struct sim_store *st, uint32_t *id)
{
	*id = st->next_transaction++;
	if (st->next_transaction == 0)
		st->next_transaction = 1;
	return 0;
}

int sim_store_transaction_end(struct sim_store *st, uint32_t id, int abort)
{
	(void)abort;
	if (id == 0 || id >= st->next_transaction)
		return -ENOENT;
	return 0;
}
