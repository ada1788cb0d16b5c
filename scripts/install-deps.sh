#!/bin/sh
# Installs exactly the Debian packages kiln's build, tests and demo need.
# A no-op when they are present. Run as root on Debian bookworm.
set -eu

BUILD_PACKAGES="meson ninja-build pkg-config g++ cmake
  libarchive-dev libssl-dev libzstd-dev libboost-filesystem-dev libfmt-dev
  libtomlplusplus-dev doctest-dev nlohmann-json3-dev libsodium-dev
  libexpected-dev libisal-dev libcurl4-openssl-dev"
# Peers used as test oracles (see ../shared/peers.md) and tools the
# integration tests drive.
TEST_PACKAGES="skopeo umoci oci-image-tool uidmap fuse-overlayfs mmdebstrap
  dpkg python3 python3-cryptography python3-nacl python3-packaging
  tar gzip zstd passwd util-linux coreutils nodejs attr busybox-static
  clang-14 libclang-rt-14-dev python3-apt time jq"

missing=""
for p in $BUILD_PACKAGES ${KILN_DEPS_TESTS:+$TEST_PACKAGES}; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
