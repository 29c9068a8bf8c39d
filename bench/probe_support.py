"""What the benchmark's app probes share: the main-thread stall meter they run inside the headless
app (bench/*_probe.py), and the way the figures run a probe and read its result (bench/run.py,
bench/fig_*.py).

A probe is a script run in a child process (the app, or a big read, must not share the
benchmark's interpreter); it prints its figures as one line ``RESULT {json}`` on stdout.

The stall meter is a repeating 5 ms QTimer on the main thread. A tick that comes L ms late means
the main thread was busy (or kept from running) for about L ms; the main thread's own CPU time
within the same gap says which: on a loaded machine a long gap with little CPU is other processes,
or another thread holding the interpreter, not work done on the main thread. The same timer over
the idle app first gives what the machine itself adds."""
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
TICK_MS = 5


def run_probe(script: str, args: Sequence[str], timeout: float,
              env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """Run ``script`` (a path, or a file name in bench/) with this Python and ``args``; return the
    object of its last ``RESULT {json}`` line. Without one (it failed, or printed none) raises
    RuntimeError with the ends of its output; a probe that outlives ``timeout`` seconds is killed
    (subprocess.TimeoutExpired)."""
    path = script if os.path.isabs(script) else os.path.join(HERE, script)
    out = subprocess.run([sys.executable, path] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=timeout, env=env)
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    if not lines:
        raise RuntimeError("%s failed (exit status %s):\n%s%s" % (
            os.path.basename(path), out.returncode, out.stdout[-3000:], out.stderr[-3000:]))
    result: Dict[str, Any] = json.loads(lines[-1][len("RESULT "):])
    return result


def _p99(values: List[float]) -> float:
    return values[int(len(values) * 0.99) - 1]


class StallMeter:
    """The 5 ms main-thread timer (see the module). Made after the app has started (QTimer needs
    the QApplication); ``start`` → ``measure_idle`` → the work → ``stop`` → ``summary``."""

    def __init__(self, tick_ms: int = TICK_MS) -> None:
        from aqt.qt import QTimer

        self.tick_ms = tick_ms
        self.gaps: List[float] = []  # seconds between ticks
        self.busy: List[float] = []  # the main thread's CPU seconds within each gap
        self.idle: List[float] = []  # the idle app's lateness, ms, sorted
        self.last = time.perf_counter()  # read by the stack watcher's thread
        self.last_cpu = time.thread_time()
        self.stacks: List[Tuple[int, str]] = []
        self._watching = False
        self.timer = QTimer()
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.gaps.append(now - self.last)
        self.busy.append(cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu

    def reset(self) -> None:
        """Forget the ticks so far; the next gap starts now."""
        self.gaps.clear()
        self.busy.clear()
        self.last, self.last_cpu = time.perf_counter(), time.thread_time()

    def start(self) -> None:
        self.timer.start()
        self.reset()

    def measure_idle(self, app: Any, seconds: float) -> None:
        """Run the event loop of the idle app for ``seconds``: its lateness is what the machine
        itself adds. The ticks are then forgotten, for the work to be measured."""
        from anki_app import pump

        pump(app, seconds)
        self.idle = self.lateness_ms()
        self.reset()

    def stop(self) -> None:
        """Stop the timer (and the stack watcher, printing what it saw to stderr)."""
        self.timer.stop()
        self._watching = False
        for late, stack in self.stacks:
            print("LATE %d ms\n%s" % (late, stack), file=sys.__stderr__, flush=True)
        self.stacks.clear()

    def watch_stacks(self, late_ms: float, depth: int, all_threads: bool = False) -> None:
        """Diagnostics: a thread that, whenever a tick is ``late_ms`` overdue, keeps what the main
        thread is doing (its last ``depth`` frames; with ``all_threads`` every other thread's last
        four too). Printed by ``stop``."""
        main_id = threading.main_thread().ident or 0  # (set once the thread has started)
        self._watching = True

        def watch() -> None:
            reported = 0.0
            while self._watching:
                time.sleep(0.002)
                last = self.last
                late = time.perf_counter() - last
                if late > late_ms / 1000 and last != reported:
                    frames = sys._current_frames()
                    text = "".join(traceback.format_list(traceback.extract_stack(frames.get(main_id))[-depth:]))
                    if all_threads:
                        for ident, frame in frames.items():
                            if ident not in (main_id, threading.get_ident()):
                                text += "  -- thread %d\n" % ident + "".join(traceback.format_list(
                                    traceback.extract_stack(frame)[-4:]))
                    self.stacks.append((round(late * 1000), text))
                    reported = last

        threading.Thread(target=watch, daemon=True).start()

    def lateness_ms(self) -> List[float]:
        """How late each tick came, in ms, sorted."""
        return sorted(max(0.0, g - self.tick_ms / 1000) * 1000 for g in self.gaps)

    def summary(self) -> Dict[str, Any]:
        """The figures of the ticks since the last reset: ``value`` the longest lateness (ms),
        its 99th percentile, how many ticks and how many over a 60 Hz frame (16 ms) late, the
        main thread's CPU in the longest gap, the most and the 99th percentile of it in any gap,
        and the idle app's longest and 99th percentile lateness. ``value`` is NaN and the others
        None when no tick came."""
        lateness = self.lateness_ms()
        cpu = sorted(b * 1000 for b in self.busy)
        worst = max(range(len(self.gaps)), key=lambda i: self.gaps[i]) if self.gaps else 0
        return {
            "value": round(lateness[-1], 1) if lateness else float("nan"),
            "p99_ms": round(_p99(lateness), 1) if lateness else None,
            "ticks": len(self.gaps),
            "over_16ms": sum(1 for x in lateness if x > 16),
            "worst_gap_main_thread_cpu_ms": round(self.busy[worst] * 1000, 1) if self.busy else None,
            "max_main_thread_cpu_in_a_gap_ms": round(cpu[-1], 1) if cpu else None,
            "main_thread_cpu_p99_ms": round(_p99(cpu), 1) if cpu else None,
            "idle_app_max_ms": round(self.idle[-1], 1) if self.idle else None,
            "idle_app_p99_ms": round(_p99(self.idle), 1) if self.idle else None,
        }
