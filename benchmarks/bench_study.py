"""Throughput and scheduler overhead of ``ml2p-proof study`` on a local Dask cluster.

Usage (from the repository root)::

    python benchmarks/bench_study.py              # about 1-2 minutes on 2 cores
    python benchmarks/bench_study.py --workers 2 --noop 400 --tasks 12

Prints:

1. the start-up and shut-down time of a LocalCluster (``--workers`` processes);
2. the scheduler overhead per task: ``--noop`` tasks that do nothing, submitted at once;
   wall time x workers / tasks is the worker time each task costs beyond its own work
   (the round trip scheduler -> worker -> client, serialisation of the task and result);
3. the same for the study machinery itself: ``run_study`` on a spec of ``--tasks`` tiny
   MML fits (N = 100) against the same tasks run one after another in this process with
   ``run_task`` (the difference includes the results file writes and the progress bar);
4. throughput on real tasks: ``--tasks`` Sim-ECPE-like VAE fits (N = 2,000, n = 28, K = 3,
   k = 1) through ``run_study``, in tasks per minute, against one after another here.

The workers import the package before the timings (the first task on a fresh worker pays
the import, about a second, once).  The 1-minute load average is printed: the machine is
shared, and other work on its 2 cores takes from the speed-up.

A task should last much longer than the overhead (seconds against milliseconds) for the
cluster to pay off; the figures let users size their tasks.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

from ml2p_symbolic.study import expand_tasks, parse_spec, run_study, run_task  # noqa: E402
from ml2p_symbolic.study.runner import start_local_cluster  # noqa: E402

TINY_MML = """
[study]
name = "bench-tiny"
replications = {reps}
[grid]
students = 100
items = 6
traits = 2
[estimators.mml]
method = "mml"
nodes = 5
"""

ECPE_VAE = """
[study]
name = "bench-vae"
replications = {reps}
seed = 11
seeding = "sequential"
[grid]
students = 2000
items = 28
traits = 3
[estimators."vae k=1"]
method = "vae"
batch_size = 256
lr = 0.02
"""


def noop(x):
    return x


def _warm():
    import importlib

    for name in ("ml2p_symbolic.numeric.mml", "ml2p_symbolic.numeric.train", "ml2p_symbolic.study.tasks"):
        importlib.import_module(name)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--noop", type=int, default=400, help="no-op tasks for the overhead (default 400)")
    p.add_argument("--tasks", type=int, default=12, help="tasks of the tiny and real studies (default 12)")
    args = p.parse_args(argv)
    from distributed import Client, wait

    print(f"load average before: {os.getloadavg()}; cores: {os.cpu_count()}; workers: {args.workers}",
          file=sys.stderr)
    t0 = time.perf_counter()
    cluster = start_local_cluster(args.workers)
    client = Client(cluster)
    start = time.perf_counter() - t0
    client.run(_warm)  # imports on every worker (the package imports SymPy: about a second once)
    t0 = time.perf_counter()
    futures = [client.submit(noop, i, pure=False) for i in range(args.noop)]
    wait(futures)
    noop_wall = time.perf_counter() - t0
    del futures
    address = cluster.scheduler_address

    with tempfile.TemporaryDirectory() as tmp:
        spec = parse_spec(TINY_MML.format(reps=args.tasks), "tiny.toml")
        t0 = time.perf_counter()
        for t in expand_tasks(spec):
            run_task(t)
        tiny_serial = time.perf_counter() - t0
        run = run_study(spec, os.path.join(tmp, "tiny.csv"), scheduler=address, quiet=True)
        tiny_study = run["seconds"]

        spec = parse_spec(ECPE_VAE.format(reps=args.tasks), "vae.toml")
        t0 = time.perf_counter()
        for t in expand_tasks(spec)[: max(2, args.tasks // 4)]:
            run_task(t)
        serial_each = (time.perf_counter() - t0) / max(2, args.tasks // 4)
        run = run_study(spec, os.path.join(tmp, "vae.csv"), scheduler=address, quiet=True)
        vae_study = run["seconds"]
    t0 = time.perf_counter()
    client.close()
    cluster.close()
    stop = time.perf_counter() - t0
    load = os.getloadavg()

    w = args.workers
    print("| figure | value |")
    print("|---|---|")
    print(f"| local cluster start ({w} workers) | {start:.1f} s |")
    print(f"| local cluster shut-down | {stop:.1f} s |")
    print(f"| no-op tasks | {args.noop} in {noop_wall:.2f} s = {args.noop / noop_wall:.0f} tasks/s |")
    print(f"| scheduler overhead per task (wall x workers / tasks) | {noop_wall * w / args.noop * 1000:.1f} ms |")
    print(f"| tiny MML tasks (N = 100), one after another here | {args.tasks} in {tiny_serial:.2f} s "
          f"({tiny_serial / args.tasks * 1000:.0f} ms each) |")
    print(f"| the same through run_study | {tiny_study:.2f} s |")
    print(f"| study overhead per task ((study x workers - serial) / tasks) | "
          f"{(tiny_study * w - tiny_serial) / args.tasks * 1000:.0f} ms |")
    print(f"| VAE k=1 tasks (N = 2,000, n = 28, K = 3), one here | {serial_each:.2f} s each |")
    print(f"| {args.tasks} of them through run_study | {vae_study:.1f} s = "
          f"{args.tasks / vae_study * 60:.1f} tasks/min (serial: {60 / serial_each:.1f} tasks/min) |")
    print(f"| speed-up on {w} workers | {serial_each * args.tasks / vae_study:.2f} |")
    print(f"\nload average after: {load}")


if __name__ == "__main__":
    main()
