#!/usr/bin/env bash
# Prints the folder of kissfft's C sources, fetching them first if they are not cached: Debian's
# source tarball of the kissfft the host links (libkissfft-dev, bookworm), from the Debian
# archive, checked against its pinned SHA-256. A microcontroller build compiles kiss_fft.c and
# kiss_fftr.c itself (scripts/mcu.sh, mcu/CMakeLists.txt). Cache: $TINYKWS_CACHE (default
# ~/.cache/tinykws). Exit 1 when it can be neither found nor fetched.
set -euo pipefail
version=131.1.0
sha256=76c1aac87ddb7258f34b08a13f0eebf9e53afa299857568346aa5c82bcafaf1a
url="${TINYKWS_DEBIAN_MIRROR:-http://deb.debian.org/debian}/pool/main/k/kissfft/kissfft_${version}.orig.tar.gz"
cache="${TINYKWS_CACHE:-$HOME/.cache/tinykws}"
dir="$cache/kissfft-$version"
if [ ! -f "$dir/kiss_fftr.c" ]; then
  mkdir -p "$cache"
  tarball="$cache/kissfft_${version}.orig.tar.gz"
  if [ ! -f "$tarball" ] || ! echo "$sha256  $tarball" | sha256sum -c --status; then
    curl -fsSL --retry 3 -o "$tarball.part" "$url" || { echo "fetch-kissfft: cannot fetch $url" >&2; exit 1; }
    mv "$tarball.part" "$tarball"
  fi
  echo "$sha256  $tarball" | sha256sum -c --status ||
    { echo "fetch-kissfft: $tarball: SHA-256 is not $sha256" >&2; rm -f "$tarball"; exit 1; }
  tmp=$(mktemp -d "$cache/kissfft.XXXXXX")
  tar -xzf "$tarball" -C "$tmp"
  rm -rf "$dir"
  mv "$tmp/kissfft-$version" "$dir"
  rmdir "$tmp"
fi
echo "$dir"
