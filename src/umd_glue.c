// SPDX-License-Identifier: GPL-2.0
/*
 * C glue for eprog's Rust code: kernel macros and inline functions that
 * bindgen cannot turn into calls, and the module parameters (the 6.12
 * module! macro has none).
 */
#include <linux/capability.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
/* After poll.h: pipe_fs_i.h does not include what it uses. */
#include <linux/pipe_fs_i.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>

#include "tmpfs_file.h"
#include "umd_glue.h"

MODULE_VERSION(EPROG_VERSION);

/*
 * The parameters' defaults, which are also every client helper's settings
 * (eprog.h) but for its configuration line and restart policy.
 */
#define EPROG_DEF_INTERVAL_MS		5000
#define EPROG_DEF_RESTART_LIMIT		5
#define EPROG_DEF_RESTART_RESET_MS	10000
#define EPROG_DEF_START_TIMEOUT_MS	5000
#define EPROG_DEF_RATELIMIT_BURST	200
#define EPROG_DEF_RATELIMIT_INTERVAL_MS	1000
#define EPROG_DEF_MAX_INFLIGHT		16
#define EPROG_DEF_AS_MIB		1024
#define EPROG_DEF_NOFILE		64

static unsigned int interval_ms = EPROG_DEF_INTERVAL_MS;
module_param(interval_ms, uint, 0444);
MODULE_PARM_DESC(interval_ms, "The default helper's interval between lines, in ms (default 5000)");

static char *helper_args = "";
module_param(helper_args, charp, 0444);
MODULE_PARM_DESC(helper_args, "More key=value settings for the helper's configuration line");

static char *restart = "on-failure";
module_param(restart, charp, 0444);
MODULE_PARM_DESC(restart, "Restart the helper when it ends: never, on-failure (default) or always");

static bool autostart = true;
module_param(autostart, bool, 0444);
MODULE_PARM_DESC(autostart, "Start the helper at load (default); 0: hold it stopped until 'start' is written to /sys/class/misc/eprog/control");

static unsigned int restart_limit = EPROG_DEF_RESTART_LIMIT;
module_param(restart_limit, uint, 0444);
MODULE_PARM_DESC(restart_limit, "Most restarts in a row, with backoff from 100 ms doubling to 10 s (default 5)");

static unsigned int restart_reset_ms = EPROG_DEF_RESTART_RESET_MS;
module_param(restart_reset_ms, uint, 0444);
MODULE_PARM_DESC(restart_reset_ms, "A run that lasts this long resets the restart count and backoff, in ms (default 10000)");

static unsigned int start_timeout_ms = EPROG_DEF_START_TIMEOUT_MS;
module_param(start_timeout_ms, uint, 0444);
MODULE_PARM_DESC(start_timeout_ms, "How long insmod waits for the helper's first line, in ms (default 5000; built in, boot never waits)");

static unsigned int ratelimit_burst = EPROG_DEF_RATELIMIT_BURST;
module_param(ratelimit_burst, uint, 0444);
MODULE_PARM_DESC(ratelimit_burst, "Most lines logged per ratelimit interval, 0 for no limit (default 200)");

static unsigned int ratelimit_interval_ms = EPROG_DEF_RATELIMIT_INTERVAL_MS;
module_param(ratelimit_interval_ms, uint, 0444);
MODULE_PARM_DESC(ratelimit_interval_ms, "The rate limit's interval, in ms (default 1000)");

static unsigned int max_inflight = EPROG_DEF_MAX_INFLIGHT;
module_param(max_inflight, uint, 0444);
MODULE_PARM_DESC(max_inflight, "Most channel calls in flight at once; more callers wait (default 16, at most 1024)");

static unsigned int max_message = EPROG_MESSAGE_MAX;
module_param(max_message, uint, 0444);
MODULE_PARM_DESC(max_message, "Longest request or reply on the channel, in bytes (default and most 65536)");

