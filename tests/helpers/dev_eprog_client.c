// SPDX-License-Identifier: GPL-2.0
/*
 * A client of /dev/eprog for the tests of what busybox cannot do:
 *   dev_eprog_client open FILE          open FILE for reading and writing
 *   dev_eprog_client open-without-cap FILE
 *                                       the same without CAP_SYS_ADMIN in
 *                                       the effective set (still root)
 *   dev_eprog_client interrupted FILE REQUEST
 *                                       write REQUEST, with a signal whose
 *                                       handler does not restart calls
 *                                       coming 0.5 s into the write
 * Prints "open: ok" / "write: ok" or the error, and exits 0, 1 or 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &header, data))
		return -1;
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &header, data);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int interrupted_write(int fd, const char *request)
{
	struct sigaction action = { .sa_handler = on_alarm };
	struct itimerval half_a_second = { .it_value = { 0, 500000 } };
	ssize_t n;

	/* No SA_RESTART: the write must come back with what the driver said. */
	sigaction(SIGALRM, &action, NULL);
	setitimer(ITIMER_REAL, &half_a_second, NULL);
	n = write(fd, request, strlen(request));
	if (n < 0) {
		printf("write: %s\n", strerror(errno));
		return 1;
	}
	printf("write: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	int fd, ret = 0;

	if (argc < 3 || (!strcmp(argv[1], "interrupted") && argc != 4)) {
		fprintf(stderr, "usage: %s open|open-without-cap FILE | interrupted FILE REQUEST\n",
			argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "open-without-cap") && drop_cap_sys_admin()) {
		printf("capset: %s\n", strerror(errno));
		return 2;
	}
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "interrupted"))
		ret = interrupted_write(fd, argv[3]);
	else
		printf("open: ok\n");
	close(fd);
	return ret;
}
