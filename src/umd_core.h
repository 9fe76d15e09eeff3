/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eprog's User Mode Driver core, for kernels without the kernel's own
 * (USERMODE_DRIVER off, or Linux 6.17 and later, which removed it). The
 * same four operations as the kernel's API, under eprog names, so the
 * module's Rust code is the same on every kernel. Part of eprog (eprog.ko
 * or built in), using only what modules may call; see umd_core.c for how
 * and for what it does differently.
 */
#ifndef EPROG_UMD_CORE_H
#define EPROG_UMD_CORE_H

#include <linux/path.h>
#include <linux/types.h>

struct file;
struct pid;

/**
 * struct eprog_umd - a user mode driver: its tmpfs and its running process
 * @driver_name: the executable's name in the tmpfs; also its argv[0]
 * @pipe_to_umh: write end of the process's stdin, once started
 * @pipe_from_umh: read end of the process's stdout, once started
 * @wd: the root of the private tmpfs, once loaded
 * @tgid: the process's thread group, once started
 */
struct eprog_umd {
	const char *driver_name;
	struct file *pipe_to_umh;
	struct file *pipe_from_umh;
	struct path wd;
	struct pid *tgid;
};

int eprog_umd_load_blob(struct eprog_umd *umd, const void *data, size_t len);
int eprog_umd_unload_blob(struct eprog_umd *umd);
int eprog_umd_fork(struct eprog_umd *umd);
void eprog_umd_cleanup(struct eprog_umd *umd);

#endif /* EPROG_UMD_CORE_H */
