#!/bin/sh
# Boot the e2e under qemu-system-x86_64 (TCG) and judge its result.
#
#   O=/abs/build tests/e2e/run.sh
#
# Steps: fetch.sh (Debian .debs, cached), build-xen.sh (hypervisor via
# hypervisor-patch/build.sh, cached), mkinitrd.sh (dom0 + guest images),
# then one QEMU boot with a hard timeout.  dom0's /init prints
# "E2E CHECK <name> PASS|FAIL|SKIP <detail>" lines and an "E2E RESULT"
# line on the serial console; this script copies them to stdout, writes
# them to $E2E_WORK/result.txt and exits 0 when no check failed and the
# result line was seen, else 1 (printing the last 100 serial lines).
#
# Environment: E2E_TIMEOUT (s, default 2400), E2E_XEN (use this hypervisor
# image), E2E_XEN_ARGS (extra hypervisor boot options), E2E_SKIP_BUILD=1
# (reuse the images built by the previous run), E2E_PREBUILT=1 (take
# $O/bin/xenshared, xenshare-stat and bench-xxh3 as they are, without make),
# E2E_MODE=control (no daemon: guests only verify their memory),
# E2E_TCG_THREAD=single (one emulation thread), E2E_INJECT_CRASH=<guest>
# (test of the evidence capture).
set -eu
. "$(dirname "$0")/common.sh"

timeout_s=${E2E_TIMEOUT:-2400}
# E2E_PIN (see the hypervisor options below) is read by mkinitrd.sh too.
export E2E_PIN=${E2E_PIN:-1}
case $E2E_PIN in 0|1) ;; *) e2e_die "E2E_PIN must be 0 or 1, not '$E2E_PIN'" ;; esac
mkdir -p "$E2E_WORK"
t_start=$(date +%s)
stamp() { echo "$(( $(date +%s) - t_start ))"; }

if [ "${E2E_SKIP_BUILD:-0}" != 1 ]; then
	"$E2E_SRC/fetch.sh" >/dev/null
	e2e_log "packages ready at $(stamp) s"
	xen=$("$E2E_SRC/build-xen.sh")
	e2e_log "hypervisor ready at $(stamp) s"
	make -s -C "$E2E_TOP" O="$O" e2e-tools >&2 || e2e_die "building the e2e tools failed"
	# The project's daemon, xenshare-stat and bench-xxh3 (make all has built them
	# already under make check).
	if [ "${E2E_PREBUILT:-0}" != 1 ]; then
		make -s -C "$E2E_TOP" O="$O" "$O/bin/xenshared" "$O/bin/xenshare-stat" "$O/bin/bench-xxh3" >&2 ||
			e2e_die "building xenshared, xenshare-stat and bench-xxh3 failed"
	fi
	"$E2E_SRC/mkinitrd.sh"
	cp "$xen" "$E2E_WORK/xen"
	e2e_log "images ready at $(stamp) s"
fi
for f in xen vmlinuz dom0-initrd.gz; do
	[ -r "$E2E_WORK/$f" ] || e2e_die "missing $E2E_WORK/$f"
done

