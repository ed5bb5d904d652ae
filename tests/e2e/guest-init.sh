#!/bin/busybox sh
# /init of every e2e guest (PVH, Debian kernel, this busybox initramfs).
# Reads its name and seed from the kernel command line (xl.cfg "extra")
# and runs the workload; its lines go to hvc0, which xenconsoled logs in dom0.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
name=$(sed -n 's/.*e2e_name=\([^ ]*\).*/\1/p' /proc/cmdline)
seed=$(sed -n 's/.*e2e_seed=\([0-9]*\).*/\1/p' /proc/cmdline)
echo "E2E-GUEST ${name:-unknown} booted seed=${seed:-none} mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
/bin/guest-fill --name "${name:-unknown}" --seed "${seed:-0}" \
	--common-mb 32 --unique-mb 4 --hot-mb 2 --interval 5 --storm-node e2e-storm --write-node e2e-newdata
echo "E2E-GUEST ${name:-unknown} guest-fill exited rc=$?"
while :; do sleep 3600; done
