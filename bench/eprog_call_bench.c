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
 * mode=floor (one caller): the honest floor of a kernel caller, with no
 * eprog at all: the kernel thread ping-pongs the channel's frames (a 12-byte
 * header and "echo bench", a header and "bench" back) with a user process
 * over a bare pipe each way, kernel_write() and kernel_read() on two FIFOs
 * (@fifo ".req" and ".rep") whose other ends `pingpong serve` holds.
 *
 * mode=steps (one caller), against eprog's step build only (src/steps.h):
 * where each round trip's time goes, from the stamps the build leaves for
 * the last call and the two its helper puts after each reply's bytes. The
 * module logs each step's median.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/fs.h>
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
MODULE_PARM_DESC(mode, "eprog (eprog_call), umh (call_usermodehelper per request), floor or steps");

static unsigned int calls = 1000;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Round trips in all (default 1000)");

static unsigned int callers = 1;
module_param(callers, uint, 0444);
MODULE_PARM_DESC(callers, "Kernel threads calling at once (default 1, at most 64)");

static char *program = "/answer";
module_param(program, charp, 0444);
MODULE_PARM_DESC(program, "The per-request program of mode=umh (default /answer)");

static char *fifo = "/tmp/floor";
module_param(fifo, charp, 0444);
MODULE_PARM_DESC(fifo, "mode=floor's FIFOs, <fifo>.req and <fifo>.rep (default /tmp/floor)");

#define REQUEST "echo bench"
#define ANSWER "bench"

/* The channel's frame header (src/frame.rs): length, id, kind. */
#define HEADER 12
#define KIND_REQUEST 1

/* mode=floor: the kernel's ends of the FIFOs. */
static struct file *floor_req, *floor_rep;
static u32 floor_id;

/* One round trip of mode=floor: a request frame out, a reply frame back. */
static int floor_call(void)
{
	char frame[HEADER + sizeof(REQUEST)] = { 0 };
	u32 len = strlen(REQUEST), id = ++floor_id;
	size_t want = HEADER + strlen(ANSWER), got = 0;
	loff_t pos = 0;

	memcpy(frame, &len, 4);
	memcpy(frame + 4, &id, 4);
	frame[8] = KIND_REQUEST;
	memcpy(frame + HEADER, REQUEST, len);
	if (kernel_write(floor_req, frame, HEADER + len, &pos) != HEADER + len)
		return -EIO;
	while (got < want) {
		ssize_t n = kernel_read(floor_rep, frame + got, want - got, &pos);

		if (n <= 0)
			return n ? n : -EPIPE;
		got += n;
	}
	return memcmp(frame + 4, &id, 4) || memcmp(frame + HEADER, ANSWER, strlen(ANSWER)) ?
		-EIO : 0;
}

/* Opens mode=floor's FIFOs, in the order `pingpong serve` opens them. */
static int floor_open(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s.req", fifo);
	floor_req = filp_open(path, O_WRONLY, 0);
	if (IS_ERR(floor_req))
		return PTR_ERR(floor_req);
	snprintf(path, sizeof(path), "%s.rep", fifo);
	floor_rep = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(floor_rep)) {
		filp_close(floor_req, NULL);
		return PTR_ERR(floor_rep);
	}
	return 0;
}

/* Closing the request FIFO is `pingpong serve`'s end of file. */
static void floor_close(void)
{
	filp_close(floor_req, NULL);
	filp_close(floor_rep, NULL);
}

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
	if (!strcmp(mode, "floor"))
		return floor_call();
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
	bool steps = !strcmp(mode, "steps"), floor = !strcmp(mode, "floor");
	int ret = 0;

	if ((steps || floor) && callers != 1)
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
	if (floor) {
		ret = floor_open();
		if (ret)
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
	if (floor)
		floor_close();
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
