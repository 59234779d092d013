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
from ..input_files import MAX_DATA_BYTES, check_input_file, read_input_bytes
from .tasks import COLUMNS

__all__ = ["ResultsWriter", "read_results", "default_results_path", "parquet_available", "results_format",
           "check_results_path", "check_same_study"]

#: The columns of results files written before rows recorded their spec's digest: still
#: read (``spec_digest`` is then None), never resumed.
_COLUMNS_WITHOUT_DIGEST = [c for c in COLUMNS if c != "spec_digest"]


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
def check_results_path(path, *, resume=False):
    """Raise :class:`ResultsError` now, creating nothing, if ``path`` cannot be a results
    file to write: another suffix than .csv/.parquet (or Parquet without pyarrow), a missing
    folder, an existing file without ``resume``, or an existing path of the wrong kind (a
    FIFO, a device or a directory for CSV; a file for Parquet, which is a directory)."""
    path = str(path)
    fmt = results_format(path)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ResultsError(f"{path}: the folder {parent} does not exist")
    if not os.path.lexists(path):
        return
    if not resume:
        raise ResultsError(f"{path}: the results file exists; pass --resume to continue "
                           "that study, or choose another results path")
    if fmt == "csv":
        check_input_file(path, "results", error=ResultsError)
    elif not os.path.isdir(path):
        raise ResultsError(f"{path}: not a Parquet results dataset (a directory of part files)")


def check_same_study(rows, spec, path):
    """Raise :class:`ResultsError` unless every row of ``rows`` (read from the results file
    ``path``) was written by ``spec``: the same study name and the same spec digest. Resuming
    with another study's spec, or with a changed spec, would mix rows of two studies."""
    for r in rows:
        if r.get("study") != spec.name:
            raise ResultsError(f"{path}: the results file is of the study {r.get('study')!r}, not "
                               f"{spec.name!r}; give this study its own results file (--results PATH)")
        if r.get("spec_digest") != spec.digest:
            if not r.get("spec_digest"):
                raise ResultsError(f"{path}: the results file does not record its spec (written by an "
                                   "older version); it cannot be resumed, start a new results file")
            raise ResultsError(f"{path}: the results file was written with another version of the "
                               f"spec of {spec.name!r} (spec digest {r['spec_digest'][:12]}, now "
                               f"{spec.digest[:12]}); restore that spec, or give the changed study "
                               "a new results file (--results PATH)")


class ResultsWriter:
    """Appends rows to a results file (a context manager; :meth:`close` when done).

    ``resume=False`` refuses an existing file (:class:`ResultsError`: the run would mix two
    studies' rows); ``resume=True`` continues it, after dropping a cut-short last CSV line.
    Every check (:func:`check_results_path`) is made before anything is created.
    :attr:`created` tells whether the writer created the file, :attr:`rows` how many rows it
    appended; :meth:`discard` removes a file it created and wrote no row to.
    """

    def __init__(self, path, *, resume=False):
        self.path = str(path)
        self.format = results_format(self.path)
        check_results_path(self.path, resume=resume)
        exists = os.path.lexists(self.path)
        self.created = not exists
        self.rows = 0
        if self.format == "csv":
            self._open_csv(exists)
        else:
            os.makedirs(self.path, exist_ok=True)
            self._schema = _arrow_schema()
            self._parts = 0

    def _open_csv(self, exists):
        header = ",".join(COLUMNS) + "\n"
        if exists:
            data = read_input_bytes(self.path, "results", error=ResultsError)
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
        self.rows += 1

    def close(self):
        """Close the file; for Parquet merge the run's part files into one."""
        if self.format == "csv":
            if not self._fh.closed:
                self._fh.close()
            return
        _compact(self.path, self._schema)

    def discard(self):
        """Remove the results file (or Parquet folder) if this writer created it and wrote no
        row: a run refused or stopped before its first result leaves nothing behind, so the
        same command can be given again. Call after :meth:`close`."""
        if not self.created or self.rows:
            return
        if self.format == "csv":
            if os.path.isfile(self.path):
                os.remove(self.path)
            return
        if os.path.isdir(self.path):
            for name in os.listdir(self.path):  # only our hidden temporaries can be there
                os.remove(os.path.join(self.path, name))
            os.rmdir(self.path)

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
def _read_parquet(path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not os.path.isdir(path):
        raise ResultsError(f"{path}: not a Parquet results dataset (a directory of part files)")
    parts = sorted(glob.glob(os.path.join(path, "part-*.parquet")))
    if not parts:
        return []
    total = 0
    for p in parts:
        check_input_file(p, "results part", error=ResultsError)
        total += os.path.getsize(p)
    if total > MAX_DATA_BYTES:
        raise ResultsError(f"{path}: the results dataset has {total:,} bytes, above the limit of "
                           f"{MAX_DATA_BYTES:,}")
    schema = _arrow_schema()
    tables = []
    try:
        for p in parts:
            if "spec_digest" not in pq.read_schema(p).names:  # written before rows recorded their spec
                t = pq.read_table(p, schema=pa.schema([f for f in schema if f.name != "spec_digest"]))
                t = t.add_column(list(COLUMNS).index("spec_digest"), schema.field("spec_digest"),
                                 pa.nulls(len(t), pa.string()))
            else:
                t = pq.read_table(p, schema=schema)
            tables.append(t)
        table = pa.concat_tables(tables)
    except (pa.ArrowException, OSError) as exc:
        raise ResultsError(f"{path}: not a results dataset of this version: {exc}") from None
    return table.to_pylist()


def _read_all(path):
    fmt = results_format(path)
    if not os.path.lexists(path):
        raise ResultsError(f"{path}: no such results file")
    if fmt == "parquet":
        return _read_parquet(path)
    raw = read_input_bytes(path, "results", error=ResultsError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{path}: not a results file (not UTF-8 text: byte {exc.start})") from None
    text = text[: text.rfind("\n") + 1]  # a last line cut short by a hard kill is not a row
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns = list(COLUMNS) if header != _COLUMNS_WITHOUT_DIGEST else _COLUMNS_WITHOUT_DIGEST
    if header != columns:
        raise ResultsError(f"{path}:1: not a results file of this version (expected the header "
                           f"{','.join(COLUMNS)})")
    for lineno, cells in enumerate(reader, start=2):
        if len(cells) != len(columns):
            raise ResultsError(f"{path}:{lineno}: {len(cells)} cells; expected {len(columns)}")
        row = dict.fromkeys(COLUMNS)
        row.update({k: _from_text(v, COLUMNS[k], f"{path}:{lineno}: column {k}") for k, v in zip(columns, cells)})
        rows.append(row)
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
