"""The exceptions of ml2p-symbolic.

Every error the library raises on bad input is a :class:`ValueError` subclass whose
message says what was wrong and what was expected, so callers can catch the plain
``ValueError`` as well.
"""

__all__ = [
    "ML2PError",
    "UnknownClaimError",
    "ShapeError",
    "DomainError",
    "ArgumentError",
    "IdentityInputError",
    "QMatrixError",
    "LatexCompileError",
    "RichTextError",
    "DataFileError",
    "ResourceError",
    "SpecError",
    "MissingExtraError",
    "ResultsError",
    "ClusterError",
    "LatexInputError",
    "NotCheckableError",
    "InputFileError",
]


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


class IdentityInputError(ML2PError):
    """Input to :func:`ml2p_symbolic.engine.identity.check_identity` that is not a SymPy
    expression (a string, an equation, a matrix) or assumptions that are not conditions."""


class QMatrixError(ML2PError):
    """A malformed Q-matrix: empty, ragged rows, entries other than 0/1, or too many traits."""


class LatexCompileError(ML2PError):
    """pdflatex failed, hung past its time limit, or produced no PDF; the message says which
    and quotes the log's error lines."""


class RichTextError(ML2PError):
    """A rich-text field (prose with inline ``$...$`` math) that is malformed: an unclosed
    ``$``, an empty ``$$``, or unbalanced braces in the math; the message names the field."""


class DataFileError(ML2PError):
    """A data file that cannot be read as the CSV expected: not UTF-8 text (binary, UTF-16),
    another delimiter than the comma, ragged rows, cells other than 0/1/empty, no rows.
    The message starts with ``FILE:LINE:COL`` (or ``FILE:LINE``, ``FILE``)."""


class ResourceError(ML2PError):
    """Work refused before it starts because its estimated memory exceeds what is
    available; the message gives the estimate, the limit, and what to reduce."""


class SpecError(ML2PError):
    """A study specification (TOML) that cannot be run: a syntax error, an unknown key, an
    empty grid, a size or option out of range.  The message starts with FILE:LINE:COL
    (or FILE when the place is unknown) and names the key."""


class MissingExtraError(ML2PError):
    """An optional dependency that a command needs is not installed; the message names the
    extra to install (e.g. ``pip install 'ml2p-symbolic[study]'``)."""


class ResultsError(ML2PError):
    """A study results file that cannot be used: it exists and ``resume`` was not asked for,
    or it is not a results file of this format."""


class ClusterError(ML2PError):
    """The Dask scheduler given to a study cannot be reached or used."""


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


class NotCheckableError(ML2PError):
    """A step the checker cannot decide soundly as written (a bar that puts a variable outside
    its declared domain, a derivative taken where it does not exist, an expectation that is
    not shown to exist): the step is ``open`` with this message."""


class InputFileError(ML2PError):
    """An input file that is not read: missing, not a regular file (a FIFO, a device such as
    ``/dev/zero``, a directory) or above its size limit (see :mod:`ml2p_symbolic.input_files`)."""
