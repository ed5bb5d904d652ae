/* Harness stand-in for Xen's <xen/string.h>: see emul.h. */
#include "emul.h"
