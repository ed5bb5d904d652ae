/* Harness stand-in for Xen's <xen/sched.h>: see emul.h. */
#include "emul.h"
