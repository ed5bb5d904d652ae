# xensim: the simulated Xen 4.17 host (server + command line in one program).
XENSIM_COMMA := ,
#
# Links:
#  - libsimhv (tools/xensim/hv.mk): the hypervisor model.
#  - libxlutil (libxen-dev): xl's own config parser, so xensim reads real
#    xl.cfg files exactly as xl does.  It pulls in the real libxenlight and
#    libxenctrl, which is why xensim drops LD_LIBRARY_PATH at start-up.
#  - libzstd (libzstd-dev): guest memory images are shipped zstd-compressed
#    (../shared/corpus/*.raw.zst); streaming them through the library is
#    faster and safer than piping through a zstd child process.
#
# LD_LIBRARY_PATH: tests point it at the drop-in Xen libraries for the
# daemon, and a shell that exports it also starts xensim.  The dynamic
# loader would then bind the real libxenlight to the drop-in libxenctrl and
# fail before main() (libxenguest: undefined symbol xenforeignmemory_map),
# so the re-exec in main.c alone cannot help.  An old-style DT_RPATH (which,
# unlike DT_RUNPATH, is searched before LD_LIBRARY_PATH, also for indirect
# dependencies) pins xensim to the real libraries in libxenlight's libdir.
XENSIM_XENLIBDIR := $(shell pkg-config --variable=libdir xlutil 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)
XENSIM_SRCS := tools/xensim/main.c tools/xensim/cli.c tools/xensim/server.c \
	tools/xensim/srv.c tools/xensim/srv_guest.c tools/xensim/srv_xenstore.c \
	tools/xensim/srv_hypercall.c tools/xensim/srv_cli.c \
	tools/xensim/store.c tools/xensim/xlcfg.c tools/xensim/guest.c tools/xensim/vcpu.c \
	tools/xensim/genmem.c
$(eval $(call add_prog,xensim,$(XENSIM_SRCS),simhv,-lxlutil -lzstd -Wl$(XENSIM_COMMA)--disable-new-dtags$(XENSIM_COMMA)-rpath$(XENSIM_COMMA)$(XENSIM_XENLIBDIR)))

$(eval $(call add_unit_test,store_ut,tests/unit/store_ut.c tools/xensim/store.c,,))
$(eval $(call add_unit_test,xlcfg_ut,tests/unit/xlcfg_ut.c tools/xensim/xlcfg.c,,-lxlutil))
$(eval $(call add_unit_test,guest_ut,tests/unit/guest_ut.c tools/xensim/guest.c,,-lzstd))
$(eval $(call add_unit_test,vcpu_ut,tests/unit/vcpu_ut.c tools/xensim/vcpu.c tools/xensim/guest.c,simhv,-lzstd))

.PHONY: xensim xensim-tests
xensim: $(O)/bin/xensim
xensim-tests: $(O)/tests/store_ut $(O)/tests/xlcfg_ut $(O)/tests/guest_ut $(O)/tests/vcpu_ut
