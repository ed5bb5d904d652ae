#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
gen-stubs.py - generate the ENOSYS stubs and the version scripts of xensim's
drop-in Xen client libraries from Debian's real libraries and headers.

Mechanism: for each library, `objdump -T` of Debian's shared object gives
the exported functions and the version node of each; the C prototypes come
from Debian's header, preprocessed with `cc -E` so that macros and
attributes are resolved exactly as a client program sees them.  Every
exported function that the hand-written sources of this directory do not
define (a line starting a definition `... name(` that does not end in `;`)
gets a stub with the header's exact prototype (parameters renamed p0..pN so
the definition is valid C11) that sets errno = ENOSYS and returns the
failure value of its type: NULL for pointers, false for bool, nothing for
void, (type)-1 otherwise (libxc's and libxenstore's own convention).

Outputs (committed, so that building needs neither python nor Debian's
.so files, only its headers; rerun after implementing a function):
    <lib>-stubs.c    the stubs, including the real header
    <lib>.map        the version script (same nodes as Debian's)

Usage: tools/xensim/client/gen-stubs.py [--check]
    --check   regenerate into memory and fail if the committed files differ
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIBDIR = "/usr/lib/x86_64-linux-gnu"

# name, Debian shared object, header(s), hand-written sources, extra exports
# Functions Debian's libxenctrl exports but declares only in its private
# headers (tools/libs/ctrl/xc_private.h, xc_bitops.h, xg_private.h of Xen
# 4.17): their prototypes, copied from there, so that the stubs return the
# right kind of failure value.
XC_PRIVATE = """
struct xc_mmu; struct mmuext_op; struct iovec;
void bitmap_64_to_byte(uint8_t *bp, const uint64_t *lp, int nbits);
void bitmap_byte_to_64(uint64_t *lp, const uint8_t *bp, int nbits);
void discard_file_cache(xc_interface *xch, int fd, int flush);
int read_exact(int fd, void *data, size_t size);
int write_exact(int fd, const void *data, size_t size);
int writev_exact(int fd, const struct iovec *iov, int iovcnt);
void xc__hypercall_bounce_post(xc_interface *xch, xc_hypercall_buffer_t *bounce);
int xc__hypercall_bounce_pre(xc_interface *xch, xc_hypercall_buffer_t *bounce);
int xc_add_mmu_update(xc_interface *xch, struct xc_mmu *mmu, unsigned long long ptr, unsigned long long val);
struct xc_mmu *xc_alloc_mmu_updates(xc_interface *xch, unsigned int subject);
int xc_domain_pin_memory_cacheattr(xc_interface *xch, uint32_t domid, uint64_t start, uint64_t end, uint32_t type);
int xc_ffs8(uint8_t x);
int xc_ffs16(uint16_t x);
int xc_ffs32(uint32_t x);
int xc_ffs64(uint64_t x);
int xc_flush_mmu_updates(xc_interface *xch, struct xc_mmu *mmu);
int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr);
int xc_mmuext_op(xc_interface *xch, struct mmuext_op *op, unsigned int nr_ops, uint32_t dom);
void xc_report(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code, const char *fmt, ...);
void xc_report_error(xc_interface *xch, int code, const char *fmt, ...);
void xc_report_progress_single(xc_interface *xch, const char *doing);
void xc_report_progress_step(xc_interface *xch, unsigned long done, unsigned long total);
void xc_reportv(xc_interface *xch, xentoollog_logger *lg, xentoollog_level level, int code, const char *fmt, va_list args);
const char *xc_set_progress_prefix(xc_interface *xch, const char *doing);
int xc_vm_event_control(xc_interface *xch, uint32_t domain_id, unsigned int op, unsigned int mode, uint32_t *port);
void *xc_vm_event_enable(xc_interface *xch, uint32_t domain_id, int param, uint32_t *port);
void *xc_map_foreign_ranges(xc_interface *xch, uint32_t dom, size_t size, int prot, size_t chunksize, void *entries, int nentries);
"""

# The compatibility APIs that libxenctrl still exports (xenctrl_compat.h).
XC_DEFINES = ["XC_WANT_COMPAT_MAP_FOREIGN_API", "XC_WANT_COMPAT_EVTCHN_API",
              "XC_WANT_COMPAT_GNTTAB_API", "XC_WANT_COMPAT_DEVICEMODEL_API"]

LIBS = [
    ("xenctrl", "libxenctrl.so.4.17.0", ["xenctrl.h"], ["xc.c"],
     {"VERS_4.17.0": ["xc_memshr_compare_share", "xc_memshr_enomem_waiters",
                     "xc_memshr_enomem_resume"]}, XC_DEFINES, XC_PRIVATE),
    ("xenforeignmemory", "libxenforeignmemory.so.1", ["xenforeignmemory.h"],
     ["xfm.c"], {}, [], ""),
    ("xenevtchn", "libxenevtchn.so.1", ["xenevtchn.h"], ["xevtchn.c"], {}, [], ""),
    ("xenstore", "libxenstore.so.4", ["xenstore.h"], ["xs.c"], {}, [], ""),
    ("xendevicemodel", "libxendevicemodel.so.1", ["xendevicemodel.h"], ["xdm.c"],
     {}, [], ""),
]


def exported(sofile):
    """[(name, version, kind)] of the defined dynamic symbols."""
    out = subprocess.run(["objdump", "-T", os.path.join(LIBDIR, sofile)],
                         check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        # 000..  g    DF .text  000..  VERS_4.17.0 xc_foo
        m = re.match(r"^[0-9a-f]+ g\s+(\w+)\s+(\S+)\s+[0-9a-f]+\s+(\S+)\s+(\S+)$",
                     line)
        if not m or m.group(2) == "*UND*":
            continue
        kind, _sect, ver, name = m.groups()
        if name == ver:        # the version node's own ABS symbol
            continue
        syms.append((name, ver, kind))
    return sorted(syms)


def preprocess(headers, defines):
    src = "".join("#define %s\n" % d for d in defines)
    src += "#include <stdarg.h>\n"
    src += "".join("#include <%s>\n" % h for h in headers)
    out = subprocess.run(["cc", "-E", "-P", "-D_GNU_SOURCE", "-x", "c", "-"],
                         input=src, check=True, capture_output=True,
                         text=True).stdout
    # strip attributes: __attribute__((...)) with nested parens
    return out


def strip_attributes(s):
    while True:
        i = s.find("__attribute__")
        if i < 0:
            return s
        j = s.index("(", i)
        depth, k = 0, j
        while True:
            if s[k] == "(":
                depth += 1
            elif s[k] == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        s = s[:i] + s[k + 1:]


def top_level_statements(text):
    """Split preprocessed C into top-level statements ending in ';' or '}'."""
    stmts, cur, depth = [], [], 0
    for ch in text:
        cur.append(ch)
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ";" and depth == 0:
            stmts.append("".join(cur))
            cur = []
    return stmts


def split_params(params):
    out, cur, depth = [], [], 0
    for ch in params:
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


TYPE_WORDS = {"int", "char", "short", "long", "unsigned", "signed", "void",
              "const", "volatile", "struct", "union", "enum", "bool",
              "_Bool", "float", "double", "restrict", "__restrict"}


def name_param(p, idx, typedefs):
    """Give parameter p the name p<idx>, replacing the header's name."""
    name = "p%d" % idx
    if p == "..." or p == "void":
        return p
    m = re.search(r"\(\s*\*\s*(\w*)\s*\)", p)  # function pointer
    if m:
        return p[:m.start()] + "(*" + name + ")" + p[m.end():]
    arr = ""
    m = re.search(r"(\[[^\]]*\])+\s*$", p)
    if m:
        arr = m.group(0)
        p = p[:m.start()].rstrip()
    toks = re.findall(r"\w+|\*|\S", p)
    last = toks[-1]
    # A trailing identifier is the parameter's name when something other
    # than qualifiers comes before it and it is not itself a type keyword
    # ("const uint32_t" and "unsigned int" have no name; "uint16_t spi",
    # "char *buf" have one).
    typeish = [t for t in toks[:-1] if t not in ("const", "volatile", "restrict",
                                                 "__restrict")]
    if (re.match(r"^\w+$", last) and last not in TYPE_WORDS and typeish and
            typeish[-1] not in ("struct", "union", "enum")):
        p = p[:p.rfind(last)].rstrip()
    return p + " " + name + arr


def prototypes(text):
    text = strip_attributes(text)
    typedefs = set(re.findall(r"typedef[^;{]*?(\w+)\s*;", text))
    typedefs |= set(re.findall(r"}\s*(\w+)\s*;", text))
    typedefs |= {"size_t", "ssize_t", "off_t", "pid_t", "uint8_t", "uint16_t",
                 "uint32_t", "uint64_t", "int8_t", "int16_t", "int32_t",
                 "int64_t", "va_list", "FILE", "uintptr_t"}
    protos = {}
    for st in top_level_statements(text):
        st = " ".join(st.split())
        if "{" in st or st.startswith("typedef"):
            continue
        m = re.match(r"^(extern\s+)?(.*?)\b(\w+)\s*\((.*)\)\s*;$", st)
        if not m:
            continue
        ret, name, params = m.group(2).strip(), m.group(3), m.group(4)
        if "(" in ret:          # function pointer variable, not a function
            continue
        protos[name] = (ret, params, typedefs)
    return protos


def fail_value(ret):
    r = ret.replace("const", "").replace("static", "").replace("inline", "").strip()
    if "*" in r:
        return "NULL"
    if r == "void":
        return None
    if r in ("bool", "_Bool"):
        return "false"
    return "(%s)-1" % r


def defined_by_hand(sources):
    names = set()
    for src in sources:
        path = os.path.join(HERE, src)
        if not os.path.exists(path):
            continue
        for line in open(path):
            if line.startswith((" ", "\t", "#", "/", "*", "}", "{")) or \
                    line.rstrip().endswith(";"):
                continue
            m = re.search(r"\b(\w+)\s*\(", line)
            if m:
                names.add(m.group(1))
    return names


def generate(lib):
    name, so, headers, sources, extra, defines, private = lib
    syms = exported(so)
    text = preprocess(headers, defines) + private
    protos = prototypes(text)
    hand = defined_by_hand(sources)

    # version script
    nodes = {}
    for sym, ver, _kind in syms:
        nodes.setdefault(ver, []).append(sym)
    for ver, more in extra.items():
        nodes.setdefault(ver, []).extend(more)
    order = sorted(nodes, key=lambda v: [int(x) for x in re.findall(r"\d+", v)])
    mp = ["/* Generated by gen-stubs.py from Debian's %s: do not edit. */" % so]
    prev = None
    for ver in order:
        mp.append("%s {" % ver)
        mp.append("\tglobal:")
        for sym in sorted(set(nodes[ver])):
            mp.append("\t\t%s;" % sym)
        if prev is None:
            mp.append("\tlocal: *;")
        mp.append("}%s;" % ((" " + prev) if prev else ""))
        prev = ver
    mapfile = "\n".join(mp) + "\n"

    # stubs
    c = ["/* SPDX-License-Identifier: GPL-2.0-only */",
         "/*",
         " * %s-stubs.c - generated by gen-stubs.py from Debian's %s" % (name, so),
         " * and <%s>: do not edit, rerun the generator." % ">, <".join(headers),
         " *",
         " * Every exported function of the real library that xensim does not",
         " * simulate: it fails with errno = ENOSYS and the failure value of its",
         " * return type, so a program built against Debian's library runs and",
         " * sees an unsupported hypercall instead of crashing.",
         " */",
         "#include <errno.h>",
         "#include <stdbool.h>",
         "#include <stdarg.h>",
         "#include <stddef.h>",
         ""]
    c += ["#define %s" % d for d in defines]
    c += ["#include <%s>" % h for h in headers]
    c += ['#include "simstub.h"', ""]
    if private:
        c += ["/* Exported by Debian's library, declared only in Xen's private headers. */"]
        c += [l for l in private.strip().splitlines()]
        c += [""]
    missing = []
    count = 0
    for sym, _ver, kind in syms:
        if kind != "DF" or sym in hand:
            continue
        if sym not in protos:
            missing.append(sym)
            continue
        ret, params, typedefs = protos[sym]
        plist = split_params(params)
        if plist in ([], ["void"]):
            named = "void"
        else:
            named = ", ".join(name_param(p, i, typedefs) for i, p in enumerate(plist))
        fv = fail_value(ret)
        sep = "" if ret.endswith("*") else " "
        c.append("%s%s%s(%s)" % (ret, sep, sym, named))
        c.append("{")
        # Every parameter is consumed: the build keeps -Wunused-parameter.
        unused = ["(void)p%d;" % i for i, p in enumerate(plist) if p not in ("...", "void")]
        if unused:
            c.append("\t" + " ".join(unused))
        c.append('\tsim_stub_enosys("%s");' % sym)
        if fv is not None:
            c.append("\treturn %s;" % fv)
        c.append("}")
        c.append("")
        count += 1
    if missing:
        # Guessing a return type could hand a caller (-1) as a pointer:
        # declare the function in the private prototype list instead.
        raise SystemExit("gen-stubs: no prototype for %s in %s: add it" %
                         (" ".join(missing), so))
    return mapfile, "\n".join(c).rstrip() + "\n", count, missing


def main():
    check = "--check" in sys.argv[1:]
    bad = 0
    for lib in LIBS:
        mapfile, stubs, n, missing = generate(lib)
        for fname, content in (("%s.map" % lib[0], mapfile),
                               ("%s-stubs.c" % lib[0], stubs)):
            path = os.path.join(HERE, fname)
            if check:
                old = open(path).read() if os.path.exists(path) else ""
                if old != content:
                    print("gen-stubs: %s is out of date" % fname, file=sys.stderr)
                    bad = 1
            else:
                with open(path, "w") as f:
                    f.write(content)
        print("%s: %d stubs%s" % (lib[0], n, (", no prototype: " +
                                           " ".join(missing)) if missing else ""))
    return bad


if __name__ == "__main__":
    sys.exit(main())
