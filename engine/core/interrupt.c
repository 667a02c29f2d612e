// SPDX-License-Identifier: LGPL-2.1-or-later
#include <signal.h>
#include <string.h>

#include "core/error.h"
#include "core/interrupt.h"

static __thread int (*interrupt_hook)(void *data);
static __thread void *interrupt_data;

void oc_interrupt_set(int (*hook)(void *data), void *data)
{
	interrupt_hook = hook;
	interrupt_data = data;
}

int oc_interrupt_check(void)
{
	int why;

	if (!interrupt_hook)
		return 0;
	why = interrupt_hook(interrupt_data);
	if (why <= 0)
		return 0;
	if (why < NSIG && sigabbrev_np(why))
		return oc_error(-EINTR, "interrupted by SIG%s", sigabbrev_np(why));
	return oc_error(-EINTR, "interrupted (%d)", why);
}
