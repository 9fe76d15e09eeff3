/* SPDX-License-Identifier: GPL-2.0 */
/* Between client.c's exports and their Rust functions (client.rs). */
#ifndef EPROG_CLIENT_H
#define EPROG_CLIENT_H

#include <linux/types.h>

struct eprog_helper;
struct eprog_helper_desc;
struct module;

int eprog_client_register(const struct eprog_helper_desc *desc,
			  struct module *owner, struct eprog_helper **out);
void eprog_client_unregister(struct eprog_helper *helper);
/* Where eprog_channel_call() (device.h) reaches @helper. */
const void *eprog_client_doors(struct eprog_helper *helper);

#endif /* EPROG_CLIENT_H */
