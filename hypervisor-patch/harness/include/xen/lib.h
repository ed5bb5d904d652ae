/* Harness stand-in for Xen's <xen/lib.h>: see emul.h. */
#include "emul.h"
