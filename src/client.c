// SPDX-License-Identifier: GPL-2.0
/*
 * The exports for client modules (eprog.h): each calls its Rust function
 * (client.rs). In C because a module's exports are C macros.
 */
#include <linux/err.h>
#include <linux/export.h>
#include <linux/module.h>

#include "client.h"
#include "device.h"
#include "eprog.h"

struct eprog_helper *__eprog_helper_register(const struct eprog_helper_desc *desc,
					     struct module *owner)
{
	struct eprog_helper *helper;
	int ret;

	ret = eprog_client_register(desc, owner, &helper);
	return ret ? ERR_PTR(ret) : helper;
}
EXPORT_SYMBOL_GPL(__eprog_helper_register);

void eprog_helper_unregister(struct eprog_helper *helper)
{
	if (!IS_ERR_OR_NULL(helper))
		eprog_client_unregister(helper);
}
EXPORT_SYMBOL_GPL(eprog_helper_unregister);

ssize_t eprog_helper_call(struct eprog_helper *helper, const void *request,
			  size_t request_len, void *reply, size_t reply_size,
			  unsigned int timeout_ms)
{
	if (IS_ERR_OR_NULL(helper))
		return -EINVAL;
	return eprog_channel_call(eprog_client_doors(helper), request,
				  request_len, reply, reply_size, timeout_ms);
}
EXPORT_SYMBOL_GPL(eprog_helper_call);
