"""The built-in scene families, one module each, registered with `@register_family` (see `world/family.py`).

Importing this package imports every module in it, which fills `simworld.world.family.FAMILIES`.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
