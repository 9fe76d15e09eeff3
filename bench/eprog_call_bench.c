// SPDX-License-Identifier: GPL-2.0
/*
 * The channel's benchmark: @callers kernel threads make @calls round trips
 * in all, each "echo bench", and the module logs the latencies' median and
 * 99th percentile and the calls per second. mode=eprog calls eprog's
 * helper through eprog_call(); mode=umh runs @program once per request with
 * call_usermodehelper(UMH_WAIT_PROC), which answers with its exit status,
 * as the kernel gets user-space work done without eprog. make bench loads
 * it with both modes in the same boot.
 *
 * mode=steps (one caller), against eprog's step build only (src/steps.h):
 * where each round trip's time goes, from the stamps the build leaves for
 * the last call and the two its helper puts after each reply's bytes. The
 * module logs each step's median.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/umh.h>

#include "eprog.h"
#include "steps.h"

static char *mode = "eprog";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "eprog (eprog_call), umh (call_usermodehelper per request) or steps");

static unsigned int calls = 1000;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Round trips in all (default 1000)");

static unsigned int callers = 1;
module_param(callers, uint, 0444);
MODULE_PARM_DESC(callers, "Kernel threads calling at once (default 1, at most 64)");

static char *program = "/answer";
module_param(program, charp, 0444);
MODULE_PARM_DESC(program, "The per-request program of mode=umh (default /answer)");

#define REQUEST "echo bench"
#define ANSWER "bench"

struct caller {
	struct completion done;
	u64 *ns;		/* each call's round trip */
	unsigned int n;
	unsigned int errors;
};

static int one_call(void)
{
	char reply[16];
	ssize_t len;

	if (!strcmp(mode, "umh")) {
		char *argv[] = { program, REQUEST, NULL };
		char *envp[] = { NULL };
		int status = call_usermodehelper(program, argv, envp, UMH_WAIT_PROC);

		/* A wait status: the exit status is in bits 8-15. */
		return status == strlen(ANSWER) << 8 ? 0 : -EIO;
	}
	len = eprog_call(REQUEST, strlen(REQUEST), reply, sizeof(reply), 5000);
	if (len < 0)
		return len;
	return len == strlen(ANSWER) && !memcmp(reply, ANSWER, len) ? 0 : -EIO;
}

static int caller_fn(void *data)
{
	struct caller *c = data;
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		u64 t0 = ktime_get_ns();

		if (one_call())
			c->errors++;
		c->ns[i] = ktime_get_ns() - t0;
	}
	kthread_complete_and_exit(&c->done, 0);
}

/*
 * A round trip's steps, each from the stamp before (eprog_call() entered
 * at t[0]): the caller has its turn to write the request; the request is
 * written and the helper, woken, has read it; the helper's handler has
 * answered; the reply is written and the caller, woken, has read it (it
 * reads for itself: src/reader.rs); the caller has the reply sorted and
 * handed to its call; eprog_call() has returned.
 */
#define STEPS 6
static const char *const step_names[STEPS] = {
	"turn", "to_helper", "answer", "to_reader", "to_caller", "return",
};

