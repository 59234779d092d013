"""The exceptions of ml2p-symbolic.

Every error the library raises on bad input is a :class:`ValueError` subclass whose
message says what was wrong and what was expected, so callers can catch the plain
``ValueError`` as well.
"""

__all__ = ["ML2PError", "UnknownClaimError", "ShapeError", "DomainError"]


class ML2PError(ValueError):
    """Base class: bad input to an ml2p-symbolic function."""


class UnknownClaimError(ML2PError, KeyError):
    """A claim id that the seed transcription does not contain."""

    def __init__(self, unknown, valid):
        self.unknown = tuple(unknown)
        self.valid = tuple(valid)
        super().__init__(
            f"unknown claim id(s): {', '.join(self.unknown)}; valid ids are: "
            + ", ".join(self.valid)
        )

    def __str__(self):  # KeyError would otherwise repr() the message
        return self.args[0]


class ShapeError(ML2PError):
    """Arrays whose shapes do not fit together."""


class DomainError(ML2PError):
    """A value outside the domain the formula is defined on (NaN, inf, u not in [0, 1], ...)."""


class ArgumentError(ML2PError):
    """Arguments that cannot be given together (or that must be given, one of them)."""


__all__.append("ArgumentError")


class IdentityInputError(ML2PError):
    """Input to :func:`ml2p_symbolic.identity.check_identity` that is not a SymPy
    expression (a string, an equation, a matrix) or assumptions that are not conditions."""


__all__ += ["IdentityInputError"]


class QMatrixError(ML2PError):
    """A malformed Q-matrix: empty, ragged rows, entries other than 0/1, or too many traits."""


__all__ += ["QMatrixError"]


class LatexInputError(ML2PError):
    """A document, directive or formula the LaTeX reader does not understand.

    ``str(error)`` is ``FILE:LINE:COL: error: MESSAGE`` with the 1-based position in the
    source file, so that editors can jump to it.
    """

    def __init__(self, message, file="<string>", line=1, col=1):
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        super().__init__(f"{file}:{line}:{col}: error: {message}")


__all__ += ["LatexInputError"]
