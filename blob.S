/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The default helper and the launcher, embedded in the module image. The
 * helper lives in .init.rodata, so the kernel frees it once init is over:
 * by then it is copied into its private tmpfs. The launcher (2 to 3 KiB)
 * stays in .rodata: every helper that a client module registers later
 * runs under it. Each size is a symbol of its own, so Rust never computes
 * it from two distinct symbols.
 */
	.macro	eprog_embed name, file, section
	.section \section, "a"
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

	eprog_embed eprog_blob, "eprog_user", .init.rodata
	eprog_embed eprog_launch_blob, "eprog_launch", .rodata