/*
 * An id of the helper's own, not nobody's: any process of the same user
 * could signal the helper. No host process runs as it: distributions
 * reserve the ids above 65535, and systemd's container ranges end below.
 */
#define EPROG_HELPER_ID 2147483646

static unsigned int helper_uid = EPROG_HELPER_ID;
module_param(helper_uid, uint, 0444);
MODULE_PARM_DESC(helper_uid, "The helper's user id (default 2147483646, eprog's own)");

static unsigned int helper_gid = EPROG_HELPER_ID;
module_param(helper_gid, uint, 0444);
MODULE_PARM_DESC(helper_gid, "The helper's group id (default 2147483646, eprog's own)");

static unsigned long long helper_caps;
module_param(helper_caps, ullong, 0444);
MODULE_PARM_DESC(helper_caps, "Capabilities the helper keeps, bit n for capability n, e.g. 0x10000 for CAP_SYS_MODULE (default 0: none)");

static char *helper_root = "private";
module_param(helper_root, charp, 0444);
MODULE_PARM_DESC(helper_root, "The helper's root: private, its own tmpfs (default), or host");

static unsigned int helper_as_mib = EPROG_DEF_AS_MIB;
module_param(helper_as_mib, uint, 0444);
MODULE_PARM_DESC(helper_as_mib, "The helper's address space limit in MiB, 0 for none (default 1024)");

static unsigned int helper_nofile = EPROG_DEF_NOFILE;
module_param(helper_nofile, uint, 0444);
MODULE_PARM_DESC(helper_nofile, "The helper's open files limit (default 64)");

void eprog_get_params(struct eprog_params *params)
{
	params->interval_ms = interval_ms;
	params->helper_args = helper_args ? helper_args : "";
	params->restart = restart ? restart : "";
	params->autostart = autostart;
	params->restart_limit = restart_limit;
	params->restart_reset_ms = restart_reset_ms;
	params->start_timeout_ms = start_timeout_ms;
	params->ratelimit_burst = ratelimit_burst;
	params->ratelimit_interval_ms = ratelimit_interval_ms;
	params->max_inflight = max_inflight;
	params->max_message = max_message;
	params->helper_uid = helper_uid;
	params->helper_gid = helper_gid;
	params->helper_caps = helper_caps;
	params->helper_root = helper_root ? helper_root : "";
	params->helper_as_mib = helper_as_mib;
	params->helper_nofile = helper_nofile;
	params->last_cap = CAP_LAST_CAP;
}

