# Shared settings of the end-to-end harness (sourced, not run).
#
# Layout, all under the build folder $O so variants never collide:
#   $O/e2e-cache/debs   downloaded .debs (kept between runs)
#   $O/e2e-cache/root   the .debs unpacked with dpkg-deb -x (never the host's /)
#   $O/e2e-cache/xen    the hypervisor we build ourselves when
#                       hypervisor-patch/build.sh is not there yet
#   $O/e2e              one run: dom0 initramfs, serial log, results
# Nothing here is installed into the machine's root.

: "${O:?O must name the (absolute) build folder}"
E2E_SRC=$(cd "$(dirname "$0")" && pwd)
E2E_TOP=$(cd "$E2E_SRC/../.." && pwd)
E2E_CACHE=${E2E_CACHE:-$O/e2e-cache}
E2E_WORK=${E2E_WORK:-$O/e2e}
E2E_ROOT=$E2E_CACHE/root
export E2E_SRC E2E_TOP E2E_CACHE E2E_WORK E2E_ROOT

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }
e2e_die() { printf 'e2e: error: %s\n' "$*" >&2; exit 1; }
