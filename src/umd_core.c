// SPDX-License-Identifier: GPL-2.0
/*
 * eprog's User Mode Driver core, for kernels without the kernel's own
 * (removed in Linux 6.17): copy an executable into a private tmpfs, start
 * it from there with a pipe on its stdin and one on its stdout, release a
 * finished process, unmount.
 *
 * What it does differently from the removed kernel/usermode_driver.c:
 * - A failed start releases only what it created, and touches @umd only
 *   when the exec succeeded. (The kernel's umd_cleanup() fput() the
 *   caller's pipe fields after any failure, also one before its setup had
 *   filled them in, so a caller had to lend it references to give away.)
 * - The executable is closed synchronously (__fput_sync()) right after it
 *   is written, instead of flushing every delayed fput() of the system and
 *   running the caller's pending task work to get exec to accept it.
 * - A start whose program never ran (an empty STATIC_USERMODEHELPER path:
 *   call_usermodehelper_exec() returns 0 without forking) leaves @umd->tgid
 *   NULL, which the caller checks, instead of a "success" with no process.
 * The rest (exit status, the helper's own children) is the launcher's job,
 * the same on every kernel: see umh/src/launch.rs.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mount.h>
#include <linux/pid.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched.h>
#include <linux/umh.h>

#include "tmpfs_file.h"
#include "umd_core.h"

/**
 * eprog_umd_load_blob - copy an executable into a new private tmpfs
 * @umd: a zeroed driver with @umd->driver_name set
 * @data: the executable's bytes
 * @len: their length
 *
 * Return: 0, or a negative errno with nothing left behind.
 */
int eprog_umd_load_blob(struct eprog_umd *umd, const void *data, size_t len)
{
	struct file_system_type *type;
	struct vfsmount *mnt;
	struct path root;
	int err;

	if (WARN_ON_ONCE(umd->wd.mnt))
		return -EBUSY;
	type = get_fs_type("tmpfs");
	if (!type)
		return -ENODEV;
	mnt = kern_mount(type);
	put_filesystem(type);
	if (IS_ERR(mnt))
		return PTR_ERR(mnt);
	root.mnt = mnt;
	root.dentry = mnt->mnt_root;
	err = eprog_tmpfs_write(&root, umd->driver_name, data, len, 0700);
	if (err) {
		kern_unmount(mnt);
		return err;
	}
	umd->wd = root;
	return 0;
}
EXPORT_SYMBOL_GPL(eprog_umd_load_blob);

/**
 * eprog_umd_unload_blob - unmount the tmpfs of eprog_umd_load_blob()
 * @umd: a loaded driver with no process
 *
 * Return: 0, or -EINVAL if nothing was loaded.
 */
int eprog_umd_unload_blob(struct eprog_umd *umd)
{
	if (WARN_ON_ONCE(!umd->wd.mnt || umd->tgid))
		return -EINVAL;
	kern_unmount(umd->wd.mnt);
	umd->wd.mnt = NULL;
	umd->wd.dentry = NULL;
	return 0;
}
EXPORT_SYMBOL_GPL(eprog_umd_unload_blob);

/* What the new process set up for itself, kept until its exec is done. */
struct eprog_umd_start {
	struct eprog_umd *umd;
	struct file *to_umh;
	struct file *from_umh;
	struct pid *tgid;
};

/*
 * Runs in the new process before its exec: its stdin and stdout become
 * pipes, its working directory the tmpfs (so the relative program name is
 * found there, whatever the root). On failure it releases what it made;
 * the process then exits without exec.
 */
static int eprog_umd_setup(struct subprocess_info *info, struct cred *new)
{
	struct eprog_umd_start *start = info->data;
	struct file *to_umh[2], *from_umh[2];
	int err;

	err = create_pipe_files(to_umh, 0);
	if (err)
		return err;
	err = create_pipe_files(from_umh, 0);
	if (err)
		goto put_to_umh;
	/* A failure leaves the fds to the exiting process to close. */
	err = replace_fd(0, to_umh[0], 0);
	if (err < 0)
		goto put_from_umh;
	err = replace_fd(1, from_umh[1], 0);
	if (err < 0)
		goto put_from_umh;
	fput(to_umh[0]);
	fput(from_umh[1]);
	set_fs_pwd(current->fs, &start->umd->wd);
	start->to_umh = to_umh[1];
	start->from_umh = from_umh[0];
	start->tgid = get_pid(task_tgid(current));
	return 0;

put_from_umh:
	fput(from_umh[0]);
	fput(from_umh[1]);
put_to_umh:
	fput(to_umh[0]);
	fput(to_umh[1]);
	return err;
}

/* Runs in the caller once the exec is done: a failed one gives back setup's. */
static void eprog_umd_release_start(struct subprocess_info *info)
{
	struct eprog_umd_start *start = info->data;

	if (!info->retval || !start->tgid)
		return;
	fput(start->to_umh);
	fput(start->from_umh);
	put_pid(start->tgid);
	start->tgid = NULL;
}

/**
 * eprog_umd_fork - start the loaded executable
 * @umd: a loaded driver with no process
 *
 * Return: 0 once the program has been exec'd, with @umd->tgid, its pipes
 * and a reference to its pid for the caller (release them with
 * eprog_umd_cleanup() once the process has gone); or a negative errno, with
 * @umd untouched. 0 with @umd->tgid NULL means that no program ran.
 */
int eprog_umd_fork(struct eprog_umd *umd)
{
	struct eprog_umd_start start = { .umd = umd };
	struct subprocess_info *info;
	const char *argv[2];
	int err;

	if (WARN_ON_ONCE(!umd->wd.mnt || umd->tgid))
		return -EBUSY;
	argv[0] = umd->driver_name;
	argv[1] = NULL;
	info = call_usermodehelper_setup(umd->driver_name, (char **)argv, NULL, GFP_KERNEL,
					 eprog_umd_setup, eprog_umd_release_start, &start);
	if (!info)
		return -ENOMEM;
	/* Waits, uninterruptibly, until the exec is done and @start released. */
	err = call_usermodehelper_exec(info, UMH_WAIT_EXEC);
	if (err || !start.tgid)
		return err;
	umd->pipe_to_umh = start.to_umh;
	umd->pipe_from_umh = start.from_umh;
	umd->tgid = start.tgid;
	return 0;
}
EXPORT_SYMBOL_GPL(eprog_umd_fork);

/**
 * eprog_umd_cleanup - release what eprog_umd_fork() gave the caller
 * @umd: a driver whose process has gone
 */
void eprog_umd_cleanup(struct eprog_umd *umd)
{
	fput(umd->pipe_to_umh);
	fput(umd->pipe_from_umh);
	put_pid(umd->tgid);
	umd->pipe_to_umh = NULL;
	umd->pipe_from_umh = NULL;
	umd->tgid = NULL;
}
EXPORT_SYMBOL_GPL(eprog_umd_cleanup);
