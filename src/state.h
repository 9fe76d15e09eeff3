/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helper's state as operators see it: one C-layout record behind one
 * symbol, eprog_state, so that sysfs (state.c) and drgn, on a live kernel
 * or a crash dump (tools/eprog_state.py), read the same numbers. The
 * supervisor thread is its only writer, but for the counters, which any
 * caller may bump. Documentation/ABI/testing/sysfs-driver-eprog has the view.
 */
#ifndef EPROG_STATE_H
#define EPROG_STATE_H

#include <linux/atomic.h>
#include <linux/types.h>

struct attribute_group;

#define EPROG_STATE_MAGIC	0x67727065	/* "eprg" in memory, little-endian */
#define EPROG_STATE_VERSION	1
#define EPROG_EXIT_TEXT_LEN	48

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

/* Version 1 of the layout; tools/eprog_state.py decodes it byte by byte. */
struct eprog_state {
	u32 magic;
	u32 version;
	u32 size;		/* sizeof(struct eprog_state) */
	u32 hz;			/* HZ: run_start is in jiffies */
	enum eprog_helper_state state;
	u32 route;		/* 0: the kernel's UMD, 1: eprog's own core */
	s32 pid;		/* the helper's, in the initial namespace; 0: none */
	s32 last_exit;		/* the last run's wait status; -1: none yet */
	u32 restarts;		/* since load */
	u32 restarts_in_row;	/* in the current row (see restart_reset_ms) */
	u64 run_start;		/* jiffies_64 when the current run began */
	char last_exit_text[EPROG_EXIT_TEXT_LEN];	/* as the log says it */
	atomic64_t counters[EPROG_NR_COUNTERS];
};

/* Room for "EPROG_STATE=<state>", a uevent's variable. */
#define EPROG_STATE_ENV_LEN 32

/* For the Rust code (state.rs). */
void eprog_state_set(enum eprog_helper_state state);
void eprog_state_run_began(pid_t pid);
void eprog_state_run_ended(int exit_code, const char *text);
void eprog_state_restarting(unsigned int in_row);
u64 eprog_state_count(enum eprog_counter counter, u64 n);

/* For device.c: the current state as a uevent's variable. */
void eprog_state_env(char env[EPROG_STATE_ENV_LEN]);

/* The read-only attributes, for device.c's misc device. */
extern const struct attribute_group eprog_state_group;
extern const struct attribute_group eprog_counters_group;
extern const struct attribute_group eprog_calls_failed_group;

#endif /* EPROG_STATE_H */
