/* Harness stand-in for Xen's <public/memory.h>: see emul.h. */
#include "emul.h"
