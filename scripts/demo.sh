#!/bin/sh
# kiln's main job end to end, as far as it reaches today: bring a Debian
# bookworm rootfs (made with mmdebstrap) into an OCI image with `kiln
# import`, inspect it, check it, copy it to an archive, and unpack it again.
set -eu
BUILD=${1:-build}
KILN="$(pwd)/$BUILD/cli/kiln"
DEMO="$(pwd)/$BUILD/demo"
mkdir -p "$DEMO"
cd "$DEMO"

step() { printf '\n== %s\n' "$*"; }

if [ ! -s bookworm.tar ]; then
  step "mmdebstrap: a minimal Debian bookworm rootfs with python3 (once; cached in $DEMO)"
  mmdebstrap --quiet --variant=minbase --include=python3 bookworm bookworm.tar.tmp
  mv bookworm.tar.tmp bookworm.tar
fi
rm -rf layout unpacked app.tar
export SOURCE_DATE_EPOCH=1700000000

step "kiln import bookworm.tar -t oci:layout:bookworm"
"$KILN" import bookworm.tar -t oci:layout:bookworm \
  --entrypoint '["/usr/bin/python3"]' --cmd '["-c", "import sys; print(sys.version)"]' \
  --label org.opencontainers.image.title=demo

step "kiln import again: SOURCE_DATE_EPOCH makes it reproducible"
a=$("$KILN" import -q bookworm.tar -t oci:layout:again --entrypoint '["/usr/bin/python3"]' \
  --cmd '["-c", "import sys; print(sys.version)"]' --label org.opencontainers.image.title=demo)
b=$("$KILN" inspect --raw manifest oci:layout:bookworm | sha256sum | cut -d' ' -f1)
echo "first:  sha256:$b"
echo "second: $a"
[ "$a" = "sha256:$b" ] || { echo "demo: the two imports differ" >&2; exit 1; }

step "kiln inspect oci:layout:bookworm"
"$KILN" inspect oci:layout:bookworm

step "kiln fsck layout"
"$KILN" fsck layout

step "kiln copy to an oci-archive and back"
"$KILN" copy oci:layout:bookworm oci-archive:app.tar:bookworm
"$KILN" inspect oci-archive:app.tar:bookworm | head -3

step "unpack and run the entrypoint's interpreter from the unpacked tree"
if "$KILN" unpack --help >/dev/null 2>&1; then
  "$KILN" unpack oci:layout:bookworm unpacked
else
  umoci unpack --image layout:bookworm unpacked-bundle >/dev/null && mv unpacked-bundle/rootfs unpacked
fi
ls unpacked/usr/bin/python3* | head -3
chroot unpacked /usr/bin/python3 -c 'import sys; print("python", sys.version.split()[0], "runs from the unpacked image")'
echo
echo "demo: ok"
