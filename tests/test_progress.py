"""Progress: plain whole lines with a fixed total off a terminal; tqdm only on one."""

import io

from simworld.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    with Progress(4, "analyze", "score", every_s=0.0, stream=stream) as bar:
        for _ in range(4):
            bar.update(1)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("analyze: 1/4 scores (25%)") and "left" in lines[0]
    assert lines[-1].startswith("analyze: 4/4 scores (100%)") and "left" not in lines[-1]
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()  # no cursor codes in a log


def test_lines_are_periodic_and_the_last_one_always_comes():
    stream = io.StringIO()
    bar = Progress(1000, "generate", "clip", every_s=3600.0, stream=stream)
    for _ in range(1000):
        bar.update(1)
    bar.close()
    bar.close()  # closing twice prints nothing more
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("generate: 1/1000") and lines[1].startswith("generate: 1000/1000")


def test_terminal_gets_a_bar_and_disabled_or_empty_prints_nothing():
    terminal = Terminal()
    with Progress(3, "score", "score", stream=terminal) as bar:
        bar.update(3)
    assert "3/3" in terminal.getvalue() and "\r" in terminal.getvalue()
    quiet = io.StringIO()
    with Progress(3, "score", "score", enabled=False, stream=quiet) as bar:
        bar.update(3)
    with Progress(0, "score", "score", stream=quiet):
        pass
    assert quiet.getvalue() == ""
