/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between device.c and the Rust code (device.rs): the channel is a Rust
 * object that device.c holds by pointer while the device is registered.
 */
#ifndef EPROG_DEVICE_H
#define EPROG_DEVICE_H

#include <linux/types.h>

int eprog_device_register(const void *channel);
void eprog_device_unregister(void);

/* In device.rs: one call on @channel; returns the reply length or -errno. */
ssize_t eprog_channel_call(const void *channel, const void *request,
			   size_t request_len, void *reply, size_t reply_size,
			   unsigned int timeout_ms);

#endif /* EPROG_DEVICE_H */
