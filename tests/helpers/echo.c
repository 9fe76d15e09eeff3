// SPDX-License-Identifier: GPL-2.0
/*
 * A static C channel helper for eprog, on umh/eprog_channel.h: answers each
 * request with "C: " and the request. Build with gcc -static -I umh.
 */
#include <stdio.h>
#include <string.h>

#include "eprog_channel.h"

static unsigned char request[EPROG_MESSAGE_MAX];
static unsigned char reply[EPROG_MESSAGE_MAX + 3];

int main(void)
{
	char config[256];
	uint32_t id = 0;
	long len;

	eprog_read_config(config, sizeof(config));
	eprog_open_channel();
	eprog_log("C helper serving\n");
	while ((len = eprog_read_request(&id, request)) >= 0) {
		memcpy(reply, "C: ", 3);
		memcpy(reply + 3, request, len);
		eprog_reply(id, reply, len + 3 > EPROG_MESSAGE_MAX ? EPROG_MESSAGE_MAX : len + 3);
	}
	return 0;
}
