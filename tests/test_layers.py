"""The layers hold as code: no import cycle between modules, and a core of small parts.

``make test`` also runs ``lint-imports``, which checks who may import whom
([tool.importlinter] in pyproject.toml); this checks what a contract cannot say.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kiosk", "hardware", "provisioning", "cloudsim", "demo", "launch")
# A part of the core that grows past this is doing more than one job: split it.
CORE_MODULE_MAX_LINES = 400


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # Every import counts, those made only for type checking too: a cycle there is still two
    # modules that cannot be understood, or moved, one without the other.
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """Each cycle once, as the modules it goes through, back to the first."""
    cycles: dict[frozenset[str], tuple[str, ...]] = {}
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycle = (module, *back)
                cycles.setdefault(frozenset(cycle), cycle)
    return list(cycles.values())


def test_no_module_imports_itself_through_others(graph: grimp.ImportGraph) -> None:
    cycles = [" -> ".join(cycle) for cycle in import_cycles(graph)]
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_finder_names_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("a.one", "a.two"), ("a.two", "a.three"), ("a.three", "a.one")):
        graph.add_import(importer=importer, imported=imported)
    graph.add_import(importer="a.three", imported="a.four")

    assert import_cycles(graph) == [("a.one", "a.two", "a.three", "a.one")]


def test_every_part_of_the_core_is_small() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted((ROOT / "kiosk" / "core").rglob("*.py"))
    }
    assert sizes, "no kiosk/core modules found"
    too_long = {path: lines for path, lines in sizes.items() if lines > CORE_MODULE_MAX_LINES}
    assert too_long == {}, f"over {CORE_MODULE_MAX_LINES} lines: {too_long}"
