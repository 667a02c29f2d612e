/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Raw x86_64 system calls for the freestanding restorer blob. */
#ifndef OCICR_RESTORER_SYSCALL_H
#define OCICR_RESTORER_SYSCALL_H

static inline long rst_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys0(nr)		   rst_syscall6(nr, 0, 0, 0, 0, 0, 0)
#define sys1(nr, a)		   rst_syscall6(nr, (long)(a), 0, 0, 0, 0, 0)
#define sys2(nr, a, b)		   rst_syscall6(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(nr, a, b, c)	   rst_syscall6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(nr, a, b, c, d)	   rst_syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(nr, a, b, c, d, e)	   rst_syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define sys6(nr, a, b, c, d, e, f) rst_syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

#endif
