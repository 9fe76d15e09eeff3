// SPDX-License-Identifier: GPL-2.0
/*
 * The channel's yardsticks in user space, for make bench:
 *   pingpong pipe CALLS   two processes ping-pong the channel's frames
 *                         (a 12-byte header and "echo bench" one way, a
 *                         header and "bench" back) over a pair of pipes:
 *                         the floor of any design that keeps a resident
 *                         helper behind a pipe;
 *   pingpong dev CALLS    a process calls the helper through /dev/eprog
 *                         ("echo bench": one write, then read to the end,
 *                         on one open file);
 *   pingpong serve FIFO   the user end of bench/eprog_call_bench.c's
 *                         mode=floor: answers the request frames read from
 *                         FIFO.req on FIFO.rep until end of file.
 * pipe and dev print what bench/eprog_call_bench.c logs, for one caller:
 *   mode=<pipe|dev> callers=1 calls=N errors=E elapsed_ns=T median_ns=M p99_ns=P
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEADER 12

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads exactly @len bytes; 0 or -1 at end of file or on an error. */
static int read_all(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

/* A frame: header (length, id, kind) and payload, in one write. */
static int send_frame(int fd, uint32_t id, uint8_t kind, const char *payload)
{
	char frame[HEADER + 16] = { 0 };
	uint32_t len = strlen(payload);

	memcpy(frame, &len, 4);
	memcpy(frame + 4, &id, 4);
	frame[8] = kind;
	memcpy(frame + HEADER, payload, len);
	return write(fd, frame, HEADER + len) == HEADER + len ? 0 : -1;
}

/* The echoing side of the pipe pair: answers each request frame. */
static void answer(int in, int out)
{
	char frame[HEADER + 16];
	uint32_t id;

	while (!read_all(in, frame, HEADER + strlen("echo bench"))) {
		memcpy(&id, frame + 4, 4);
		if (send_frame(out, id, 2, "bench"))
			break;
	}
	exit(0);
}

static int pipe_call(int to, int from, uint32_t id)
{
	char reply[HEADER + 5];

	if (send_frame(to, id, 1, "echo bench"))
		return -1;
	return read_all(from, reply, sizeof(reply));
}

static int dev_call(int fd)
{
	char reply[64];
	ssize_t n, got = 0;

	if (write(fd, "echo bench", 10) != 10)
		return -1;
	while ((n = read(fd, reply + got, sizeof(reply) - got)) > 0)
		got += n;
	return got == 5 && !memcmp(reply, "bench", 5) ? 0 : -1;
}

/* The kernel opens FIFO.req first, then FIFO.rep: the same order. */
static int serve(const char *fifo)
{
	char req[256], rep[256];
	int in, out;

	snprintf(req, sizeof(req), "%s.req", fifo);
	snprintf(rep, sizeof(rep), "%s.rep", fifo);
	in = open(req, O_RDONLY);
	out = open(rep, O_WRONLY);
	if (in < 0 || out < 0) {
		perror(fifo);
		return 1;
	}
	answer(in, out);
	return 0;
}

int main(int argc, char **argv)
{
	int pipe_mode = argc == 3 && !strcmp(argv[1], "pipe");
	int to[2], from[2], fd = -1;
	unsigned int calls, i, errors = 0;
	uint64_t *ns, start;
	pid_t child = -1;

	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc != 3 || (!pipe_mode && strcmp(argv[1], "dev"))) {
		fprintf(stderr, "usage: %s pipe|dev CALLS, or %s serve FIFO\n", argv[0], argv[0]);
		return 2;
	}
	calls = strtoul(argv[2], NULL, 10);
	ns = calloc(calls ? calls : 1, sizeof(*ns));
	if (!ns)
		return 1;
	if (pipe_mode) {
		if (pipe(to) || pipe(from))
			return 1;
		child = fork();
		if (child == 0) {
			close(to[1]);
			close(from[0]);
			answer(to[0], from[1]);
		}
		close(to[0]);
		close(from[1]);
	} else {
		/* One open file for all calls: a write is a call, read its reply. */
		fd = open("/dev/eprog", O_RDWR);
		if (fd < 0) {
			perror("/dev/eprog");
			return 1;
		}
	}
	start = now_ns();
	for (i = 0; i < calls; i++) {
		uint64_t t0 = now_ns();
		int err;

		err = pipe_mode ? pipe_call(to[1], from[0], i + 1) : dev_call(fd);
		ns[i] = now_ns() - t0;
		errors += !!err;
	}
	start = now_ns() - start;
	if (pipe_mode) {
		close(to[1]);
		waitpid(child, NULL, 0);
	} else {
		close(fd);
	}
	qsort(ns, calls, sizeof(*ns), cmp);
	printf("mode=%s callers=1 calls=%u errors=%u elapsed_ns=%llu median_ns=%llu p99_ns=%llu\n",
	       argv[1], calls, errors, (unsigned long long)start,
	       (unsigned long long)(calls ? ns[(calls - 1) / 2] : 0),
	       (unsigned long long)(calls ? ns[(calls - 1) * 99 / 100] : 0));
	return errors ? 1 : 0;
}
