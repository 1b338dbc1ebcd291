"""Small checks of settings, written once: is it an integer, a real number, a finite one?

Python counts True and False as integers (``isinstance(True, int)``), so a bare
``isinstance(value, int)`` takes ``iterations=True`` as 1; these refuse bools
wherever a number is meant.

- :func:`is_int`, :func:`is_real`, :func:`is_finite`: the type tests, for a
  caller with its own message (a file's metadata, a pair of sizes).
- :func:`check_int`: an integer of at least ``low``, or an error naming the setting.
- :func:`check_finite`: a finite number above (or at least) a bound, as a float,
  or an error naming the setting.
- :func:`check_seed`: a seed NumPy's ``RandomState`` takes, or an error naming it.
- :func:`machine_memory`, :func:`check_memory`: refuse, before allocating, what
  cannot fit in this machine's memory, naming the bytes.

The type tests take Python's own numbers by default, as JSON gives them; with
``numpy=True`` the scalars of NumPy too (``numpy.int64``, ``numpy.float32``):
for arguments a caller may have computed with NumPy.
"""

from __future__ import annotations

import math
import numbers
import os

from .errors import ConfigError


def is_int(value, *, numpy: bool = False) -> bool:
    """Whether ``value`` is an integer and not a bool.

    A Python int; with ``numpy=True`` any :class:`numbers.Integral` (numpy.int64
    and the like) too.
    """
    return isinstance(value, numbers.Integral if numpy else int) and not isinstance(value, bool)


def is_real(value, *, numpy: bool = False) -> bool:
    """Whether ``value`` is a real number and not a bool: an int or a float.

    With ``numpy=True`` any :class:`numbers.Real` (numpy.float32, numpy.int64,
    ...) too. NaN and ±inf are real numbers here; :func:`is_finite` refuses them.
    """
    return isinstance(value, numbers.Real if numpy else (int, float)) and not isinstance(value, bool)


def is_finite(value, *, numpy: bool = False) -> bool:
    """Whether ``value`` is a real number (:func:`is_real`) that is a finite float: not NaN or
    ±inf, and no integer too large for a float (10**400)."""
    if not is_real(value, numpy=numpy):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_int(value, name: str, *, low: int = 1, numpy: bool = False, must: str | None = None,
              error: type[Exception] = ConfigError) -> int:
    """``value`` as an int, if it is an integer (:func:`is_int`) ≥ ``low``.

    Otherwise raises ``error`` (:class:`ConfigError`; scikit-learn's estimators
    raise ValueError): "{name} must be {must}, got {value!r}", ``must`` being
    "an integer ≥ {low}" unless the caller says more.
    """
    if not is_int(value, numpy=numpy) or value < low:
        raise error(f"{name} must be {must or f'an integer ≥ {low}'}, got {value!r}")
    return int(value)


def check_finite(value, name: str, *, above: float | None = None, at_least: float | None = None,
                 error: type[Exception] = ConfigError) -> float:
    """``float(value)``, if that is a finite number > ``above`` (and ≥ ``at_least``).

    Takes what ``float()`` takes (Python and NumPy scalars, 0-d arrays of any
    backend), for hyperparameters a caller may compute in any library; but no
    bool and no text. Otherwise raises ``error``: "{name} must be a finite
    number > {above}, got {value!r}" (or ≥ {at_least}).
    """
    try:
        number = None if isinstance(value, (bool, str, bytes)) else float(value)
    except (TypeError, ValueError, OverflowError):
        number = None
    if (number is None or not math.isfinite(number)
            or (above is not None and not number > above)
            or (at_least is not None and not number >= at_least)):
        bound = (f" > {above:g}" if above is not None else "") + (f" ≥ {at_least:g}" if at_least is not None else "")
        raise error(f"{name} must be a finite number{bound}, got {value!r}")
    return number


#: The seeds NumPy's ``RandomState`` takes are the integers 0 .. SEED_LIMIT - 1.
SEED_LIMIT = 2**32


def check_seed(value, name: str = "seed", *, offset: int = 0, error: type[Exception] = ConfigError) -> int:
    """``value`` as an int, if it is a seed NumPy's ``RandomState`` takes: an integer
    (NumPy's too, no bool) in [0, 2**32 − 1 − ``offset``].

    ``offset`` is for a caller that also draws with ``seed + offset`` (a test set
    drawn with seed + 1000). Otherwise raises ``error``: "{name} must be an
    integer from 0 to {high} ..., got {value!r}".
    """
    high = SEED_LIMIT - 1 - offset
    if not is_int(value, numpy=True) or not 0 <= value <= high:
        also = f"; seed + {offset} seeds another draw" if offset else ""
        raise error(
            f"{name} must be an integer from 0 to {high} (the seeds NumPy's RandomState takes{also}), "
            f"got {value!r}: pass a seed in that range"
        )
    return int(value)


def machine_memory() -> int | None:
    """This machine's physical memory in bytes; None where the platform does not say (no sysconf)."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
        return None
    return memory if memory > 0 else None


def count(n: int) -> str:
    """A (possibly astronomically) large count for a message: 1,234,567, or about 1.2e+300."""
    digits = str(n)
    if len(digits) <= 16:
        return f"{n:,}"
    return f"about {digits[0]}.{digits[1]}e+{len(digits) - 1}"


def check_memory(need: int, what: str, fix: str, *, error: type[Exception] = ConfigError) -> None:
    """Refuse, before allocating, ``need`` bytes more than this machine's memory.

    Raises ``error``: "{what} would need {need} bytes, more than this machine's
    {memory} bytes of memory: {fix}". Where the platform does not say how much
    memory it has, nothing is refused here (the caller's allocation may still
    raise MemoryError, for it to answer).
    """
    memory = machine_memory()
    if memory is not None and need > memory:
        raise error(
            f"{what} would need {count(need)} bytes, more than this machine's {memory:,} bytes of memory: {fix}"
        )
