"""Stand-in for `past.builtins` in the grading worker: the Python 2 names the starter's other edition uses.

Placed by `[sandbox] provide` after `past`, before the student's code runs; standard library only.
"""

import builtins as _builtins
import functools as _functools
import sys as _sys

xrange = _builtins.range
basestring = str
unicode = str
long = int
unichr = chr
reduce = _functools.reduce
raw_input = _builtins.input


def range(*args):
    """Python 2's range: a list."""
    return list(_builtins.range(*args))


_sys.modules["past"].builtins = _sys.modules[__name__]
