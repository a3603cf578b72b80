"""The failures the permanence analyzer targets, for `simworld validate` and the validity tests (shared object
failures): an object vanishes in plain view, a new one spawns from nothing, one fails to come back after a passage,
one comes back twice."""

from __future__ import annotations

from simworld.analyzers.failures import inject_duplicate, inject_fail_to_reappear, inject_spawn, inject_vanish

FAILURES = {"vanish": inject_vanish, "spawn": inject_spawn, "fail_to_reappear": inject_fail_to_reappear,
            "duplicate": inject_duplicate}
