"""Command-line overrides checked before Hydra runs a command: Hydra's own errors (6-16 lines, exit 1) become one
line naming the key or option with a close match (`unknown key 'suit'; did you mean 'suite'?`), exit 2."""

from __future__ import annotations

import difflib
import re
from typing import Any


class OverrideError(ValueError):
    """A command-line override that does not fit the command's config: one line."""


def _close(name: str, known: list[str]) -> str:
    """'; did you mean X?' for the closest of `known`, else the list of them."""
    match = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {match[0]!r}?" if match else f"; known: {', '.join(sorted(known))}"


def _keys_under(config_name: str, overrides: list[str], parent: str) -> list[str]:
    """The keys of node `parent` ('' = top) of the config composed with the group choices among `overrides`."""
    from hydra import compose
    from omegaconf import DictConfig, OmegaConf

    groups = [o for o in overrides if "=" in o and "." not in o.split("=", 1)[0]]
    hydra = parent.startswith("hydra")
    try:
        cfg = compose(config_name, overrides=groups, return_hydra_config=hydra)
    except Exception:
        try:
            cfg = compose(config_name, return_hydra_config=hydra)
        except Exception:
            return []
    try:
        node = OmegaConf.select(cfg, parent) if parent else cfg
        return [str(k) for k in node.keys()] if isinstance(node, DictConfig) else []
    except Exception:  # Hydra's own node, unresolved outside a run
        return []


def _one_line(config_name: str, overrides: list[str], err: Exception) -> str:
    """Hydra's error on composing `overrides` as one line."""
    from hydra.errors import MissingConfigException, OverrideParseException

    cause = err.__cause__
    if isinstance(err, MissingConfigException):
        found = re.search(r"Could not find '([^']+)/([^'/]+)'", str(err))
        if found and err.options:
            group, option = found.groups()
            hint = _close(option, list(err.options))
            known = f" (known: {', '.join(sorted(err.options))})" if "did you mean" in hint else ""
            return f"unknown {group} {option!r}{hint}{known}"
        return str(err).splitlines()[0]
    if isinstance(err, OverrideParseException):
        return str(err).splitlines()[0]
    full_key = getattr(cause, "full_key", None)
    if cause is not None and full_key and "not in" in str(cause):
        parent, _, key = str(full_key).rpartition(".")
        if "is not in struct" in str(cause) and getattr(cause, "object_type", None) is dict:
            return f"unknown key {full_key!r}; add a new key with +{full_key}=VALUE"
        known = _keys_under(config_name, overrides, parent)
        match = difflib.get_close_matches(key, known, n=1)
        prefix = f"{parent}." if parent else ""
        hint = f"; did you mean {prefix + match[0]!r}?" if match else \
            f"; known: {', '.join(prefix + k for k in sorted(known))}"
        return f"unknown key {full_key!r}{hint}"
    if cause is not None and full_key:
        value = next((o.split("=", 1)[1] for o in overrides if o.lstrip("+~").split("=", 1)[0] == full_key), None)
        shown = f"{full_key}={value}" if value is not None else str(full_key)
        return f"{shown}: {str(cause).splitlines()[0]}"
    return (str(cause or err).splitlines() or [type(err).__name__])[0]


def check_overrides(config_name: str, overrides: list[str], require: bool = True) -> None:
    """Compose `config_name` with `overrides` as Hydra will (each value of a sweep in turn; Hydra's own keys with the
    first values) and raise OverrideError with one line on the first mistake; `require`: a value left unset is one."""
    from hydra import compose, initialize_config_module
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException
    from omegaconf import OmegaConf
    from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue

    parser = OverridesParser.create()
    parsed: list[Any] = []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except OverrideParseException as err:
            raise OverrideError(f"cannot read {text!r}: {str(err).splitlines()[0]}") from None
    mine = [o for o in parsed if not o.key_or_group.startswith("hydra")]
    first = [f"{o.input_line.split('=', 1)[0]}={next(iter(o.sweep_string_iterator()))}" if o.is_sweep_override()
             else o.input_line for o in mine]
    trials = [first]
    for i, o in enumerate(mine):  # every other value of a sweep, the rest at their first value
        if o.is_sweep_override():
            prefix = o.input_line.split("=", 1)[0]
            trials += [first[:i] + [f"{prefix}={v}"] + first[i + 1:] for v in list(o.sweep_string_iterator())[1:]]
    with initialize_config_module(config_module="simworld.conf", version_base="1.3"):
        for trial in trials:
            try:
                cfg = compose(config_name, overrides=trial)
            except Exception as err:  # Hydra's and OmegaConf's errors: many classes, one line each
                raise OverrideError(_one_line(config_name, trial, err)) from None
            missing = sorted(OmegaConf.missing_keys(cfg)) if require else []
            if missing:
                raise OverrideError(f"{missing[0]} is required ({missing[0]}=VALUE)")
        hydra = [o.input_line for o in parsed if o.key_or_group.startswith("hydra")]
        if hydra:  # Hydra's own keys (launcher and its settings), checked with the rest at their first values
            try:
                compose(config_name, overrides=first + hydra, return_hydra_config=True)
            except (InterpolationToMissingValueError, MissingMandatoryValue):
                pass  # Hydra's run-time values (hydra.job.num) are unset outside a run: the overrides themselves fit
            except Exception as err:
                raise OverrideError(_one_line(config_name, first + hydra, err)) from None
