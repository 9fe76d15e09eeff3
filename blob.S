/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper program and its launcher, embedded in the module image. They
 * live in .init.rodata, so the kernel frees them once init is over: by
 * then both are copied into the helper's private tmpfs. Each size is a
 * symbol of its own, so Rust never computes it from two distinct symbols.
 */
	.macro	eprog_embed name, file
	.section .init.rodata, "a"
	.balign 8
	.global \name\()_size
\name\()_size:
	.quad \name\()_end - \name
	.global \name
\name:
	.incbin "\file"
	.global \name\()_end
\name\()_end:
	.endm

	eprog_embed eprog_blob, "eprog_user"
	eprog_embed eprog_launch_blob, "eprog_launch"
