// SPDX-License-Identifier: GPL-2.0
/*
 * The helpers' state records (state.h), on the list drgn walks, and their
 * read-only view in sysfs, under each helper's misc device:
 * /sys/class/misc/eprog/{state,pid,...}, and the counters/ and calls_failed/
 * directories. Every change of state also goes out as a KOBJ_CHANGE uevent
 * with EPROG_STATE=<state> and EPROG_NAME=<the helper's name>. In C for the static attribute tables, and for
 * the list, whose symbol the drgn script looks up.
 */
#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "device.h"
#include "state.h"

#ifdef EPROG_UMD_CORE
#define EPROG_ROUTE 1
#else
#define EPROG_ROUTE 0
#endif

/* The stable symbol that tools/eprog_state.py looks up. */
LIST_HEAD(eprog_helpers);
/* Its writers; a name is on it at most once. */
static DEFINE_MUTEX(eprog_helpers_lock);

static const char *const eprog_state_names[] = {
	[EPROG_STOPPED] = "stopped",
	[EPROG_STARTING] = "starting",
	[EPROG_RUNNING] = "running",
	[EPROG_BACKOFF] = "backoff",
	[EPROG_FAILED] = "failed",
};

static const char *const eprog_route_names[] = { "kernel-umd", "eprog-core" };

/* @state as a uevent's variable. */
static void eprog_state_env_of(char env[EPROG_STATE_ENV_LEN], enum eprog_helper_state state)
{
	snprintf(env, EPROG_STATE_ENV_LEN, "EPROG_STATE=%s", eprog_state_names[state]);
}

/*
 * A new record for the helper @name, on eprog_helpers; -EEXIST if a helper
 * of that name has one.
 */
int eprog_state_new(const char *name, struct eprog_state **out)
{
	struct eprog_state *s = kzalloc(sizeof(*s), GFP_KERNEL);
	struct eprog_state *other;

	if (!s)
		return -ENOMEM;
	s->magic = EPROG_STATE_MAGIC;
	s->version = EPROG_STATE_VERSION;
	s->size = sizeof(*s);
	s->hz = HZ;
	s->state = EPROG_STOPPED;
	s->route = EPROG_ROUTE;
	s->last_exit = -1;
	strscpy(s->name, name);
	spin_lock_init(&s->lock);
	mutex_init(&s->uevent_lock);
	mutex_lock(&eprog_helpers_lock);
	list_for_each_entry(other, &eprog_helpers, node) {
		if (!strcmp(other->name, s->name)) {
			mutex_unlock(&eprog_helpers_lock);
			mutex_destroy(&s->uevent_lock);
			kfree(s);
			return -EEXIST;
		}
	}
	list_add_tail(&s->node, &eprog_helpers);
	mutex_unlock(&eprog_helpers_lock);
	*out = s;
	return 0;
}

/* Its device is gone, and its supervisor: nothing else uses @s. */
void eprog_state_free(struct eprog_state *s)
{
	mutex_lock(&eprog_helpers_lock);
	list_del(&s->node);
	mutex_unlock(&eprog_helpers_lock);
	mutex_destroy(&s->uevent_lock);
	kfree(s);
}

/*
 * Sends a KOBJ_CHANGE uevent with @s's state and the helper's name, under
 * its uevent_lock.
 */
static void eprog_state_uevent(struct eprog_state *s)
{
	char env[EPROG_STATE_ENV_LEN];
	char name[sizeof("EPROG_NAME=") + EPROG_NAME_LEN];
	char *envp[3] = { env, name, NULL };

	eprog_state_env_of(env, READ_ONCE(s->state));
	snprintf(name, sizeof(name), "EPROG_NAME=%s", s->name);
	kobject_uevent_env(&s->dev->kobj, KOBJ_CHANGE, envp);
}

void eprog_state_set(struct eprog_state *s, enum eprog_helper_state state)
{
	if (WARN_ON_ONCE(state >= ARRAY_SIZE(eprog_state_names)))
		return;
	mutex_lock(&s->uevent_lock);
	spin_lock(&s->lock);
	WRITE_ONCE(s->state, state);
	spin_unlock(&s->lock);
	if (s->dev)
		eprog_state_uevent(s);
	mutex_unlock(&s->uevent_lock);
}

/*
 * The changes before this one went to no device: the state now goes out,
 * for a udev rule that waits for it (after insmod, or at boot for =y).
 * Under the lock: a change made meanwhile goes out after it.
 */
void eprog_state_attach(struct eprog_state *s, struct device *dev)
{
	mutex_lock(&s->uevent_lock);
	s->dev = dev;
	eprog_state_uevent(s);
	mutex_unlock(&s->uevent_lock);
}

void eprog_state_detach(struct eprog_state *s)
{
	mutex_lock(&s->uevent_lock);
	s->dev = NULL;
	mutex_unlock(&s->uevent_lock);
}

void eprog_state_run_began(struct eprog_state *s, pid_t pid)
{
	spin_lock(&s->lock);
	WRITE_ONCE(s->run_start, get_jiffies_64());
	WRITE_ONCE(s->pid, pid);
	spin_unlock(&s->lock);
}

void eprog_state_run_ended(struct eprog_state *s, int exit_code, const char *text)
{
	spin_lock(&s->lock);
	WRITE_ONCE(s->pid, 0);
	WRITE_ONCE(s->last_exit, exit_code);
	strscpy(s->last_exit_text, text);
	spin_unlock(&s->lock);
}

/* @in_row is 0 when a run ended a row or an operator started the helper. */
void eprog_state_restarting(struct eprog_state *s, unsigned int in_row)
{
	spin_lock(&s->lock);
	if (in_row)
		WRITE_ONCE(s->restarts, s->restarts + 1);
	WRITE_ONCE(s->restarts_in_row, in_row);
	spin_unlock(&s->lock);
}

