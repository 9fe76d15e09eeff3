// SPDX-License-Identifier: GPL-2.0
/*
 * eprog's User Mode Driver core, part of eprog itself, for kernels without
 * the kernel's own: USERMODE_DRIVER off (nothing selects it in a stock
 * 6.12) or gone (Linux 6.17 removed it). Copy an executable into a private
 * tmpfs, start it from there with a pipe on its stdin and one on its
 * stdout, release a finished process, unmount. Only what modules may call:
 * where the kernel's code used create_pipe_files(), replace_fd() and
 * set_fs_pwd(), this core opens both ends of a FIFO in the private tmpfs
 * and unlinks it, gives the new process fds 0 and 1 with
 * get_unused_fd_flags() and fd_install(), and sets its working directory
 * under its fs_struct's lock.
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
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/umh.h>

#include "tmpfs_file.h"
#include "umd_core.h"

/*
 * The VFS calls below changed shape after 6.12; Kbuild probes the target
 * kernel's headers for each (see there), so every kernel in between gets
 * the shape it has.
 */
static struct dentry *eprog_lookup(struct dentry *dir, const char *name)
{
#ifdef EPROG_LOOKUP_NOPERM
	return lookup_noperm(&QSTR(name), dir);
#else
	return lookup_one_len(name, dir, strlen(name));
#endif
}

static int eprog_mkfifo(struct inode *dir, struct dentry *dentry)
{
#ifdef EPROG_MKNOD_DELEGATED
	return vfs_mknod(&nop_mnt_idmap, dir, dentry, S_IFIFO | 0600, 0, NULL);
#else
	return vfs_mknod(&nop_mnt_idmap, dir, dentry, S_IFIFO | 0600, 0);
#endif
}

/* set_fs_pwd(), which modules cannot call: the same, under the same lock. */
static void eprog_set_pwd(struct fs_struct *fs, const struct path *path)
{
	struct path old;

	path_get(path);
#ifdef EPROG_FS_SEQLOCK
	write_seqlock(&fs->seq);
#else
	spin_lock(&fs->lock);
	write_seqcount_begin(&fs->seq);
#endif
	old = fs->pwd;
	fs->pwd = *path;
#ifdef EPROG_FS_SEQLOCK
	write_sequnlock(&fs->seq);
#else
	write_seqcount_end(&fs->seq);
	spin_unlock(&fs->lock);
#endif
	path_put(&old);
}

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
	/* put_filesystem(), which is not exported. */
	module_put(type->owner);
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

/* The FIFO's name in the tmpfs, for the moment between mknod and unlink. */
#define EPROG_FIFO ".eprog-pipe"

/**
 * eprog_umd_make_pipe - a pipe, as create_pipe_files() makes one
 * @umd: a loaded driver
 * @rd: the read end, blocking
 * @wr: the write end, blocking
 *
 * A FIFO in the private tmpfs, opened for reading without blocking (there
 * is no writer yet), then for writing (there is a reader), then unlinked:
 * the two files are all that is left of it.
 *
 * Return: 0, or a negative errno with nothing left behind.
 */
static int eprog_umd_make_pipe(struct eprog_umd *umd, struct file **rd, struct file **wr)
{
	struct dentry *dir = umd->wd.dentry;
	struct path fifo = { .mnt = umd->wd.mnt };
	struct file *r, *w;
	int err, unlinked;

	inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
	fifo.dentry = eprog_lookup(dir, EPROG_FIFO);
	if (IS_ERR(fifo.dentry)) {
		err = PTR_ERR(fifo.dentry);
		goto unlock;
	}
	err = eprog_mkfifo(d_inode(dir), fifo.dentry);
	if (err)
		goto put_dentry;
	r = dentry_open(&fifo, O_RDONLY | O_NONBLOCK, current_cred());
	w = IS_ERR(r) ? ERR_CAST(r) : dentry_open(&fifo, O_WRONLY, current_cred());
	unlinked = vfs_unlink(&nop_mnt_idmap, d_inode(dir), fifo.dentry, NULL);
	err = PTR_ERR_OR_ZERO(w) ?: unlinked;
	if (err) {
		if (!IS_ERR(w))
			fput(w);
		if (!IS_ERR(r))
			fput(r);
		goto put_dentry;
	}
	spin_lock(&r->f_lock);
	r->f_flags &= ~O_NONBLOCK;
	spin_unlock(&r->f_lock);
	*rd = r;
	*wr = w;
put_dentry:
	dput(fifo.dentry);
unlock:
	inode_unlock(d_inode(dir));
	return err;
}

