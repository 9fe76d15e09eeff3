// SPDX-License-Identifier: GPL-2.0
/*
 * Calls eprog_call() with the arguments its contract in eprog.h allows
 * and refuses, once at load, and logs each result: for tests/channel.rs,
 * with the channel test helper (tests/helpers/src/channel.rs) in eprog.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/string.h>

#include "eprog.h"

static void eprog_call_args_log(const char *name, ssize_t ret, const char *reply)
{
	if (ret < 0)
		pr_info("%s: %pe\n", name, ERR_PTR(ret));
	else
		pr_info("%s: %zd bytes '%.*s'\n", name, ret, (int)ret, reply);
}

static int __init eprog_call_args_init(void)
{
	static const char echo[] = "echo short";
	char buf[64];
	ssize_t ret;

	/* No request at all: the helper answers an empty verb. */
	ret = eprog_call(NULL, 0, buf, sizeof(buf), 3000);
	eprog_call_args_log("no-request", ret, buf);

	/* The reply written over the request, a common C idiom. */
	strscpy(buf, "echo in place", sizeof(buf));
	ret = eprog_call(buf, strlen(buf), buf, sizeof(buf), 3000);
	eprog_call_args_log("in-place", ret, buf);

	/* No room for a reply that has bytes. */
	ret = eprog_call(echo, strlen(echo), NULL, 0, 3000);
	eprog_call_args_log("no-room", ret, NULL);
	ret = eprog_call(echo, strlen(echo), buf, 2, 3000);
	eprog_call_args_log("short-room", ret, buf);

	/* NULL with a length: refused, nothing read or written. */
	ret = eprog_call(NULL, 4, buf, sizeof(buf), 3000);
	eprog_call_args_log("null-request", ret, buf);
	ret = eprog_call(echo, strlen(echo), NULL, 8, 3000);
	eprog_call_args_log("null-reply", ret, NULL);
	return 0;
}

static void __exit eprog_call_args_exit(void)
{
}

module_init(eprog_call_args_init);
module_exit(eprog_call_args_exit);
MODULE_DESCRIPTION("Calls eprog_call() with edge-case arguments, for eprog's tests");
MODULE_LICENSE("GPL");
