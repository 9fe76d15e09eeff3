/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a round trip's time goes, for make bench only: its step build
 * (EPROG_BENCH_STEPS=1) stamps the steps of each call with ktime_get_ns(),
 * and bench/eprog_call_bench.c (mode=steps, one caller) reads the last
 * call's stamps. The product builds none of it: a stamp is nothing there.
 */
#ifndef EPROG_STEPS_H
#define EPROG_STEPS_H

#include <linux/types.h>

enum eprog_step {
	EPROG_STEP_WRITING,	/* the caller has its turn to write the request */
	EPROG_STEP_READ,	/* a reader (the caller itself) has read the reply */
	EPROG_STEP_REPLIED,	/* the caller has its reply */
	EPROG_NR_STEPS,
};

#ifdef EPROG_BENCH_STEPS
extern u64 eprog_bench_steps[EPROG_NR_STEPS];
void eprog_step(enum eprog_step step);
#endif

#endif /* EPROG_STEPS_H */
