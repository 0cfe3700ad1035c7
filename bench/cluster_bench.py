"""Benchmark `lod build` on this machine's process pool against `lod build --cluster` on Dask.

    python bench/cluster_bench.py                     # 2k, 5k, 10k and 20k synthetic records
    python bench/cluster_bench.py --sizes 1000 2000   # quick run

Three ways to run the same full build, each in its own process: `plain` (the default: one
forked worker process per core), `local` (`--cluster local`: a Dask LocalCluster with one
single-threaded worker process per core, started and stopped by the build, so its start-up is
counted) and `tcp` (`--cluster tcp://...`: a scheduler and as many workers started once before
the runs, as an operator keeps them, so start-up is not counted). Prints a Markdown table,
with the client's own CPU time per record on the running cluster: the central stages' cost,
which bounds what any number of workers can reach.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
MODES = ("plain", "local", "tcp")


def child(sources: str, out: str, cluster: str) -> None:
    from lod.config import Config
    from lod.publish.site import build

    started = time.perf_counter()
    config = Config(progress=False, cluster=cluster, source_date_epoch=1_700_000_000)
    report = build([Path(sources)], Path(out), config)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"records": report.published, "seconds": seconds, "cpu": cpu}))


def measure(sources: Path, out: Path, cluster: str) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(sources), str(out), cluster],
        capture_output=True,
        text=True,
        check=True,
    )
    shutil.rmtree(out, ignore_errors=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@contextmanager
def scheduler(folder: Path, workers: int) -> Iterator[str]:
    """`dask scheduler` and `dask worker` (`workers` single-threaded processes) on 127.0.0.1,
    stopped afterwards: started once for all `tcp` runs here, and by tests/test_runners.py."""
    from distributed import Client

    from bench.serve_bench import free_port

    dask = str(Path(sys.executable).with_name("dask"))
    port = str(free_port())
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder}
    processes = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"], **quiet
        ),
        subprocess.Popen(
            [dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1"]
            + ["--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(folder)],
            **quiet,
        ),
    ]
    try:
        with Client(address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 5_000, 10_000, 20_000])
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from bench.synth import generate

    cores = os.cpu_count() or 1
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    with scheduler(args.work, cores) as address:
        clusters = {"plain": "", "local": "local", "tcp": address}
        for size in args.sizes:
            sources = args.work / f"src-{size}"
            if not sources.exists():
                generate(size, sources)
            seconds = {m: measure(sources, args.work / "cluster-site", clusters[m]) for m in MODES}
            rows.append((size, seconds))
            print(f"{size}: {seconds}", file=sys.stderr)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}; Dask workers: {cores} x 1 thread\n"
    )
    print(
        "| records | plain s | local cluster s | running cluster s | running / plain "
        "| client CPU ms/record: plain | running cluster |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, s in rows:
        plain, local, tcp = s["plain"]["seconds"], s["local"]["seconds"], s["tcp"]["seconds"]
        cells = [
            f"{size:,}",
            f"{plain:.1f}",
            f"{local:.1f}",
            f"{tcp:.1f}",
            f"{tcp / plain:.2f}x",
            f"{1000 * s['plain']['cpu'] / size:.2f}",
            f"{1000 * s['tcp']['cpu'] / size:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
