#!/usr/bin/env bats
# make install: where things go, the criu link in a folder of its own, and
# contrib/podman/ocicr-setup.sh, which makes it the criu tools find.

load helpers

setup() {
	requires_ocicr
	STAGE=$BATS_TEST_TMPDIR/stage
}

@test "make install DESTDIR: the binary, libraries, header, man page, pkg-config and the criu link in its own folder" {
	run make -C "$REPO" -s install DESTDIR="$STAGE" PREFIX=/usr
	assert_success
	[ -x "$STAGE/usr/bin/ocicr" ]
	# The link names the installed binary, not the staging copy.
	[ -L "$STAGE/usr/lib/ocicr/criu" ]
	assert_equal "$(readlink "$STAGE/usr/lib/ocicr/criu")" /usr/bin/ocicr
	assert_equal "$(ls "$STAGE/usr/lib/ocicr")" criu
	[ -f "$STAGE/usr/lib/libocicr.a" ] && [ -x "$STAGE/usr/lib/libocicr.so.0.1.0" ]
	assert_equal "$(readlink "$STAGE/usr/lib/libocicr.so.0")" libocicr.so.0.1.0
	assert_equal "$(readlink "$STAGE/usr/lib/libocicr.so")" libocicr.so.0
	[ -f "$STAGE/usr/include/ocicr.h" ] && [ -f "$STAGE/usr/share/man/man1/ocicr.1" ]
	grep -q '^prefix=/usr$' "$STAGE/usr/lib/pkgconfig/ocicr.pc"
	# Nothing in bin is called criu: it shadows no CRIU by itself.
	[ ! -e "$STAGE/usr/bin/criu" ]
	run make -C "$REPO" -s uninstall DESTDIR="$STAGE" PREFIX=/usr
	assert_success
	assert_equal "$(find "$STAGE" -type f -o -type l)" ""
}

@test "make install PREFIX: the criu link runs ocicr as CRIU 4.2, and answers as criu swrk would" {
	run make -C "$REPO" -s install PREFIX="$STAGE/p"
	assert_success
	run env PATH="$STAGE/p/lib/ocicr:$PATH" criu --version
	assert_success
	assert_line 'Version: 4.2'
	assert_line --partial 'GitID: ocicr-'
	# What podman, runc and libcriu start: criu swrk FD.
	python3 -c 'import google.protobuf' 2>/dev/null || skip 'swrk part: needs python3-protobuf'
	command -v protoc >/dev/null || skip 'swrk part: needs protoc'
	run python3 "$BATS_TEST_DIRNAME/rpc_client.py" "$STAGE/p/lib/ocicr/criu" send 'type: VERSION'
	assert_success
	assert_line --partial 'reply VERSION success=true'
}

@test "ocicr-setup.sh links /usr/local/sbin/criu to the criu link; --print changes nothing; --remove only removes its own" {
	local setup=$REPO/contrib/podman/ocicr-setup.sh root=$BATS_TEST_TMPDIR/root
	run make -C "$REPO" -s install DESTDIR="$root" PREFIX=/usr/local
	assert_success
	# DESTDIR staged: the link's target is only there under the root.
	ln -sfn "$root/usr/local/bin/ocicr" "$root/usr/local/lib/ocicr/criu"
	run "$setup" --root "$root" --criu-dir /usr/local/lib/ocicr --print
	assert_success
	assert_output "would link $root/usr/local/sbin/criu -> /usr/local/lib/ocicr/criu"
	[ ! -e "$root/usr/local/sbin/criu" ]
	run "$setup" --root "$root" --criu-dir /usr/local/lib/ocicr
	assert_success
	assert_equal "$(readlink "$root/usr/local/sbin/criu")" /usr/local/lib/ocicr/criu
	# Again: nothing changes, no error.
	run "$setup" --root "$root"
	assert_success
	run "$setup" --root "$root" --remove
	assert_success
	[ ! -L "$root/usr/local/sbin/criu" ]
	# Another criu is left alone unless forced; so is a folder without ocicr.
	echo '#!/bin/sh' >"$root/usr/local/sbin/criu"
	run "$setup" --root "$root"
	assert_failure
	assert_output --partial "exists and is not ocicr's link (--force replaces it)"
	run "$setup" --root "$root" --remove
	assert_failure
	[ -f "$root/usr/local/sbin/criu" ]
	run "$setup" --root "$root" --force
	assert_success
	run "$setup" --root "$root" --criu-dir /nowhere
	assert_failure
	assert_output --partial "/nowhere/criu is not ocicr's criu link"
	run "$setup" --criu-dir relative/dir
	assert_failure 2
}
