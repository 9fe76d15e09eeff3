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
 *   dev_eprog_client write FILE TEXT    write TEXT in one write()
 *   dev_eprog_client write-without-cap FILE TEXT
 *                                       the same without CAP_SYS_ADMIN
 *   dev_eprog_client write-as-nobody FILE TEXT
 *                                       the same as user and group 65534
 *   dev_eprog_client pair FILE FIRST SECOND MICROSECONDS
 *                                       write FIRST, then SECOND that many
 *                                       microseconds after it returned (each
 *                                       in one write() of a new open), then
 *                                       "@@ pair-done" to /dev/kmsg
 * Prints "open: ok" / "write: ok" or the error (for a pair, both, joined by
 * '|'), and exits 0, 1 or 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

static int write_text(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) < 0) {
		printf("write: %s\n", strerror(errno));
		return 1;
	}
	printf("write: ok\n");
	return 0;
}

/* Writes @text to a new open of @file; prints the answer. */
static void write_new_open(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY);

	if (fd < 0) {
		printf("open: %s", strerror(errno));
		return;
	}
	if (write(fd, text, strlen(text)) < 0)
		printf("write: %s", strerror(errno));
	else
		printf("write: ok");
	close(fd);
}

static int two_writes(char **argv)
{
	int kmsg = open("/dev/kmsg", O_WRONLY);

	write_new_open(argv[2], argv[3]);
	usleep(atoi(argv[5]));
	printf("|");
	write_new_open(argv[2], argv[4]);
	printf("\n");
	if (kmsg < 0 || write(kmsg, "@@ pair-done", 12) < 0)
		return 2;
	close(kmsg);
	return 0;
}

int main(int argc, char **argv)
{
	int writes = argc == 4 && !strncmp(argv[1], "write", 5);
	int fd, ret = 0;

	if (argc == 6 && !strcmp(argv[1], "pair"))
		return two_writes(argv);
	if (argc < 3 || (!strcmp(argv[1], "interrupted") && argc != 4) ||
	    (!strncmp(argv[1], "write", 5) && !writes)) {
		fprintf(stderr, "usage: %s open|open-without-cap FILE | interrupted FILE REQUEST | write|write-without-cap|write-as-nobody FILE TEXT | pair FILE FIRST SECOND MICROSECONDS\n",
			argv[0]);
		return 2;
	}
	if (strstr(argv[1], "-without-cap") && drop_cap_sys_admin()) {
		printf("capset: %s\n", strerror(errno));
		return 2;
	}
	if (!strcmp(argv[1], "write-as-nobody") &&
	    (setgroups(0, NULL) || setgid(65534) || setuid(65534))) {
		printf("setuid: %s\n", strerror(errno));
		return 2;
	}
	fd = open(argv[2], writes ? O_WRONLY : O_RDWR);
	if (fd < 0) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "interrupted"))
		ret = interrupted_write(fd, argv[3]);
	else if (writes)
		ret = write_text(fd, argv[3]);
	else
		printf("open: ok\n");
	close(fd);
	return ret;
}
