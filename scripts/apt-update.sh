#!/usr/bin/env bash
# `apt-get update` that survives a mirror caught mid-sync: apt exits 100 when any index file
# fails to download ("File has unexpected size ... Mirror sync in progress?"), even if every
# package needed is still listed. Tries three times, 20 s apart, then carries on with the
# indexes it has: the `apt-get install` that follows fails with apt's own message naming the
# package if something it needs really is missing.
#   scripts/apt-update.sh [extra apt-get options]   (run as root, or with sudo available)
set -uo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
for attempt in 1 2 3; do
  if $SUDO apt-get -o DPkg::Lock::Timeout=900 "$@" update -q; then exit 0; fi
  [ "$attempt" -lt 3 ] && { echo "apt-update: apt-get update failed (attempt $attempt of 3); retrying in 20 s" >&2; sleep 20; }
done
echo "apt-update: apt-get update still fails after 3 attempts; going on with the package lists there are" >&2
exit 0
