# Benchmarks (`make bench`, not part of `make check`): the programs
# tests/bench/run-all.sh needs besides the daemon, xensim and the engine's
# test tools.
#  - bench-xxh3: raw inlined XXH3 over the benchmark's pages, the baseline
#    every scan-cost number is a ratio to.
#    The AVX2 kernel is a separate object built with -mavx2 (xxHash picks
#    its vector code at compile time), chosen at run time like the engine's.
$(eval $(call add_prog,bench-xxh3,tests/bench/xxh3_raw.c tests/bench/xxh3_avx2.c,,))
$(call objs_of,tests/bench/xxh3_avx2.c): CFLAGS_ALL += -mavx2

.PHONY: bench-tools
bench-tools: $(O)/bin/bench-xxh3

# Unit tests of the hypervisor model's generated frames (the scale mode
# the scale benchmark runs on); also run by `make check-unit`.
$(eval $(call add_unit_test,hv_gen_ut,tests/unit/hv_gen_ut.c,simhv,))
.PHONY: check-hv-gen
check-hv-gen: $(O)/tests/hv_gen_ut
	$(O)/tests/hv_gen_ut

# bench-churn-writer: rewrites guest pages with content common to all
# guests through writable foreign mappings (churn.bench.sh).  Built
# against Debian's headers, run with LD_LIBRARY_PATH=$(O)/simlib.
$(eval $(call add_prog,bench-churn-writer,tests/bench/churn_writer.c,,-lxenforeignmemory -lxendevicemodel -lxenctrl))
$(call objs_of,tests/bench/churn_writer.c): CFLAGS_ALL += -std=gnu11
bench-tools: $(O)/bin/bench-churn-writer

# bench-stats-poll: samples the daemon's control socket every few ms from
# the moment its domain table is ready (the first-pass benchmark's clock).
$(eval $(call add_prog,bench-stats-poll,tests/bench/stats_poll.c,,-ljson-c))
bench-tools: $(O)/bin/bench-stats-poll

# bench-ksm-guest: one guest's pages, read from the (simulated) host and
# copied into MADV_MERGEABLE memory for Linux KSM (ksm.bench.sh).  Built
# against Debian's headers, run with LD_LIBRARY_PATH=$(O)/simlib.
$(eval $(call add_prog,bench-ksm-guest,tests/bench/ksm_guest.c,,-lxenforeignmemory -lxenctrl))
$(call objs_of,tests/bench/ksm_guest.c): CFLAGS_ALL += -std=gnu11
bench-tools: $(O)/bin/bench-ksm-guest
