"""Progress that reads well where it lands: tqdm bars on a terminal; plain, whole lines every `every_s` seconds
(and at the end) when stderr is a log file, CI or SLURM output, where cursor codes and redrawn bars turn to noise.
Totals are fixed up front, so the percentage and the time left mean something."""

from __future__ import annotations

import sys
import time


class Progress:
    """`update(n)` as work finishes; `close()` at the end. A drop-in for the part of tqdm the commands use."""

    def __init__(self, total: int, desc: str, unit: str, position: int = 0, enabled: bool = True,
                 every_s: float = 10.0, stream=None):
        self.total, self.desc, self.unit, self.every_s = total, desc, unit, every_s
        self.stream = stream or sys.stderr
        self.done, self.started = 0, time.monotonic()
        self.last_line: float | None = None  # none yet: the first update prints one (the monotonic clock starts
        # at boot, so 0.0 would hold the first line back on a machine up for less than every_s)
        self.enabled, self.closed = enabled and total > 0, False
        self.bar = None
        if self.enabled and _is_terminal(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, position=position, leave=position == 0,
                            file=self.stream, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and self.done < self.total and (
                self.last_line is None or time.monotonic() - self.last_line >= self.every_s):
            self._line()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            self._line()

    def _line(self) -> None:
        self.last_line = now = time.monotonic()
        elapsed = now - self.started
        left = ""
        if 0 < self.done < self.total:
            left = f", about {_duration(elapsed * (self.total - self.done) / self.done)} left"
        print(f"{self.desc}: {self.done}/{self.total} {self.unit}s ({100 * self.done / self.total:.0f}%), "
              f"{_duration(elapsed)}{left}", file=self.stream, flush=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