/* What the new process needs and what it reports, until its exec is done. */
struct eprog_umd_start {
	struct eprog_umd *umd;
	struct file *stdin_rd;
	struct file *stdout_wr;
	struct pid *tgid;
};

/*
 * Runs in the new process before its exec: the pipes become its fds 0 and
 * 1 (a new usermode-helper process has no open files, so they are the
 * first free ones), its working directory the tmpfs (so the relative
 * program name is found there, whatever the root). On failure the process
 * exits without exec, and with it whatever it had installed.
 */
static int eprog_umd_setup(struct subprocess_info *info, struct cred *new)
{
	struct eprog_umd_start *start = info->data;
	int in, out;

	in = get_unused_fd_flags(0);
	if (in < 0)
		return in;
	out = get_unused_fd_flags(0);
	if (out < 0) {
		put_unused_fd(in);
		return out;
	}
	if (in != 0 || out != 1) {
		pr_err("eprog: the helper's process has fd 0 or 1 open already\n");
		put_unused_fd(out);
		put_unused_fd(in);
		return -EBADF;
	}
	fd_install(0, get_file(start->stdin_rd));
	fd_install(1, get_file(start->stdout_wr));
	eprog_set_pwd(current->fs, &start->umd->wd);
	start->tgid = get_pid(task_tgid(current));
	return 0;
}

/**
 * eprog_umd_fork - start the loaded executable
 * @umd: a loaded driver with no process
 *
 * Return: 0 once the program has been exec'd, with @umd->tgid, its pipes
 * and a reference to its pid for the caller (release them with
 * eprog_umd_cleanup() once the process has gone); or a negative errno, with
 * @umd untouched and nothing left behind. 0 with @umd->tgid NULL means
 * that no program ran.
 */
int eprog_umd_fork(struct eprog_umd *umd)
{
	struct eprog_umd_start start = { .umd = umd };
	struct file *stdin_wr, *stdout_rd;
	struct subprocess_info *info;
	const char *argv[2];
	int err;

	if (WARN_ON_ONCE(!umd->wd.mnt || umd->tgid))
		return -EBUSY;
	err = eprog_umd_make_pipe(umd, &start.stdin_rd, &stdin_wr);
	if (err)
		return err;
	err = eprog_umd_make_pipe(umd, &stdout_rd, &start.stdout_wr);
	if (err)
		goto put_stdin;
	argv[0] = umd->driver_name;
	argv[1] = NULL;
	info = call_usermodehelper_setup(umd->driver_name, (char **)argv, NULL, GFP_KERNEL,
					 eprog_umd_setup, NULL, &start);
	if (!info) {
		err = -ENOMEM;
		goto put_stdout;
	}
	/*
	 * Waits, uninterruptibly, until the exec is done or failed; the new
	 * process holds its own references to its ends by then.
	 */
	err = call_usermodehelper_exec(info, UMH_WAIT_EXEC);
	if (err || !start.tgid) {
		put_pid(start.tgid);
		goto put_stdout;
	}
	fput(start.stdin_rd);
	fput(start.stdout_wr);
	umd->pipe_to_umh = stdin_wr;
	umd->pipe_from_umh = stdout_rd;
	umd->tgid = start.tgid;
	return 0;

put_stdout:
	fput(stdout_rd);
	fput(start.stdout_wr);
put_stdin:
	fput(stdin_wr);
	fput(start.stdin_rd);
	return err;
}

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
