#!/bin/sh
# Builds every libFuzzer target of tests/fuzz/ (make fuzz, clang with
# -fsanitize=fuzzer,address,undefined into $O/fuzz/) and runs each for a
# short bounded time on its seed corpus, after replaying the reproducers
# kept in tests/fuzz/crashes/<target>/.  Any crash, sanitizer report,
# broken property, leak or timeout fails the test and names the input that
# caused it.  Release variant only (tests/skip-list.txt): the fuzzers carry
# their own ASan/UBSan, a second run under VARIANT=san would test the same
# thing again.
#
#   FUZZ_SMOKE_SECONDS  per fuzzer (default 12; docs/fuzzing.md says how to
#                       run them for hours)
# Exit 0 pass, else fail (also without clang or its fuzzer runtime).
set -u
. "$(dirname "$0")/common.sh"
secs=${FUZZ_SMOKE_SECONDS:-12}

# clang and its fuzzer runtime (scripts/packages/fuzz.txt)
need_tool clang
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$T/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" >"$T/probe.log" 2>&1 ||
	fail "clang cannot link -fsanitize=fuzzer: Debian package libclang-rt-14-dev (scripts/packages/fuzz.txt): $(head -3 "$T/probe.log")"

# build (a nested make: drop the outer make's jobserver, which this shell
# does not pass on)
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" -j2 O="$O" VARIANT=release fuzz \
		>"$T/build.log" 2>&1; then
	echo "FAIL: make fuzz"
	tail -30 "$T/build.log"
	exit 1
fi

failed=
for f in "$O"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz_}
	corpus="$TOP/tests/fuzz/corpus/$name"
	crashes="$TOP/tests/fuzz/crashes/$name"
	mkdir -p "$T/work/$name" "$T/art"

	# known reproducers first: each must run clean once its bug is fixed
	if [ -d "$crashes" ] && [ -n "$(ls -A "$crashes" 2>/dev/null)" ]; then
		for r in "$crashes"/*; do
			case "$r" in *.md|*.txt.md) continue ;; esac
			if "$f" -runs=1 -rss_limit_mb=2048 -timeout=10 "$r" >"$T/$name.replay" 2>&1; then
				echo "   $name: reproducer ${r#$TOP/} runs clean now: move it to tests/fuzz/corpus/$name/ as a regression seed"
			else
				echo "FAIL: $name: open bug, reproducer ${r#$TOP/} still fails:"
				grep -E "ERROR|runtime error|property broken|SUMMARY" "$T/$name.replay" | head -5 | sed 's/^/     /'
				case " $failed " in *" $name "*) ;; *) failed="$failed $name" ;; esac
			fi
		done
	fi

	echo "== fuzz: $name (${secs} s on ${corpus#$TOP/})"
	if ! "$f" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
			-artifact_prefix="$T/art/$name-" "$T/work/$name" "$corpus" >"$T/$name.log" 2>&1; then
		echo "FAIL: $name: the fuzzer found a failing input:"
		grep -E "ERROR|runtime error|property broken|SUMMARY|Test unit written" "$T/$name.log" | head -8 | sed 's/^/     /'
		for a in "$T/art/$name-"*; do
			[ -e "$a" ] || continue
			echo "     input (base64): $(base64 -w0 "$a" | head -c 2000)"
		done
		case " $failed " in *" $name "*) ;; *) failed="$failed $name" ;; esac
		continue
	fi
	grep -E "^stat::number_of_executed_units|^Done" "$T/$name.log" | tail -1 | sed 's/^/   /'
done
[ -n "$(ls "$O"/fuzz/fuzz_* 2>/dev/null)" ] || { echo "FAIL: make fuzz built no fuzzer"; exit 1; }
if [ -n "$failed" ]; then
	echo "fuzz_smoke: failed:$failed"
	exit 1
fi
echo "fuzz_smoke: ok"
exit 0