# loglvl=all guest_loglvl=all: everything Xen says about a guest (a triple
# fault, a domain_crash and its reason) reaches the serial log.
# The boot option that lets the patched hypervisor share on AMD SVM (the
# only CPU TCG emulates with nested paging) is named by hypervisor-patch/;
# E2E_XEN_ARGS adds options by hand.
boot_opt=$("$E2E_SRC/boot-option.sh")
# E2E_PIN (default 1): dom0 (PV) on the first CPU, the guests (HVM) on the
# second, so no CPU switches between a PV and an HVM vCPU (Xen loads PV
# segment state with VMLOAD on SVM); mkinitrd.sh writes the guests' cpus=
# setting.  Unpinned, this emulated machine loses vCPU state: guests die,
# dom0's programs crash, hashes glitch (docs/e2e.md); E2E_PIN=0 boots that
# way.
pin_args=
[ "$E2E_PIN" = 1 ] && pin_args=dom0_vcpus_pin
xen_args="console=com1 com1=115200,8n1 dom0_mem=768M,max:768M dom0_max_vcpus=1 bootscrub=false smap=0 loglvl=all guest_loglvl=all $pin_args $boot_opt ${E2E_XEN_ARGS:-}"
# Inside -initrd, commas in arguments are doubled.
dom0_args="console=hvc0 loglevel=4"
# E2E_TCG_THREAD=single: one host thread for both emulated CPUs (QEMU's
# round-robin TCG) instead of one per CPU; a control for races in the
# multi-threaded emulation of SVM (docs/e2e.md, "Known emulator problems").
tcg_thread=${E2E_TCG_THREAD:-multi}
# E2E_QEMU_CPU: the emulated CPU model (-cpu), e.g. max,-rdtscp,-avx,-avx2
# to take AVX (new in QEMU 7.2's TCG) out of the picture.
qemu_cpu=${E2E_QEMU_CPU:-max,-rdtscp}
case $tcg_thread in multi|single) ;; *) e2e_die "E2E_TCG_THREAD must be multi or single, not '$tcg_thread'" ;; esac
serial=$E2E_WORK/serial.log
rm -f "$serial" "$E2E_WORK/result.txt"
e2e_log "booting (timeout ${timeout_s}s, tcg thread=$tcg_thread, cpu $qemu_cpu, pinned=$E2E_PIN): xen $xen_args"
t_boot=$(date +%s)
set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 -machine q35 -accel "tcg,thread=$tcg_thread" \
	-cpu "$qemu_cpu" -m 2048 -smp 2 -display none -no-reboot -monitor none \
	-serial "file:$serial" -nic none \
	-kernel "$E2E_WORK/xen" -append "$xen_args" \
	-initrd "$E2E_WORK/vmlinuz $dom0_args,$E2E_WORK/dom0-initrd.gz" \
	>"$E2E_WORK/qemu.out" 2>&1
qrc=$?
set -e
boot_s=$(( $(date +%s) - t_boot ))
e2e_log "qemu exited rc=$qrc after ${boot_s}s (total $(stamp) s)"

# Xen's own console output can interleave with dom0's lines: match the
# markers anywhere in a line.
tr -d '\r' <"$serial" | grep -o 'E2E \(CHECK\|RESULT\|INFO\|XEN\|DIAG\) .*' >"$E2E_WORK/result.txt" || true
grep -E '^E2E (CHECK|RESULT)' "$E2E_WORK/result.txt" || true
fails=$(grep -c '^E2E CHECK [^ ]* FAIL' "$E2E_WORK/result.txt" || true)
result=$(grep '^E2E RESULT' "$E2E_WORK/result.txt" | tail -n1)
ok=1
[ "$qrc" = 0 ] || { ok=0; echo "e2e: qemu did not power off cleanly (rc=$qrc; 124 = timeout after ${timeout_s}s)"; }
[ -n "$result" ] || { ok=0; echo "e2e: no E2E RESULT line in the serial log"; }
[ "$fails" = 0 ] || ok=0
echo "e2e: boot ${boot_s}s, total $(stamp)s"
if [ $ok = 1 ]; then
	echo "e2e: PASS"
	exit 0
fi
# The evidence dom0 gathered about lost or failing guests (dom0-init.sh's
# diag_guest), then the end of the serial log.
if grep -q '^E2E DIAG' "$E2E_WORK/result.txt"; then
	echo "e2e: FAIL -- evidence (E2E DIAG lines of $serial):"
	grep '^E2E DIAG' "$E2E_WORK/result.txt"
fi
echo "e2e: FAIL -- last 100 lines of $serial:"
tail -n 100 "$serial" | tr -d '\r'
# what failed, last: a reader of the end of the log sees it first
echo "e2e: FAIL -- the failed checks, and the harness's last words:"
grep -E '^E2E CHECK [^ ]* FAIL' "$E2E_WORK/result.txt" | cut -c1-600
grep '^E2E INFO' "$E2E_WORK/result.txt" | tail -n 5 | cut -c1-300
exit 1
