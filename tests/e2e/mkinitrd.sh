#!/bin/sh
# Build the dom0 and guest initramfs images of the e2e.
#
#   mkinitrd.sh   ->  $E2E_WORK/dom0-initrd.gz, guest-initrd.gz, vmlinuz
#
# dom0 image: busybox, the Debian Xen userland unpacked by fetch.sh (xl,
# xenstored, xenconsoled, xen-init-dom0, xenstore-*), every shared library
# those and our own programs need (resolved with ldd against the unpacked
# libraries first, plus libgcc_s.so.1 which xl dlopens through
# pthread_cancel), the xen-* kernel modules, the guest kernel and initramfs,
# the harness's probe from $O/e2e-bin and the project's $O/bin/xenshared and
# xenshare-stat, and bench-xxh3 (the scan cost's raw XXH3 rate).  /init is
# dom0-init.sh.
# guest image: busybox, the static guest-fill and guest-init.sh as /init.
set -eu
. "$(dirname "$0")/common.sh"

root=$E2E_ROOT
[ -d "$root/usr/lib/xen-4.17/bin" ] || e2e_die "no unpacked Xen userland in $root (run fetch.sh)"
kver=$(ls "$root/lib/modules" | head -n1)
[ -n "$kver" ] || e2e_die "no kernel modules in $root/lib/modules"
vmlinuz=$root/boot/vmlinuz-$kver
[ -r "$vmlinuz" ] || e2e_die "no kernel image $vmlinuz"
bin=$O/e2e-bin
for f in e2e-probe guest-fill e2e-enomem e2e-spanning; do
	[ -x "$bin/$f" ] || e2e_die "$bin/$f not built (make O=\$O e2e-tools)"
done

work=$E2E_WORK
rm -rf "$work/dom0root" "$work/guestroot"
mkdir -p "$work"
d=$work/dom0root g=$work/guestroot
mkdir -p "$d/bin" "$d/sbin" "$d/usr/bin" "$d/usr/sbin" "$d/lib/x86_64-linux-gnu" "$d/lib64" \
	"$d/usr/lib/xen-4.17/bin" "$d/etc/xen" "$d/boot" "$d/modules" "$d/e2e" \
	"$d/proc" "$d/sys" "$d/dev" "$d/run" "$d/tmp" "$d/var/lib/xen" "$d/var/lib/xenstored" \
	"$d/var/log/xen/console"
ln -s ../run "$d/var/run"

libdir=$root/usr/lib/x86_64-linux-gnu
# Copy one ELF program and, recursively through ldd, every library it
# loads; the unpacked Debian libraries win over the host's.
add_elf() {
	src=$1 dst=$2
	cp -L "$src" "$d$dst"
	LD_LIBRARY_PATH=$libdir ldd "$src" >"$work/ldd.out" 2>&1 ||
		e2e_die "ldd $src failed: $(cat "$work/ldd.out")"
	if grep -q 'not found' "$work/ldd.out"; then
		e2e_die "$src needs a library that is nowhere: $(grep 'not found' "$work/ldd.out")"
	fi
	sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' "$work/ldd.out" | while read -r lib; do
		name=$(basename "$lib")
		[ -e "$d/lib/x86_64-linux-gnu/$name" ] || cp -L "$lib" "$d/lib/x86_64-linux-gnu/$name"
	done
}

cp "$root/bin/busybox" "$d/bin/busybox"
ln -s busybox "$d/bin/sh"
xenbin=$root/usr/lib/xen-4.17/bin
# xenctx and xen-hvmctx: the registers and stack of a lost guest (dom0-init.sh's
# diag_guest); xen-hvmcrash: E2E_INJECT_CRASH; libxl-save-helper: xl save
# and xl restore (phase-logdirty.sh).
for p in xl xenstored xenconsoled xen-init-dom0 xenconsole xen-memshare xenctx xen-hvmctx xen-hvmcrash \
	libxl-save-helper; do
	add_elf "$xenbin/$p" "/usr/lib/xen-4.17/bin/$p"
done
for p in xenstore-read xenstore-write xenstore-chmod xenstore-ls xenstore-rm xenstore-list \
	xenstore-exists; do
	add_elf "$root/usr/bin/$p" "/usr/bin/$p"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$d/lib64/"
