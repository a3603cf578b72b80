"""Clean interruption: SIGINT (Ctrl-C) and SIGTERM (`kill`, a cancelled SLURM job) stop the command and every
process it started (analysis workers, the fork server, the resource tracker), and say how to resume.

SIGTERM is turned into an exception so the same unwinding runs as for Ctrl-C: pools abort, temporary files are
removed, nothing half-written is left under a final name. Then every process below this one is terminated, since
a worker forked by multiprocessing's fork server is not our child and would otherwise wait forever for work.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGHUP), raised in the main thread like Ctrl-C's KeyboardInterrupt."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum, frame) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second signal while unwinding must not interrupt the clean-up
    raise Interrupted(signum)


def install_handlers() -> None:
    """SIGTERM and SIGHUP raise `Interrupted` in the main thread; SIGINT raises KeyboardInterrupt even where the
    parent started us with SIGINT ignored (a shell's background job), so every way of stopping a run is clean."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def ignore_interrupts_in_worker() -> None:
    """For worker processes: Ctrl-C in a terminal reaches the whole process group; the parent alone decides, and
    terminates its workers, so they neither die mid-row nor print a traceback each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def exit_status(err: KeyboardInterrupt) -> int:
    """128 + the signal's number, as a shell reports a process ended by it (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + getattr(err, "signum", signal.SIGINT)


def signal_name(err: KeyboardInterrupt) -> str:
    return signal.Signals(getattr(err, "signum", signal.SIGINT)).name


def process_stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, parent, process group, session, ...); None where
    there is no such process (or no /proc). The name is in parentheses and may hold spaces: fields follow the last ')'."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2:].split()


def descendants(pid: int | None = None) -> list[int]:
    """Every process below `pid` (default: this one), children first, from /proc (Linux); empty elsewhere."""
    pid = os.getpid() if pid is None else pid
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        fields = process_stat(entry.name) if entry.name.isdigit() else None
        if fields and fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_descendants(grace_s: float = 1.0) -> int:
    """SIGTERM every process below this one, SIGKILL what is left after `grace_s`; returns how many there were."""
    pids = descendants()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        _reap()
        alive = [pid for pid in alive if is_running(pid)]
        if alive:
            time.sleep(0.05)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _reap()
    return len(pids)


def is_running(pid: int) -> bool:
    """Whether `pid` exists and has not exited (a zombie waiting to be reaped has)."""
    fields = process_stat(pid)
    return bool(fields) and fields[0] != "Z"


def _reap() -> None:
    """Collect our own exited children so they do not linger as zombies."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
