"""The build's store loader alone: how long it takes after the last quad and how much memory it
holds, fed an N-Quads stream the way `lod build` feeds it (1 MB writes to its standard input).

    python bench/loader_bench.py SITE/dumps/dataset.nq.gz --copies 10 --work /dev/shm/loaderbench
    python bench/loader_bench.py ... --loader ../old-checkout/lod/store.py   # another version

`--copies` as in bench/store_bench.py. Prints the seconds to feed the stream, the seconds until
the loader exits (bulk load, then compaction), its peak RSS and the store's file count.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.store_bench import write_stream  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", type=Path, help="a build's dumps/dataset.nq.gz")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / "out" / "loaderbench")
    parser.add_argument("--loader", type=Path, default=ROOT / "lod" / "store.py")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    stream, store = args.work / "stream.nq", args.work / "store"
    write_stream(args.dump, args.copies, stream)
    loader = args.loader.resolve()
    # The loader's own checkout first on the path, so that an older version runs its own code.
    path = os.pathsep.join([str(loader.parent.parent), str(ROOT)])
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(loader), str(store), str(os.getpid())],
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert proc.stdin is not None
    with stream.open("rb") as data:
        while block := data.read(1 << 20):
            proc.stdin.write(block)
    fed = time.perf_counter() - started
    proc.stdin.close()
    code = proc.wait()
    done = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = len(list(store.iterdir())) if store.exists() else 0
    print(
        f"{loader}: exit {code}; fed in {fed:.1f} s, done after {done:.1f} s "
        f"({done - fed:.1f} s after the last quad); peak RSS {peak:,.0f} MB; {files} store files"
    )
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
