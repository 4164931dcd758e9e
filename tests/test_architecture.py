"""The shape of the code, checked from the source (style.md: a small core that names no vendor).

- No import cycles among core/, api/ and plugins/, counting imports inside functions (a cycle
  hidden by a function-level import is still a cycle); only `if TYPE_CHECKING:` imports are left
  out, since they never run.
- No module under core/ imports `api` or `plugins`: the API and the plugins reach the core through
  hooks and entry points, never the other way round.
- The core names no vendor: not Stripe, ACS, Skroutz or the store-pickup courier, in code or in
  strings, and not the cash-on-delivery provider by its name. Docstrings and comments may mention
  them as examples; core/testing is held to the same rule (its simulator plumbing is generic).
"""

from __future__ import annotations

import ast
import itertools
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "api", "plugins")
LAYERS_THE_CORE_MUST_NOT_IMPORT = ("api", "plugins")
# Vendor words found in any identifier or string of the core (split at `_`, `.`, case changes…).
VENDOR_WORDS = frozenset({"stripe", "acs", "skroutz"})
# The pickup courier's name, as a whole name (`in_store_pickup` is a capability every courier may
# declare).
VENDOR_NAME = re.compile(r"(?<![a-z0-9_])store_pickup(?![a-z0-9_])", re.IGNORECASE)
# "cod" names the cash-on-delivery provider only where a payment provider or processor is meant:
# elsewhere cash on delivery is the courier contract's word (`cod` capability, `cod_amount`).
PROVIDER = "cod"
PROVIDER_CONTEXT = frozenset({"provider", "processor", "processors", "psp"})


@dataclass(frozen=True)
class Import:
    source: str
    target: str  # the module as written, made absolute
    line: int
    in_function: bool
    type_checking: bool


def modules_under(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_in(module: str, tree: ast.Module, *, is_package: bool) -> list[Import]:
    """Every import statement of a module, wherever it sits, with where it sits."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    visit_one(statement, in_function, True)
                for statement in child.orelse:
                    visit_one(statement, in_function, type_checking)
            else:
                visit_one(child, in_function, type_checking)

    def visit_one(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, node.lineno, in_function, type_checking))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.append(Import(module, f"{base}.{alias.name}", node.lineno, in_function, type_checking))
        visit(node, in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef), type_checking)

    visit(tree, False, False)
    return found


def _known(name: str, modules: dict[str, Path] | set[str]) -> str | None:
    """The first-party module an import names: `from a.b import c` is a.b.c when that is a module,
    else a.b (c is a name defined in it)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules: dict[str, Path]) -> dict[str, dict[str, Import]]:
    """module → {imported first-party module → the first import of it}, without TYPE_CHECKING."""
    graph: dict[str, dict[str, Import]] = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for imp in imports_in(module, tree, is_package=path.name == "__init__.py"):
            target = _known(imp.target, modules)
            if target is not None and target != module and not imp.type_checking:
                edges.setdefault(target, imp)
    return graph


