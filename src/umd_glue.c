// SPDX-License-Identifier: GPL-2.0
/*
 * C glue for eprog's Rust code: kernel macros and inline functions that
 * bindgen cannot turn into calls, and the module parameters (the 6.12
 * module! macro has none).
 */
#include <linux/moduleparam.h>
#include <linux/sched/task.h>
#include <linux/wait.h>

#include "umd_glue.h"

static unsigned int interval_ms = 5000;
module_param(interval_ms, uint, 0444);
MODULE_PARM_DESC(interval_ms,
		 "Interval between the default helper's lines in ms, sent on its stdin (default 5000)");

unsigned int eprog_interval_ms(void)
{
	return interval_ms;
}

/* Starts a kernel thread and keeps a reference so it can be stopped later. */
int eprog_kthread_start(int (*threadfn)(void *data), void *data,
			const char *name, struct task_struct **task)
{
	struct task_struct *t = kthread_create(threadfn, data, "%s", name);

	if (IS_ERR(t))
		return PTR_ERR(t);
	get_task_struct(t);
	wake_up_process(t);
	*task = t;
	return 0;
}

/* Interrupts a blocking read in @task, then waits for it and drops it. */
void eprog_kthread_kill_stop(struct task_struct *task)
{
	send_sig(SIGKILL, task, 1);
	kthread_stop_put(task);
}

/* Lets eprog_kthread_kill_stop() interrupt the calling kernel thread. */
void eprog_allow_kill(void)
{
	allow_signal(SIGKILL);
}

void eprog_flush_signals(void)
{
	flush_signals(current);
}

/* Sleeps until the process with thread group @pid has been released. */
void eprog_wait_for_exit(struct pid *pid)
{
	wait_event(pid->wait_pidfd, !pid_has_task(pid, PIDTYPE_PID));
}

pid_t eprog_pid_nr(struct pid *pid)
{
	return pid_nr(pid);
}

struct file *eprog_get_file(struct file *file)
{
	return get_file(file);
}
