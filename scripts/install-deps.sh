#!/bin/sh
# Install every Debian package that building, testing and the demo need.
# Idempotent: packages already present are left alone.
set -eu

PACKAGES="
	build-essential pkg-config clang libclang-rt-14-dev clang-format
	protobuf-c-compiler libprotobuf-c-dev
	libyajl-dev libcap-dev libseccomp-dev libmount-dev
	libarchive-dev libzstd-dev zstd
	libnftables-dev nftables iptables iproute2
	libcmocka-dev
	bats bats-support bats-assert
	criu python3 python3-protobuf python3-yaml protobuf-compiler
	valgrind strace procps util-linux tar gzip
	busybox-static runc podman containerd crun
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
