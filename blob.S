/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper program, embedded in the module image. It lives in
 * .init.rodata, so the kernel frees it once init is over: by then
 * umd_load_blob() has copied it into the helper's private tmpfs.
 */
	.section .init.rodata, "a"
	.global eprog_blob_start
eprog_blob_start:
	.incbin "eprog_user"
	.global eprog_blob_end
eprog_blob_end:
