// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the LSM label parser (engine/res/task/lsm.c): what
 * /proc/TID/attr/current shows under AppArmor and SELinux, as ocicr saves
 * it in the creds (as CRIU does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "res/task/lsm.h"

static char *label_of(Lsmtype type, const char *text)
{
	char *label = (char *)1;

	assert_int_equal(oc_lsm_parse_label(type, text, &label), 0);
	return label;
}

static void test_apparmor(void **state)
{
	(void)state;
	char *l = label_of(LSMTYPE__APPARMOR, "containers-default-0.50.1 (enforce)\n");
	assert_string_equal(l, "containers-default-0.50.1");
	free(l);
	l = label_of(LSMTYPE__APPARMOR, "lxc-container-default-cgns (complain)");
	assert_string_equal(l, "lxc-container-default-cgns");
	free(l);
	/* A profile in a namespace keeps its colons. */
	l = label_of(LSMTYPE__APPARMOR, ":ns://docker-default (enforce)\n");
	assert_string_equal(l, ":ns://docker-default");
	free(l);
	/* No profile at all. */
	assert_null(label_of(LSMTYPE__APPARMOR, "unconfined\n"));
	assert_null(label_of(LSMTYPE__APPARMOR, "\n"));
	l = label_of(LSMTYPE__APPARMOR, "unconfined-but-named (enforce)");
	assert_string_equal(l, "unconfined-but-named");
	free(l);
}

static void test_selinux(void **state)
{
	(void)state;
	/* The kernel ends the context with its NUL. */
	static const char ctx[] = "system_u:system_r:container_t:s0:c1,c2";
	char *l = label_of(LSMTYPE__SELINUX, ctx);
	assert_string_equal(l, ctx);
	free(l);
	l = label_of(LSMTYPE__SELINUX, "unconfined_u:unconfined_r:unconfined_t:s0\n");
	assert_string_equal(l, "unconfined_u:unconfined_r:unconfined_t:s0");
	free(l);
	/* sockcreate unset: empty. */
	assert_null(label_of(LSMTYPE__SELINUX, ""));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(oc_lsm_name(LSMTYPE__APPARMOR), "AppArmor");
	assert_string_equal(oc_lsm_name(LSMTYPE__SELINUX), "SELinux");
	assert_string_equal(oc_lsm_name(LSMTYPE__NO_LSM), "no LSM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apparmor),
		cmocka_unit_test(test_selinux),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("lsm", tests, NULL, NULL);
}
