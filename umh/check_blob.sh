#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check_blob.sh FILE SRCARCH MAX_BYTES
# Refuses, in one sentence, a file that cannot run as eprog's helper: empty,
# too large, not ELF, not an executable, built for another machine, or
# dynamically linked (UMD runs it with no root file system, so there is no
# loader and no library to find).
set -eu
file=$1 arch=$2 max=$3
fail() { echo "eprog: UMH_BLOB=$file $*" >&2; exit 1; }

[ -f "$file" ] || fail "is not a regular file"
size=$(wc -c < "$file")
[ "$size" -gt 0 ] || fail "is empty"
[ "$size" -le "$max" ] || fail "is $size bytes, more than the $max-byte limit (it stays in memory while eprog runs)"

# ELF identification and header fields, as unsigned decimal bytes.
hdr=$(od -An -v -tu1 -N64 "$file" | tr -s ' \n' '  ')
set -- $hdr
[ "$1 $2 $3 $4" = "127 69 76 70" ] || fail "is not an ELF file"
[ "$5" = 2 ] && [ "$6" = 1 ] || fail "is not a 64-bit little-endian ELF file"
type=$(( ${17} + ${18} * 256 ))
machine=$(( ${19} + ${20} * 256 ))
[ "$type" = 2 ] || [ "$type" = 3 ] || fail "is not an executable (ELF type $type)"
case "$arch" in
x86) want=62 name=x86_64 ;;
arm64) want=183 name=aarch64 ;;
*) fail "cannot be checked for architecture $arch" ;;
esac
[ "$machine" = "$want" ] || fail "is built for ELF machine $machine, not $name ($want)"

# Program headers: no PT_INTERP (type 3) allowed.
phoff=$(( ${33} + ${34} * 256 + ${35} * 65536 + ${36} * 16777216 ))
phentsize=$(( ${55} + ${56} * 256 ))
phnum=$(( ${57} + ${58} * 256 ))
i=0
while [ $i -lt "$phnum" ]; do
	ptype=$(od -An -tu4 -j $((phoff + i * phentsize)) -N4 "$file" | tr -d ' ')
	[ "$ptype" != 3 ] || fail "is dynamically linked (it has an ELF interpreter); link it statically"
	i=$((i + 1))
done
