/* SPDX-License-Identifier: GPL-2.0 */
/*
 * client_test.c's helper, as a client embeds one: in its .init.rodata,
 * which eprog copies at registration.
 */
	.section .init.rodata, "a"
	.balign 8
	.global client_test_blob
client_test_blob:
	.incbin "client_helper"
	.global client_test_blob_end
client_test_blob_end:
