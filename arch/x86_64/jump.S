/*
 * oc_arch_jump(entry, args, stack_top): switch to @stack_top and enter the
 * restorer blob at @entry with @args.  Never returns.
 */
	.text
	.globl oc_arch_jump
	.type oc_arch_jump, @function
oc_arch_jump:
	mov	%rdx, %rsp
	mov	%rdi, %rax
	mov	%rsi, %rdi
	xor	%ebp, %ebp
	call	*%rax
	ud2
	.section .note.GNU-stack, "", @progbits
