"""Time reading a document of many trivial displays, and re-checking it from the cache.

Target: linear in the number of displays; a fully cached re-check of 2,000 displays under 2 s.
For each size N (default 2,000 and 12,000) the script writes a document of N displays
``\\[ x + k = k + x \\]`` (k = 1..N, so every step is a different statement) and prints

* ``read``: ``read_document`` in this process (the reader alone, nothing cached);
* ``cold check``: ``ml2p-proof check`` in a fresh process with an empty cache (every step
  checked in a worker; only with ``--cold``, it takes minutes for large N);
* ``cached check``: the same command again once every verdict is cached (a fresh process,
  imports included).

    python benchmarks/bench_reading.py [--sizes 2000,12000] [--cold]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_document(path, n):
    lines = ["%! real x"] + [f"\\[ x + {k} = {k} + x \\]" for k in range(1, n + 1)]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed_check(doc, cache, env):
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "check", str(doc), "--quiet",
                           "--cache-dir", str(cache)], capture_output=True, text=True, env=env)
    return time.perf_counter() - t, proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,12000", help="numbers of displays (comma-separated)")
    parser.add_argument("--cold", action="store_true", help="also time the first check (every step in a worker)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ml2p_symbolic.engine.document.cache import VerdictCache, step_key
    from ml2p_symbolic.engine.latex_input import read_document
    from ml2p_symbolic.engine.records import Verdict

    root = Path(tempfile.mkdtemp(prefix="bench-reading-"))
    env = dict(os.environ, ML2P_CONFIG_DIR=str(root / "config"))
    os.environ["ML2P_CONFIG_DIR"] = env["ML2P_CONFIG_DIR"]
    print(f"{'displays':>9} {'size':>8} {'read':>8} {'per 1000':>9} {'cold check':>11} {'cached check':>13}")
    for n in (int(s) for s in args.sizes.split(",")):
        doc = root / f"doc{n}.tex"
        write_document(doc, n)
        t = time.perf_counter()
        document = read_document(doc)
        read = time.perf_counter() - t
        cache_dir = root / f"cache{n}"
        cold = "-"
        if args.cold:
            seconds, proc = timed_check(doc, cache_dir, env)
            cold = f"{seconds:.1f} s"
            if proc.returncode != 0:
                print(proc.stdout[-500:], proc.stderr[-500:])
        else:  # fill the cache as a cold check would (every step is verified by the engine)
            cache = VerdictCache(cache_dir)
            for step in document.steps:
                cache.put(step_key(step, document.declarations, 60.0), Verdict("verified", "structural"))
            cache.save()
        cached, proc = timed_check(doc, cache_dir, env)
        verified = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
        print(f"{n:>9} {doc.stat().st_size / 1024:>6.0f}KB {read:>7.2f}s {1000 * read / n:>8.3f}s "
              f"{cold:>11} {cached:>12.2f}s   ({verified})", flush=True)


if __name__ == "__main__":
    main()
