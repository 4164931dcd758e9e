"""The hook reference (docs/hooks.md), generated from the hookspec docstrings so the two never drift.

Run `python -m core.hookspecs.reference > docs/hooks.md`; a test fails when the file is stale.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import msgspec
import pluggy

from core.hookspecs import PROJECT_NAME, SPEC_MODULES

SECTIONS = ("When it is called", "Args", "Returns", "Example")
_HEADER = re.compile(r"^(" + "|".join(re.escape(s) for s in SECTIONS) + r"):\s*$")
_ARG = re.compile(r"^(\w+):\s*(.*)$")


class HookDoc(msgspec.Struct, frozen=True, kw_only=True):
    """One hookspec as the reference shows it."""

    name: str
    module: str
    signature: str
    firstresult: bool
    summary: str
    sections: dict[str, str]  # section title → its text, dedented; only the sections present


def _hookspecs(module: Any) -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    """The module's hookspecs in source order, found the way pluggy finds them."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    found = []
    for name, value in vars(module).items():
        opts = pm.parse_hookspec_opts(module, name)
        if opts is not None and inspect.isfunction(value):
            found.append((name, value, dict(opts)))
    return sorted(found, key=lambda item: item[1].__code__.co_firstlineno)


def signature_of(function: Callable[..., Any]) -> str:
    """`name(arg: Type, …) -> Type`, with annotations as written (they are strings in the specs)."""
    sig = inspect.signature(function)
    params = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {_text(p.annotation)}"
        for p in sig.parameters.values()
    )
    returns = "" if sig.return_annotation is inspect.Signature.empty else f" -> {_text(sig.return_annotation)}"
    return f"{function.__name__}({params}){returns}"


def _text(annotation: Any) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a hookspec docstring into its summary and its fixed sections."""
    summary: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = summary
    for line in doc.splitlines():
        header = _HEADER.match(line)
        if header:
            current = sections.setdefault(header.group(1), [])
        else:
            current.append(line)
    return (
        " ".join(line.strip() for line in summary if line.strip()),
        {title: textwrap.dedent("\n".join(lines)).strip("\n") for title, lines in sections.items()},
    )


def hook_docs() -> list[HookDoc]:
    """Every hookspec of every spec module, in module then source order."""
    docs = []
    for module_name in SPEC_MODULES:
        module = importlib.import_module(module_name)
        for name, function, opts in _hookspecs(module):
            summary, sections = parse_docstring(inspect.getdoc(function) or "")
            docs.append(
                HookDoc(
                    name=name,
                    module=module_name,
                    signature=signature_of(function),
                    firstresult=bool(opts.get("firstresult")),
                    summary=summary,
                    sections=sections,
                )
            )
    return docs


def _args_markdown(text: str) -> list[str]:
    items: list[str] = []
    for line in text.splitlines():
        arg = _ARG.match(line)
        if arg:
            items.append(f"- `{arg.group(1)}`: {arg.group(2)}")
        elif line.strip() and items:
            items[-1] += " " + line.strip()
    return items


def _section_markdown(title: str, text: str) -> list[str]:
    if title == "Args":
        return [f"**{title}**", "", *_args_markdown(text), ""]
    if title == "Example":
        return [f"**{title}**", "", text, ""]
    return [f"**{title}.** " + " ".join(line.strip() for line in text.splitlines() if line.strip()), ""]


def render() -> str:
    """The whole hook reference as Markdown."""
    docs = hook_docs()
    intro = inspect.getdoc(importlib.import_module("core.hookspecs")) or ""
    out = [
        "# Hook reference",
        "",
        "<!-- Generated from the hookspec docstrings by `python -m core.hookspecs.reference > docs/hooks.md`;",
        "     edit the docstrings in core/hookspecs/, not this file. -->",
        "",
        intro,
        "",
        "Implement a hook with `@hookimpl` from `core.hookspecs`, using the argument names shown (declare",
        "only those you need). Plugins are modules or objects registered under the entry-point group",
        f"`{PROJECT_NAME}`.",
        "",
        "## Hooks",
        "",
    ]
    out += [f"- [`{d.name}`](#{d.name}) — {d.summary}" for d in docs]
    for module_name in SPEC_MODULES:
        module = importlib.import_module(module_name)
        out += ["", f"## `{module_name}`", "", inspect.getdoc(module) or ""]
        for doc in (d for d in docs if d.module == module_name):
            combine = (
                "first non-None result wins (`firstresult`)" if doc.firstresult else "every implementation is called"
            )
            out += [
                "",
                f"### `{doc.name}`",
                "",
                "```python",
                doc.signature,
                "```",
                "",
                doc.summary,
                "",
                f"*{combine}*",
                "",
            ]
            for title in SECTIONS:
                if title in doc.sections:
                    out += _section_markdown(title, doc.sections[title])
            while out[-1] == "":
                out.pop()
    return "\n".join(out) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
