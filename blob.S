/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper program, embedded in the module image. It lives in
 * .init.rodata, so the kernel frees it once init is over: by then
 * umd_load_blob() has copied it into the helper's private tmpfs.
 * Its size is a symbol of its own, so Rust never computes it from two
 * distinct symbols.
 */
	.section .init.rodata, "a"
	.balign 8
	.global eprog_blob_size
eprog_blob_size:
	.quad eprog_blob_end - eprog_blob
	.global eprog_blob
eprog_blob:
	.incbin "eprog_user"
	.global eprog_blob_end
eprog_blob_end:
