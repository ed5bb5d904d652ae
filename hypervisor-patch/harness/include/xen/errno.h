/* Harness stand-in for Xen's <xen/errno.h>: see emul.h. */
#include "emul.h"
