// SPDX-License-Identifier: LGPL-2.1-or-later
/* vDSO images: functions read from this process's own vDSO, jumps paired
 * by name, and damaged images refused instead of read out of bounds. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <cmocka.h>

#include "core/error.h"
#include "arch/x86_64/remote.h"
#include "mem/vdso.h"

/* Our own vDSO, copied: two pages on x86-64 kernels of this decade. */
static uint8_t *own_vdso(size_t *len)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);

	assert_non_null(eh);
	size_t end = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
	uint8_t *copy = malloc(end);

	assert_non_null(copy);
	memcpy(copy, eh, end);
	*len = end;
	return copy;
}

static const struct oc_vdso_func *find(const struct oc_vdso_func *f, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

static void test_own_functions(void **state)
{
	struct oc_vdso_func f[64];
	size_t len;
	uint8_t *img = own_vdso(&len);
	int n = oc_vdso_funcs(img, len, f, 64);

	(void)state;
	assert_true(n > 0);
	const struct oc_vdso_func *cg = find(f, n, "__vdso_clock_gettime");
	const struct oc_vdso_func *alias = find(f, n, "clock_gettime");
	assert_non_null(cg);
	assert_non_null(alias);
	assert_int_equal(cg->offset, alias->offset);
	assert_true(cg->size >= 12 && cg->offset + cg->size <= len);
	free(img);
}

static void test_patches_pair_by_name(void **state)
{
	struct oc_vdso_patch p[32];
	struct oc_vdso_func f[64];
	size_t len;
	uint8_t *img = own_vdso(&len);
	int n_funcs = oc_vdso_funcs(img, len, f, 64);
	int n = oc_vdso_proxy_patches(img, len, 0x10000, img, len, 0x700000, 12, p, 32);

	(void)state;
	assert_true(n > 0 && n <= n_funcs);
	/* Aliases share one jump; every jump goes to the same offset. */
	for (int i = 0; i < n; i++) {
		assert_int_equal(p[i].target - 0x700000, p[i].addr - 0x10000);
		for (int j = 0; j < i; j++)
			assert_true(p[i].addr != p[j].addr);
	}
	free(img);
}

static void test_missing_function_named(void **state)
{
	struct oc_vdso_patch p[32];
	size_t len;
	uint8_t *old = own_vdso(&len), *cur = own_vdso(&len);
	uint8_t *at = memmem(old, len, "__vdso_getcpu", 14);

	(void)state;
	assert_non_null(at);
	at[8] = 'X';
	assert_int_equal(oc_vdso_proxy_patches(old, len, 0, cur, len, 0x1000, 12, p, 32), -EOPNOTSUPP);
	assert_non_null(strstr(oc_error_message(), "__vdso_gXtcpu"));
	free(old);
	free(cur);
}

static void test_damaged_images_refused(void **state)
{
	struct oc_vdso_func f[64];
	size_t len;
	uint8_t *img = own_vdso(&len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	(void)state;
	assert_int_equal(oc_vdso_funcs(img, 16, f, 64), -EINVAL);
	/* Section headers past the end. */
	eh->e_shoff = len - 8;
	assert_int_equal(oc_vdso_funcs(img, len, f, 64), -EINVAL);
	free(img);

	img = own_vdso(&len);
	/* Every header inside, but the image cut before the symbols. */
	assert_int_equal(oc_vdso_funcs(img, 1024, f, 64), -EINVAL);
	memcpy(img, "\177ELG", 4);
	assert_int_equal(oc_vdso_funcs(img, len, f, 64), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "not a 64-bit x86-64 ELF"));
	free(img);
}

static void test_too_short_function_refused(void **state)
{
	struct oc_vdso_patch p[32];
	size_t len;
	uint8_t *img = own_vdso(&len);

	(void)state;
	/* No function of a real vDSO is shorter than 4 KiB... */
	assert_int_equal(oc_vdso_proxy_patches(img, len, 0, img, len, 0, 8192, p, 32), -EOPNOTSUPP);
	assert_non_null(strstr(oc_error_message(), "too short to redirect"));
	/* ...and more jumps than room is an error, not an overflow. */
	assert_int_equal(oc_vdso_proxy_patches(img, len, 0, img, len, 0, 12, p, 1), -E2BIG);
	free(img);
}

/* A remote call is guarded only from a `syscall` whose code returns at
 * once (remote_guard.c): a few cleared registers, maybe a `leave`, `ret`. */
static void test_returning_syscall_sites(void **state)
{
	static const uint8_t plain[] = { 0x0f, 0x05, 0x31, 0xd2, 0x45, 0x31, 0xdb, 0xc3 };
	static const uint8_t leave[] = { 0x0f, 0x05, 0xc9, 0x31, 0xc9, 0xc3 };
	static const uint8_t stack[] = { 0x0f, 0x05, 0x48, 0x8d, 0x65, 0xf0, 0x5b, 0xc3 };
	static const uint8_t esp[] = { 0x0f, 0x05, 0x31, 0xe4, 0xc3 };
	static const uint8_t cut[] = { 0x0f, 0x05, 0x31, 0xd2 };
	size_t len;
	uint8_t *img = own_vdso(&len);
	bool lv = true, found = false;

	(void)state;
	assert_int_equal(oc_arch_syscall_return(plain, sizeof(plain), &lv), 0);
	assert_false(lv);
	assert_int_equal(oc_arch_syscall_return(leave, sizeof(leave), &lv), 0);
	assert_true(lv);
	assert_int_equal(oc_arch_syscall_return(stack, sizeof(stack), &lv), -1);
	assert_int_equal(oc_arch_syscall_return(esp, sizeof(esp), &lv), -1);
	assert_int_equal(oc_arch_syscall_return(cut, sizeof(cut), &lv), -1);
	/* this kernel's vDSO has one (its system call fallbacks) */
	for (size_t i = 0; i + 2 < len && !found; i++)
		found = oc_arch_syscall_return(img + i, len - i, &lv) == 0;
	assert_true(found);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_functions),
		cmocka_unit_test(test_patches_pair_by_name),
		cmocka_unit_test(test_missing_function_named),
		cmocka_unit_test(test_damaged_images_refused),
		cmocka_unit_test(test_too_short_function_refused),
		cmocka_unit_test(test_returning_syscall_sites),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
