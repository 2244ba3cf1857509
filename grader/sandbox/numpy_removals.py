"""NumPy APIs that newer NumPy removed, recognised in the errors student code raises in the worker.

Hand-ins written for NumPy 1.x fail under NumPy 2 on `np.Inf`, `np.float`, `np.product`,
`int()` of a one-element array and the like. The worker only reports the exception's type
and message; this module reads them and says, for `Diagnosis.NUMPY_VERSION`, which API the
code used, which NumPy release removed it, and what to write instead. NumPy's own removal
messages (``"`np.Inf` was removed in the NumPy 2.0 release. Use `np.inf` instead."``) carry
their advice; the removals NumPy reports only as a missing attribute are listed here. An
attribute that NumPy never had (a typo such as `np.sofmax`) is the student's own mistake and
is not recognised.
"""

from __future__ import annotations

import re

_NUMPY_MESSAGE = re.compile(r"`np\.(\w+)` was removed in the NumPy (\d+(?:\.\d+)*) release\.\s*(.*)", re.S)
_MODULE_ATTRIBUTE = re.compile(r"module 'numpy' has no attribute '(\w+)'")
_IMPORTED = re.compile(r"cannot import name '(\w+)' from 'numpy'")
_ARRAY_ATTRIBUTE = re.compile(r"'numpy\.ndarray' object has no attribute '(\w+)'")
_SCALAR_CONVERSION = "only 0-dimensional arrays can be converted to Python scalars"
OLDER = "the course's NumPy was older"

# Removals NumPy reports only as "module 'numpy' has no attribute": name -> (when, what to write instead).
MODULE_REMOVALS: dict[str, tuple[str, str]] = {
    **{
        name: ("removed in NumPy 1.24", instead)
        for name, instead in {
            "float": "`float` (or `np.float64`)",
            "int": "`int` (or `np.int64`)",
            "complex": "`complex` (or `np.complex128`)",
            "object": "`object`",
            "str": "`str`",
            "unicode": "`str`",
        }.items()
    },
    "NAN": ("removed in NumPy 2.0", "`np.nan`"),
    "product": ("removed in NumPy 2.0", "`np.prod`"),
    "cumproduct": ("removed in NumPy 2.0", "`np.cumprod`"),
    "msort": ("removed in NumPy 2.0", "`np.sort(a, axis=0)`"),
    "math": ("removed in NumPy 2.0", "the standard library's `math` (`import math`)"),
    "int0": ("removed in NumPy 2.0", "`np.intp`"),
    "uint0": ("removed in NumPy 2.0", "`np.uintp`"),
    "bool8": ("removed in NumPy 2.0", "`np.bool_`"),
    "object0": ("removed in NumPy 2.0", "`np.object_`"),
    "str0": ("removed in NumPy 2.0", "`np.str_`"),
    "bytes0": ("removed in NumPy 2.0", "`np.bytes_`"),
    "void0": ("removed in NumPy 2.0", "`np.void`"),
    "in1d": ("deprecated in NumPy 2.0 and since removed", "`np.isin`"),
    "trapz": ("deprecated in NumPy 2.0 and since removed", "`np.trapezoid`"),
    "disp": ("deprecated in NumPy 2.0 and since removed", "`print`"),
    "asscalar": ("removed in NumPy 1.23", "`a.item()`"),
    "rank": ("removed in NumPy 1.18", "`np.ndim`"),
}

# What NumPy 2.0 removed with a message of its own (read from NumPy's message when the attribute is
# read), for `from numpy import Inf`, which Python reports without NumPy's message: the common ones.
EXPIRED_2_0: dict[str, str] = {
    **dict.fromkeys(("Inf", "Infinity", "infty", "PINF"), "`np.inf`"),
    "NINF": "`-np.inf`",
    "NaN": "`np.nan`",
    "PZERO": "`0.0`",
    "NZERO": "`-0.0`",
    "float_": "`np.float64`",
    "complex_": "`np.complex128`",
    "cfloat": "`np.complex128`",
    "string_": "`np.bytes_`",
    "unicode_": "`np.str_`",
    "longfloat": "`np.longdouble`",
    "alltrue": "`np.all`",
    "sometrue": "`np.any`",
    "asfarray": "`np.asarray` with a float dtype",
    "cast": "`np.asarray(a, dtype=dtype)`",
    "round_": "`np.round`",
    "mat": "`np.asmatrix`",
    "find_common_type": "`np.result_type`",
    "safe_eval": "`ast.literal_eval`",
}

# Array methods removed: name -> (when, what to write instead).
ARRAY_REMOVALS: dict[str, tuple[str, str]] = {
    "ptp": ("removed in NumPy 2.0", "`np.ptp(a)`"),
    "itemset": ("removed in NumPy 2.0", "`a[index] = value`"),
    "newbyteorder": ("removed in NumPy 2.0", "`a.view(a.dtype.newbyteorder())`"),
    "tostring": ("deprecated in NumPy 1.19 and since removed", "`a.tobytes()`"),
}


def numpy_removal(type_name: str, message: str) -> str | None:
    """What a failure says when it comes from an API the worker's NumPy no longer has, else None."""
    if type_name == "AttributeError":
        found = _NUMPY_MESSAGE.search(message)
        if found:
            name, release, advice = found.groups()
            advice = advice.strip().split("\n")[0]
            return f"this code uses `np.{name}`, removed in NumPy {release}; {OLDER}. {advice}".strip()
        found = _MODULE_ATTRIBUTE.search(message)
        if found and found.group(1) in MODULE_REMOVALS:
            when, instead = MODULE_REMOVALS[found.group(1)]
            return f"this code uses `np.{found.group(1)}`, {when}; {OLDER}. Use {instead} instead."
        found = _ARRAY_ATTRIBUTE.search(message)
        if found and found.group(1) in ARRAY_REMOVALS:
            when, instead = ARRAY_REMOVALS[found.group(1)]
            return f"this code calls the array method `.{found.group(1)}()`, {when}; {OLDER}. Use {instead} instead."
    if type_name == "ImportError":
        found = _IMPORTED.search(message)
        name = found.group(1) if found else ""
        when, instead = MODULE_REMOVALS.get(name) or ("removed in NumPy 2.0", EXPIRED_2_0.get(name, ""))
        if instead:
            return f"this code imports `{name}` from numpy (`np.{name}`), {when}; {OLDER}. Use {instead} instead."
    if type_name == "TypeError" and _SCALAR_CONVERSION in message:
        return (
            "this code converts an array that is not 0-dimensional to a number (`int(a)`, `float(a)`): NumPy 1.x "
            f"accepted an array of one element there, NumPy 1.25 deprecated it and this NumPy refuses it; {OLDER}. "
            "Take the element with `a.item()` (if the array holds more than one element, the code is wrong "
            "under any NumPy)."
        )
    return None
