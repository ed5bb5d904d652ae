/* Harness stand-in for Xen's <xen/guest_access.h>: see emul.h. */
#include "emul.h"