/* One caller; ns[i * STEPS + s] is step s of call i. */
static int steps_fn(void *data)
{
	struct caller *c = data;
	const u64 *stamps = __symbol_get("eprog_bench_steps");
	unsigned int i, s;

	if (!stamps) {
		pr_err("mode=steps needs eprog's step build (EPROG_BENCH_STEPS=1)\n");
		c->errors = c->n;
		kthread_complete_and_exit(&c->done, 0);
	}
	for (i = 0; i < c->n; i++) {
		char reply[32];
		u64 t[STEPS + 1], helper[2];
		ssize_t len;

		t[0] = ktime_get_ns();
		len = eprog_call(REQUEST, strlen(REQUEST), reply, sizeof(reply), 5000);
		t[6] = ktime_get_ns();
		if (len != strlen(ANSWER) + sizeof(helper) || memcmp(reply, ANSWER, strlen(ANSWER))) {
			c->errors++;
			continue;
		}
		memcpy(helper, reply + strlen(ANSWER), sizeof(helper));
		t[1] = READ_ONCE(stamps[EPROG_STEP_WRITING]);
		t[2] = helper[0];
		t[3] = helper[1];
		t[4] = READ_ONCE(stamps[EPROG_STEP_READ]);
		t[5] = READ_ONCE(stamps[EPROG_STEP_REPLIED]);
		for (s = 0; s < STEPS; s++)
			c->ns[i * STEPS + s] = t[s + 1] - t[s];
	}
	__symbol_put("eprog_bench_steps");
	kthread_complete_and_exit(&c->done, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* mode=steps: @n calls by one caller; logs each step's median. */
static int steps_report(unsigned int n)
{
	struct caller c = { .n = n };
	struct task_struct *t;
	char line[256];
	int at, ret = 0;
	u64 *col = kvcalloc(n, sizeof(*col), GFP_KERNEL);
	unsigned int i, s;

	c.ns = kvcalloc(n * STEPS, sizeof(*c.ns), GFP_KERNEL);
	if (!c.ns || !col) {
		ret = -ENOMEM;
		goto out;
	}
	init_completion(&c.done);
	t = kthread_run(steps_fn, &c, "eprog_bench/steps");
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		goto out;
	}
	wait_for_completion(&c.done);
	at = scnprintf(line, sizeof(line), "mode=steps calls=%u errors=%u", n, c.errors);
	for (s = 0; s < STEPS; s++) {
		for (i = 0; i < n; i++)
			col[i] = c.ns[i * STEPS + s];
		sort(col, n, sizeof(*col), cmp_u64, NULL);
		at += scnprintf(line + at, sizeof(line) - at, " %s_ns=%llu",
				step_names[s], col[n / 2]);
	}
	pr_info("%s\n", line);
out:
	kvfree(col);
	kvfree(c.ns);
	return ret;
}

static int __init eprog_call_bench_init(void)
{
	struct caller *c;
	u64 *ns, t0, elapsed;
	unsigned int i, errors = 0, per = calls / max(callers, 1U);
	bool steps = !strcmp(mode, "steps");
	int ret = 0;

	if (steps && callers != 1)
		return -EINVAL;
	if (!callers || callers > 64 || !per)
		return -EINVAL;
	if (steps)
		return steps_report(per);
	ns = kvcalloc(per * callers, sizeof(*ns), GFP_KERNEL);
	c = kcalloc(callers, sizeof(*c), GFP_KERNEL);
	if (!ns || !c) {
		ret = -ENOMEM;
		goto out;
	}
	t0 = ktime_get_ns();
	for (i = 0; i < callers; i++) {
		struct task_struct *t;

		init_completion(&c[i].done);
		c[i].ns = ns + i * per;
		c[i].n = per;
		t = kthread_run(caller_fn, &c[i], "eprog_bench/%u", i);
		if (IS_ERR(t)) {
			/* The threads started so far still run to their end. */
			c[i].errors = per;
			complete(&c[i].done);
		}
	}
	for (i = 0; i < callers; i++) {
		wait_for_completion(&c[i].done);
		errors += c[i].errors;
	}
	elapsed = ktime_get_ns() - t0;
	sort(ns, per * callers, sizeof(*ns), cmp_u64, NULL);
	pr_info("mode=%s callers=%u calls=%u errors=%u elapsed_ns=%llu median_ns=%llu p99_ns=%llu\n",
		mode, callers, per * callers, errors, elapsed,
		ns[per * callers / 2], ns[per * callers * 99 / 100]);
out:
	kfree(c);
	kvfree(ns);
	return ret;
}

static void __exit eprog_call_bench_exit(void)
{
}

module_init(eprog_call_bench_init);
module_exit(eprog_call_bench_exit);
MODULE_DESCRIPTION("Round trips through eprog's channel against call_usermodehelper");
MODULE_AUTHOR("eprog developers");
MODULE_LICENSE("GPL");
