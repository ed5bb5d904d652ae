# The simulated Xen 4.17 hypervisor model (libsimhv), linked into the xensim
# server, and its unit tests.
SIMHV_SRCS := tools/xensim/hv.c tools/xensim/hv_share.c tools/xensim/fault.c

$(eval $(call add_lib,simhv,$(SIMHV_SRCS)))
$(eval $(call add_unit_test,hv_ut,tests/unit/hv_ut.c,simhv,))
$(eval $(call add_unit_test,hv_model_ut,tests/unit/hv_model_ut.c,simhv,))
$(eval $(call add_unit_test,fault_ut,tests/unit/fault_ut.c,simhv,-lm))

.PHONY: simhv check-hv
simhv: $(O)/lib/libsimhv.a

check-hv: $(O)/tests/hv_ut $(O)/tests/hv_model_ut $(O)/tests/fault_ut
	$(O)/tests/hv_ut
	$(O)/tests/hv_model_ut
	$(O)/tests/fault_ut
