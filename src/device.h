/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between device.c and the Rust code (device.rs): the channel and the
 * control are Rust objects that device.c holds by pointer while the device
 * is registered.
 */
#ifndef EPROG_DEVICE_H
#define EPROG_DEVICE_H

#include <linux/types.h>

int eprog_device_register(const void *channel, const void *control);
void eprog_device_unregister(void);
void eprog_device_changed(char *env);

/* The words of the control attribute. */
enum eprog_control_word {
	EPROG_CONTROL_START,
	EPROG_CONTROL_STOP,
	EPROG_CONTROL_RESTART,
};

/* In device.rs: one call on @channel; returns the reply length or -errno. */
ssize_t eprog_channel_call(const void *channel, const void *request,
			   size_t request_len, void *reply, size_t reply_size,
			   unsigned int timeout_ms);

/* In device.rs: @word for @control; returns 0 or -errno. */
int eprog_control_command(const void *control, unsigned int word);

#endif /* EPROG_DEVICE_H */
