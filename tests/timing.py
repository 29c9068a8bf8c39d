"""How the time of an operation grows with its input, measured so that a busy shared machine
does not fail a test that is right, and a quadratic algorithm cannot pass.

A fixed bound ("under 10 s") says little: on a fast machine a quadratic algorithm stays under
it, on a loaded one a linear one may not. ``assert_linear`` times the same operation on an input
of size n and of size 2n instead: linear work doubles, quadratic work quadruples, and the check
allows three times. Each time is the best of a few runs (other processes only ever add time), and
n is first doubled until the operation takes long enough to measure, so that quadratic work at 2n
would cost more than the floor under which times are too short to compare."""
import time
from typing import Any, Callable

FLOOR = 0.5  # seconds; below this the two times are not compared
MAX_N = 1 << 24


def best_time(run: Callable[[Any], Any], arg: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(arg)
        best = min(best, time.perf_counter() - start)
    return best


def assert_linear(run: Callable[[Any], Any], make: Callable[[int], Any], n: int,
                  floor: float = FLOOR, repeat: int = 3) -> None:
    """Fails when ``run(make(2 * n))`` takes more than three times ``run(make(n))`` (or more than
    ``floor`` when both are shorter). ``n`` is the smallest size to try; it is doubled while one
    run takes less than a quarter of ``floor``."""
    while n < MAX_N and best_time(run, make(n), 1) < floor / 4:
        n *= 2
    small = best_time(run, make(n), repeat)
    big = best_time(run, make(2 * n), repeat)
    assert big <= max(3 * small, floor), (
        "n = %d took %.3f s, 2n took %.3f s (%.1f times): more than linear" % (n, small, big, big / small))
