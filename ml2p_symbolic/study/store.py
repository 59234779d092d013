"""A study's results file: one row per finished task, appended as tasks finish, readable
at any moment, and never left half-written.

The format follows the name:

``*.csv``
    A header (the columns of :data:`~ml2p_symbolic.study.tasks.COLUMNS`), then one line per
    finished task.  Each line is written whole with one ``write``, flushed and fsynced, so
    after any interruption the file holds complete rows; should a hard kill (``kill -9``,
    a power cut) cut the last line short, opening the file to resume drops that line.
``*.parquet`` (needs pyarrow)
    A directory of Parquet files, the layout pyarrow and dask read as one dataset: one file
    per finished task, each written under a hidden temporary name and then renamed; when the
    run stops (at the end, on Ctrl-C or on an error) the files are merged into one.

:func:`default_results_path` chooses ``NAME.results.parquet`` when pyarrow is importable
and ``NAME.results.csv`` otherwise (or whichever of the two already exists).
:func:`read_results` returns the rows with the latest row of each task id (a task that
failed and was run again on resume has two).
"""

from __future__ import annotations

import csv
import glob
import importlib
import io
import math
import os
import time
import uuid

from ..errors import ResultsError
from .tasks import COLUMNS

__all__ = ["ResultsWriter", "read_results", "default_results_path", "parquet_available", "results_format"]


def parquet_available():
    """True when pyarrow (for Parquet results) can be imported."""
    try:
        importlib.import_module("pyarrow.parquet")
    except ImportError:
        return False
    return True


def default_results_path(name, directory="."):
    """``DIRECTORY/NAME.results.parquet`` (pyarrow importable) or ``.csv``; an existing
    one of the two is preferred, so that ``--resume`` finds it."""
    stem = f"{name}.results" if directory in (".", "") else os.path.join(directory, f"{name}.results")
    for ext in (".parquet", ".csv"):
        if os.path.exists(stem + ext) and (ext == ".csv" or parquet_available()):
            return stem + ext
    return stem + (".parquet" if parquet_available() else ".csv")


def results_format(path):
    """``"csv"`` or ``"parquet"`` from the name; :class:`ResultsError` for another suffix,
    or for Parquet without pyarrow (the message says to install it or to use .csv)."""
    ext = os.path.splitext(str(path).rstrip("/"))[1].lower()
    if ext == ".csv":
        return "csv"
    if ext == ".parquet":
        if not parquet_available():
            raise ResultsError(f"{path}: Parquet results need pyarrow (pip install "
                               "'ml2p-symbolic[parquet]'); name the file .csv to write CSV")
        return "parquet"
    raise ResultsError(f"{path}: a results file must be named *.csv or *.parquet")


# --------------------------------------------------------------------------- values
def _to_text(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _from_text(text, kind, where):
    if kind is str:
        return text
    if text == "":
        return None
    try:
        if kind is bool:
            if text not in ("True", "False"):
                raise ValueError(text)
            return text == "True"
        return kind(text)
    except ValueError:
        raise ResultsError(f"{where}: {text!r} is not a valid {kind.__name__}") from None


def _arrow_schema():
    import pyarrow as pa

    types = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS.items()])


