/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eprog's channel for helpers written in C (or anything with a C ABI):
 * the protocol of README.md, "The channel", in a few static functions on
 * read(2) and write(2). A helper reads its configuration line with
 * eprog_read_config(), opens the channel, then answers requests:
 *
 *	uint32_t id;
 *	long len;
 *	static unsigned char req[EPROG_MESSAGE_MAX];
 *
 *	eprog_open_channel();
 *	while ((len = eprog_read_request(&id, req)) >= 0)
 *		eprog_reply(id, req, len);
 *
 * After eprog_open_channel() stdout carries frames only: log with
 * eprog_log(), not printf().
 */
#ifndef EPROG_CHANNEL_H
#define EPROG_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define EPROG_HEADER_LEN	12
#define EPROG_MESSAGE_MAX	65536

enum eprog_kind {
	EPROG_REQUEST = 1,	/* eprog to the helper */
	EPROG_REPLY = 2,	/* the helper's answer, with the request's id */
	EPROG_LOG = 3,		/* log text, relayed as lines */
};

static inline int eprog_write_all(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(1, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static inline int eprog_read_all(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = read(0, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Reads the configuration line into @buf (NUL-terminated, without its
 * newline) byte by byte: a buffered read (fgets) would eat requests.
 */
static inline void eprog_read_config(char *buf, size_t size)
{
	size_t len = 0;
	char c;

	while (len + 1 < size && read(0, &c, 1) == 1 && c != '\n')
		buf[len++] = c;
	buf[len] = '\0';
}

/* The hello: the first bytes a channel helper writes. */
static inline int eprog_open_channel(void)
{
	static const unsigned char hello[8] = { 0, 'E', 'P', 'R', 'O', 'G', 1, 0 };

	return eprog_write_all(hello, sizeof(hello));
}

static inline int eprog_send(enum eprog_kind kind, uint32_t id,
			     const void *payload, uint32_t len)
{
	unsigned char h[EPROG_HEADER_LEN] = { 0 };
	int i;

	for (i = 0; i < 4; i++) {
		h[i] = len >> (8 * i);		/* little-endian */
		h[4 + i] = id >> (8 * i);
	}
	h[8] = kind;
	if (eprog_write_all(h, sizeof(h)))
		return -1;
	return eprog_write_all(payload, len);
}

static inline int eprog_log(const char *text)
{
	return eprog_send(EPROG_LOG, 0, text, strlen(text));
}

static inline int eprog_reply(uint32_t id, const void *reply, uint32_t len)
{
	return eprog_send(EPROG_REPLY, id, reply, len);
}

/*
 * Reads the next request into @buf (EPROG_MESSAGE_MAX bytes) and its id
 * into @id. Returns its length, or -1 at end of file or for a malformed
 * frame.
 */
static inline long eprog_read_request(uint32_t *id, void *buf)
{
	unsigned char h[EPROG_HEADER_LEN];
	uint32_t len = 0;
	int i;

	if (eprog_read_all(h, sizeof(h)))
		return -1;
	for (i = 3; i >= 0; i--) {
		len = len << 8 | h[i];
		*id = *id << 8 | h[4 + i];
	}
	if (h[8] != EPROG_REQUEST || h[9] || h[10] || h[11] ||
	    len > EPROG_MESSAGE_MAX)
		return -1;
	if (eprog_read_all(buf, len))
		return -1;
	return len;
}

#endif /* EPROG_CHANNEL_H */
