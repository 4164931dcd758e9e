"""Writes a plugin package from the templates beside this module.

A template is a text file whose path and content carry `{{token}}` placeholders (the package
name, the provider's name in its spellings); `.tmpl` is dropped from the file name. The kind's
own files are laid over the common ones (pyproject, conftest). Nothing is written unless every
check passes: a known kind, a name that makes a Python identifier, and an empty or missing
target directory.
"""

from __future__ import annotations

import keyword
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final

KINDS: Final = ("psp", "courier", "channel")
TEMPLATE_SUFFIX: Final = ".tmpl"
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,23}")
_TOKEN: Final = re.compile(r"\{\{(\w+)\}\}")
# Channel codes the core keeps for its own channels; a connector may not take them.
RESERVED_CHANNEL_CODES: Final = frozenset({"web", "phone", "store"})

WHAT: Final = {
    "psp": "payment processor",
    "courier": "courier",
    "channel": "sales-channel connector",
}


class ScaffoldError(ValueError):
    """A kind, name or directory the kit refuses; the message says what to give instead."""

    def __init__(self, message: str, *, param: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True, kw_only=True)
class Names:
    """Every spelling of the provider's name the templates use."""

    kind: str
    name: str  # "acme_pay": the processor's name, the courier's name or the channel's code
    package: str  # "emporio_psp_acme_pay"
    distribution: str  # "emporio-psp-acme-pay"
    entry_point: str  # "psp-acme-pay": the name under [project.entry-points.emporio]
    title: str  # "AcmePay": class names
    env: str  # "ACME_PAY": EMPORIO_ACME_PAY_* settings

    def tokens(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "what": WHAT[self.kind],
            "name": self.name,
            "package": self.package,
            "dist": self.distribution,
            "entry": self.entry_point,
            "Name": self.title,
            "NAME": self.env,
        }


def names_for(kind: str, raw_name: str) -> Names:
    """The spellings of `raw_name` ("acme", "Acme-Pay"), or a ScaffoldError saying why not."""
    if kind not in KINDS:
        raise ScaffoldError(f"unknown plugin kind {kind!r}: use one of {', '.join(KINDS)}", param="kind")
    name = raw_name.strip().lower().replace("-", "_")
    if not _NAME.fullmatch(name) or name.endswith("_") or "__" in name or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{raw_name!r} cannot name a plugin: use a lower-case letter, then letters, digits or single "
            "hyphens/underscores (at most 24), e.g. acme or acme-pay; it becomes the Python package "
            f"emporio_{kind}_<name>",
            param="name",
        )
    if kind == "channel" and name in RESERVED_CHANNEL_CODES:
        raise ScaffoldError(
            f"{name!r} is a channel Emporio has built in ({', '.join(sorted(RESERVED_CHANNEL_CODES))}); "
            "name the connector after its marketplace",
            param="name",
        )
    words = name.split("_")
    return Names(
        kind=kind,
        name=name,
        package=f"emporio_{kind}_{name}",
        distribution=f"emporio-{kind}-{name.replace('_', '-')}",
        entry_point=f"{kind}-{name.replace('_', '-')}",
        title="".join(word.capitalize() for word in words),
        env=name.upper(),
    )


def render(text: str, tokens: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in tokens:
            raise KeyError(f"template token {{{{{key}}}}} has no value")
        return tokens[key]

    return _TOKEN.sub(one, text)


def _walk(root: Traversable, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Traversable]:
    found: dict[tuple[str, ...], Traversable] = {}
    for item in root.iterdir():
        if item.is_dir():
            found.update(_walk(item, (*prefix, item.name)))
        elif item.name.endswith(TEMPLATE_SUFFIX):
            found[(*prefix, item.name.removesuffix(TEMPLATE_SUFFIX))] = item
    return found


def template_files(kind: str) -> dict[tuple[str, ...], Traversable]:
    """The kind's templates by relative path (parts still holding tokens), over the common ones."""
    templates = resources.files(__package__ or "core.plugin_kit").joinpath("templates")
    return {**_walk(templates.joinpath("common")), **_walk(templates.joinpath(kind))}


def check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target} exists and is not a directory; choose another --dir", param="dir")
    if target.is_dir() and any(target.iterdir()):
        raise ScaffoldError(
            f"{target} is not empty; the kit never overwrites files: choose another --dir or remove it",
            param="dir",
        )


def write_package(kind: str, raw_name: str, target: Path) -> list[Path]:
    """Write the package for `kind` named `raw_name` into `target` (created; must be empty if it
    exists). Returns the files written, in order."""
    names = names_for(kind, raw_name)
    check_target(target)
    tokens = names.tokens()
    rendered = [
        (target.joinpath(*(render(part, tokens) for part in parts)), render(source.read_text("utf-8"), tokens))
        for parts, source in sorted(template_files(kind).items())
    ]
    written: list[Path] = []
    for path, text in rendered:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    tidy(target)
    return written


def tidy(target: Path) -> bool:
    """Format the written package with ruff, under the package's own settings, when ruff is
    installed (Emporio's dev extra has it): the templates are laid out for a short name, and a
    longer one moves line breaks. Without ruff the code is the same, only laid out as written."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        return False
    try:
        for command in (["check", "--fix", "--select", "I"], ["format"]):
            subprocess.run([ruff, *command, "--quiet", "--no-cache", "."], cwd=target, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return False  # the package is written either way
    return True
