// SPDX-License-Identifier: GPL-2.0
/*
 * Takes a file descriptor in the file table that kernel threads share, at
 * load, and gives it back at unload. A new usermode-helper process starts
 * with a copy of that table: while this module is loaded it has fd @fd
 * open (default 0). For tests/qemu.rs: eprog's own UMD core must then
 * refuse to start a helper that would not get its pipes as fds 0 and 1,
 * and leave nothing; for tests/privilege.rs (fd=3): the helper must get no
 * fd but its stdin, stdout and stderr.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/workqueue.h>

static unsigned int fd;
module_param(fd, uint, 0444);
MODULE_PARM_DESC(fd, "The fd to hold open (default 0; the lower ones must be free)");

static int eprog_kthread_fd = -1;

/*
 * Runs in a kernel worker, whose file table is the kernel threads' own:
 * takes free fds until it has @fd, and gives back the others it took.
 */
static void eprog_kthread_fd_take(struct work_struct *work)
{
	struct file *file = filp_open("/", O_RDONLY, 0);
	unsigned long others = 0;
	int got, i;

	if (IS_ERR(file))
		return;
	while (fd < BITS_PER_LONG) {
		got = get_unused_fd_flags(0);
		if (got < 0 || got > (int)fd) {
			if (got >= 0)
				put_unused_fd(got);
			break;
		}
		fd_install(got, get_file(file));
		if (got == fd) {
			eprog_kthread_fd = got;
			break;
		}
		others |= BIT(got);
	}
	for_each_set_bit(i, &others, BITS_PER_LONG)
		close_fd(i);
	fput(file);
}

static void eprog_kthread_fd_give_back(struct work_struct *work)
{
	close_fd(eprog_kthread_fd);
}

static void eprog_kthread_fd_run(work_func_t func)
{
	struct work_struct work;

	INIT_WORK_ONSTACK(&work, func);
	schedule_work(&work);
	flush_work(&work);
	destroy_work_on_stack(&work);
}

static int __init eprog_kthread_fd_init(void)
{
	eprog_kthread_fd_run(eprog_kthread_fd_take);
	if (eprog_kthread_fd < 0)
		return -EBADF;
	pr_info("kernel threads have fd %d open\n", eprog_kthread_fd);
	return 0;
}

static void __exit eprog_kthread_fd_exit(void)
{
	eprog_kthread_fd_run(eprog_kthread_fd_give_back);
}

module_init(eprog_kthread_fd_init);
module_exit(eprog_kthread_fd_exit);
MODULE_DESCRIPTION("Holds a file descriptor open in the kernel threads' file table, for eprog's tests");
MODULE_LICENSE("GPL");
