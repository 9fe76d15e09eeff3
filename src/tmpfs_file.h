/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writing an executable into a private tmpfs: shared by the module's glue
 * (umd_glue.c) and eprog's UMD core (umd_core.c).
 */
#ifndef EPROG_TMPFS_FILE_H
#define EPROG_TMPFS_FILE_H

#include <linux/fs.h>
#include <linux/path.h>

/*
 * Sets the permission bits of @dentry to exactly @mode, as chmod() does
 * (the type bits stay): a file's mode at creation has the umask of
 * whoever loads the module taken from it.
 */
static inline int eprog_tmpfs_chmod(struct dentry *dentry, umode_t mode)
{
	struct inode *inode = d_inode(dentry);
	struct iattr attr = { .ia_valid = ATTR_MODE };
	int err;

	inode_lock(inode);
	attr.ia_mode = (inode->i_mode & ~S_IALLUGO) | mode;
	err = notify_change(&nop_mnt_idmap, dentry, &attr, NULL);
	inode_unlock(inode);
	return err;
}

/*
 * Writes @len bytes at @data to a new executable file @name with @mode in
 * directory @dir, and closes it at once: exec refuses a file still open
 * for writing (ETXTBSY), and fput() would defer the close.
 */
static inline int eprog_tmpfs_write(const struct path *dir, const char *name,
				    const void *data, size_t len, umode_t mode)
{
	struct file *file = file_open_root(dir, name, O_CREAT | O_EXCL | O_WRONLY, mode);
	loff_t pos = 0;
	ssize_t written;
	int err;

	if (IS_ERR(file))
		return PTR_ERR(file);
	written = kernel_write(file, data, len, &pos);
	err = eprog_tmpfs_chmod(file->f_path.dentry, mode);
	__fput_sync(file);
	if (written < 0)
		return written;
	if (written != len)
		return -ENOSPC;
	return err;
}

#endif /* EPROG_TMPFS_FILE_H */
