"""Issue 15, item 4: the plugin kit. `emporio plugin new psp|courier|channel NAME --dir DIR`
writes a package whose own `pytest`, run in its directory with nothing installed but Emporio,
passes: the kind's contract suite against the plugin and its simulator, and the plugin loaded
through its declared entry point. The generated code is lint-clean, and the contract suite in
it has teeth: break the plugin and it fails. Bad kinds, names and directories are refused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.plugin_kit.commands import plugin_group
from core.plugin_kit.scaffold import KINDS, ScaffoldError, names_for, write_package

EMPORIO = Path(sys.executable).with_name("emporio")
RUFF = Path(sys.executable).with_name("ruff")
CLIENT_MODULE = {"psp": "processor.py", "courier": "courier.py", "channel": "connector.py"}
RUN_TIMEOUT_S = 240  # one generated suite: a few seconds on an idle machine

pytestmark = pytest.mark.timeout(600)


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command as an integrator runs it: in `cwd`, no PYTHONPATH or pytest options of ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def plugin_new(kind: str, name: str, target: Path) -> subprocess.CompletedProcess[str]:
    """The `emporio` console script, as an integrator types it."""
    return run(EMPORIO, "plugin", "new", kind, name, "--dir", target, cwd=target.parent)


def plugin_new_here(kind: str, name: str, target: Path) -> Result:
    """The same command in this process (the console script loads every plugin first: slow)."""
    return CliRunner().invoke(plugin_group, ["new", kind, name, "--dir", str(target)])


def own_pytest(package_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The generated package's own tests, run in its directory with this interpreter."""
    return run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, cwd=package_dir)


def counts(output: str) -> dict[str, int]:
    """pytest's summary line as numbers: {"passed": 18, "failed": 1}."""
    summary = output.strip().splitlines()[-1]
    return {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summary)}


@pytest.mark.parametrize("kind", KINDS)
def test_plugin_new_writes_a_package_whose_own_tests_pass(kind: str, tmp_path: Path) -> None:
    target = tmp_path / "tmp"
    made = plugin_new(kind, "acme", target)
    assert made.returncode == 0, made.stderr
    package = target / f"emporio_{kind}_acme"
    assert f"emporio_{kind}_acme" in made.stdout and str(target) in made.stdout

    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    modules = ("__init__.py", "plugin.py", "simulator.py", CLIENT_MODULE[kind])
    top = ("README.md", "conftest.py", "pyproject.toml", "tests/test_contract.py", "tests/test_plugin.py")
    assert files == sorted([*(f"{package.name}/{m}" for m in modules), *top])
    texts = {path: (target / path).read_text(encoding="utf-8") for path in files}
    assert not [path for path, text in texts.items() if "{{" in text], "a template token was left unfilled"
    assert sum(text.count("# REAL API:") for text in texts.values()) >= 5, "the real API's places are marked"
    assert f"from core.testing.{kind}_contract import" in texts["tests/test_contract.py"]

    with (target / "pyproject.toml").open("rb") as source:
        project = tomllib.load(source)["project"]
    assert project["name"] == f"emporio-{kind}-acme"
    assert "emporio" in project["dependencies"]
    assert project["entry-points"]["emporio"] == {f"{kind}-acme": f"emporio_{kind}_acme.plugin"}

    lint = run(RUFF, "check", "--no-cache", ".", cwd=target)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = run(RUFF, "format", "--check", "--no-cache", ".", cwd=target)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr

    tested = own_pytest(target)
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    summary = counts(tested.stdout)
    assert summary.get("passed", 0) >= 15, tested.stdout[-2000:]
    assert set(summary) <= {"passed", "warnings", "warning"}, tested.stdout[-2000:]
    assert "passed" in tested.stdout


def test_the_generated_contract_suite_fails_a_broken_plugin(tmp_path: Path) -> None:
    """Not a suite that passes whatever the plugin does: a processor that stops sending its
    idempotency key charges twice on a retry, and the generated tests say so."""
    target = tmp_path / "acme"
    write_package("psp", "acme", target)
    processor = target / "emporio_psp_acme" / "processor.py"
    source = processor.read_text(encoding="utf-8")
    keyed = 'headers = {"Idempotency-Key": key} if key else {}'
    assert keyed in source
    processor.write_text(source.replace(keyed, "headers: dict[str, str] = {}"), encoding="utf-8")
    tested = own_pytest(target, "tests/test_contract.py", "-k", "one_key")
    assert tested.returncode == 1, tested.stdout[-3000:]
    summary = counts(tested.stdout)
    assert summary.get("failed", 0) == 2, tested.stdout[-3000:]
    assert "test_start_twice_with_one_key_is_one_payment" in tested.stdout
    assert "test_capture_twice_with_one_key_captures_once" in tested.stdout


