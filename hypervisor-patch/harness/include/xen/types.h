/* Harness stand-in for Xen's <xen/types.h>: see emul.h. */
#include "emul.h"
