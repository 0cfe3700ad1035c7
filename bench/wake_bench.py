"""What handing work to another process and back costs on this machine, by how long the waiting
side had nothing to do: the floor under lod's SPARQL overhead against pyoxigraph in process.

A request to /sparql crosses four waits (the client for the server, the server for a query
process, the query process's answer back to the server, the server's answer to the client);
pyoxigraph in process crosses none. Two of the four sleep as long as the query runs. This script
times one such hand-over (a multiprocessing pipe, as lod.serve.pool uses, with a 40 KB answer
like a 100-row SPARQL JSON one) while the answering process computes for a given time, with the
waiting process asleep in the kernel and, for comparison, polling the pipe without sleeping. The
difference between the two columns is the cost of waking a process that slept.

    python bench/wake_bench.py [--reps 40] [--computes 0,0.5,1,2,4,8,16]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection

ANSWER = b"x" * 40_000


def _compute(ms: float) -> None:
    """Keep the CPU busy for `ms`, as a query does (sleeping would measure a different thing)."""
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


def _answer(conn: Connection) -> None:
    while True:
        ms = conn.recv()
        if ms is None:
            return
        _compute(ms)
        conn.send_bytes(ANSWER)


def _round_trip(conn: Connection, ms: float, sleeping: bool) -> float:
    """Milliseconds from sending the job to holding the answer, less the job's own time."""
    started = time.perf_counter()
    conn.send(ms)
    if not sleeping:
        while not conn.poll(0):
            pass
    conn.recv_bytes()
    return (time.perf_counter() - started) * 1000 - ms


def measure(computes: list[float], reps: int) -> list[tuple[float, float, float]]:
    """(compute ms, median overhead asleep, median overhead polling) per compute time, the two
    waits in turns so that a drifting machine weighs on both alike."""
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    process = context.Process(target=_answer, args=(child,), daemon=True)
    process.start()
    child.close()
    try:
        _round_trip(conn, 0, True)
        rows = []
        for ms in computes:
            asleep, polling = [], []
            for _ in range(reps):
                asleep.append(_round_trip(conn, ms, True))
                polling.append(_round_trip(conn, ms, False))
            rows.append((ms, statistics.median(asleep), statistics.median(polling)))
        conn.send(None)
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--computes", default="0,0.5,1,2,4,8,16")
    args = parser.parse_args()
    computes = [float(v) for v in args.computes.split(",")]
    print(
        "| answering process computes, ms | overhead, waiting asleep, ms "
        "| overhead, waiting by polling, ms | cost of the wake-up, ms |"
    )
    print("|---:|---:|---:|---:|")
    for ms, asleep, polling in measure(computes, args.reps):
        print(f"| {ms:g} | {asleep:.3f} | {polling:.3f} | {asleep - polling:.3f} |")


if __name__ == "__main__":
    main()
