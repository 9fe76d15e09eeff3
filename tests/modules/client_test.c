// SPDX-License-Identifier: GPL-2.0
/*
 * A client module for tests/clients.rs: registers a helper of its own,
 * the static C channel helper (tests/helpers/echo.c, which answers "C: "
 * and the request), embedded by client_test_blob.S. At load it calls it
 * once and logs the answer; at unload it unregisters it. Its parameters
 * make the registrations the tests expect to fail: an invalid or taken
 * name, a blob that is not an executable.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/string.h>

#include "client_test_blob.h"
#include "eprog.h"

static char *name = "ctest";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "The helper's name (default ctest)");

static bool bad_blob;
module_param(bad_blob, bool, 0444);
MODULE_PARM_DESC(bad_blob, "Register 64 bytes that are not ELF instead of the helper");

static struct eprog_helper *helper;

static int __init client_test_init(void)
{
	static const u8 not_elf[64] = "#!/bin/sh\n";
	struct eprog_helper_desc desc = {
		.name = name,
		.blob = client_test_blob,
		.blob_size = client_test_blob_end - client_test_blob,
		.config = "client=test",
	};
	char reply[64];
	ssize_t ret;

	if (bad_blob) {
		desc.blob = not_elf;
		desc.blob_size = sizeof(not_elf);
	}
	helper = eprog_helper_register(&desc);
	if (IS_ERR(helper)) {
		pr_info("register: %pe\n", helper);
		return PTR_ERR(helper);
	}
	ret = eprog_helper_call(helper, "from the client", 15, reply, sizeof(reply), 3000);
	if (ret < 0)
		pr_info("call: %pe\n", ERR_PTR(ret));
	else
		pr_info("call: '%.*s'\n", (int)ret, reply);
	/* No helper: refused, as eprog.h says. */
	ret = eprog_helper_call(NULL, "x", 1, reply, sizeof(reply), 3000);
	pr_info("call without a helper: %pe\n", ERR_PTR(ret));
	return 0;
}

static void __exit client_test_exit(void)
{
	eprog_helper_unregister(helper);
}

module_init(client_test_init);
module_exit(client_test_exit);
MODULE_DESCRIPTION("A client of eprog with a helper of its own, for eprog's tests");
MODULE_LICENSE("GPL");
