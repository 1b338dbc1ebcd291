"""The exceptions xpnet raises at its boundary.

Each is also the built-in exception a caller would expect (ValueError for bad
values, TypeError for bad types), so ``except ValueError`` keeps working.
Messages say what was wrong and how to fix it.
"""


class XpnetError(Exception):
    """Base class of every error xpnet raises on purpose."""


class ShapeError(XpnetError, ValueError):
    """An array has the wrong shape or orientation (X must be (n_x, m))."""


class DataError(XpnetError, ValueError):
    """Array values are unusable: NaN or inf, labels outside the output's label set."""


class ConfigError(XpnetError, ValueError):
    """A setting is unknown or out of range: activation, initializer, backend, dtype."""


class BackendError(XpnetError, TypeError):
    """Arrays come from different array libraries or devices, or a backend is missing."""


class NotFittedError(XpnetError, ValueError):
    """The model needs ``fit`` (or its input size) before this call."""


class DataFileError(XpnetError, OSError):
    """A data or model file is missing, unreadable, or not what it should be."""


class DivergenceError(XpnetError, FloatingPointError):
    """Training produced a non-finite cost. ``iteration`` says where; the model kept
    the parameters of the last record whose cost was finite."""

    def __init__(self, message: str, *, iteration: int, state=None):
        super().__init__(message)
        self.iteration = iteration
        self.state = state
