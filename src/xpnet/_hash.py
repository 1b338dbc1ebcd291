"""The 31-bit integer hash behind the dropout masks computed from counters, defined once.

A well-mixing 32-bit hash (xor-shift, multiply, twice), its multiplier kept to
31 bits: every product stays below 2**58, exact in int64 on every backend,
with no reliance on how a library wraps an overflow. :data:`ROUNDS` is the
definition; :func:`mix` runs it in Python (on ints, or elementwise on int64
arrays of any backend) and :func:`mix_cpp` writes it as C++ for the fused
CuPy kernel (xpnet._fused), so both routes hash the same way.
"""

from __future__ import annotations

#: 2**31 − 1: the hash's values lie in [0, 2**31).
MASK31 = (1 << 31) - 1
MULTIPLIER = 0x45D9F3B

#: The hash, in order: ("xorshift", k) is x ^= x >> k; ("multiply", c) is x = (x·c) & MASK31.
ROUNDS = (("xorshift", 16), ("multiply", MULTIPLIER), ("xorshift", 15),
          ("multiply", MULTIPLIER), ("xorshift", 16))


def mix(x):
    """A 31-bit integer hash of x in [0, 2**31): a Python int, or elementwise on an int64 array."""
    for kind, k in ROUNDS:
        x = x ^ (x >> k) if kind == "xorshift" else (x * k) & MASK31
    return x


def mix_cpp(var: str) -> str:
    """The statements that hash the C++ ``long long`` variable ``var`` in place, as :func:`mix`."""
    return " ".join(f"{var} = {var} ^ ({var} >> {k});" if kind == "xorshift"
                    else f"{var} = ({var} * {k:#X}LL) & {MASK31:#X}LL;" for kind, k in ROUNDS)
