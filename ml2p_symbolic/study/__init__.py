"""Monte Carlo simulation studies of the estimators, on Dask: ``ml2p-proof study``.

A study is a TOML spec (:mod:`.spec`): a grid of conditions, estimators with their
options, replications and a base seed.  Each replication of each estimator on each
condition is one task (:mod:`.tasks`): simulate, seeded so any cell reruns alone; fit;
score.  :mod:`.runner` runs the tasks on a local or remote Dask cluster and appends each
row to a results file as it finishes (:mod:`.store`: Parquet with pyarrow, CSV otherwise),
so an interrupted study resumes where it stopped; :mod:`.summarize` turns the rows into
RMSE/bias/correlation tables (Markdown, LaTeX) and plots.

Only :mod:`.runner` needs dask.distributed, and imports it when a study runs.
"""

from .spec import Estimator, StudySpec, load_spec, parse_spec
from .store import ResultsWriter, default_results_path, read_results
from .summarize import plot_estimates, plot_rmse_vs_n, summarize, summary_latex, summary_markdown
from .tasks import Task, expand_tasks, run_task
from .runner import run_study

__all__ = [
    "StudySpec",
    "Estimator",
    "load_spec",
    "parse_spec",
    "Task",
    "expand_tasks",
    "run_task",
    "run_study",
    "ResultsWriter",
    "read_results",
    "default_results_path",
    "summarize",
    "summary_markdown",
    "summary_latex",
    "plot_rmse_vs_n",
    "plot_estimates",
]
