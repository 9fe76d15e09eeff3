// SPDX-License-Identifier: GPL-2.0
/*
 * The channel's doors: eprog_call() for other modules (eprog.h), and the
 * misc device /dev/eprog for user space and scripts, root only. On the
 * device, write() is one call: it sends the request and returns once the
 * reply is there (or fails with the call's errno); read() then returns the
 * reply, and end of file after it. One call at a time per open file; open
 * the device several times to call concurrently.
 */
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "device.h"
#include "eprog.h"
#include "state.h"

static unsigned int call_timeout_ms = 5000;
module_param(call_timeout_ms, uint, 0644);
MODULE_PARM_DESC(call_timeout_ms, "Timeout of a call through /dev/eprog, in ms (default 5000)");

/* The Rust channel and control, while the device is registered. */
static const void *eprog_channel;
static const void *eprog_control;

ssize_t eprog_call(const void *request, size_t request_len, void *reply,
		   size_t reply_size, unsigned int timeout_ms)
{
	const void *channel = READ_ONCE(eprog_channel);

	if (!channel)
		return -ENODEV;
	return eprog_channel_call(channel, request, request_len, reply,
				  reply_size, timeout_ms);
}
EXPORT_SYMBOL_GPL(eprog_call);

/* An open /dev/eprog: the last call's reply. */
struct eprog_file {
	struct mutex lock;	/* one call at a time */
	size_t len;		/* the reply's length */
	size_t pos;		/* how much of it was read */
	u8 reply[];		/* EPROG_MESSAGE_MAX bytes */
};

static int eprog_open(struct inode *inode, struct file *file)
{
	struct eprog_file *f;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	f = kvzalloc(struct_size(f, reply, EPROG_MESSAGE_MAX), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	file->private_data = f;
	return 0;
}

static int eprog_release(struct inode *inode, struct file *file)
{
	struct eprog_file *f = file->private_data;

	mutex_destroy(&f->lock);
	kvfree(f);
	return 0;
}

static ssize_t eprog_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct eprog_file *f = file->private_data;
	ssize_t ret;
	void *request;

	if (count > EPROG_MESSAGE_MAX)
		return -EMSGSIZE;
	request = kvmalloc(count ?: 1, GFP_KERNEL);
	if (!request)
		return -ENOMEM;
	if (copy_from_user(request, buf, count)) {
		ret = -EFAULT;
		goto out;
	}
	ret = mutex_lock_interruptible(&f->lock);
	if (ret)
		goto out;
	f->len = 0;
	f->pos = 0;
	ret = eprog_call(request, count, f->reply, EPROG_MESSAGE_MAX,
			 READ_ONCE(call_timeout_ms));
	if (ret >= 0) {
		f->len = ret;
		ret = count;
	}
	mutex_unlock(&f->lock);
out:
	kvfree(request);
	return ret;
}

static ssize_t eprog_read(struct file *file, char __user *buf, size_t count,
			  loff_t *ppos)
{
	struct eprog_file *f = file->private_data;
	size_t n;
	int ret;

	ret = mutex_lock_interruptible(&f->lock);
	if (ret)
		return ret;
	n = min(count, f->len - f->pos);
	if (copy_to_user(buf, f->reply + f->pos, n)) {
		mutex_unlock(&f->lock);
		return -EFAULT;
	}
	f->pos += n;
	mutex_unlock(&f->lock);
	return n;
}

static const struct file_operations eprog_fops = {
	.owner		= THIS_MODULE,
	.open		= eprog_open,
	.release	= eprog_release,
	.read		= eprog_read,
	.write		= eprog_write,
	.llseek		= noop_llseek,
};

static ssize_t control_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	static const char *const words[] = {
		[EPROG_CONTROL_START] = "start",
		[EPROG_CONTROL_STOP] = "stop",
		[EPROG_CONTROL_RESTART] = "restart",
	};
	int word, ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	word = sysfs_match_string(words, buf);
	if (word < 0)
		return -EINVAL;
	ret = eprog_control_command(READ_ONCE(eprog_control), word);
	return ret ?: count;
}
static DEVICE_ATTR_WO(control);

static struct attribute *eprog_control_attrs[] = {
	&dev_attr_control.attr,
	NULL,
};

static const struct attribute_group eprog_control_group = {
	.attrs = eprog_control_attrs,
};

static const struct attribute_group *eprog_groups[] = {
	&eprog_control_group,
	&eprog_state_group,
	&eprog_counters_group,
	&eprog_calls_failed_group,
	NULL,
};

static struct miscdevice eprog_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "eprog",
	.fops	= &eprog_fops,
	.mode	= 0600,
	.groups	= eprog_groups,
};

/* Whether eprog_misc is registered, for the uevents of state changes. */
static DEFINE_MUTEX(eprog_misc_lock);
static bool eprog_misc_registered;

/* Sends a KOBJ_CHANGE uevent with @env (KEY=value), under eprog_misc_lock. */
static void eprog_misc_uevent(char *env)
{
	char *envp[2] = { env, NULL };

	kobject_uevent_env(&eprog_misc.this_device->kobj, KOBJ_CHANGE, envp);
}

int eprog_device_register(const void *channel, const void *control)
{
	char env[EPROG_STATE_ENV_LEN];
	int ret;

	WRITE_ONCE(eprog_channel, channel);
	WRITE_ONCE(eprog_control, control);
	ret = misc_register(&eprog_misc);
	if (ret) {
		WRITE_ONCE(eprog_channel, NULL);
		WRITE_ONCE(eprog_control, NULL);
		return ret;
	}
	mutex_lock(&eprog_misc_lock);
	eprog_misc_registered = true;
	/*
	 * The changes before this one went to no device: the state now, for a
	 * udev rule that waits for it (after insmod, or at boot for =y).
	 * Under the lock: a change made meanwhile goes out after it.
	 */
	eprog_state_env(env);
	eprog_misc_uevent(env);
	mutex_unlock(&eprog_misc_lock);
	return 0;
}

/*
 * No call can be under way: open files and modules that use eprog_call()
 * hold eprog, so it cannot be unloading. misc_deregister() waits for a
 * control write under way.
 */
void eprog_device_unregister(void)
{
	mutex_lock(&eprog_misc_lock);
	eprog_misc_registered = false;
	mutex_unlock(&eprog_misc_lock);
	misc_deregister(&eprog_misc);
	WRITE_ONCE(eprog_channel, NULL);
	WRITE_ONCE(eprog_control, NULL);
}

/*
 * Sends a KOBJ_CHANGE uevent with @env (KEY=value) for the device, if it
 * is registered. Only the supervisor thread calls it, never a control
 * write (which unregistering waits for).
 */
void eprog_device_changed(char *env)
{
	mutex_lock(&eprog_misc_lock);
	if (eprog_misc_registered)
		eprog_misc_uevent(env);
	mutex_unlock(&eprog_misc_lock);
}
