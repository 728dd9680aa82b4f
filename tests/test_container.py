"""The container recipe: the Dockerfile's promises, compose.yaml against the Compose
specification, and the image's install and start commands run outside a container.

No base image can be pulled here, so the image is never built: its build stage's
``uv sync`` runs with the same flags and environment into a fresh directory, from a
copy of exactly what the Dockerfile copies, and then its ``CMD`` runs against the
local Slack and the emulators until its ``HEALTHCHECK`` command passes. hadolint
lints the file itself (``make lint``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI, process
from tests.processes import HOST, fake_settings, free_port, run_command_async

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "schemas"


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    name: str
    value: str

    def words(self) -> list[str]:
        return self.value.split()

    def exec_form(self) -> list[str]:
        """The JSON array of ``CMD [...]`` (after any options, as in HEALTHCHECK)."""
        parsed: list[str] = json.loads(self.value[self.value.index("[") :])
        return parsed


def stages() -> list[list[Instruction]]:
    """The Dockerfile's stages, each a list of its instructions (FROM first)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found: list[list[Instruction]] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        name, _, value = line.strip().partition(" ")
        if name.upper() == "FROM":
            found.append([])
        found[-1].append(Instruction(name.upper(), value.strip()))
    return found


def env_of(stage: list[Instruction]) -> dict[str, str]:
    """A stage's ``ENV key=value ...`` settings."""
    return dict(word.split("=", 1) for item in stage if item.name == "ENV" for word in item.words())


def only(stage: list[Instruction], name: str) -> Instruction:
    (found,) = [item for item in stage if item.name == name]
    return found


def build_stage() -> list[Instruction]:
    return next(stage for stage in stages() if stage[0].value.endswith(" AS build"))


def runtime_stage() -> list[Instruction]:
    return stages()[-1]


def final_sync() -> list[str]:
    """The flags of the build stage's last ``uv sync``, the one that installs the project."""
    runs = [item.value for item in build_stage() if item.name == "RUN" and "uv sync" in item.value]
    return runs[-1].split("uv sync", 1)[1].split()


def test_the_image_is_built_in_stages_and_runs_unprivileged() -> None:
    assert len(stages()) >= 3  # uv, build, runtime
    runtime = runtime_stage()
    assert "COPY --from=build /app/.venv /app/.venv" in [f"COPY {i.value}" for i in runtime]
    assert not any(item.name == "RUN" and "uv" in item.words() for item in runtime)
    user = only(runtime, "USER").value
    assert user.split(":")[0] not in {"0", "root"}
    assert final_sync() == ["--locked", "--no-dev", "--no-editable", "--compile-bytecode"]
    assert env_of(build_stage())["UV_COMPILE_BYTECODE"] == "1"


def test_data_dir_health_check_signal_and_port() -> None:
    runtime = runtime_stage()
    env = env_of(runtime)
    assert json.loads(only(runtime, "VOLUME").value) == [env["DATA_DIR"]]
    assert only(runtime, "EXPOSE").value == env["PORT"] == "3000"
    assert only(runtime, "STOPSIGNAL").value == "SIGTERM"
    health = only(runtime, "HEALTHCHECK")
    assert health.exec_form()[0] == "python"  # the image has no curl
    assert "/readyz" in health.value
    assert only(runtime, "CMD").exec_form() == ["reenviar-bot", "serve"]


def test_the_build_context_is_what_the_dockerfile_copies() -> None:
    """``.dockerignore`` lets in only the build stage's sources: never .env, nor the dev kit."""
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    copied = {
        word
        for item in build_stage()
        if item.name == "COPY" and not item.value.startswith("--from")
        for word in item.words()[:-1]
    }
    assert patterns[0] == "*"
    assert {p.removeprefix("!") for p in patterns if p.startswith("!")} == copied
    assert not {".env", "devkit/", "tests/"} & copied


def compose() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((REPO / "compose.yaml").read_text("utf-8"))
    return loaded


def test_compose_file_is_valid_for_the_compose_specification() -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft7Validator(schema).iter_errors(compose())
    ]
    assert errors == []


