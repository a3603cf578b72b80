"""The package's imports run one way, in the data-flow order of the design (probe -> generator -> clip -> analyzers
-> rows -> results -> report): no module imports one that comes later in the flow, and there is no import cycle.
Every import counts, also those inside functions: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simworld"

# Nodes are the top-level modules and sub-packages of simworld, in the order data flows through them; a node may
# import the nodes before it (and those on its own line), never one after it.
ORDER = [
    ["registry", "interrupt", "progress"],  # plumbing every layer may use
    ["groundtruth", "clip", "explanations"],  # the contracts: what a clip is, what it knows, what explains a score
    ["world", "heldout"],  # the simulator renders clips with ground truth; the held-out world (measurement only)
    ["probes"],  # probes name scenes of the world
    ["model"],  # the bundled model, trained on the world's clips
    ["generators"],  # probe -> clip (wrapping the model)
    ["analyzers"],  # clip -> metrics
    ["calibration", "results"],  # metrics -> thresholds; rows -> tables
    ["report"],  # result files -> HTML
    ["conf", "run_folder", "analysis_pool"],  # configs (built from the registries), run folders, worker processes
    ["runner", "score", "validate", "heldout_validity", "evaluate", "knowledge"],  # the commands' work
    ["cli"],
]
RANK = {node: level for level, nodes in enumerate(ORDER) for node in nodes}
NEVER = {  # the design's explicit rules (also implied by ORDER; stated so a reordering cannot drop them)
    "report": {"analyzers", "generators", "model", "world", "runner"},
    "model": {"generators", "analyzers"},
    "probes": {"analyzers", "generators"},
    "clip": {"world"},
    "generators": {"analyzers"},
    "analyzers": {"generators", "model"},
    "heldout": {"world", "analyzers", "probes", "generators", "model"},  # built apart: it measures the analyzers
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The simworld modules `path` imports (absolute and relative, at any depth of the file)."""
    name, found = module_name(path), set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    modules = {m for m in found if m.split(".")[0] == "simworld"}
    # `from simworld.x import Name`: keep only what is a module (a file or package), else its parent
    return {m if _is_module(m) else m.rpartition(".")[0] for m in modules} - {name}


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def node_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def module_graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def node_edges() -> dict[tuple[str, str], list[str]]:
    """(importing node, imported node) -> the modules where it happens."""
    edges = defaultdict(list)
    for module, targets in module_graph().items():
        for target in targets:
            a, b = node_of(module), node_of(target)
            if a and b and a != b:
                edges[(a, b)].append(f"{module} -> {target}")
    return edges


def test_every_node_has_a_place_in_the_flow():
    nodes = {node_of(module_name(p)) for p in PACKAGE.rglob("*.py")} - {None}
    assert not nodes - set(RANK), f"add these to ORDER in {__file__}: {sorted(nodes - set(RANK))}"


def test_no_import_runs_against_the_flow():
    back = [f"{a} (level {RANK[a]}) imports {b} (level {RANK[b]}): {where[0]}"
            for (a, b), where in sorted(node_edges().items()) if a in RANK and b in RANK and RANK[b] > RANK[a]]
    assert not back, "\n".join(back)


@pytest.mark.parametrize("node", sorted(NEVER))
def test_the_design_rules(node):
    broken = [where[0] for (a, b), where in node_edges().items() if a == node and b in NEVER[node]]
    assert not broken, broken


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_nodes():
    graph = defaultdict(set)
    for a, b in node_edges():
        graph[a].add(b)
        graph.setdefault(b, set())
    assert not _cycles(graph)


def test_no_import_cycle_between_modules():
    """Also inside a node: a package's __init__ importing its modules, which import it back for the base
    classes, is the registry pattern and allowed; any other cycle is not (spec <-> families was one)."""
    graph = module_graph()
    pruned = {m: {t for t in targets if not (m.startswith(t + ".") and graph.get(t) is not None)}
              for m, targets in graph.items()}  # a module may import the package it belongs to
    for package, targets in graph.items():  # and a package's __init__ may import its own modules
        pruned[package] = {t for t in pruned[package] if not t.startswith(package + ".")}
    assert not _cycles(pruned)


def test_importing_the_report_loads_no_model_or_analyzer():
    """The report reads result files: importing it must not pull in torch or any analyzer (6-9 s before)."""
    import subprocess
    import sys

    code = ("import sys, simworld.report; bad = sorted(m for m in sys.modules if m.split('.')[0] == 'torch' or "
            "m.startswith(('simworld.analyzers', 'simworld.generators', 'simworld.model'))); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout[:500]
