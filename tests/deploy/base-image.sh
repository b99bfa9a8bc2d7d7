#!/usr/bin/env bash
# Make sure the Docker engine has a Debian 12 base image under the tag
# deploy/Dockerfile starts from (debian:bookworm-slim by default).
#
#   tests/deploy/base-image.sh [TAG]
#
# In order: the tag is already there (nothing to do); `docker pull` gets
# it (a registry is reachable); else a minimal Debian 12 root file system
# is built with debootstrap (--variant=minbase, from the Debian mirror
# this machine's apt uses: scripts/debian-mirror, or $DEBIAN_MIRROR) and
# `docker import`ed under TAG. The imported image is close to the
# official slim one: the same suite, apt and dpkg, no documentation
# trimming. Needs root (debootstrap) and the debootstrap package
# (scripts/install-deps). DOCKER_HOST selects the engine, as for docker.
set -euo pipefail
cd "$(dirname "$0")/../.."

TAG=${1:-debian:bookworm-slim}
PULL_TIMEOUT=${PULL_TIMEOUT:-60}

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "base-image: $TAG present"
  exit 0
fi
if timeout "$PULL_TIMEOUT" docker pull -q "$TAG" >/dev/null 2>&1; then
  echo "base-image: pulled $TAG"
  exit 0
fi

command -v debootstrap >/dev/null ||
  { echo "base-image: $TAG cannot be pulled and debootstrap is missing (scripts/install-deps)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] ||
  { echo "base-image: debootstrap needs root" >&2; exit 1; }

MIRROR=${DEBIAN_MIRROR:-$(scripts/debian-mirror | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ROOT=$(mktemp -d /tmp/talus-rootfs.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT

echo "base-image: $TAG cannot be pulled; building it with debootstrap from $MIRROR"
# Up to 10 minutes on a slow mirror; a hung download must not hang the run.
timeout 900 debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" \
  >"$ROOT.log" 2>&1 ||
  { tail -n 20 "$ROOT.log" >&2; echo "base-image: debootstrap failed (log: $ROOT.log)" >&2; exit 1; }
rm -f "$ROOT.log"

# What the official image also does: apt sources on the same mirror plus
# security updates, no package caches, no machine identity.
cat >"$ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
: >"$ROOT/etc/machine-id"

tar -C "$ROOT" -c . |
  docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$TAG" >/dev/null
echo "base-image: built and imported $TAG"
