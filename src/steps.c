// SPDX-License-Identifier: GPL-2.0
/* make bench's step build only: see steps.h. */

#include <linux/export.h>
#include <linux/timekeeping.h>

#include "steps.h"

u64 eprog_bench_steps[EPROG_NR_STEPS];
EXPORT_SYMBOL_GPL(eprog_bench_steps);

void eprog_step(enum eprog_step step)
{
	WRITE_ONCE(eprog_bench_steps[step], ktime_get_ns());
}
