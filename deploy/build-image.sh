#!/usr/bin/env bash
# Builds the distlab server image offline: FROM scratch, with the distlab binary and exactly the
# loader and shared libraries ldd finds for it. No registry is needed (nothing is pulled).
#
#   deploy/build-image.sh                  # cargo build --release -p distlab, then the image distlab:latest
#   deploy/build-image.sh --binary PATH    # the image of an already built binary (no cargo build)
#   deploy/build-image.sh --tag NAME:TAG   # another tag
#
# The binary is stripped (if strip is installed) in the image, not in place. Prints the image's
# tag and size.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=distlab:latest
binary=
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a name}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$binary" ]; then
  cargo build --release --locked -p distlab
  binary=target/release/distlab
fi
[ -x "$binary" ] || { echo "build-image.sh: $binary is not an executable file" >&2; exit 3; }
command -v docker >/dev/null || { echo "build-image.sh: docker is not installed" >&2; exit 3; }

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
rootfs="$context/rootfs"
mkdir -p "$rootfs/etc" "$rootfs/tmp" "$context/data"
chmod 1777 "$rootfs/tmp"
cp "$binary" "$rootfs/distlab"
if command -v strip >/dev/null; then
  strip "$rootfs/distlab"
fi
# The loader and every shared library, at the paths the binary asks for them (dereferenced).
if ldd "$binary" >/dev/null 2>&1; then
  libs="$(ldd "$binary" | grep -o '/[^ ]*' | sort -u)"
else
  libs= # not a dynamic executable: a static build needs nothing
fi
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
# Host names through /etc/hosts, then DNS (the orchestrator's resolver: service names).
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
printf 'nobody:x:65534:65534:nobody:/data:/distlab\n' > "$rootfs/etc/passwd"
printf 'nogroup:x:65534:\n' > "$rootfs/etc/group"
cp deploy/Dockerfile "$context/Dockerfile"

docker build --quiet --tag "$tag" "$context" >/dev/null
size="$(docker image inspect --format '{{.Size}}' "$tag")"
echo "built $tag: $((size / 1000000)) MB ($size bytes; $(echo "$libs" | wc -w) libraries)"
