/* Harness stand-in for Xen's <xen/event.h>: see emul.h. */
#include "emul.h"