# --------------------------------------------------------------------------- writing
class ResultsWriter:
    """Appends rows to a results file (a context manager; :meth:`close` when done).

    ``resume=False`` refuses an existing file (:class:`ResultsError`: the run would mix two
    studies' rows); ``resume=True`` continues it, after dropping a cut-short last CSV line.
    """

    def __init__(self, path, *, resume=False):
        self.path = str(path)
        self.format = results_format(self.path)
        exists = os.path.exists(self.path)
        if exists and not resume:
            raise ResultsError(f"{self.path}: the results file exists; pass --resume to continue "
                               "that study, or choose another results path")
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise ResultsError(f"{self.path}: the folder {parent} does not exist")
        if self.format == "csv":
            self._open_csv(exists)
        else:
            os.makedirs(self.path, exist_ok=True)
            self._schema = _arrow_schema()
            self._parts = 0

    def _open_csv(self, exists):
        header = ",".join(COLUMNS) + "\n"
        if exists:
            with open(self.path, "rb") as fh:
                data = fh.read()
            first = data.split(b"\n", 1)[0].decode("utf-8", "replace") + "\n"
            if data and first != header:
                raise ResultsError(f"{self.path}:1: not a results file of this version (its "
                                   f"header is not: {header.strip()})")
            if data and not data.endswith(b"\n"):  # a line cut short by a hard kill
                keep = data.rfind(b"\n") + 1
                with open(self.path, "r+b") as fh:
                    fh.truncate(keep)
        self._fh = open(self.path, "a", newline="", encoding="utf-8")
        if not exists or os.path.getsize(self.path) == 0:
            self._write(header)

    def _write(self, text):
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def append(self, row):
        """Write one row (a dict with the keys of ``COLUMNS``) durably."""
        if self.format == "csv":
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow([_to_text(row.get(k)) for k in COLUMNS])
            self._write(buf.getvalue())
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            values = {k: [_arrow_value(row.get(k), COLUMNS[k])] for k in COLUMNS}
            table = pa.table(values, schema=self._schema)
            name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
            tmp = os.path.join(self.path, "." + name + ".tmp")
            pq.write_table(table, tmp)
            os.replace(tmp, os.path.join(self.path, name))
            self._parts += 1

    def close(self):
        """Close the file; for Parquet merge the run's part files into one."""
        if self.format == "csv":
            if not self._fh.closed:
                self._fh.close()
            return
        _compact(self.path, self._schema)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _arrow_value(value, kind):
    if value is None:
        return None
    return kind(value)


def _compact(path, schema):
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted(glob.glob(os.path.join(path, "part-*.parquet")))
    if len(parts) < 2:
        return
    table = pa.concat_tables([pq.read_table(p, schema=schema) for p in parts])
    name = f"part-{time.time_ns():020d}-merged.parquet"
    tmp = os.path.join(path, "." + name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, os.path.join(path, name))
    for p in parts:  # a reader seeing both the parts and the merge keeps one row per task
        os.remove(p)


# --------------------------------------------------------------------------- reading
def _read_all(path):
    fmt = results_format(path)
    if not os.path.exists(path):
        raise ResultsError(f"{path}: no such results file")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = sorted(glob.glob(os.path.join(path, "part-*.parquet")))
        if not parts:
            return []
        schema = _arrow_schema()
        try:
            table = pa.concat_tables([pq.read_table(p, schema=schema) for p in parts])
        except (pa.ArrowException, OSError) as exc:
            raise ResultsError(f"{path}: not a results dataset of this version: {exc}") from None
        return table.to_pylist()
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{path}: not a results file (not UTF-8 text: byte {exc.start})") from None
    text = text[: text.rfind("\n") + 1]  # a last line cut short by a hard kill is not a row
    rows = []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != list(COLUMNS):
        raise ResultsError(f"{path}:1: not a results file of this version (expected the header "
                           f"{','.join(COLUMNS)})")
    for lineno, cells in enumerate(reader, start=2):
        if len(cells) != len(COLUMNS):
            raise ResultsError(f"{path}:{lineno}: {len(cells)} cells; expected {len(COLUMNS)}")
        rows.append({k: _from_text(v, COLUMNS[k], f"{path}:{lineno}: column {k}")
                     for k, v in zip(COLUMNS, cells)})
    return rows


def read_results(path):
    """The rows of a results file (CSV or Parquet), one per task id: its latest row (by
    ``finished_at``).  Raises :class:`ResultsError` for a missing or foreign file."""
    rows = _read_all(path)
    rows.sort(key=lambda r: -math.inf if r.get("finished_at") is None else r["finished_at"])
    latest = {}
    for r in rows:
        latest.pop(r["task_id"], None)
        latest[r["task_id"]] = r
    return list(latest.values())
