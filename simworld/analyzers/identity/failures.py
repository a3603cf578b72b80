"""The failure the identity analyzer targets, for `simworld validate` and the validity tests: after a passage the
object comes back recoloured (identity_swap, one of the shared object failures)."""

from __future__ import annotations

from simworld.analyzers.failures import inject_identity_swap

FAILURES = {"identity_swap": inject_identity_swap}
