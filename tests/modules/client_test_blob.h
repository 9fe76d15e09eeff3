/* SPDX-License-Identifier: GPL-2.0 */
/* The helper that client_test_blob.S embeds. */
#ifndef CLIENT_TEST_BLOB_H
#define CLIENT_TEST_BLOB_H

#include <linux/types.h>

extern const u8 client_test_blob[];
extern const u8 client_test_blob_end[];

#endif /* CLIENT_TEST_BLOB_H */
