r"""A study's results summarised: RMSE, bias and correlation per condition and estimator.

For each condition and estimator, over its successful replications r = 1..R, each
figure x_r (a_rmse, a_bias, ...) is summarised by its mean and Monte Carlo standard error

    mean = (1/R) sum_r x_r,        se = sd(x_1..x_R) / sqrt(R)   (sd with R - 1; none for R = 1).

:func:`summarize` gives the records, :func:`summary_markdown` and :func:`summary_latex`
(``booktabs``) the tables with "mean (se)" cells, and :func:`plot_rmse_vs_n` and
:func:`plot_estimates` the figures (matplotlib, the ``plot`` extra).

Order: conditions by traits, items, Q design, correlation, then students; estimators with
the VAE first, then by name in natural order (``k=5`` before ``k=20``), so a table does
not depend on the order in which tasks finished.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile

from ..errors import MissingExtraError, ResultsError

__all__ = ["summarize", "summary_markdown", "summary_latex", "plot_rmse_vs_n", "plot_estimates",
           "FIGURES", "write_atomic"]

#: The figures summarised: results column -> (Markdown header, LaTeX header).
FIGURES = {
    "a_rmse": ("a RMSE", r"RMSE $a$"), "a_bias": ("a bias", r"bias $a$"), "a_corr": ("a corr", r"corr $a$"),
    "b_rmse": ("b RMSE", r"RMSE $b$"), "b_bias": ("b bias", r"bias $b$"),
    "theta_rmse": ("theta RMSE", r"RMSE $\theta$"), "theta_corr": ("theta corr", r"corr $\theta$"),
    "fit_seconds": ("seconds", "seconds"),
}
_DIGITS = {"fit_seconds": 1, "theta_rmse": 3, "theta_corr": 3}


def _natural(text):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _condition_label(r):
    q = "ECPE-like Q" if r["q"] == "ecpe" else f"Q ~ Bernoulli({r['q']})"
    return f"N={r['students']}, n={r['items']}, K={r['traits']}, {q}" + (", correlated" if r["correlated"] else "")


def _mean_se(values):
    xs = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not xs:
        return None
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return {"mean": mean, "se": None, "n": len(xs)}
    var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    return {"mean": mean, "se": math.sqrt(var / len(xs)), "n": len(xs)}


def summarize(rows, figures=tuple(FIGURES)):
    """Summary records from results rows (:func:`~ml2p_symbolic.study.store.read_results`).

    Returns a list of dicts, one per condition and estimator: ``condition`` (a label),
    ``students``, ``items``, ``traits``, ``q``, ``correlated``, ``estimator``, ``method``,
    ``reps`` (successful replications), ``failed`` (failed ones), ``errors`` (their
    distinct messages) and for each figure a dict ``{"mean", "se", "n"}`` (``None`` when no
    replication has it; ``se`` is None for one replication).

    >>> rows = [dict(students=100, items=9, traits=3, q="ecpe", correlated=False, estimator="mml",
    ...              method="mml", status="ok", error="", a_rmse=x) for x in (0.1, 0.3)]
    >>> s = summarize(rows, figures=("a_rmse",))[0]
    >>> s["reps"], round(s["a_rmse"]["mean"], 6), round(s["a_rmse"]["se"], 6)
    (2, 0.2, 0.1)
    """
    groups = {}
    for r in rows:
        key = (r["traits"], r["items"], r["q"], r["correlated"], r["students"], r["estimator"])
        groups.setdefault(key, []).append(r)
    method_rank = {"vae": 0, "mml": 1}

    def order(key):
        traits, items, q, corr, students, est = key
        method = groups[key][0]["method"]
        return (traits, items, q, corr, students, method_rank.get(method, 2), _natural(est))

    out = []
    for key in sorted(groups, key=order):
        rs = groups[key]
        ok = [r for r in rs if r["status"] == "ok"]
        first = rs[0]
        rec = {"condition": _condition_label(first),
               **{k: first[k] for k in ("students", "items", "traits", "q", "correlated", "estimator", "method")},
               "reps": len(ok), "failed": len(rs) - len(ok),
               "errors": sorted({r["error"] for r in rs if r["status"] != "ok"})}
        for f in figures:
            rec[f] = _mean_se([r.get(f) for r in ok])
        out.append(rec)
    return out


def _cell(stat, figure, latex=False):
    if stat is None:
        return "" if not latex else "--"
    d = _DIGITS.get(figure, 4)
    text = f"{stat['mean']:.{d}f}"
    if stat["se"] is not None:
        text += f" ({stat['se']:.{d}f})"
    return text


def summary_markdown(summary, figures=tuple(FIGURES)):
    """A Markdown table of :func:`summarize`'s records: one row per condition and
    estimator, cells "mean (Monte Carlo SE)"; a ``failed`` column when any task failed."""
    failed = any(s["failed"] for s in summary)
    head = ["condition", "estimator", "reps"] + (["failed"] if failed else []) + [FIGURES[f][0] for f in figures]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summary:
        cells = [s["condition"], s["estimator"], str(s["reps"])] + ([str(s["failed"])] if failed else [])
        cells += [_cell(s[f], f) for f in figures]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _tex(text):
    return re.sub(r"([_%&#$])", r"\\\1", str(text)).replace("~", r"$\sim$")


def summary_latex(summary, figures=tuple(FIGURES)):
    r"""The same table as LaTeX ``tabular`` with ``booktabs`` rules (``\toprule``,
    ``\midrule`` between conditions, ``\bottomrule``); needs ``\usepackage{booktabs}``."""
    failed = any(s["failed"] for s in summary)
    head = ["Estimator", "Reps"] + (["Failed"] if failed else []) + [FIGURES[f][1] for f in figures]
    lines = [r"\begin{tabular}{l" + "r" * (len(head) - 1) + "}", r"\toprule", " & ".join(head) + r" \\"]
    current = None
    for s in summary:
        if s["condition"] != current:
            current = s["condition"]
            lines += [r"\midrule", rf"\multicolumn{{{len(head)}}}{{l}}{{\emph{{{_tex(current)}}}}} \\"]
        cells = [_tex(s["estimator"]), str(s["reps"])] + ([str(s["failed"])] if failed else [])
        cells += [_cell(s[f], f, latex=True) for f in figures]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- files and plots
def write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder, renamed."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("plots need matplotlib: pip install 'ml2p-symbolic[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def plot_rmse_vs_n(summary, path):
    """RMSE of a and b against N (log scale), one line per estimator and design (the
    condition without N), error bars +- one Monte Carlo SE; written to ``path`` (PNG, PDF,
    SVG by its suffix)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    lines = {}
    for s in summary:
        design = re.sub(r"^N=\d+, ", "", s["condition"])
        lines.setdefault((design, s["estimator"]), []).append(s)
    designs = {d for d, _ in lines}
    for (design, est), ss in lines.items():
        ss = sorted(ss, key=lambda s: s["students"])
        label = est if len(designs) == 1 else f"{est}; {design}"
        for ax, f in zip(axes, ("a_rmse", "b_rmse")):
            pts = [(s["students"], s[f]) for s in ss if s[f] is not None]
            if not pts:
                continue
            ax.errorbar([p[0] for p in pts], [p[1]["mean"] for p in pts],
                        yerr=[p[1]["se"] or 0.0 for p in pts], marker="o", capsize=3, label=label)
    Ns = sorted({s["students"] for s in summary})
    for ax, name in zip(axes, ("a", "b")):
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(Ns, labels=[f"{N:,}" for N in Ns])
        ax.set_xlabel("N (students)")
        ax.set_ylabel(f"RMSE of {name} (mean +- MC SE)")
    axes[0].legend(fontsize=8)
    fig.suptitle(next(iter(designs)) if len(designs) == 1 else "RMSE against N", fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def plot_estimates(rows, path):
    """Estimated against true a (top) and b (bottom), one column per estimator, for the
    first replication of the largest-N condition (of the first design); to ``path``."""
    plt = _pyplot()
    ok = [r for r in rows if r["status"] == "ok" and r.get("a_hat")]
    if not ok:
        raise ResultsError("no successful task with estimates to plot")
    first = summarize(ok, figures=())[0]
    design = [r for r in ok if (r["traits"], r["items"], r["q"], r["correlated"])
              == (first["traits"], first["items"], first["q"], first["correlated"])]
    N = max(r["students"] for r in design)
    rep = min(r["rep"] for r in design if r["students"] == N)
    picks = {r["estimator"]: r for r in design if r["students"] == N and r["rep"] == rep}
    order = [s["estimator"] for s in summarize(list(picks.values()), figures=())]
    fig, axes = plt.subplots(2, len(order), figsize=(3.2 * len(order), 6.4), squeeze=False)
    for col, est in enumerate(order):
        r = picks[est]
        for row, (name, true, hat, f) in enumerate((("a", "a_true", "a_hat", "a_rmse"), ("b", "b_true", "b_hat", "b_rmse"))):
            ax = axes[row, col]
            t, e = json.loads(r[true]), json.loads(r[hat])
            lo, hi = min(t + e), max(t + e)
            ax.plot([lo, hi], [lo, hi], color="0.6", lw=1)
            ax.scatter(t, e, s=12)
            ax.set_title(f"{est}: RMSE {r[f]:.3f}", fontsize=9)
            ax.set_xlabel(f"true {name}")
            if col == 0:
                ax.set_ylabel(f"estimated {name}")
    fig.suptitle(f"{_condition_label(picks[order[0]])}, replication {rep} (seed {picks[order[0]]['seed']})",
                 fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
