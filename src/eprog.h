/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eprog for other kernel modules: call eprog's default helper like a
 * function (eprog_call()), or bring a helper of your own and call it
 * (eprog_helper_register()). Include this header and depend on eprog (its
 * symbols are exported GPL); see the README for the helper's side of the
 * protocol.
 */
#ifndef EPROG_H
#define EPROG_H

#include <linux/types.h>

struct module;

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

/* A helper that a client module registered. */
struct eprog_helper;

/**
 * struct eprog_helper_desc - A helper that a client module brings.
 * @name: the helper's, [a-z0-9_-]{1,31}, unique among eprog's helpers: its
 *	device is /dev/eprog-<name>, its view and control
 *	/sys/class/misc/eprog-<name>/, its log lines "eprog: <name>: ...".
 * @blob: the helper, a static ELF executable for the kernel's
 *	architecture; usually the client's own .incbin. eprog copies it at
 *	registration, so it may live in the client's .init.rodata.
 * @blob_size: its length in bytes.
 * @config: the first line of its stdin; NULL for an empty one.
 * @restart: when it is started again after it ended: "never",
 *	"on-failure" (NULL: the default) or "always".
 *
 * Everything else (confinement, limits, the channel's sizes, backoff) is
 * as eprog's module parameters' defaults (modinfo eprog).
 */
struct eprog_helper_desc {
	const char *name;
	const void *blob;
	size_t blob_size;
	const char *config;
	const char *restart;
};

struct eprog_helper *__eprog_helper_register(const struct eprog_helper_desc *desc,
					     struct module *owner);

/**
 * eprog_helper_register() - Start a helper of the calling module's own.
 * @desc: the helper; read during the call only.
 *
 * Starts the helper and opens its doors; returns once it has said its
 * first line, or after the start timeout with it left running (as insmod
 * of eprog waits). While the helper's device is open, the calling module
 * cannot be unloaded. Call from the module's init; unregister in its exit.
 *
 * Return: the helper, or an ERR_PTR(): -EINVAL a name that is not
 * [a-z0-9_-]{1,31} or an unknown restart policy; -EEXIST a helper of that
 * name is registered (an init that returns it fails insmod with EBUSY on
 * kernels that keep EEXIST for a module already loaded, as 7.3 does); -ENOEXEC a blob that is not a static ELF executable
 * for this architecture; or what starting it failed with.
 */
#define eprog_helper_register(desc) __eprog_helper_register(desc, THIS_MODULE)

/**
 * eprog_helper_unregister() - End a registered helper and free it.
 * @helper: from eprog_helper_register(); NULL or an ERR_PTR() does nothing.
 *
 * Closes its doors, ends it and everything it started, and waits for that.
 */
void eprog_helper_unregister(struct eprog_helper *helper);

/**
 * eprog_helper_call() - Call a registered helper and wait for its reply.
 * @helper: from eprog_helper_register(), not unregistered.
 *
 * The rest, and the return value, as for eprog_call(); -EINVAL for a NULL
 * or ERR_PTR() @helper.
 */
ssize_t eprog_helper_call(struct eprog_helper *helper, const void *request,
			  size_t request_len, void *reply, size_t reply_size,
			  unsigned int timeout_ms);

#endif /* EPROG_H */
