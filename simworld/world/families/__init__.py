"""The built-in scene families, one module each, registered with `@register_family` (see `world/family.py`).

Importing this package imports every module in it, which fills `simworld.world.family.FAMILIES`, then the modules
of the `simworld.families` entry-point group, so an outside package adds a family the same way (see
`simworld.registry.load_plugins`).
"""

import importlib
import pkgutil

from simworld.registry import load_plugins

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
load_plugins("simworld.families")
