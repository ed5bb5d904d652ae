/* Harness stand-in for Xen's <xen/mm-frame.h>: see emul.h. */
#include "emul.h"
