/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C interface of eprog's Rust code: bindgen reads this header, with the
 * target kernel's own flags, to generate the Rust declarations. It covers
 * the User Mode Driver API (the kernel's, or eprog's own core where the
 * kernel has none: Kbuild then defines EPROG_UMD_CORE) and the wrappers in
 * umd_glue.c for what bindgen cannot call (macros, inline functions,
 * module parameters).
 */
#ifndef EPROG_UMD_GLUE_H
#define EPROG_UMD_GLUE_H

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/path.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#ifdef EPROG_UMD_CORE
#include "umd_core.h"		/* no kernel UMD: eprog's own core */
#else
#include <linux/usermode_driver.h>
#endif
#include "client.h"
#include "device.h"
#include "eprog.h"
#include "state.h"
#include "steps.h"

/* Kernel threads. */
int eprog_kthread_start(int (*threadfn)(void *data), void *data,
			const char *name, struct task_struct **task);
void eprog_kthread_stop(struct task_struct *task);
void eprog_cond_resched(void);
unsigned long long eprog_now_ms(void);

/* The helper process. */
void eprog_wait_for_exit(struct pid *pid);
void eprog_wait_for_end(struct pid *pid);
int eprog_wait_for_end_interruptible(struct pid *pid);
int eprog_adopt_child(struct pid *parent, pid_t nr, struct pid **pid,
		      struct task_struct **task, u64 *exec_id);
bool eprog_has_execed(struct task_struct *task, u64 exec_id);
int eprog_write_file(const struct path *dir, const char *name, const void *data, size_t len);
int eprog_seal_root(const struct path *root);
pid_t eprog_pid_nr(struct pid *pid);
void eprog_put_task(struct task_struct *task);
int eprog_exit_code(struct task_struct *task);
struct file *eprog_get_file(struct file *file);
long eprog_file_count(struct file *file);
int eprog_wait_readable(struct file *file, long ms);
int eprog_wait_writable(struct file *file, long ms);
struct eprog_watch;
struct eprog_watch *eprog_watch_new(void);
void eprog_watch_free(struct eprog_watch *w);
int eprog_watch_wait(struct eprog_watch *w, struct file *file, long ms);
void eprog_watch_quiet(struct eprog_watch *w, struct file *file, bool quiet, bool wake);
void eprog_set_nonblocking(struct file *file);
int eprog_pipe_open_reader(struct file *writer, struct file **reader);
bool eprog_pipe_has_other_reader(struct file *writer);
struct pid *eprog_get_pid(struct pid *pid);
int eprog_spare_file(struct file **file);
bool eprog_is_module(void);

/* Module parameters. */
struct eprog_params {
	unsigned int interval_ms;	/* 0 in a client's: not in its line */
	const char *helper_args;
	const char *restart;
	bool autostart;
	unsigned int restart_limit;
	unsigned int restart_reset_ms;
	unsigned int start_timeout_ms;
	unsigned int ratelimit_burst;
	unsigned int ratelimit_interval_ms;
	unsigned int max_inflight;
	unsigned int max_message;
	unsigned int helper_uid;
	unsigned int helper_gid;
	unsigned long long helper_caps;
	const char *helper_root;
	unsigned int helper_as_mib;
	unsigned int helper_nofile;
	/* CAP_LAST_CAP, for checking helper_caps. */
	unsigned int last_cap;
};

void eprog_get_params(struct eprog_params *params);
void eprog_params_of_client(struct eprog_params *params, const char *args,
			 const char *restart);

#endif /* EPROG_UMD_GLUE_H */
