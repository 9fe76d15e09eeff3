// SPDX-License-Identifier: GPL-2.0
/* A static C helper for eprog: build with gcc -static, embed with UMH_BLOB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(void)
{
	unsigned long ms = 5000;
	char line[256];
	char *p;

	if (fgets(line, sizeof(line), stdin)) {
		p = strstr(line, "interval_ms=");
		if (p)
			ms = strtoul(p + strlen("interval_ms="), NULL, 10);
	}
	/* stdout is a pipe: without this, lines wait in a 4 KiB buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* What the launcher, not a runtime of its own, made of it. */
	printf("C helper: uid=%d no_new_privs=%d\n", (int)getuid(),
	       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	for (;;) {
		puts("Hello from C!");
		usleep(ms * 1000);
	}
}
