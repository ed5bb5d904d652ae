/* Harness stand-in for Xen's <xen/domain_page.h>: see emul.h. */
#include "emul.h"
