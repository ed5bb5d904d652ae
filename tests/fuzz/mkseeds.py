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