/* A client helper's settings (see above), with @args and @restart. */
void eprog_params_of_client(struct eprog_params *params, const char *args,
			 const char *restart)
{
	*params = (struct eprog_params) {
		.helper_args = args,
		.restart = restart,
		.autostart = true,
		.restart_limit = EPROG_DEF_RESTART_LIMIT,
		.restart_reset_ms = EPROG_DEF_RESTART_RESET_MS,
		.start_timeout_ms = EPROG_DEF_START_TIMEOUT_MS,
		.ratelimit_burst = EPROG_DEF_RATELIMIT_BURST,
		.ratelimit_interval_ms = EPROG_DEF_RATELIMIT_INTERVAL_MS,
		.max_inflight = EPROG_DEF_MAX_INFLIGHT,
		.max_message = EPROG_MESSAGE_MAX,
		.helper_uid = EPROG_HELPER_ID,
		.helper_gid = EPROG_HELPER_ID,
		.helper_root = "private",
		.helper_as_mib = EPROG_DEF_AS_MIB,
		.helper_nofile = EPROG_DEF_NOFILE,
		.last_cap = CAP_LAST_CAP,
	};
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

/*
 * Stops @task and drops the reference eprog_kthread_start() took. Since
 * 5.17 kthread_stop() sets TIF_NOTIFY_SIGNAL, so every interruptible wait
 * of the thread (pipe read, condition variable) ends at once; the thread
 * then sees kthread_should_stop(). No signal is needed.
 */
void eprog_kthread_stop(struct task_struct *task)
{
	kthread_stop_put(task);
}

void eprog_cond_resched(void)
{
	cond_resched();
}

unsigned long long eprog_now_ms(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

/* Sleeps until the process with thread group @pid has been released. */
void eprog_wait_for_exit(struct pid *pid)
{
	wait_event(pid->wait_pidfd, !pid_has_task(pid, PIDTYPE_PID));
}

/*
 * Whether the process with thread group @pid has ended: released, or a
 * zombie with no thread left (as pidfd_poll() sees it). A helper whose
 * parent is gone may stay a zombie until init reaps it; by then it has
 * ended, and, as the init of its pid namespace, so has everything in it.
 */
static bool eprog_has_ended(struct pid *pid)
{
	struct task_struct *task;
	bool ended;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	ended = !task || (READ_ONCE(task->exit_state) && thread_group_empty(task));
	rcu_read_unlock();
	return ended;
}

/* Sleeps until the process with thread group @pid has ended. */
void eprog_wait_for_end(struct pid *pid)
{
	wait_event(pid->wait_pidfd, eprog_has_ended(pid));
}

/* As above, but a signal ends the wait early with -ERESTARTSYS. */
int eprog_wait_for_end_interruptible(struct pid *pid)
{
	return wait_event_interruptible(pid->wait_pidfd, eprog_has_ended(pid));
}

/*
 * Takes references to the pid and task of process @nr (in the caller's pid
 * namespace), which must be a child of the process with thread group
 * @parent, and notes its exec count: see eprog_has_execed().
 */
int eprog_adopt_child(struct pid *parent, pid_t nr, struct pid **pid,
		      struct task_struct **task, u64 *exec_id)
{
	struct task_struct *child;
	int ret = -ESRCH;

	rcu_read_lock();
	child = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (child && thread_group_leader(child) &&
	    task_tgid(rcu_dereference(child->real_parent)) == parent) {
		*task = get_task_struct(child);
		*pid = get_task_pid(child, PIDTYPE_PID);
		*exec_id = READ_ONCE(child->self_exec_id);
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}

/* Whether @task has exec'd a program since its exec count was @exec_id. */
bool eprog_has_execed(struct task_struct *task, u64 exec_id)
{
	return READ_ONCE(task->self_exec_id) != exec_id;
}

/*
 * Writes the helper's executable @name into the tmpfs @dir (see
 * tmpfs_file.h): executable by all, as the helper runs as its own user
 * (helper_uid), and readable by none but root, so that exec makes the
 * helper non-dumpable: no process of its user (nor, with Yama off, any
 * tracer) may ptrace it, read its memory or take its fds.
 */
int eprog_write_file(const struct path *dir, const char *name, const void *data, size_t len)
{
	return eprog_tmpfs_write(dir, name, data, len, 0111);
}

/*
 * Makes the private tmpfs's root read-only to the helper: the kernel mounts
 * tmpfs 1777 and unlimited, so a helper could otherwise fill memory that
 * nobody is charged for and that outlives its restarts. Root-owned (it is
 * mounted by root) and 0555; eprog itself, as root, still makes its FIFOs
 * there.
 */
int eprog_seal_root(const struct path *root)
{
	return eprog_tmpfs_chmod(root->dentry, 0555);
}

pid_t eprog_pid_nr(struct pid *pid)
{
	return pid_nr(pid);
}

void eprog_put_task(struct task_struct *task)
{
	put_task_struct(task);
}

/*
 * How the process of group leader @task ended, as wait(2) reports it (see
 * wait_task_zombie()): the group's code if the group was ended as a whole
 * (exit_group, fatal signal), else the leader's own. Exit status in bits
 * 8-15, or the killing signal in bits 0-6. @task->signal lives as long as
 * our reference to @task.
 */
int eprog_exit_code(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;

	if (READ_ONCE(sig->flags) & SIGNAL_GROUP_EXIT)
		return READ_ONCE(sig->group_exit_code);
	return READ_ONCE(task->exit_code);
}

struct file *eprog_get_file(struct file *file)
{
	return get_file(file);
}

/*
 * The supervisor thread's watch on the helper's stdout, which a caller
 * waiting for its reply quiets while it reads the pipe itself (reader.rs):
 * the pipe's wake-ups then pass the thread by, and the caller takes no
 * second wake-up to get its reply.
 */
struct eprog_watch {
	/* Its private data is the thread, once it has waited. */
	wait_queue_entry_t entry;
	/* Orders quiet against the pipe's wake-ups (see eprog_watch_quiet). */
	spinlock_t lock;
	bool quiet;
	/* A caller handed the pipe back with something for the thread. */
	bool poked;
};

/* Runs under the pipe's wait-queue lock, interrupts off. */
static int eprog_watch_wake(wait_queue_entry_t *entry, unsigned int mode, int sync, void *key)
{
	struct eprog_watch *w = container_of(entry, struct eprog_watch, entry);
	bool quiet;

	spin_lock(&w->lock);
	quiet = w->quiet;
	spin_unlock(&w->lock);
	return quiet ? 0 : default_wake_function(entry, mode, sync, key);
}

struct eprog_watch *eprog_watch_new(void)
{
	struct eprog_watch *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return NULL;
	init_waitqueue_func_entry(&w->entry, eprog_watch_wake);
	spin_lock_init(&w->lock);
	return w;
}

void eprog_watch_free(struct eprog_watch *w)
{
	kfree(w);
}

static bool eprog_watch_take_poke(struct eprog_watch *w)
{
	bool poked;

	spin_lock_irq(&w->lock);
	poked = w->poked;
	w->poked = false;
	spin_unlock_irq(&w->lock);
	return poked;
}

/* A poll table that queues the calling thread on the file's wait queue. */
struct eprog_poll {
	poll_table pt;
	wait_queue_entry_t *entry;
	wait_queue_head_t *head;
};

static void eprog_poll_queue(struct file *file, wait_queue_head_t *head, poll_table *pt)
{
	struct eprog_poll *p = container_of(pt, struct eprog_poll, pt);

	if (p->head)
		return;
	p->head = head;
	add_wait_queue(head, p->entry);
}

/*
 * Sleeps until @file is ready for one of @events (or has an error or no
 * peer left) and @w, if any, is not quiet, or @w is poked; @ms
 * milliseconds pass (@ms < 0: no limit), or a signal comes (for a kernel
 * thread: kthread_stop()). Returns 1, 0 or -EINTR.
 */
static int eprog_wait_poll(struct file *file, __poll_t events, long ms, struct eprog_watch *w)
{
	long timeout = ms < 0 ? MAX_SCHEDULE_TIMEOUT : msecs_to_jiffies(ms);
	wait_queue_entry_t own;
	struct eprog_poll p = { .entry = &own, .head = NULL };
	poll_table *pt = &p.pt;
	int ret;

	if (w) {
		spin_lock_irq(&w->lock);
		w->entry.private = current;
		spin_unlock_irq(&w->lock);
		p.entry = &w->entry;
	} else {
		init_waitqueue_entry(&own, current);
	}
	init_poll_funcptr(&p.pt, eprog_poll_queue);
	for (;;) {
		/* Before polling, so a wake-up after the poll is not lost. */
		set_current_state(TASK_INTERRUPTIBLE);
		if ((vfs_poll(file, pt) & (events | EPOLLHUP | EPOLLERR)) &&
		    !(w && READ_ONCE(w->quiet))) {
			ret = 1;
			break;
		}
		if (w && eprog_watch_take_poke(w)) {
			ret = 1;
			break;
		}
		pt = NULL;
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (!timeout) {
			ret = 0;
			break;
		}
		timeout = schedule_timeout(timeout);
	}
	__set_current_state(TASK_RUNNING);
	if (p.head)
		remove_wait_queue(p.head, p.entry);
	return ret;
}

/* As eprog_wait_readable(), for the thread that owns @w. */
int eprog_watch_wait(struct eprog_watch *w, struct file *file, long ms)
{
	return eprog_wait_poll(file, EPOLLIN, ms, w);
}

/*
 * Quiets @w, or lets it hear again: then it wakes its thread if @file has
 * something to read, or pokes it if @wake. Under @w's lock both ways,
 * quiet cannot lose a wake-up: a writer that found @w quiet had put its
 * data in the pipe before it took the lock, so the poll after the lock
 * sees it.
 */
void eprog_watch_quiet(struct eprog_watch *w, struct file *file, bool quiet, bool wake)
{
	struct task_struct *task;

	spin_lock_irq(&w->lock);
	w->quiet = quiet;
	w->poked |= !quiet && wake;
	task = w->entry.private;
	spin_unlock_irq(&w->lock);
	/*
	 * The thread outlives every caller: unloading waits for calls in
	 * flight before it stops the thread. A wake-up the thread does not
	 * wait for is spurious, which every wait allows.
	 */
	if (!quiet && task && (wake || (vfs_poll(file, NULL) & (EPOLLIN | EPOLLHUP | EPOLLERR))))
		wake_up_process(task);
}

/* For a pipe's read end: data, or no writer left. */
int eprog_wait_readable(struct file *file, long ms)
{
	return eprog_wait_poll(file, EPOLLIN, ms, NULL);
}

/* For a pipe's write end: room, or no reader left. */
int eprog_wait_writable(struct file *file, long ms)
{
	return eprog_wait_poll(file, EPOLLOUT, ms, NULL);
}

/* As fcntl(F_SETFL, O_NONBLOCK) would, for this open file only. */
void eprog_set_nonblocking(struct file *file)
{
	spin_lock(&file->f_lock);
	file->f_flags |= O_NONBLOCK;
	spin_unlock(&file->f_lock);
}

/*
 * A new read end of the pipe whose write end is @writer, as opening
 * /proc/self/fd/N of a pipe gives one: fifo_open() counts it among the
 * pipe's readers.
 */
int eprog_pipe_open_reader(struct file *writer, struct file **reader)
{
	struct file *file = dentry_open(&writer->f_path, O_RDONLY | O_NONBLOCK, current_cred());

	if (IS_ERR(file))
		return PTR_ERR(file);
	*reader = file;
	return 0;
}

/*
 * Whether the pipe of @writer has a reader besides the one of
 * eprog_pipe_open_reader(). A pipe file's private data is its pipe.
 */
bool eprog_pipe_has_other_reader(struct file *writer)
{
	struct pipe_inode_info *pipe = writer->private_data;

	return READ_ONCE(pipe->readers) > 1;
}

struct pid *eprog_get_pid(struct pid *pid)
{
	return get_pid(pid);
}

long eprog_file_count(struct file *file)
{
	return file_count(file);
}

/*
 * A file that is nothing but a reference count (see Umd::start): an empty
 * shmem file, whose operations are the kernel's, not the module's, so its
 * last fput() may even run after the module is gone (fput() defers it).
 */
int eprog_spare_file(struct file **file)
{
#ifdef EMPTY_VMA_FLAGS
	/* Linux 7.0 turned the flags into a vma_flags_t. */
	struct file *f = shmem_file_setup("eprog-spare", 0, EMPTY_VMA_FLAGS);
#else
	struct file *f = shmem_file_setup("eprog-spare", 0, 0);
#endif

	if (IS_ERR(f))
		return PTR_ERR(f);
	*file = f;
	return 0;
}

/* Whether this is eprog.ko rather than eprog built into the kernel. */
bool eprog_is_module(void)
{
#ifdef MODULE
	return true;
#else
	return false;
#endif
}
