/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xlcfg_probe.c - runs the patched xl's own config parser (parse_config_data()
 * from tools/xl/xl_parse.o of a tree built by `build.sh --tools`) on an xl.cfg
 * file and prints the xenstore data it asks libxl to write at domain
 * creation ("xsdata <key> = <value>"), or xl's error and exit status.
 *
 * Used by tests/integration/hvpatch_xlcfg.test.sh.  xl's main() is renamed
 * away (objcopy) and the three libxl calls that need a running hypervisor
 * are replaced by fixed answers: a host with HVM, PV and HAP and 2 CPUs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxlutil.h>

#include "xl.h"
#include "xl_parse.h"

int libxl_get_physinfo(libxl_ctx *c, libxl_physinfo *p)
{
    (void)c;
    memset(p, 0, sizeof(*p));
    p->cap_hvm = p->cap_pv = p->cap_hap = 1;
    p->nr_cpus = 2;
    return 0;
}

int libxl_get_max_cpus(libxl_ctx *c)
{
    (void)c;
    return 2;
}

int libxl_get_online_cpus(libxl_ctx *c)
{
    (void)c;
    return 2;
}

int main(int argc, char **argv)
{
    static char buf[65536];
    libxl_domain_config dc;
    size_t n;
    FILE *f;
    int i;

    if (argc != 2) {
        fprintf(stderr, "usage: %s XL_CFG\n", argv[0]);
        return 2;
    }
    f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);

    libxl_domain_config_init(&dc);
    parse_config_data(argv[1], buf, (int)n, &dc); /* exits on bad input */
    for (i = 0; dc.c_info.xsdata && dc.c_info.xsdata[i]; i += 2)
        printf("xsdata %s = %s\n", dc.c_info.xsdata[i], dc.c_info.xsdata[i + 1]);
    libxl_domain_config_dispose(&dc);
    return 0;
}