def cycles(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """One shortest cycle through each strongly connected group of modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return [_shortest_cycle(graph, set(group), group[0]) for group in groups]


def _shortest_cycle(graph: dict[str, dict[str, Import]], group: set[str], start: str) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child in group and child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is in a strongly connected group but on no cycle")


def describe(cycle: list[str], graph: dict[str, dict[str, Import]], modules: dict[str, Path]) -> str:
    steps = [cycle[0]]
    for source, target in itertools.pairwise(cycle):
        imp = graph[source][target]
        where = f"{modules[source].relative_to(ROOT)}:{imp.line}" + (", inside a function" if imp.in_function else "")
        steps.append(f"  → {target}   ({where})")
    return "\n".join(steps)


def layer_violations(module: str, tree: ast.Module, *, is_package: bool) -> list[str]:
    """Where a core module reaches the API or a plugin: any import (even for type checking or in
    a function) and `importlib.import_module("plugins…")` with a literal name."""
    found = [
        f"line {imp.line}: imports {imp.target}"
        for imp in imports_in(module, tree, is_package=is_package)
        if imp.target.split(".")[0] in LAYERS_THE_CORE_MUST_NOT_IMPORT
    ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value
            if isinstance(name, str) and name.split(".")[0] in LAYERS_THE_CORE_MUST_NOT_IMPORT:
                found.append(f"line {node.lineno}: loads {name!r} by name")
    return found


_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


def _docstrings(tree: ast.Module) -> set[int]:
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return {
        id(node.body[0].value)
        for node in nodes
        if node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
        and isinstance(node.body[0].value.value, str)
    }


def _identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.keyword) and node.arg:
        return [node.arg]
    if isinstance(node, ast.alias):
        return [node.name, node.asname or ""]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module]
    return []


def _provider_context(node: ast.Constant, parents: dict[int, ast.AST]) -> bool:
    """Whether a string sits where a payment provider's name goes: compared with a `provider`,
    as the key of `processors[…]`, passed to a `…processor…(…)` call or as `provider=`."""
    parent = parents.get(id(node))
    around: list[ast.AST] = []
    if isinstance(parent, ast.Compare):
        around = [parent.left, *parent.comparators]
    elif isinstance(parent, ast.Subscript):
        around = [parent.value]
    elif isinstance(parent, ast.Call):
        around = [parent.func]
    elif isinstance(parent, ast.keyword):
        around = [parent]
    elif isinstance(parent, ast.Dict):
        around = [k for k, v in zip(parent.keys, parent.values, strict=True) if v is node and k is not None]
    words: set[str] = set()
    for expression in around:
        for inner in ast.walk(expression):
            for name in _identifiers(inner):
                words |= _words(name)
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and inner is not node:
                words |= _words(inner.value)
    return bool(words & PROVIDER_CONTEXT)


def vendor_mentions(tree: ast.Module) -> list[str]:
    """Vendors named in code or strings (docstrings and comments aside), as "line N: what"."""
    docstrings = _docstrings(tree)
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        for name in _identifiers(node):
            hits = sorted(_words(name) & VENDOR_WORDS) + (["store_pickup"] if VENDOR_NAME.search(name) else [])
            if hits:
                found.append((line, f"identifier {name!r} names {', '.join(hits)}"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
            hits = sorted(_words(text) & VENDOR_WORDS) + (["store_pickup"] if VENDOR_NAME.search(text) else [])
            if text.strip().lower() == PROVIDER and _provider_context(node, parents):
                hits.append("the cash-on-delivery provider")
            if hits:
                found.append((line, f"string {text!r} names {', '.join(hits)}"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def _parsed(package: str) -> Iterator[tuple[str, Path, ast.Module]]:
    for module, path in modules_under(ROOT, (package,)).items():
        yield module, path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# -- the tests -----------------------------------------------------------------------------------


def test_no_import_cycles() -> None:
    modules = modules_under(ROOT)
    graph = import_graph(modules)
    assert len(modules) > 100 and sum(map(len, graph.values())) > 300  # a broken walk would find nothing
    found = cycles(graph)
    assert not found, "import cycles (break them with a hook, an event or a shared module):\n\n" + "\n\n".join(
        describe(cycle, graph, modules) for cycle in found
    )


def test_the_core_imports_neither_the_api_nor_plugins() -> None:
    problems = [
        f"{path.relative_to(ROOT)} {problem}"
        for module, path, tree in _parsed("core")
        for problem in layer_violations(module, tree, is_package=path.name == "__init__.py")
    ]
    assert not problems, "the core must reach the API and plugins through hooks only:\n" + "\n".join(problems)


def test_the_core_names_no_vendor() -> None:
    problems = [
        f"{path.relative_to(ROOT)} {problem}" for _, path, tree in _parsed("core") for problem in vendor_mentions(tree)
    ]
    assert not problems, "the core must not name a vendor (move it into the vendor's plugin):\n" + "\n".join(problems)


# -- the checks catch what they are meant to catch ---------------------------------------------

_SAMPLE = {
    "shop": "",
    "shop.orders": "from shop import fulfilment\nfrom shop.money import Money\n",
    "shop.fulfilment": "import json\n\ndef route():\n    from shop.orders import place\n",
    "shop.money": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shop.orders import Order\n",
}


def _sample_graph(tmp_path: Path) -> tuple[dict[str, Path], dict[str, dict[str, Import]]]:
    for module, source in _SAMPLE.items():
        path = tmp_path / Path(*module.split("."))
        path = path / "__init__.py" if module == "shop" else path.with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    modules = modules_under(tmp_path, ("shop",))
    return modules, import_graph(modules)


def test_the_graph_counts_function_imports_and_leaves_out_type_checking_ones(tmp_path: Path) -> None:
    modules, graph = _sample_graph(tmp_path)
    assert sorted(modules) == ["shop", "shop.fulfilment", "shop.money", "shop.orders"]
    assert set(graph["shop.orders"]) == {"shop.fulfilment", "shop.money"}  # a submodule, named from its package
    assert graph["shop.fulfilment"]["shop.orders"].in_function
    assert graph["shop.money"] == {}  # only under TYPE_CHECKING
    assert cycles(graph) == [["shop.fulfilment", "shop.orders", "shop.fulfilment"]]


def test_cycles_are_found_whatever_their_length() -> None:
    def edges(*targets: str) -> dict[str, Import]:
        return {t: Import("", t, 1, False, False) for t in targets}

    graph = {"a": edges("b"), "b": edges("c"), "c": edges("a", "d"), "d": edges(), "e": edges("e")}
    assert cycles(graph) == [["a", "b", "c", "a"]]  # a module importing itself is not a cycle between modules
    del graph["c"]["a"]
    assert cycles(graph) == []


def test_the_layer_check_sees_imports_anywhere() -> None:
    source = (
        "import api.app\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from plugins.kms import Vault\n"
        "def serve():\n    from plugins.psp_stripe.simulator import simulator\n"
        "    importlib.import_module('plugins.courier_acs')\n"
        "from core.orders import orders\n"
    )
    assert layer_violations("core.cli", ast.parse(source), is_package=False) == [
        "line 1: imports api.app",
        "line 4: imports plugins.kms.Vault",
        "line 6: imports plugins.psp_stripe.simulator.simulator",
        "line 7: loads 'plugins.courier_acs' by name",
    ]


def test_the_vendor_check_reads_code_and_strings_but_not_docstrings() -> None:
    source = '''
"""Payments through Stripe, ACS or cash on delivery (docstrings may name them)."""
PICKUP = "store_pickup"
def capture(payment, host):
    """Skroutz orders too."""
    if payment.provider == "cod":  # a comment may say stripe
        return AcsCourier(settings.EMPORIO_STRIPE_API_KEY), host.payment_processors["cod"]
    capability = "in_store_pickup" if courier.cod else "cod"
    return f"cod_amount for {payment.id}", payment.cod_amount, CodRemittance, {"provider": "cod"}
'''
    assert vendor_mentions(ast.parse(source)) == [
        "line 3: string 'store_pickup' names store_pickup",
        "line 6: string 'cod' names the cash-on-delivery provider",
        "line 7: identifier 'AcsCourier' names acs",
        "line 7: identifier 'EMPORIO_STRIPE_API_KEY' names stripe",
        "line 7: string 'cod' names the cash-on-delivery provider",
        "line 9: string 'cod' names the cash-on-delivery provider",
    ]
