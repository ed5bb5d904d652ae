# The simulated Xen 4.17 hypervisor model (libsimhv), linked into the xensim
# server, and its unit tests.
SIMHV_SRCS := tools/xensim/hv_internal.c tools/xensim/hv_dom.c tools/xensim/hv_mem.c \
	tools/xensim/hv_gen.c tools/xensim/hv_share.c tools/xensim/hv_logdirty.c \
	tools/xensim/hv_audit.c tools/xensim/fault.c
# <xen/domctl.h> (the shadow op's and the page types' constants) pulls in
# xen/hvm/save.h, which needs GNU C's anonymous unions.
$(call objs_of,tools/xensim/hv_logdirty.c tools/xensim/hv_mem.c tests/unit/logdirty_ut.c): CFLAGS_ALL += -std=gnu11

$(eval $(call add_lib,simhv,$(SIMHV_SRCS)))
$(eval $(call add_unit_test,hv_ut,tests/unit/hv_ut.c,simhv,))
$(eval $(call add_unit_test,hv_model_ut,tests/unit/hv_model_ut.c,simhv,))
$(eval $(call add_unit_test,fault_ut,tests/unit/fault_ut.c,simhv,-lm))
$(eval $(call add_unit_test,logdirty_ut,tests/unit/logdirty_ut.c,simhv,))

.PHONY: simhv check-hv
simhv: $(O)/lib/libsimhv.a

check-hv: $(O)/tests/hv_ut $(O)/tests/hv_model_ut $(O)/tests/fault_ut $(O)/tests/logdirty_ut
	$(O)/tests/hv_ut
	$(O)/tests/hv_model_ut
	$(O)/tests/fault_ut
	$(O)/tests/logdirty_ut