def test_compose_starts_the_bot_once_postgresql_is_healthy() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    bot, postgres = services["bot"], services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert bot["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert bot["env_file"] == ".env"
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://reenviar:")
    assert "@postgres:5432/reenviar" in bot["environment"]["DATABASE_URL"]
    data_dir = env_of(runtime_stage())["DATA_DIR"]
    assert bot["environment"]["DATA_DIR"] == data_dir
    assert [volume.split(":")[1] for volume in bot["volumes"]] == [data_dir]


def uv_binary() -> str:
    """The uv running the tests (``uv run`` says which), else the project's own."""
    for candidate in (os.environ.get("UV"), str(REPO / ".tools" / "bin" / "uv"), "uv"):
        if candidate and shutil.which(candidate):
            return candidate
    pytest.fail("uv is needed for this test: run it through `make test`")


def copy_build_context(destination: Path) -> None:
    """What the build stage copies from the context, as it copies it."""
    ignored = shutil.ignore_patterns("__pycache__")
    for item in build_stage():
        if item.name != "COPY" or item.value.startswith("--from"):
            continue
        *sources, _ = item.words()
        for source in sources:
            path = REPO / source
            if path.is_dir():
                shutil.copytree(path, destination / source, ignore=ignored)
            else:
                shutil.copy(path, destination / source)


def prepare(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """The build context's copy, the virtualenv's place, the volume, the working directory."""
    source, venv, data, workdir = (tmp_path / name for name in ("src", "venv", "data", "app"))
    for directory in (source, data, workdir):
        directory.mkdir()
    copy_build_context(source)
    return source, venv, data, workdir


def build_environment(venv: Path) -> dict[str, str]:
    """The build stage's ENV, the virtualenv in ``venv``, uv's warm cache kept."""
    return {
        **{name: value for name, value in os.environ.items() if name != "VIRTUAL_ENV"},
        **env_of(build_stage()),
        "UV_PROJECT_ENVIRONMENT": str(venv),
        # The interpreter the image's base provides; here, the tests' own.
        "UV_PYTHON": os.path.realpath(sys.executable),
    }


def assert_installed_as_the_image_has_it(venv: Path) -> None:
    """The product's packages as a compiled wheel, and nothing of the dev kit."""
    (site,) = venv.glob("lib/python3*/site-packages")
    for package in ("bot", "handlers", "providers"):
        assert any((site / package / "__pycache__").glob("*.pyc")), f"{package} not compiled"
    assert not (site / "devkit").exists()
    assert not list(site.glob("*.pth")), "installed editable"


@pytest.mark.timeout(300)
async def test_the_images_install_and_start_commands_work_outside_a_container(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> None:
    source, venv, data, workdir = prepare(tmp_path)
    synced = await run_command_async(
        [uv_binary(), "sync", *final_sync()], build_environment(venv), source, timeout=240
    )
    assert synced.returncode == 0, synced.stderr
    assert_installed_as_the_image_has_it(venv)

    runtime = runtime_stage()
    port = free_port()
    env = {
        **env_of(runtime),
        **fake_settings(fake_slack, lummy, tusfacturas),
        "PATH": f"{venv / 'bin'}:{os.defpath}",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "DATA_DIR": str(data),  # the volume
        "PORT": str(port),
        "HOST": HOST,  # the container listens on every interface; this test, on loopback
    }
    command = only(runtime, "CMD").exec_form()
    executable = shutil.which(command[0], path=env["PATH"])
    assert executable == str(venv / "bin" / command[0])
    proc = await asyncio.create_subprocess_exec(
        executable,
        *command[1:],
        env=env,
        cwd=workdir,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    bot = process.BotProcess(proc, argv=command, env=env, port=port)
    health = only(runtime, "HEALTHCHECK").exec_form()
    try:
        healthy = await _passes_within(health, env, workdir, seconds=30)
        doctor = await run_command_async(["reenviar-bot", "doctor"], env, workdir, timeout=60)
        proc.send_signal(signal.Signals[only(runtime, "STOPSIGNAL").value])
        code = await bot.wait_exit(timeout=30)
    finally:
        await bot.kill()

    assert healthy, bot.output()
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert code == 0, bot.output()
    assert "Traceback" not in bot.output()


async def _passes_within(
    argv: list[str], env: dict[str, str], cwd: Path, *, seconds: float
) -> bool:
    """Whether the health check command exits 0 within ``seconds``, tried as Docker does."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        result = await run_command_async(argv, env, cwd, timeout=10)
        if result.returncode == 0:
            return True
        await asyncio.sleep(0.2)
    return False
