/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv.h - the xensim server's state, shared by its parts: the transport and
 * main loop (server.c), the guests (srv_guest.c), xenstore requests
 * (srv_xenstore.c), hypercalls and event channels (srv_hypercall.c) and
 * the command line's requests (srv_cli.c); and the helpers every request
 * handler uses (srv.c).  Everything runs on the server's one thread.
 */
#ifndef XENSIM_SRV_H
#define XENSIM_SRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv.h"
#include "store.h"
#include "wire.h"
#include "xlcfg.h"

struct sim_out_msg;        /* a pushed message waiting to be sent (server.c) */
struct sim_notice;         /* a hypervisor notification waiting (server.c) */
struct sim_vcpu_set;       /* a guest's vCPU threads (vcpu.h) */

struct sim_client {
	struct sim_client *next;
	int fd;
	uint32_t kind;                /* 0 until HELLO */
	uint64_t cookie;              /* CALLS: its own; EVENTS/WATCHES: its pair's */
	uint32_t as_domid;
	struct sim_out_msg *outq, *outq_tail;
	unsigned int outq_len;
	bool dropped_warned;
	bool dead;
	bool cli;                     /* the xensim command line: never faulted */
	bool xenstore;                /* CALLS half of a libxenstore handle */
};

struct sim_binding {
	struct sim_binding *next;
	uint64_t cookie;              /* the CALLS connection that bound it */
	uint32_t local_port;
	bool virq;
	uint32_t remote_dom;          /* interdomain */
	uint32_t remote_port;         /* interdomain: the port; virq: the virq */
};

struct sim_guest {
	struct sim_guest *next;
	uint32_t domid;
	struct sim_guest_cfg cfg;
	char vm_path[64];             /* /vm/<uuid> */
	struct sim_vcpu_set *vcpus;
	struct sim_vcpu_set *storm;   /* the last `xensim storm` (NULL: none) */
	bool released;               /* @releaseDomain fired (crashed, preserved) */
};

struct sim_server {
	const struct sim_hv_config *hv_cfg;   /* the host's configuration */
	struct sim_hv *hv;
	struct sim_faults *faults;    /* the hypervisor's injector (NULL: off) */
	struct sim_store *store;
	int listen_fd, wake_fd, signal_fd;
	struct sim_client *clients;
	struct sim_binding *bindings;
	struct sim_guest *guests;
	uint64_t next_cookie;
	uint32_t next_port;
	bool stopping;

	pthread_mutex_t nq_lock;
	struct sim_notice *nq;
	size_t nq_len, nq_cap;

	uint8_t *rx, *tx;             /* one message each, SIM_WIRE_MAX_MSG */
};

/* A reply under construction: ret, payload in srv->tx, optional fd to pass. */
struct sim_reply {
	int64_t ret;
	size_t len;
	int pass_fd;
	bool close_fd;    /* pass_fd is the reply's own: closed once sent */
};

/* In a request handler: a malformed payload is -EINVAL. */
#define NEED(cond) do { if (!(cond)) { r->ret = -EINVAL; return; } } while (0)
/* the payload a reply may carry */
#define TX_MAX (SIM_WIRE_MAX_MSG - sizeof(struct sim_wire_hdr))

/* One line on the host's log (stderr), time-stamped. */
__attribute__((format(printf, 1, 2)))
void srv_log(const char *fmt, ...);
int srv_write_all(int fd, const void *buf, size_t len);
/* The NUL-terminated string at p within [p, p+len), or NULL; *used its size. */
const char *srv_str_in(const uint8_t *p, size_t len, size_t *used);
/* A command-line reply's message (the payload of its failure). */
void srv_set_text(struct sim_server *srv, struct sim_reply *r, const char *msg);

#endif /* XENSIM_SRV_H */
