/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_gen.h - generated frames inside the hypervisor model (hv_gen.c):
 * reading a frame whatever holds its content, and putting a generated
 * frame's content into the memfd while it is mapped or for good before it
 * is written.  Called with the host lock held.
 */
#ifndef XENSIM_HV_GEN_H
#define XENSIM_HV_GEN_H

#include "hv_internal.h"

/* The frame's content: a pointer into host memory, or buf filled with it. */
const uint8_t *sim_frame_content(struct sim_hv *hv, uint32_t mfn, uint8_t *buf);
/* A generated frame is being mapped: its content goes into the memfd. */
void sim_gen_materialise(struct sim_hv *hv, uint32_t mfn);
/* The last mapping of a generated frame went: its content leaves the memfd. */
void sim_gen_dematerialise(struct sim_hv *hv, uint32_t mfn);
/* Something is about to write the frame: from now on the memfd holds it. */
void sim_gen_make_private(struct sim_hv *hv, uint32_t mfn);

#endif /* XENSIM_HV_GEN_H */