def test_the_contract_suites_refuse_to_run_without_asyncio_auto_mode(tmp_path: Path) -> None:
    """In pytest-asyncio's strict mode every async contract test would be skipped and the run
    look green; the pytest plugin stops it instead, saying what to set."""
    target = tmp_path / "acme"
    write_package("channel", "acme", target)
    pyproject = target / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('asyncio_mode = "auto"', 'asyncio_mode = "strict"'),
        encoding="utf-8",
    )
    tested = own_pytest(target)
    assert tested.returncode == 4, tested.stdout[-2000:] + tested.stderr[-2000:]
    assert 'asyncio_mode = "auto"' in tested.stderr
    assert "passed" not in tested.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_a_long_name_still_makes_lint_clean_code(kind: str, tmp_path: Path) -> None:
    """The longest name the kit takes (24 characters) moves line breaks; the package is still
    laid out and linted as its own pyproject asks."""
    target = tmp_path / "long"
    write_package(kind, "hellenic-parcel_networks", target)
    assert (target / f"emporio_{kind}_hellenic_parcel_networks" / "plugin.py").is_file()
    lint = run(RUFF, "check", "--no-cache", ".", cwd=target)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = run(RUFF, "format", "--check", "--no-cache", ".", cwd=target)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def assert_refused(done: Result, *phrases: str) -> None:
    assert done.exit_code == 2, (done.exit_code, done.output)
    assert done.stdout == ""
    for phrase in phrases:
        assert phrase in done.stderr, done.stderr
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception


def test_bad_kinds_names_and_directories_are_refused(tmp_path: Path) -> None:
    assert_refused(plugin_new_here("shop", "acme", tmp_path / "a"), "Invalid value for 'KIND'", "'shop' is not one of")
    assert_refused(plugin_new_here("psp", "9lives", tmp_path / "b"), "Invalid value for NAME", "'9lives' cannot name")
    assert_refused(plugin_new_here("channel", "web", tmp_path / "c"), "'web' is a channel Emporio has built in")
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing written for a refusal"

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine", encoding="utf-8")
    assert_refused(plugin_new_here("courier", "acme", occupied), "Invalid value for --dir", "is not empty")
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]
    assert (occupied / "notes.txt").read_text(encoding="utf-8") == "mine"
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine", encoding="utf-8")
    assert_refused(plugin_new_here("courier", "acme", a_file), "is not a directory")

    empty = tmp_path / "empty"
    empty.mkdir()
    filled = plugin_new_here("courier", "acme", empty)  # an empty directory is filled
    assert filled.exit_code == 0, filled.output
    assert (empty / "emporio_courier_acme" / "courier.py").is_file()
    assert "wrote the courier plugin emporio_courier_acme (9 files)" in filled.stdout


@pytest.mark.parametrize(
    ("raw", "package", "entry", "title", "env"),
    [
        ("acme", "emporio_psp_acme", "psp-acme", "Acme", "ACME"),
        ("Acme-Pay", "emporio_psp_acme_pay", "psp-acme-pay", "AcmePay", "ACME_PAY"),
        ("viva_wallet2", "emporio_psp_viva_wallet2", "psp-viva-wallet2", "VivaWallet2", "VIVA_WALLET2"),
    ],
)
def test_a_name_in_every_spelling(raw: str, package: str, entry: str, title: str, env: str) -> None:
    names = names_for("psp", raw)
    assert (names.package, names.entry_point, names.title, names.env) == (package, entry, title, env)
    assert names.package.isidentifier()


@pytest.mark.parametrize("raw", ["", "9lives", "acme!", "acme__pay", "acme-", "_acme", "class", "ακμή", "a" * 25])
def test_names_that_make_no_package_are_refused(raw: str) -> None:
    with pytest.raises(ScaffoldError) as refused:
        names_for("courier", raw)
    assert refused.value.param == "name"
