/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simstub.h - what the generated *-stubs.c files call: a function of the
 * real library that xensim does not simulate sets errno = ENOSYS (as a
 * hypervisor without that hypercall would make the real library report)
 * and, when $XENSIM_TRACE_STUBS is set, names itself on stderr so that a
 * program's unexpected reliance on an unsimulated call is easy to find.
 */
#ifndef XENSIM_CLIENT_SIMSTUB_H
#define XENSIM_CLIENT_SIMSTUB_H

void sim_stub_enosys(const char *fn);

#endif /* XENSIM_CLIENT_SIMSTUB_H */
