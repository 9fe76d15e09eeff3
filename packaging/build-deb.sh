#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make deb: builds target/deb/eprog-dkms_<version>_all.deb from the driver's
# files, packaging/debian and packaging/dkms/dkms.conf. The version is
# VERSION's; the changelog's date is the last commit's (reproducible).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$root/VERSION")
for tool in dpkg-buildpackage dh dh_dkms; do
	command -v "$tool" >/dev/null ||
		{ echo "eprog: make deb needs $tool (apt-get install dpkg-dev debhelper dh-dkms)" >&2; exit 1; }
done
out=$root/target/deb
stage=$out/eprog-$version
rm -rf "$stage" && mkdir -p "$stage"
make -s -C "$root" copy-driver DEST="$stage/src-files"
cp "$root/Makefile" "$stage/src-files/"
install -D -m 755 "$root/tools/rust-headers.sh" "$stage/src-files/tools/rust-headers.sh"
cp "$root/VERSION" "$stage/"
cp -a "$root/packaging/debian" "$stage/debian"
cp "$root/packaging/dkms/dkms.conf" "$stage/debian/eprog-dkms.dkms"
when=$(git -C "$root" log -1 --format=%cD 2>/dev/null || date -R)
cat >"$stage/debian/changelog" <<CHANGELOG
eprog ($version) unstable; urgency=medium

  * eprog $version: see CHANGELOG.md.

 -- eprog developers <eprog@localhost>  $when
CHANGELOG
(cd "$stage" && dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) ||
	{ tail -n 20 "$out/build.log" >&2; echo "eprog: the package build failed; log: $out/build.log" >&2; exit 1; }
ls "$out/eprog-dkms_${version}_all.deb"
