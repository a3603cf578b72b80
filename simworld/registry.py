"""A named registry filled by a decorator: how users add scene families, generators and analyzers."""

from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """An unknown registry key; the message lists the known names and a close match."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


class Registry(Generic[T]):
    """A dict of named entries with a `register` decorator and "did you mean" errors."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return decorate

    def get(self, name: str) -> T:
        if name not in self._entries:
            known = ", ".join(sorted(self._entries))
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownNameError(f"unknown {self.kind} {name!r}{hint}; known: {known}")
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)


class PluginError(RuntimeError):
    """An installed plugin (an entry point of a simworld group) failed to load; the message names it."""


def load_plugins(group: str) -> list[str]:
    """Import every entry point of `group` (simworld.analyzers, simworld.generators, simworld.families): each names
    a module (or an object in one) of an outside package that registers its entries with simworld's decorators, as
    lm-evaluation-harness and Inspect take tasks from installed packages. Returns the entry points' names."""
    from importlib.metadata import entry_points

    loaded = []
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        try:
            point.load()
        except Exception as err:  # one line naming the plugin, not a traceback from inside the registry
            raise PluginError(f"plugin {point.name!r} ({point.value}, entry point group {group}) failed to load: "
                              f"{type(err).__name__}: {err}".splitlines()[0]) from err
        loaded.append(point.name)
    return loaded
