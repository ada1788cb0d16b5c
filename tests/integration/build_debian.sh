#!/bin/sh
# kiln build on a real Debian bookworm base (mmdebstrap, imported with kiln
# import), as root, as an unprivileged user with a subuid range and as one
# without: what the RUN steps of everyday Containerfiles do there (useradd,
# chown to the new user, dpkg installing a package whose files belong to
# other ids, apt installing it, files made by a non-root container user),
# deletions in RUN as whiteouts, and a two-stage build whose image runs.
. "$(dirname "$0")/lib.sh"
need mmdebstrap umoci dpkg-deb
[ "$(id -u)" -eq 0 ] || skip "the package fixture needs files owned by other ids, which needs root"
cd "$WORK"
export SOURCE_DATE_EPOCH=1700000000

# The base: mmdebstrap's minimal bookworm, from the Debian mirror make test
# installs its packages from.
mmdebstrap --quiet --variant=minbase bookworm bookworm.tar 2>mmdebstrap.err ||
  { tail -n 5 mmdebstrap.err >&2; fail "mmdebstrap could not make a bookworm rootfs (is a Debian mirror reachable?)"; }
"$KILN" import -q bookworm.tar -t oci:"$WORK/bases":bookworm >/dev/null || fail "kiln import of mmdebstrap's tarball"
chmod -R a+rX bases

# A local package whose files belong to ids other than root, as many
# packages' do: dpkg gives them the owners in the .deb.
mkdir -p ctx pkg/DEBIAN pkg/opt/kilntest/owned
cat > pkg/DEBIAN/control <<CONTROL
Package: kiln-test-owned
Version: 1.0
Architecture: all
Maintainer: kiln tests <tests@kiln.invalid>
Description: files owned by ids other than root
CONTROL
echo data > pkg/opt/kilntest/data
echo owned > pkg/opt/kilntest/owned/file
chown -R 4242:4343 pkg/opt/kilntest/owned
dpkg-deb --build pkg ctx/owned.deb >/dev/null
chmod -R a+rX ctx

cat > ctx/Containerfile <<CONTAINERFILE
FROM oci:$WORK/bases:bookworm AS build
RUN useradd --uid 1500 --create-home builder && mkdir /out && chown builder:builder /out
USER builder
RUN echo "made by \$(id -un)" > /out/note && touch /home/builder/made
USER root
COPY owned.deb /tmp/
RUN apt-get install -y -q /tmp/owned.deb >/tmp/apt.log && rm /tmp/owned.deb
RUN rm -rf /usr/share/doc/apt /etc/motd

FROM oci:$WORK/bases:bookworm
COPY --from=build /out /srv/out
COPY --from=build --chown=65532:0 /opt/kilntest /opt/kilntest
RUN ["/usr/bin/stat", "-c", "%u:%g %n", "/srv/out/note"]
USER 65532
ENTRYPOINT ["/bin/cat"]
CMD ["/srv/out/note"]
CONTAINERFILE

# check NAME LAYOUT: the build stage's image (--target build) and the final
# image, unpacked with umoci, have what the steps made, with the container's
# ids; the final image runs.
check() {
  umoci unpack --image "$2":build "$1-build" >/dev/null || fail "$1: umoci unpack of the build stage"
  r=$1-build/rootfs
  grep -q '^builder:x:1500:1500:' $r/etc/passwd || fail "$1: useradd did not add the user"
  [ "$(stat -c %u:%g $r/out)" = 1500:1500 ] || fail "$1: chown to the new user: $(stat -c %u:%g $r/out)"
  [ "$(cat $r/out/note)" = "made by builder" ] || fail "$1: USER builder's RUN: $(cat $r/out/note)"
  [ "$(stat -c %u:%g $r/out/note $r/home/builder/made | sort -u)" = 1500:1500 ] ||
    fail "$1: files made by the container user: $(stat -c '%u:%g %n' $r/out/note $r/home/builder/made)"
  [ "$(stat -c %u:%g $r/opt/kilntest/owned/file)" = 4242:4343 ] ||
    fail "$1: dpkg's owners for the package's files: $(stat -c %u:%g $r/opt/kilntest/owned/file)"
  grep -A1 '^Package: kiln-test-owned$' $r/var/lib/dpkg/status | grep -q '^Status: install ok installed$' ||
    fail "$1: apt did not install the package"
  # Deleted in a RUN: whiteouts in the layer, gone once unpacked.
  [ ! -e $r/usr/share/doc/apt ] && [ ! -e $r/etc/motd ] && [ ! -e $r/tmp/owned.deb ] ||
    fail "$1: files deleted in RUN are still in the unpacked image"
  [ -e $r/usr/share/doc/dpkg ] || fail "$1: a file beside a deleted one is gone"
  umoci unpack --image "$2":final "$1-final" >/dev/null || fail "$1: umoci unpack of the final image"
  r=$1-final/rootfs
  [ "$(stat -c %u:%g $r/srv/out/note)" = 1500:1500 ] || fail "$1: COPY --from kept the owner"
  [ "$(stat -c %u:%g $r/opt/kilntest/owned/file)" = 65532:0 ] || fail "$1: COPY --from --chown=65532:0"
  [ ! -e $r/home/builder ] || fail "$1: the build stage leaked into the final image"
}

# build NAME [USER]: builds the build stage and the two-stage image into
# $WORK/NAME/out, as USER (a test user) or as root, checks them and runs it.
build() {
  name=$1
  mkdir -p "$name"
  as=""
  if [ $# -gt 1 ]; then
    chown "$2" "$name"
    as="as_named_user $2"
  fi
  $as "$KILN" build -q --insecure-allow-unverified-base --target build -t oci:"$WORK/$name/out":build ctx \
    >/dev/null 2>"$name.err" || { cat "$name.err" >&2; fail "$name: build of the build stage"; }
  $as "$KILN" build --insecure-allow-unverified-base -t oci:"$WORK/$name/out":final ctx \
    >"$name.out" 2>>"$name.err" || { cat "$name.err" >&2; fail "$name: two-stage build"; }
  cat "$name.out" "$name.err" | grep -q '^1500:1500 /srv/out/note$' || fail "$name: the final stage's RUN output"
  check "$name" "$WORK/$name/out"
  [ "$($as "$KILN" run oci:"$WORK/$name/out":final 2>/dev/null)" = "made by builder" ] ||
    fail "$name: kiln run of the final image"
}

build root
build user "$ROOTLESS_USER"

# Without a subuid range only container root exists: useradd's chown to 1500
# fails, and the build says which step and why, after the warning that named it.
mkdir -p nosub
chown kiln-nosub nosub
if as_named_user kiln-nosub "$KILN" build --insecure-allow-unverified-base --target build \
  -t oci:"$WORK/nosub/out":build ctx >/dev/null 2>nosub.err; then
  fail "kiln-nosub: a chown to an unmapped id succeeded"
fi
grep -q "^warning: .*subuid" nosub.err || { cat nosub.err >&2; fail "kiln-nosub: no warning about the single-id map"; }
grep -q "Containerfile:2: RUN useradd" nosub.err || { cat nosub.err >&2; fail "kiln-nosub: the failing step is not named"; }
[ ! -e nosub/out ] || fail "kiln-nosub: a failed build wrote its destination"
echo "ok: build_debian"