/* Returns the counter's new value. */
u64 eprog_state_count(struct eprog_state *s, enum eprog_counter counter, u64 n)
{
	if (WARN_ON_ONCE(counter >= EPROG_NR_COUNTERS))
		return 0;
	return atomic64_add_return(n, &s->counters[counter]);
}

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct eprog_state *s = eprog_device_state(dev);

	return sysfs_emit(buf, "%s\n", eprog_state_names[READ_ONCE(s->state)]);
}
static DEVICE_ATTR_RO(state);

static ssize_t pid_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(eprog_device_state(dev)->pid));
}
static DEVICE_ATTR_RO(pid);

static ssize_t restarts_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(eprog_device_state(dev)->restarts));
}
static DEVICE_ATTR_RO(restarts);

static ssize_t restarts_in_row_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(eprog_device_state(dev)->restarts_in_row));
}
static DEVICE_ATTR_RO(restarts_in_row);

static ssize_t last_exit_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct eprog_state *s = eprog_device_state(dev);
	ssize_t n;

	spin_lock(&s->lock);
	n = sysfs_emit(buf, "%s\n", s->last_exit < 0 ? "none" : s->last_exit_text);
	spin_unlock(&s->lock);
	return n;
}
static DEVICE_ATTR_RO(last_exit);

/* How long the helper running now has run; 0 when none runs. */
static ssize_t run_ms_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct eprog_state *s = eprog_device_state(dev);
	u64 ms = 0;

	spin_lock(&s->lock);
	if (s->pid)
		ms = jiffies64_to_msecs(get_jiffies_64() - s->run_start);
	spin_unlock(&s->lock);
	return sysfs_emit(buf, "%llu\n", ms);
}
static DEVICE_ATTR_RO(run_ms);

static ssize_t route_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", eprog_route_names[eprog_device_state(dev)->route]);
}
static DEVICE_ATTR_RO(route);

static struct attribute *eprog_state_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_pid.attr,
	&dev_attr_restarts.attr,
	&dev_attr_restarts_in_row.attr,
	&dev_attr_last_exit.attr,
	&dev_attr_run_ms.attr,
	&dev_attr_route.attr,
	NULL,
};

const struct attribute_group eprog_state_group = {
	.attrs = eprog_state_attrs,
};

/* A counter's attribute: its name is the file's, its index the counter. */
struct eprog_counter_attr {
	struct device_attribute attr;
	unsigned int counter;
};

static ssize_t counter_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct eprog_counter_attr *c = container_of(attr, struct eprog_counter_attr, attr);

	return sysfs_emit(buf, "%lld\n", atomic64_read(&eprog_device_state(dev)->counters[c->counter]));
}

/* Not __ATTR(): it would expand the errno names, which are macros. */
#define EPROG_COUNTER(_name, _counter) \
	static struct eprog_counter_attr counter_##_name = { \
		.attr = { \
			.attr = { .name = #_name, .mode = 0444 }, \
			.show = counter_show, \
		}, \
		.counter = _counter, \
	}

EPROG_COUNTER(records_relayed, EPROG_RECORDS_RELAYED);
EPROG_COUNTER(records_suppressed, EPROG_RECORDS_SUPPRESSED);
EPROG_COUNTER(calls, EPROG_CALLS);
EPROG_COUNTER(late_replies, EPROG_LATE_REPLIES);
EPROG_COUNTER(protocol_errors, EPROG_PROTOCOL_ERRORS);
EPROG_COUNTER(ETIMEDOUT, EPROG_FAILED_ETIMEDOUT);
EPROG_COUNTER(ECONNRESET, EPROG_FAILED_ECONNRESET);
EPROG_COUNTER(EPROTO, EPROG_FAILED_EPROTO);
EPROG_COUNTER(EOPNOTSUPP, EPROG_FAILED_EOPNOTSUPP);
EPROG_COUNTER(EPIPE, EPROG_FAILED_EPIPE);
EPROG_COUNTER(ESHUTDOWN, EPROG_FAILED_ESHUTDOWN);
EPROG_COUNTER(EMSGSIZE, EPROG_FAILED_EMSGSIZE);
EPROG_COUNTER(ENOBUFS, EPROG_FAILED_ENOBUFS);
EPROG_COUNTER(EINTR, EPROG_FAILED_EINTR);
EPROG_COUNTER(other, EPROG_FAILED_OTHER);

static struct attribute *eprog_counters_attrs[] = {
	&counter_records_relayed.attr.attr,
	&counter_records_suppressed.attr.attr,
	&counter_calls.attr.attr,
	&counter_late_replies.attr.attr,
	&counter_protocol_errors.attr.attr,
	NULL,
};

const struct attribute_group eprog_counters_group = {
	.name = "counters",
	.attrs = eprog_counters_attrs,
};

static struct attribute *eprog_calls_failed_attrs[] = {
	&counter_ETIMEDOUT.attr.attr,
	&counter_ECONNRESET.attr.attr,
	&counter_EPROTO.attr.attr,
	&counter_EOPNOTSUPP.attr.attr,
	&counter_EPIPE.attr.attr,
	&counter_ESHUTDOWN.attr.attr,
	&counter_EMSGSIZE.attr.attr,
	&counter_ENOBUFS.attr.attr,
	&counter_EINTR.attr.attr,
	&counter_other.attr.attr,
	NULL,
};

const struct attribute_group eprog_calls_failed_group = {
	.name = "calls_failed",
	.attrs = eprog_calls_failed_attrs,
};