# xl needs it at run time (pthread_cancel dlopens it), ldd does not list it.
cp -L "$(gcc -print-file-name=libgcc_s.so.1)" "$d/lib/x86_64-linux-gnu/libgcc_s.so.1"
cp -a "$root/etc/xen/." "$d/etc/xen/"

for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
	ko=$(find "$root/lib/modules/$kver" -name "$m.ko*" | head -n1)
	[ -n "$ko" ] || e2e_die "module $m not found in the kernel package"
	cp "$ko" "$d/modules/"
done

# Our programs: the harness's tools always, the daemon when it is built.
add_elf "$bin/e2e-probe" /usr/sbin/e2e-probe
# The unshare-ENOMEM phase: its hog/waiters tool and its script.
add_elf "$bin/e2e-enomem" /usr/sbin/e2e-enomem
cp "$E2E_SRC/phase-enomem.sh" "$d/e2e/phase-enomem.sh"
# The group-move phase (tenant isolation).
cp "$E2E_SRC/phase-group.sh" "$d/e2e/phase-group.sh"
# The fill-and-storm phase.
cp "$E2E_SRC/phase-fill.sh" "$d/e2e/phase-fill.sh"
# The share that panics an unpatched host (hypervisor-patch 0008) and the
# frame-to-frame merge (0009).
add_elf "$bin/e2e-spanning" /usr/sbin/e2e-spanning
# The dirty-log phase.
cp "$E2E_SRC/phase-logdirty.sh" "$d/e2e/phase-logdirty.sh"
# The scan cost (bench-xxh3: raw XXH3).
cp "$E2E_SRC/phase-scancost.sh" "$d/e2e/phase-scancost.sh"
for p in xenshared xenshare-stat bench-xxh3; do
	[ -x "$O/bin/$p" ] || e2e_die "$O/bin/$p not built (make O=\$O all)"
	add_elf "$O/bin/$p" "/usr/sbin/$p"
done
# The patched libxenctrl (batched op), when build-xen.sh built one: in its
# own folder, for the daemon and xenshare-stat only (dom0-init.sh).
batched=no
patched=$(cat "$E2E_WORK/xen.libxenctrl" 2>/dev/null || true)
if [ -n "$patched" ]; then
	nm -D --defined-only "$patched" | grep -qw xc_memshr_compare_share ||
		e2e_die "$patched does not export xc_memshr_compare_share"
	mkdir -p "$d/usr/lib/xenshare"
	cp -L "$patched" "$d/usr/lib/xenshare/libxenctrl.so.4.17"
	batched=yes
