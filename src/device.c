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

static unsigned int call_timeout_ms = 5000;
module_param(call_timeout_ms, uint, 0644);
MODULE_PARM_DESC(call_timeout_ms, "Timeout of a call through /dev/eprog, in ms (default 5000)");

/* The Rust channel, while the device is registered. */
static const void *eprog_channel;

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

static struct miscdevice eprog_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "eprog",
	.fops	= &eprog_fops,
	.mode	= 0600,
};

int eprog_device_register(const void *channel)
{
	int ret;

	WRITE_ONCE(eprog_channel, channel);
	ret = misc_register(&eprog_misc);
	if (ret)
		WRITE_ONCE(eprog_channel, NULL);
	return ret;
}

/*
 * No call can be under way: open files and modules that use eprog_call()
 * hold eprog, so it cannot be unloading.
 */
void eprog_device_unregister(void)
{
	misc_deregister(&eprog_misc);
	WRITE_ONCE(eprog_channel, NULL);
}
