# xensim: the simulated Xen 4.17 host (server + command line in one program).
$(eval $(call add_unit_test,store_ut,tests/unit/store_ut.c tools/xensim/store.c,,))

.PHONY: xensim-tests
xensim-tests: $(O)/tests/store_ut
$(eval $(call add_unit_test,xlcfg_ut,tests/unit/xlcfg_ut.c tools/xensim/xlcfg.c,,-lxlutil))
xensim-tests: $(O)/tests/xlcfg_ut
$(eval $(call add_unit_test,guest_ut,tests/unit/guest_ut.c tools/xensim/guest.c,,-lzstd))
xensim-tests: $(O)/tests/guest_ut
