#!/usr/bin/env python3
# Regenerates the binary seed corpora of tests/fuzz/corpus/ (the text ones
# are plain files written by hand).  Run from anywhere; writes in place.
# Layouts follow the struct fz_in readers of each fuzz_<target>.c.
import os, struct

here = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# ---- fuzz_policy: group_null, 3 x node, config text
DOMIDS = {0: 0, 1: 2, 7: 3, 'any': 7}   # selector index into domids[]
R, W, IGN = 1, 2, 4                   # XS_PERM_READ/WRITE/IGNORE

def node(value, perms=((0, 0),), present=True, null_perms=False):
    b = bytes([(1 if present else 0) | (2 if null_perms else 0), len(perms)])
    for dom, p in perms:
        b += bytes([DOMIDS[dom], p])
    v = value.encode() if isinstance(value, str) else value
    return b + struct.pack('<H', len(v)) + v

RULES = b'domain web* = on group web\ndomain db = zero\n'
put('policy', 'enabled-on-trusted', b'\0' + node('on') + node('tenant-a') + node('vm1') + RULES)
put('policy', 'enabled-zero-nogroup', b'\1' + node('zero') + node('', present=False) + node('vm1'))
put('policy', 'enabled-guest-owned', b'\0' + node('on', ((7, 0),)) + node('g') + node('vm1'))
put('policy', 'enabled-guest-write-entry', b'\0' + node('on', ((0, 0), (7, R | W))) + node('g') + node('x'))
put('policy', 'enabled-ignored-entry', b'\0' + node('on', ((0, R), (7, W | IGN))) + node('g') + node('x'))
put('policy', 'enabled-default-write', b'\0' + node('on', ((0, W),)) + node('g') + node('x'))
put('policy', 'enabled-newline', b'\0' + node('on\n') + node('g') + node('x'))
put('policy', 'group-bad-chars', b'\0' + node('on') + node('a/b c') + node('x'))
put('policy', 'group-too-long', b'\0' + node('on') + node('g' * 80) + node('x'))
put('policy', 'group-untrusted', b'\0' + node('on') + node('g', ((1, 0),)) + node('x'))
put('policy', 'rule-by-name', b'\0' + node('', present=False) + node('', present=False) + node('web7') + RULES)
put('policy', 'rule-untrusted-name', b'\0' + node('', present=False) + node('', present=False) + node('web7', ((7, 0),)) + RULES)
put('policy', 'rule-name-nul', b'\0' + node('', present=False) + node('', present=False) + node(b'web\0x') + RULES)
put('policy', 'no-perms', b'\0' + node('on', (), null_perms=True) + node('g') + node('x'))

# ---- fuzz_image (file contents) and fuzz_guest (one byte, then contents)
import subprocess

PG = 4096
NAMES = b'\0.shstrtab\0.xen_pages\0.xen_pfn\0.xen_p2m\0'

def dumpcore(pfns, p2m=False, fill=lambda i: bytes([0x41 + i]) * PG):
    """An ELF64 ET_CORE laid out as tools/libs/guest/xg_core.c writes it."""
    nr = len(pfns)
    names_off, shoff, pages_off = 64, 256, PG
    map_off = pages_off + nr * PG
    ent = 16 if p2m else 8
    eh = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
    eh += struct.pack('<HHIQQQIHHHHHH', 4, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 4, 1)
    m = bytearray(map_off + nr * ent)
    m[0:64] = eh
    m[names_off:names_off + len(NAMES)] = NAMES
    def sh(name, typ, off, size):
        return struct.pack('<IIQQQQIIQQ', name, typ, 0, 0, off, size, 0, 0, 1, 0)
    shdrs = sh(0, 0, 0, 0) + sh(1, 3, names_off, len(NAMES)) + \
        sh(11, 1, pages_off, nr * PG) + sh(31 if p2m else 22, 1, map_off, nr * ent)
    m[shoff:shoff + len(shdrs)] = shdrs
    for i in range(nr):
        m[pages_off + i * PG:pages_off + (i + 1) * PG] = fill(i)
        e = struct.pack('<Q', pfns[i]) + (struct.pack('<Q', 0x1000 + i) if p2m else b'')
        m[map_off + i * ent:map_off + (i + 1) * ent] = e
    return bytes(m)

def zst(b):
    return subprocess.run(['zstd', '-q', '-c', '-3'], input=b, stdout=subprocess.PIPE, check=True).stdout

INV = (1 << 64) - 1
images = {
    'raw-1page': b'\x5a' * PG,
    'raw-2pages-zero': bytes(2 * PG),
    'raw-truncated': b'\x01' * (PG - 1),
    'raw-empty': b'',
    'core-hvm': dumpcore([0, 5, INV]),
    'core-pv-p2m': dumpcore([3, 1], p2m=True),
    'core-truncated': dumpcore([0, 1])[:PG + 100],
    'core-bad-shoff': dumpcore([0])[:256],
    'core-no-pfn': dumpcore([0]).replace(b'.xen_pfn', b'.xen_xxx'),
    'core-not-core': dumpcore([0])[:16] + b'\x01' + dumpcore([0])[17:],
    'core-gfn-huge': dumpcore([1 << 40]),
}
images['zst-raw'] = zst(images['raw-1page'])
images['zst-core'] = zst(images['core-hvm'])
images['zst-truncated'] = zst(images['raw-2pages-zero'])[:-3]
for name, b in images.items():
    put('image', name, b)
# fuzz_guest's first byte: bit 0 core loader, bit 1 ".zst" name, bits 2-7 nr_pages - 1
guest = {
    'raw-fits': (0 | (3 << 2), images['raw-1page']),
    'raw-too-big': (0 | (0 << 2), images['raw-2pages-zero']),
    'raw-named-zst': (2 | (3 << 2), images['raw-1page']),
    'raw-is-elf': (0 | (7 << 2), images['core-hvm']),
    'zst-raw': (2 | (3 << 2), images['zst-raw']),
    'zst-truncated': (0 | (3 << 2), images['zst-truncated']),
    'core-hvm': (1 | (7 << 2), images['core-hvm']),
    'core-pv': (1 | (7 << 2), images['core-pv-p2m']),
    'core-gfn-beyond': (1 | (3 << 2), images['core-hvm']),
    'core-truncated': (1 | (7 << 2), images['core-truncated']),
    'core-raw': (1 | (7 << 2), images['raw-1page']),
}
for name, (b0, b) in guest.items():
    put('guest', name, bytes([b0]) + b)
