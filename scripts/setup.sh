#!/bin/sh
# Install the Debian 12 packages xenshare needs to build, test and demo.
#
# Package lists live in scripts/packages/*.txt (one package per line, '#'
# comments), one file per concern, so each part of the project declares
# its own needs.  Idempotent: only missing packages are installed, and
# apt-get update runs only when something is missing.  As non-root it
# only reports what is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
want=$(cat "$here"/packages/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "setup: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "setup: missing packages:$missing" >&2
	echo "setup: run as root (sudo $0) to install them" >&2
	exit 1
fi
echo "setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
