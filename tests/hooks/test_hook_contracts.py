"""Meta-tests over the hook contract (style.md practices 1, 2 and 4, after datasette's
`test_plugin_hooks_are_documented` / `test_plugin_hooks_have_tests`): every hookspec is
documented with the fixed parts, fully typed, tested on its own, named by family, and the
generated reference in docs/hooks.md matches the docstrings."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy
import pytest

from core.hookspecs import SPEC_MODULES, hookspec, reference
from core.plugins import PluginHost

ROOT = Path(__file__).resolve().parents[2]
HOOK_TESTS = Path(__file__).resolve().parent
FAMILIES = ("register_", "on_", "resolve_", "evaluate_")
FIRST_RESULT_FAMILIES = ("resolve_", "evaluate_")


def _hook_callers() -> dict[str, pluggy.HookCaller]:
    """Every hook the host knows, discovered from the spec modules it loads (not listed by hand)."""
    relay = PluginHost(builtins=(), entry_points=False).pm.hook
    return {name: caller for name, caller in vars(relay).items() if isinstance(caller, pluggy.HookCaller)}


CALLERS = _hook_callers()
HOOKS = sorted(CALLERS)


def _spec(name: str) -> tuple[Callable[..., Any], bool]:
    spec = CALLERS[name].spec
    assert spec is not None, f"{name} has implementations but no hookspec"
    return spec.function, bool(spec.opts.get("firstresult"))


# -- the checks, as functions returning what is wrong (so they can be tested on a bad spec) ----


def doc_problems(name: str, function: Callable[..., Any], firstresult: bool) -> list[str]:
    doc = inspect.getdoc(function) or ""
    summary, sections = reference.parse_docstring(doc)
    problems = [] if summary else ["no summary line"]
    for title in reference.SECTIONS:
        if not sections.get(title, "").strip():
            problems.append(f"no '{title}:' section")
    args = sections.get("Args", "")
    for param in inspect.signature(function).parameters:
        if not re.search(rf"(^|\W){re.escape(param)}:", args):
            problems.append(f"argument {param!r} is not described under 'Args:'")
    returns = sections.get("Returns", "").lower()
    if firstresult and "first non-none" not in returns:
        problems.append("'Returns:' does not say that the first non-None result wins")
    if name.startswith("register_") and "collected" not in returns:
        problems.append("'Returns:' does not say that registrations are collected")
    if name.startswith("on_") and "ignored" not in returns:
        problems.append("'Returns:' does not say that results are ignored")
    example = sections.get("Example", "")
    if "@hookimpl" not in example or f"def {name}(" not in example:
        problems.append(f"'Example:' does not show an @hookimpl of {name}")
    return problems


def typing_problems(function: Callable[..., Any]) -> list[str]:
    problems = []
    signature = inspect.signature(function)
    for param in signature.parameters.values():
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            problems.append(f"argument {param.name!r} cannot be passed by keyword (hooks are called with keywords)")
        if param.annotation is inspect.Parameter.empty:
            problems.append(f"argument {param.name!r} has no type annotation")
    if signature.return_annotation is inspect.Signature.empty:
        problems.append("the return type is not annotated")
    return problems


def family_problems(name: str, function: Callable[..., Any], firstresult: bool) -> list[str]:
    if not name.startswith(FAMILIES):
        return [f"{name} belongs to no hook family ({', '.join(f + '*' for f in FAMILIES)})"]
    problems = []
    if name.startswith(FIRST_RESULT_FAMILIES) and not firstresult:
        problems.append(f"{name} asks a question, so it must be @hookspec(firstresult=True)")
    if not name.startswith(FIRST_RESULT_FAMILIES) and firstresult:
        problems.append(f"{name} must not be firstresult (only resolve_*/evaluate_* are)")
    if name.startswith("register_") and list(inspect.signature(function).parameters) != ["register"]:
        problems.append(f"{name} must take exactly one `register` callback")
    return problems


def names_of_tests_under_tests_hooks_dir() -> set[str]:
    names: set[str] = set()
    for path in HOOK_TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                names.add(node.name)
    return names


def hooks_without_tests(hooks: list[str], test_names: set[str]) -> list[str]:
    return [h for h in hooks if not any(re.search(rf"test_hook_{h}(_|$)", t) for t in test_names)]


# -- the meta-tests ------------------------------------------------------------------------------


def test_hooks_are_discovered_from_every_spec_module() -> None:
    by_module: dict[str, list[str]] = {}
    for doc in reference.hook_docs():
        by_module.setdefault(doc.module, []).append(doc.name)
    assert sorted(by_module) == sorted(SPEC_MODULES), "every spec module must define at least one hook"
    assert sorted(n for names in by_module.values() for n in names) == HOOKS
    assert len(HOOKS) >= 10  # the foundation's hooks at least; a broken discovery would find none


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name: str) -> None:
    function, firstresult = _spec(name)
    assert doc_problems(name, function, firstresult) == []


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_fully_typed(name: str) -> None:
    function, _ = _spec(name)
    assert typing_problems(function) == []


@pytest.mark.parametrize("name", HOOKS)
def test_hook_belongs_to_a_family(name: str) -> None:
    function, firstresult = _spec(name)
    assert family_problems(name, function, firstresult) == []


def test_every_hook_has_a_test_of_its_own() -> None:
    missing = hooks_without_tests(HOOKS, names_of_tests_under_tests_hooks_dir())
    assert not missing, "hooks without a test named test_hook_<name> under tests/hooks/: " + ", ".join(missing)


def test_hook_reference_is_up_to_date() -> None:
    generated = reference.render()
    on_disk = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    assert on_disk == generated, (
        "docs/hooks.md is out of date with the hookspec docstrings; "
        "run `python -m core.hookspecs.reference > docs/hooks.md`"
    )
    for name in HOOKS:
        assert f"### `{name}`" in on_disk


# -- the checks catch what they are meant to catch ---------------------------------------------


def _bad_spec_module() -> types.ModuleType:
    module = types.ModuleType("bad_specs")
    source = '''
@hookspec
def register_widgets(register, colour: str) -> None:
    """Contribute widgets.

    When it is called:
        Sometimes.

    Args:
        register: a callback.

    Returns:
        Whatever it likes.
    """


@hookspec
def decide_widget(request: int):
    """Decide."""


@hookspec(firstresult=True)
def on_widget(*widgets: int) -> None:
    """Hear about widgets."""
'''
    module.__dict__["hookspec"] = hookspec
    exec(compile(source, "bad_specs", "exec"), module.__dict__)
    return module


def test_the_checks_reject_a_badly_written_hookspec() -> None:
    pm = pluggy.PluginManager("emporio")
    module = _bad_spec_module()
    pm.add_hookspecs(module)
    register = pm.hook.register_widgets.spec
    decide = pm.hook.decide_widget.spec
    on_widget = pm.hook.on_widget.spec
    assert register is not None and decide is not None and on_widget is not None

    assert doc_problems("register_widgets", register.function, False) == [
        "no 'Example:' section",
        "argument 'colour' is not described under 'Args:'",
        "'Returns:' does not say that registrations are collected",
        "'Example:' does not show an @hookimpl of register_widgets",
    ]
    assert "no 'When it is called:' section" in doc_problems("decide_widget", decide.function, False)
    assert typing_problems(register.function) == ["argument 'register' has no type annotation"]
    assert typing_problems(decide.function) == ["the return type is not annotated"]
    assert typing_problems(on_widget.function)[0].startswith("argument 'widgets' cannot be passed by keyword")
    assert family_problems("decide_widget", decide.function, False) == [
        "decide_widget belongs to no hook family (register_*, on_*, resolve_*, evaluate_*)"
    ]
    assert family_problems("on_widget", on_widget.function, True) == [
        "on_widget must not be firstresult (only resolve_*/evaluate_* are)"
    ]
    assert family_problems("register_widgets", register.function, False) == [
        "register_widgets must take exactly one `register` callback"
    ]
    assert hooks_without_tests(
        ["register_widgets", "register_widget", "on_widget"],
        {"test_hook_register_widgets_refuses_duplicates", "test_hook_on_widgetry"},
    ) == ["register_widget", "on_widget"]


def test_the_reference_renders_every_section_of_a_hook() -> None:
    docs = {d.name: d for d in reference.hook_docs()}
    allocation = docs["resolve_allocation"]
    assert allocation.firstresult
    assert allocation.signature == "resolve_allocation(request: RoutingRequest) -> AllocationDecision | None"
    assert set(allocation.sections) == set(reference.SECTIONS)
    rendered = reference.render()
    section = rendered.split("### `resolve_allocation`", 1)[1].split("\n### ", 1)[0]
    assert "first non-None result wins" in section
    assert "- `request`: the order's open lines" in section
    assert "```python\n@hookimpl\ndef resolve_allocation(request):" in section
    # the module that defines the hooks introduces them
    routing = importlib.import_module("core.hookspecs.routing")
    assert (inspect.getdoc(routing) or "") in rendered
