// SPDX-License-Identifier: GPL-2.0
/*
 * A helper's doors: its misc device, /dev/eprog for the default helper,
 * for user space and scripts, root only, with the helper's view and control
 * in sysfs; and, for the default helper, eprog_call() for other modules
 * (eprog.h). In C for the file operations and the static attribute tables,
 * which the 6.12 kernel crate has no abstraction for. On the
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

/* A helper's registered device. */
struct eprog_device {
	struct miscdevice misc;
	char name[EPROG_NAME_LEN + 8];	/* the misc device's */
	const void *doors;	/* Rust's (device.rs) */
	struct eprog_state *state;
	struct module *owner;	/* a client's helper: the client */
};

/* The doors of the helper that eprog_call() calls, while registered. */
static const void *eprog_call_doors;

ssize_t eprog_call(const void *request, size_t request_len, void *reply,
		   size_t reply_size, unsigned int timeout_ms)
{
	const void *doors = READ_ONCE(eprog_call_doors);

	if (!doors)
		return -ENODEV;
	return eprog_channel_call(doors, request, request_len, reply,
				  reply_size, timeout_ms);
}
EXPORT_SYMBOL_GPL(eprog_call);

/* An open device: its helper's doors and the last call's reply. */
struct eprog_file {
	const void *doors;
	struct module *owner;	/* held while open */
	struct mutex lock;	/* one call at a time */
	size_t len;		/* the reply's length */
	size_t pos;		/* how much of it was read */
	u8 reply[];		/* EPROG_MESSAGE_MAX bytes */
};

static int eprog_open(struct inode *inode, struct file *file)
{
	/* misc_open() set it to the device opened. */
	struct eprog_device *edev = container_of(file->private_data,
						 struct eprog_device, misc);
	struct eprog_file *f;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/*
	 * A client's helper lives until the client unloads: not while open.
	 * Under misc_open()'s lock, which unregistering takes too.
	 */
	if (!try_module_get(edev->owner))
		return -ENODEV;
	f = kvzalloc(struct_size(f, reply, EPROG_MESSAGE_MAX), GFP_KERNEL);
	if (!f) {
		module_put(edev->owner);
		return -ENOMEM;
	}
	f->doors = edev->doors;
	f->owner = edev->owner;
	mutex_init(&f->lock);
	file->private_data = f;
	return 0;
}

static int eprog_release(struct inode *inode, struct file *file)
{
	struct eprog_file *f = file->private_data;

	mutex_destroy(&f->lock);
	module_put(f->owner);
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
	ret = eprog_channel_call(f->doors, request, count, f->reply,
				 EPROG_MESSAGE_MAX, READ_ONCE(call_timeout_ms));
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
	struct eprog_device *edev = dev_get_drvdata(dev);
	int word, ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	word = sysfs_match_string(words, buf);
	if (word < 0)
		return -EINVAL;
	ret = eprog_control_command(edev->doors, word);
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

/* misc_register() made the misc device its device's driver data. */
struct eprog_state *eprog_device_state(struct device *dev)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct eprog_device, misc)->state;
}

/*
 * Registers the device @name (its misc device's name) for @doors and
 * @state; eprog_call() calls it if @serves_eprog_call. An open file holds
 * @owner (NULL: eprog, which the file operations hold).
 */
int eprog_device_register(const char *name, const void *doors,
			  struct eprog_state *state, bool serves_eprog_call,
			  struct module *owner, struct eprog_device **out)
{
	struct eprog_device *edev = kzalloc(sizeof(*edev), GFP_KERNEL);
	int ret;

	if (!edev)
		return -ENOMEM;
	strscpy(edev->name, name);
	edev->doors = doors;
	edev->state = state;
	edev->owner = owner;
	edev->misc.minor = MISC_DYNAMIC_MINOR;
	edev->misc.name = edev->name;
	edev->misc.fops = &eprog_fops;
	edev->misc.mode = 0600;
	edev->misc.groups = eprog_groups;
	ret = misc_register(&edev->misc);
	if (ret) {
		kfree(edev);
		return ret;
	}
	eprog_state_attach(state, edev->misc.this_device);
	if (serves_eprog_call)
		WRITE_ONCE(eprog_call_doors, doors);
	*out = edev;
	return 0;
}

/*
 * No call can be under way: open files hold the helper's owner, and
 * modules that use eprog_call() hold eprog, so neither can be unloading;
 * a client ends its own calls before it unregisters. misc_deregister()
 * waits for a control write under way.
 */
void eprog_device_unregister(struct eprog_device *edev)
{
	if (READ_ONCE(eprog_call_doors) == edev->doors)
		WRITE_ONCE(eprog_call_doors, NULL);
	eprog_state_detach(edev->state);
	misc_deregister(&edev->misc);
	kfree(edev);
}
