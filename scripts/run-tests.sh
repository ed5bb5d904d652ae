#!/bin/sh
# The README's test command: set up a fresh Debian 12 machine and run every test.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
make -j"$(nproc)" all
make check