fi
# The patched xl (patch 0006: the mem_sharing keys), when build-xen.sh built
# the tools or took the packages: /usr/lib/xenshare/xl/xl with its own
# libraries beside it (the tree's, or the packages' of xen.xl-libs), run
# through /usr/sbin/xl-patched.  Debian's xl stays the default.
patched_xl=no
pxl=$(cat "$E2E_WORK/xen.xl" 2>/dev/null || true)
if [ -n "$pxl" ]; then
	[ -x "$pxl" ] || e2e_die "patched xl $pxl is not executable"
	grep -q mem_sharing_group "$pxl" || e2e_die "$pxl lacks patch 0006 (no mem_sharing_group)"
	own=$(cat "$E2E_WORK/xen.xl-libs" 2>/dev/null || true)
	if [ -n "$own" ]; then
		ptree=$own
		pdirs=$own:
	else
		ptree=${pxl%/tools/xl/xl}
		pdirs=$(find "$ptree/tools/libs" -name '*.so' -printf '%h\n' | sort -u | tr '\n' ':')
	fi
	px=$d/usr/lib/xenshare/xl
	mkdir -p "$px"
	cp -L "$pxl" "$px/xl"
	LD_LIBRARY_PATH=$pdirs$libdir ldd "$pxl" >"$work/ldd.out" 2>&1 ||
		e2e_die "ldd $pxl failed: $(cat "$work/ldd.out")"
	grep -q 'not found' "$work/ldd.out" &&
		e2e_die "$pxl needs a library that is nowhere: $(grep 'not found' "$work/ldd.out")"
	# its own libraries beside xl, everything else in the common folder
	sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' "$work/ldd.out" | while read -r lib; do
		name=$(basename "$lib")
		case $lib in
		"$ptree"/*) cp -L "$lib" "$px/$name" ;;
		*) [ -e "$d/lib/x86_64-linux-gnu/$name" ] || cp -L "$lib" "$d/lib/x86_64-linux-gnu/$name" ;;
		esac
	done
	cat >"$d/usr/sbin/xl-patched" <<'XL'
#!/bin/sh
LD_LIBRARY_PATH=/usr/lib/xenshare/xl exec /usr/lib/xenshare/xl/xl "$@"
XL
	chmod 755 "$d/usr/sbin/xl-patched"
	patched_xl=yes
fi

# Guest image.
mkdir -p "$g/bin" "$g/proc" "$g/sys" "$g/dev"
cp "$root/bin/busybox" "$g/bin/busybox"
ln -s busybox "$g/bin/sh"
cp "$bin/guest-fill" "$g/bin/guest-fill"
cp "$E2E_SRC/guest-init.sh" "$g/init"
chmod 755 "$g/init"
(cd "$g" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/guest-initrd.gz"

cp "$vmlinuz" "$d/boot/vmlinuz"
cp "$work/guest-initrd.gz" "$d/boot/guest-initrd.gz"
# loglevel=5: warnings too (allocation failures); nokaslr: the guest's kernel
# addresses equal dom0's /proc/kallsyms (same kernel), so dom0-init.sh can
# name the function in a lost guest's RIP; panic=0: a panicking guest stays
# (Xen's crash shutdown; xl create -e runs no on_crash action) to be read;
# noxsave: the guests keep their FPU state with FXSAVE, which does not
# depend on XCR0, the state the emulator loses (docs/e2e.md, "Known
# emulator problems"; what is shared is memory, not FPU state).
# E2E_PIN=1, the default (run.sh pins dom0 to CPU 0): the guests run on
# CPU 1 only.
pin_cfg=
[ "${E2E_PIN:-1}" = 1 ] && pin_cfg='cpus = "1"'
for i in 1 2 3; do
	cat >"$d/etc/xen/guest$i.cfg" <<CFG
name = "guest$i"
type = "pvh"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/guest-initrd.gz"
extra = "console=hvc0 loglevel=5 nokaslr noxsave panic=0 e2e_name=guest$i e2e_seed=$i"
memory = 128
maxmem = 128
vcpus = 1
on_crash = "preserve"
$pin_cfg
CFG
done
# guest3 opts in through its config (patch 0006); dom0-init.sh creates it
# with the patched xl when the image has one (Debian's xl ignores the keys).
cat >>"$d/etc/xen/guest3.cfg" <<CFG
mem_sharing = "on"
mem_sharing_group = "e2e"
CFG
cp "$E2E_SRC/dom0-init.sh" "$d/init"
chmod 755 "$d/init"
# Settings of this run, read by /init.  E2E_HV_FROM_SERIES: the hypervisor
# was built from this checkout's series (build-xen.sh: by build.sh, or the
# packages' changelog names its hash), so steps that would panic an older
# or unpatched one may run.
cat >"$d/e2e/settings" <<SET
E2E_HV_BATCHED=$batched
E2E_PATCHED_XL=$patched_xl
E2E_HV_FROM_SERIES=$([ "$(cat "$E2E_WORK/xen.from-series" 2>/dev/null)" = yes ] && echo yes || echo no)
E2E_MODE=${E2E_MODE:-full}
E2E_INJECT_CRASH=${E2E_INJECT_CRASH:-}
E2E_ENOMEM=${E2E_ENOMEM:-1}
E2E_FILL=${E2E_FILL:-1}
E2E_FILL_ROOM_MB=${E2E_FILL_ROOM_MB:-192}
E2E_FILL_MAX=${E2E_FILL_MAX:-10}
E2E_PHASE2=${E2E_PHASE2:-1}
SET
(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/dom0-initrd.gz"
cp "$vmlinuz" "$work/vmlinuz"
e2e_log "initramfs built: dom0 $(du -k "$work/dom0-initrd.gz" | cut -f1) KiB (batched op: $batched)"
