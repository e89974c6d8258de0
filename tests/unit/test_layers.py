"""The package's layers run one way: each subpackage imports only the shared base and the subpackages below it,
the data path's order, and no module imports itself back through others."""

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "src" / "whalecast"
# Bottom to top. A module may import its own subpackage and any layer below its own.
LAYERS = {"base": 0, "data": 1, "features": 2, "acquire": 2, "modeling": 3, "evaluation": 4, "reporting": 5,
          "serve": 5}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "base"


def imports() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports, at the top or inside a function."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    found = {}
    for module, path in modules.items():
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("whalecast"):
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    names.add(candidate if candidate in modules else node.module)
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names if alias.name.startswith("whalecast")}
        found[module] = names - {module}
    return found


def test_every_import_goes_down_the_layers_or_stays_in_its_own():
    wrong = [f"{module} ({layer(module)}) imports {imported} ({layer(imported)})"
             for module, imported_modules in imports().items() for imported in imported_modules
             if layer(imported) != layer(module) and LAYERS[layer(imported)] >= LAYERS[layer(module)]]
    assert not wrong


def test_no_module_imports_itself_back():
    graph = imports()
    cycles = []

    def visit(module, path):
        for imported in graph.get(module, ()):
            if imported in path:
                cycles.append(" -> ".join([*path[path.index(imported):], imported]))
            elif imported not in finished:
                visit(imported, [*path, imported])
        finished.add(module)

    finished = set()
    for module in graph:
        if module not in finished:
            visit(module, [module])
    assert not cycles


def test_the_data_path_reads_no_feature_code_and_the_rule_can_fail():
    graph = imports()
    assert not [imported for module, names in graph.items() if module.startswith("whalecast.data")
                for imported in names if imported.startswith("whalecast.features")]
    assert layer("whalecast.features.feature_table") == "features" and layer("whalecast.settings") == "base"
    assert "whalecast.data.price_bars" in graph["whalecast.data.clean"]  # the graph sees imports at all
