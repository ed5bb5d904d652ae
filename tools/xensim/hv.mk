# The simulated Xen 4.17 hypervisor model (libsimhv), linked into the xensim
# server.
SIMHV_SRCS := tools/xensim/hv.c tools/xensim/hv_share.c

$(eval $(call add_lib,simhv,$(SIMHV_SRCS)))

.PHONY: simhv
simhv: $(O)/lib/libsimhv.a
