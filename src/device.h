/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between device.c and the Rust code (device.rs): a helper's doors (its
 * channel, control and state) are a Rust object that device.c holds by
 * pointer while the helper's device is registered.
 */
#ifndef EPROG_DEVICE_H
#define EPROG_DEVICE_H

#include <linux/types.h>

struct device;
struct eprog_device;
struct eprog_state;
struct module;

int eprog_device_register(const char *name, const void *doors,
			  struct eprog_state *state, bool serves_eprog_call,
			  struct module *owner, struct eprog_device **out);
void eprog_device_unregister(struct eprog_device *edev);

/* For state.c's attributes: the state of the helper whose device is @dev. */
struct eprog_state *eprog_device_state(struct device *dev);

/* The words of the control attribute. */
enum eprog_control_word {
	EPROG_CONTROL_START,
	EPROG_CONTROL_STOP,
	EPROG_CONTROL_RESTART,
};

/* In device.rs: one call through @doors; returns the reply length or -errno. */
ssize_t eprog_channel_call(const void *doors, const void *request,
			   size_t request_len, void *reply, size_t reply_size,
			   unsigned int timeout_ms);

/* In device.rs: @word for @doors' control; returns 0 or -errno. */
int eprog_control_command(const void *doors, unsigned int word);

#endif /* EPROG_DEVICE_H */
