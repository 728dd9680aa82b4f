"""The shape of the tree: what ships, what imports what, and how large a module may grow.

The product is `bot/`, `handlers/` and `providers/`; the dev kit (`devkit/`) and the
benchmark (`bench/`) live apart. These tests read the source with `ast`, run the
serving process under ``-X importtime``, and build the wheel, so a boundary that
slips fails here rather than in a reviewer's head.
"""

from __future__ import annotations

import ast
import asyncio
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI
from tests.processes import HOST, clean_env, fake_settings, free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "handlers", "providers")
DEV_KIT = ("devkit", "bench", "tests")
#: The one module allowed to reach the dev kit, and only from inside a function.
CLI = Path("bot/cli.py")
#: The Spanish copy catalog is a table, not logic; it is exempt from the size rule.
COPY_CATALOG = Path("bot/ui/strings.py")
MAX_MODULE_LINES = 450
MAX_CLASS_LINES = 250


def product_modules() -> Iterator[Path]:
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT)


def imports_of(path: Path) -> Iterator[tuple[str, bool]]:
    """Each module ``path`` imports, and whether the import sits inside a function."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=str(path))

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, in_function
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                yield child.module, in_function
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from visit(child, nested)

    yield from visit(tree, False)


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def test_only_the_cli_reaches_the_dev_kit_and_only_from_inside_a_function() -> None:
    modules = list(product_modules())
    assert CLI in modules
    reaching = {
        (str(path), module, in_function)
        for path in modules
        for module, in_function in imports_of(path)
        if _top(module) in DEV_KIT
    }
    assert reaching == {(str(CLI), "devkit.demo.cli", True)}


def test_handlers_are_leaves_views_do_not_reach_the_core_providers_know_no_slack() -> None:
    rules = {
        # Only the app imports handlers; no handler imports another.
        "bot": ("handlers",),
        "handlers": ("handlers",),
        "bot/ui": ("bot.resend", "bot.services", "bot.surfaces", "bot.search"),
        "providers": ("bot", "handlers"),
    }
    allowed = {(Path("bot/app.py"), "handlers")}
    offenders = []
    for path in product_modules():
        for folder, forbidden in rules.items():
            if not path.is_relative_to(folder):
                continue
            for module, _ in imports_of(path):
                if (path, module) in allowed:
                    continue
                if any(module == name or module.startswith(name + ".") for name in forbidden):
                    offenders.append(f"{path} imports {module}")
    assert offenders == []


def test_no_module_or_class_grows_past_its_size() -> None:
    too_long = []
    for path in product_modules():
        source = (ROOT / path).read_text(encoding="utf-8")
        lines = source.count("\n")
        if path != COPY_CATALOG and lines > MAX_MODULE_LINES:
            too_long.append(f"{path}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    too_long.append(f"{path}: class {node.name} is {size} lines")
    assert too_long == []


def test_no_module_is_named_workflow_but_the_workflow_step() -> None:
    named = sorted(str(p) for p in product_modules() if "workflow" in p.stem)
    assert named == ["handlers/workflow_step.py"]


@pytest.mark.timeout(60)
async def test_serve_never_imports_the_dev_kit_nor_on_sqlite_the_postgresql_path(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = clean_env(tmp_path, **fake_settings(fake_slack, lummy, tusfacturas))
    import_log = tmp_path / "importtime.log"
    argv = [sys.executable, "-X", "importtime", "-m", "bot", "serve", "--http"]
    argv += ["--host", HOST, "--port", str(port)]
    with import_log.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    try:
        await wait_ready(f"http://{HOST}:{port}", timeout=30, details=import_log.read_text)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=15)
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in import_log.read_text(errors="replace").splitlines()
        if line.startswith("import time:")
    }
    assert "bot.server" in imported  # the log is the serving process' own
    assert any(m.startswith("handlers.") for m in imported)
    assert sorted(m for m in imported if _top(m) in DEV_KIT) == []
    # The history is on SQLite here: asyncpg and the asyncio extension (and the ORM it
    # pulls in) stay unloaded.
    postgres_path = ("asyncpg", "sqlalchemy.ext.asyncio", "sqlalchemy.orm", "bot.history.postgres")
    assert sorted(m for m in imported if m.startswith(postgres_path)) == []


@pytest.mark.timeout(180)
def test_the_wheel_ships_the_product_alone(tmp_path: Path) -> None:
    project_uv = ROOT / ".tools" / "bin" / "uv"
    uv = str(project_uv) if project_uv.exists() else shutil.which("uv")
    assert uv is not None, "uv is installed by make"
    result = subprocess.run(  # noqa: S603 - uv from the project's own tools
        [uv, "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=170,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == set(PRODUCT)
