# Shared by tests/integration/stat_*.test.sh (sourced, not run): a scripted
# xensim host in a private folder, xenshare-stat run against it through
# xensim's drop-in Xen libraries, and small fake daemons for the failure
# modes of the control socket.
: "${O:?O must name the build folder}"
stat_bin=$O/bin/xenshare-stat
xensim=$O/bin/xensim
simlib=$O/simlib
fail() { echo "FAIL: $*"; exit 1; }
need() { [ -e "$1" ] || { echo "skip: $1 not built"; exit 77; }; }
need "$stat_bin"
need "$xensim"
need "$simlib/libxenctrl.so.4.17"
command -v jq >/dev/null || { echo "skip: jq not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }

work=$O/$(basename "$0" .test.sh).work
rm -rf "$work" && mkdir -p "$work" || exit 1
export XENSIM_SOCKET=$work/sim.sock
# the daemon's host lock file (hostlock.h) in this test's directory, not /run
export RUNTIME_DIRECTORY=$work/run
host_started=
fake_pid=
cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
	[ -n "$host_started" ] && "$xensim" stop >/dev/null 2>&1
	[ -n "${keep_work:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

start_host() { # MiB
	"$xensim" start --mem "$1" --pidfile "$work/sim.pid" --log "$work/sim.log" >/dev/null ||
		fail "xensim start: $(cat "$work/sim.log" 2>/dev/null)"
	host_started=1
}

guest_cfg() { # name mode group seed
	cat >"$work/$1.cfg" <<CFG
name = "$1"
type = "pvh"
memory = 64
vcpus = 1
mem_sharing = "$2"
mem_sharing_group = "$3"
sim_profile = "os=0.4,zero=0.3,dup=0.05,unique=0.25"
sim_seed = $4
CFG
	"$xensim" create "$work/$1.cfg" >/dev/null 2>&1 || fail "xensim create $1"
}

# xenshare-stat against the simulated host; extra arguments passed through
stat() {
	LD_LIBRARY_PATH=$simlib "$stat_bin" "$@"
}

# A fake daemon on a Unix socket: MODE is "silent" (accepts, never answers),
# "garbage" (answers a line that is not JSON) or "file:PATH" (answers the
# first line of PATH to every command).  Waits until the socket exists.
fake_daemon() { # socket mode
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys, time
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
reply = b"this is not json\n"
if mode.startswith("file:"):
    reply = open(mode[5:], "rb").readline()
while True:
    c, _ = s.accept()
    if mode == "silent":
        time.sleep(30)
        continue
    c.recv(4096)
    c.sendall(reply)
    c.close()
PY
	fake_pid=$!
	for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	fail "fake daemon did not start"
}

stop_fake() {
	kill "$fake_pid" 2>/dev/null
	wait "$fake_pid" 2>/dev/null
	fake_pid=
}
