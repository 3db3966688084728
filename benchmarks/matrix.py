"""Benchmark of the geography package: a 5,000 x 5,000 travel matrix and area classification.

Targets (issue 3), on the 2-core machine, single-threaded:

* 5,000 x 5,000 durations + distances with the default model: <= 1.5 s and <= 300 MB peak;
* classify 100,000 points against 50 service areas: <= 1 s.

Times are the median of ``--repeat`` runs after one warm-up run (the warm-up's time is printed
too). Peak memory is measured with ``tracemalloc`` around one matrix computation, which numpy
reports its array allocations to, so it is the memory that computation allocated (outputs
included); the process's maximum resident set size (``resource.getrusage``, interpreter and
libraries included) is printed alongside. The last line printed is one JSON object with the
figures.

Run from the repository root: ``.venv/bin/python benchmarks/matrix.py``.
"""

from __future__ import annotations

import os

# Single-threaded, as the machine is shared; set before numpy loads its thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from geo.areas import AreaIndex, ServiceArea, polygon_from_latlon  # noqa: E402
from geo.model import ModelProvider  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Warm-up time and median time of ``repeat`` further runs, in seconds."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def region_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` sites spread over a 600 x 400 km region (southern England and Wales)."""
    return np.column_stack([rng.uniform(50.5, 53.5, n), rng.uniform(-5.0, 1.5, n)])


def service_areas(rng: np.random.Generator, count: int, vertices: int) -> list[ServiceArea]:
    """Irregular city-like polygons over the same region, some overlapping."""
    areas = []
    for k in range(count):
        lat, lon = rng.uniform(50.7, 53.3), rng.uniform(-4.7, 1.2)
        angles = np.linspace(0.0, 2.0 * np.pi, vertices, endpoint=False)
        radius = rng.uniform(0.05, 0.25) * (1.0 + 0.25 * np.sin(rng.integers(3, 9) * angles))
        shell = np.column_stack(
            [lat + radius * np.sin(angles), lon + 1.6 * radius * np.cos(angles)]
        )
        areas.append(ServiceArea(f"area-{k:02d}", f"Area {k}", polygon_from_latlon(shell)))
    return areas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="matrix size (n x n)")
    parser.add_argument("--points", type=int, default=100_000, help="points to classify")
    parser.add_argument("--areas", type=int, default=50, help="service areas")
    parser.add_argument("--vertices", type=int, default=400, help="vertices per area")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the warm-up")
    args = parser.parse_args()
    rng = np.random.default_rng(20250303)

    provider = ModelProvider()
    sites = region_points(rng, args.n)
    first_s, matrix_s = timed(lambda: provider.matrix(sites), args.repeat)
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    matrix = provider.matrix(sites)
    peak_mb = (tracemalloc.get_traced_memory()[1] - baseline) / 1e6
    tracemalloc.stop()
    print(f"matrix {args.n} x {args.n} (model, durations + distances)")
    print(f"  first run {first_s:.3f} s, median of {args.repeat} {matrix_s:.3f} s")
    outputs_mb = (matrix.durations.nbytes + matrix.distances.nbytes) / 1e6
    print(f"  peak allocated {peak_mb:.1f} MB (tracemalloc); outputs {outputs_mb:.0f} MB")
    # A strided sample: np.median of the whole matrix would copy it and inflate the RSS figure.
    sample = (slice(None, None, 25), slice(None, None, 25))
    print(
        f"  median duration {int(np.median(matrix.durations[sample]))} s, "
        f"median distance {int(np.median(matrix.distances[sample]))} m (sampled)"
    )
    del matrix
    matrix_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  process max RSS so far {matrix_rss_mb:.0f} MB (resource.getrusage)")

    build_start = time.perf_counter()
    index = AreaIndex(service_areas(rng, args.areas, args.vertices))
    build_s = time.perf_counter() - build_start
    points = region_points(rng, args.points)
    classify_first_s, classify_s = timed(lambda: index.classify(points), args.repeat)
    inside = int((index.classify(points) >= 0).sum())
    print(f"classify {args.points} points against {args.areas} areas of {args.vertices} vertices")
    print(
        f"  index built in {build_s:.3f} s; first run {classify_first_s:.3f} s, "
        f"median {classify_s:.3f} s"
    )
    print(f"  {inside} points inside an area")

    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS {max_rss_mb:.0f} MB (resource.getrusage)")
    print(
        json.dumps(
            {
                "n": args.n,
                "matrix_s": round(matrix_s, 3),
                "matrix_first_s": round(first_s, 3),
                "peak_mb": round(peak_mb, 1),
                "peak_method": "tracemalloc",
                "matrix_max_rss_mb": round(matrix_rss_mb),
                "max_rss_mb": round(max_rss_mb),
                "classify_points": args.points,
                "classify_areas": args.areas,
                "classify_s": round(classify_s, 3),
                "classify_first_s": round(classify_first_s, 3),
                "index_build_s": round(build_s, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
