/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eprog's channel for other kernel modules: call the embedded helper like
 * a function. Include this header and depend on eprog (its symbols are
 * exported GPL); see the README for the helper's side of the protocol.
 */
#ifndef EPROG_H
#define EPROG_H

#include <linux/types.h>

/* The longest request or reply eprog's max_message parameter allows. */
#define EPROG_MESSAGE_MAX 65536

/**
 * eprog_call() - Call eprog's helper and wait for its reply.
 * @request: the request's bytes (any bytes); may be NULL if @request_len is 0.
 * @request_len: its length, at most the max_message parameter.
 * @reply: where the reply goes; may be @request (the reply is written once
 *	the request has been sent), or NULL if @reply_size is 0.
 * @reply_size: the room at @reply.
 * @timeout_ms: how long to wait, for a free slot, the helper and its reply.
 *
 * Any number of threads may call at once; at most max_inflight calls are
 * in flight, and callers beyond that wait within their timeout. Sleeps:
 * process context only. A signal ends the wait with -EINTR.
 *
 * Return: the reply's length, or a negative errno:
 * -ETIMEDOUT no reply in time (a reply that comes later is dropped);
 * -ECONNRESET the helper ended while the call was in flight;
 * -EPROTO the helper broke the protocol (it is being restarted);
 * -EOPNOTSUPP the helper does not speak the protocol;
 * -EPIPE the helper closed its stdin (the caller gets no SIGPIPE);
 * -ESHUTDOWN eprog is unloading or gave up restarting the helper;
 * -EMSGSIZE @request_len is over max_message;
 * -ENOBUFS the reply is longer than @reply_size (it is dropped);
 * -EINVAL @request or @reply is NULL with a length that is not 0;
 * -ENODEV eprog is not running (built in, its init failed or is to come).
 */
ssize_t eprog_call(const void *request, size_t request_len, void *reply,
		   size_t reply_size, unsigned int timeout_ms);

#endif /* EPROG_H */
