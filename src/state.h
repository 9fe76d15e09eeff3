/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A helper's state as operators see it: one C-layout record per helper, on
 * one list, eprog_helpers, so that sysfs (state.c) and drgn, on a live
 * kernel or a crash dump (tools/eprog_state.py), read the same numbers. The
 * helper's supervisor thread is its only writer, but for the counters,
 * which any caller may bump. Documentation/ABI/testing/sysfs-driver-eprog
 * has the view.
 */
#ifndef EPROG_STATE_H
#define EPROG_STATE_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct attribute_group;
struct device;

#define EPROG_STATE_MAGIC	0x67727065	/* "eprg" in memory, little-endian */
#define EPROG_STATE_VERSION	2
#define EPROG_EXIT_TEXT_LEN	48
/* A helper's name, [a-z0-9_-]{1,31}, with its NUL. */
#define EPROG_NAME_LEN		32

/* The helper's life cycle; the names are sysfs's (state.c). */
enum eprog_helper_state {
	EPROG_STOPPED,		/* held down: by 'stop', autostart=0, or its policy */
	EPROG_STARTING,		/* started, has said nothing yet */
	EPROG_RUNNING,		/* has said something, or opened the channel */
	EPROG_BACKOFF,		/* ended; restarts after the backoff */
	EPROG_FAILED,		/* gave up: restart limit, or restart=never */
};

enum eprog_counter {
	EPROG_RECORDS_RELAYED,
	EPROG_RECORDS_SUPPRESSED,
	EPROG_CALLS,
	EPROG_LATE_REPLIES,
	EPROG_PROTOCOL_ERRORS,
	/* Calls failed, by errno; the order is state.c's. */
	EPROG_FAILED_ETIMEDOUT,
	EPROG_FAILED_ECONNRESET,
	EPROG_FAILED_EPROTO,
	EPROG_FAILED_EOPNOTSUPP,
	EPROG_FAILED_EPIPE,
	EPROG_FAILED_ESHUTDOWN,
	EPROG_FAILED_EMSGSIZE,
	EPROG_FAILED_ENOBUFS,
	EPROG_FAILED_EINTR,
	EPROG_FAILED_OTHER,
	EPROG_NR_COUNTERS,
};

/*
 * Version 2 of the layout (1 had no name, and one record only, itself the
 * symbol); tools/eprog_state.py decodes it field by field.
 */
struct eprog_state {
	u32 magic;
	u32 version;
	u32 size;		/* sizeof(struct eprog_state) */
	u32 hz;			/* HZ: run_start is in jiffies */
	char name[EPROG_NAME_LEN];	/* the helper's */
	enum eprog_helper_state state;
	u32 route;		/* 0: the kernel's UMD, 1: eprog's own core */
	s32 pid;		/* the helper's, in the initial namespace; 0: none */
	s32 last_exit;		/* the last run's wait status; -1: none yet */
	u32 restarts;		/* since load */
	u32 restarts_in_row;	/* in the current row (see restart_reset_ms) */
	u64 run_start;		/* jiffies_64 when the current run began */
	char last_exit_text[EPROG_EXIT_TEXT_LEN];	/* as the log says it */
	atomic64_t counters[EPROG_NR_COUNTERS];
	/* Not for drgn: */
	struct list_head node;	/* in eprog_helpers */
	spinlock_t lock;	/* writers, and readers of more than one word */
	struct mutex uevent_lock;	/* orders the uevents of changes */
	struct device *dev;	/* where they go, while registered */
};

/* Every helper's record, under eprog_helpers_lock (state.c). */
extern struct list_head eprog_helpers;

/* Room for "EPROG_STATE=<state>", a uevent's variable. */
#define EPROG_STATE_ENV_LEN 32

/* For the Rust code (state.rs). */
int eprog_state_new(const char *name, struct eprog_state **out);
void eprog_state_free(struct eprog_state *s);
void eprog_state_set(struct eprog_state *s, enum eprog_helper_state state);
void eprog_state_run_began(struct eprog_state *s, pid_t pid);
void eprog_state_run_ended(struct eprog_state *s, int exit_code, const char *text);
void eprog_state_restarting(struct eprog_state *s, unsigned int in_row);
u64 eprog_state_count(struct eprog_state *s, enum eprog_counter counter, u64 n);

/*
 * For device.c: the device whose uevents tell the changes of @s, from now
 * on (the state now goes out at once), or none.
 */
void eprog_state_attach(struct eprog_state *s, struct device *dev);
void eprog_state_detach(struct eprog_state *s);

/* The read-only attributes, for device.c's misc device (eprog_device_state). */
extern const struct attribute_group eprog_state_group;
extern const struct attribute_group eprog_counters_group;
extern const struct attribute_group eprog_calls_failed_group;

#endif /* EPROG_STATE_H */
