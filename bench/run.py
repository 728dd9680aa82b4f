"""``python -m bench``: run every phase once, print one summary line, write the JSON.

Phases, in order (each bounded; the bot is killed at the end whatever happens):

1. floor: ``chat.postMessage`` + the Lummy re-send + ``chat.update``, made directly by
   this process against the same fakes, with nothing else running;
2. time to ready: spawn ``python -m bot serve --http`` until ``GET /readyz`` is 200;
3. C=1: one agent, re-send after re-send (submit → outcome);
4. C=50: fifty agents in a closed loop; over the window: re-sends per second,
   submit → outcome, the bot's CPU per re-send and the load side's CPU;
5. hang: the provider takes 5 s per call; fifty agents, staggered so about fifty
   re-sends are always waiting on it; command and submit ack latency;
6. peak RSS of the bot, then SIGTERM;
7. ceiling: the same closed loop against a trivial responder instead of the bot,
   with the provider answering at once: the most the load side can drive.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp

from bench import profile
from bench.fakeslack import LeanSlack
from bench.load import SIGNING_SECRET, Agents, Invoices, Recorder, Sample, closed_loop
from bench.procs import (
    HOST,
    ROOT,
    Child,
    Pinning,
    busy_percent,
    cpu_jiffies,
    free_port,
    machine,
    own_cpu_seconds,
    peak_rss_mb,
    process_cpu_split,
    thread_cpus,
)
from devkit.emulators import Fault, FaultKind, LummyEmulator, TusFacturasEmulator
from devkit.emulators.tusfacturas import TusFacturasCredentials

DEFAULT_JSON: Final = ROOT / "bench" / "results" / "latest.json"
BOT_TOKEN: Final = "xoxb-fake-bench"  # noqa: S105 - local fake
LUMMY_API_KEY: Final = "lummy-bench-api-key"
LUMMY_ORG: Final = "7b0c5a2e-bench-4c3d-9e8f-000000000001"
TF_CREDENTIALS: Final = TusFacturasCredentials(
    "tf-bench-apikey", "tf-bench-apitoken", "tf-bench-ut"
)
READY_TIMEOUT: Final = 60.0
JsonDict = dict[str, Any]
#: Where the floor's messages go (no agent waits there).
FLOOR_CHANNEL: Final = "C0FLOOR01"


@dataclass(frozen=True, slots=True)
class Config:
    latency_ms: int = 200
    duration: float = 10.0
    concurrency: int = 50
    warmup: float = 2.0
    c1_samples: int = 30
    floor_samples: int = 30
    hang_ms: int = 5000
    hang_duration: float = 10.0
    ceiling_duration: float = 5.0
    ceiling_only: bool = False
    #: An outcome later than the provider's latency plus this many seconds counts as lost.
    outcome_slack: float = 30.0
    postgres: str | None = None
    quick: bool = False
    #: Where the bot's own output (stdout and stderr) is copied at the end.
    bot_log: str | None = None
    #: Where py-spy writes the bot's folded stacks for the C=50 window (None: no profile).
    profile: str | None = None

    @property
    def latency(self) -> float:
        return self.latency_ms / 1000

    @property
    def hang(self) -> float:
        return self.hang_ms / 1000


def quick(cfg: Config) -> Config:
    """Tiny counts and short windows: a smoke run."""
    return replace(
        cfg,
        duration=2.0,
        warmup=0.5,
        c1_samples=5,
        floor_samples=5,
        hang_ms=1000,
        hang_duration=1.5,
        ceiling_duration=1.5,
        outcome_slack=10.0,
    )


# --- figures ------------------------------------------------------------------------


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``nan`` when there are no samples)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


def dist_ms(seconds: Sequence[float]) -> JsonDict:
    """n, p50, p99, max in milliseconds."""

    def ms(value: float) -> float | None:
        return None if math.isnan(value) else round(value * 1000, 1)

    return {
        "n": len(seconds),
        "p50": ms(percentile(seconds, 50)),
        "p99": ms(percentile(seconds, 99)),
        "max": ms(max(seconds, default=math.nan)),
    }


def ratio(value_ms: float | None, floor_ms: float | None) -> float | None:
    if value_ms is None or not floor_ms:
        return None
    return round(value_ms / floor_ms, 2)


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the summary line."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- the fakes ----------------------------------------------------------------------


class Fakes:
    """The lean Slack and both provider emulators, served by this process."""

    def __init__(self) -> None:
        self.slack = LeanSlack()
        self.lummy = LummyEmulator(LUMMY_API_KEY, LUMMY_ORG, invoices={})
        self.tusfacturas = TusFacturasEmulator([TF_CREDENTIALS])
        self.invoices = Invoices(self._register)
        self._housekeeping: asyncio.Task[None] | None = None
        #: Provider calls by emulator and route (``lummy resend``), over the whole run.
        self.provider_calls: Counter[str] = Counter()

    def _register(self, invoice: str) -> None:
        self.lummy.invoices[invoice] = f"cliente+{invoice[-6:]}@empresa.com"

    async def start(self) -> None:
        await self.slack.start(HOST)
        await self.lummy.start(HOST)
        await self.tusfacturas.start(HOST)
        self._housekeeping = asyncio.create_task(self._forget_requests())

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        await self.tusfacturas.stop()
        await self.lummy.stop()
        await self.slack.stop()

    async def _forget_requests(self) -> None:
        # The emulators keep every request and send for the tests' assertions, and Lummy's
        # rate limit scans its sends: drop them, so the load side's cost stays flat.
        # (Every benchmark invoice is new, so the hourly limit never applies anyway.)
        while True:
            await asyncio.sleep(0.5)
            for name, emulator in (("lummy", self.lummy), ("tusfacturas", self.tusfacturas)):
                self.provider_calls.update(f"{name} {r.route}" for r in emulator.requests)
                emulator.requests.clear()
            self.lummy.sends.clear()
            self.tusfacturas.sends.clear()

    def provider_latency(self, seconds: float) -> None:
        """Every Lummy answer from now on takes ``seconds`` (handled at once, answered late)."""
        self.lummy.clear_faults()
        if seconds > 0:
            self.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=seconds))

    def bot_env(self, cwd: Path, postgres: tuple[str, str] | None) -> dict[str, str]:
        """A clean environment: nothing from ours, no .env (cwd and HOME are ``cwd``)."""
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "PYTHONPATH": str(ROOT),
            "HOME": str(cwd),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DATA_DIR": str(cwd / "data"),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "LUMMY_API_KEY": LUMMY_API_KEY,
            "LUMMY_ORGANIZATION_ID": LUMMY_ORG,
            "LUMMY_BASE_URL": self.lummy.base_url,
            "TUSFACTURAS_APIKEY": TF_CREDENTIALS.apikey,
            "TUSFACTURAS_APITOKEN": TF_CREDENTIALS.apitoken,
            "TUSFACTURAS_USERTOKEN": TF_CREDENTIALS.usertoken,
            "TUSFACTURAS_BASE_URL": self.tusfacturas.base_url,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
        }
        if postgres is not None:
            env["DATABASE_URL"], env["DATABASE_SCHEMA"] = postgres
        return env


async def measure_floor(fakes: Fakes, samples: int) -> list[float]:
    """The calls no re-send can avoid, one after the other: post, provider, update."""
    slack = fakes.slack.api_url
    auth = {"Authorization": f"Bearer {BOT_TOKEN}"}
    lummy_headers = {
        "x-api-key": LUMMY_API_KEY,
        "Authorization": f"Bearer {LUMMY_API_KEY}",
        "x-organization-id": LUMMY_ORG,
        "Content-Type": "application/json",
    }
    times: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        for number in range(samples + 3):  # the first three only open connections
            invoice = fakes.invoices.new()
            text = f"Reenviando `{invoice}`…"
            started = time.perf_counter()
            async with http.post(
                slack + "chat.postMessage",
                json={"channel": FLOOR_CHANNEL, "text": text},
                headers=auth,
            ) as response:
                posted = await response.json()
            async with http.post(
                f"{fakes.lummy.base_url}/invoices/{invoice}/resend-pdf",
                data=b"{}",
                headers={**lummy_headers, "x-idempotency": str(uuid.uuid4())},
            ) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"floor: Lummy answered {response.status}")
            async with http.post(
                slack + "chat.update",
                json={"channel": posted["channel"], "ts": posted["ts"], "text": "✅ " + text},
                headers=auth,
            ) as response:
                await response.read()
            if number >= 3:
                times.append(time.perf_counter() - started)
    return times


# --- phases against an app (the bot or the responder) ---------------------------------------


@dataclass
class Window:
    """What a closed loop did between two instants."""

    samples: list[Sample]
    seconds: float
    app_cpu: float | None
    #: The part of ``app_cpu`` spent in the kernel (syscalls, thread wake-ups).
    app_sys_cpu: float | None
    load_cpu: float
    #: How busy each CPU was, by anyone: tells whether something else competed.
    cpus_busy: dict[str, float]

    @property
    def rate(self) -> float:
        return len(self.samples) / self.seconds if self.seconds > 0 else 0.0

    def figures(self, floor_ms: float | None) -> JsonDict:
        outcome = dist_ms([s.outcome for s in self.samples])
        count = len(self.samples)
        figures: JsonDict = {
            "window_s": round(self.seconds, 2),
            "resends": count,
            "resends_per_s": round(self.rate, 1),
            "outcome_ms": outcome,
            "ratio_p50": ratio(outcome["p50"], floor_ms),
            "ratio_p99": ratio(outcome["p99"], floor_ms),
            "command_ack_ms": dist_ms([s.command_ack for s in self.samples]),
            "submit_ack_ms": dist_ms([s.submit_ack for s in self.samples]),
            "load_cpu_percent": round(100 * self.load_cpu / self.seconds, 1),
            "load_cpu_ms_per_resend": round(1000 * self.load_cpu / count, 2) if count else None,
            # What the load side could drive with one CPU to itself (a linear estimate).
            "load_capacity_per_s": round(self.rate * self.seconds / self.load_cpu)
            if self.load_cpu > 0
            else None,
            "cpus_busy_percent": self.cpus_busy,
        }
        if self.app_cpu is not None:
            figures["app_cpu_percent"] = round(100 * self.app_cpu / self.seconds, 1)
            if self.app_sys_cpu is not None and self.app_cpu > 0:
                figures["app_sys_share_percent"] = round(100 * self.app_sys_cpu / self.app_cpu, 1)
            figures["app_cpu_ms_per_resend"] = (
                round(1000 * self.app_cpu / count, 2) if count else None
            )
        return figures


async def load_window(
    agents: Agents,
    record: Recorder,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    app_pid: int | None,
) -> Window:
    """Closed-loop load: ``warmup`` seconds, then the measured window, then a bounded drain."""
    stop = False
    loop = asyncio.create_task(
        closed_loop(agents, record, concurrency=concurrency, until=lambda: stop)
    )
    try:
        await asyncio.sleep(warmup)
        app_before = process_cpu_split(app_pid) if app_pid is not None else None
        load_before = own_cpu_seconds()
        cpus_before = cpu_jiffies()
        started = time.perf_counter()
        await asyncio.sleep(duration)
        ended = time.perf_counter()
        load_cpu = own_cpu_seconds() - load_before
        cpus_busy = busy_percent(cpus_before, cpu_jiffies())
        app_cpu = app_sys = None
        if app_pid is not None and app_before is not None:
            user, system = process_cpu_split(app_pid)
            app_cpu = user + system - sum(app_before)
            app_sys = system - app_before[1]
        stop = True
        await asyncio.wait_for(asyncio.shield(loop), agents.outcome_timeout + 10)
    finally:
        stop = True
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    in_window = [s for s in record.samples if started <= s.done_at < ended]
    return Window(in_window, ended - started, app_cpu, app_sys, load_cpu, cpus_busy)


async def profile_window(py_spy: list[str], pid: int, cfg: Config, output: Path) -> JsonDict:
    """py-spy over the C=50 window (it starts after the warm-up); the summary, logged."""
    await asyncio.sleep(cfg.warmup)
    await profile.record(py_spy, pid, cfg.duration, output)
    summary_text = await asyncio.to_thread(profile.summarize_file, output)
    log(f"profile of the bot over the C={cfg.concurrency} window ({output}):\n{summary_text}")
    return {"folded_stacks": str(output), "summary": summary_text.splitlines()}


async def one_at_a_time(agents: Agents, record: Recorder, count: int) -> None:
    for _ in range(count):
        if await agents.resend(0, record) is None:
            await asyncio.sleep(0.05)


async def hang_phase(fakes: Fakes, agents: Agents, cfg: Config) -> JsonDict:
    """Acks while every provider call takes ``cfg.hang`` seconds."""
    fakes.provider_latency(cfg.hang)
    agents.outcome_timeout = cfg.hang + cfg.outcome_slack
    record = Recorder()
    ramp = cfg.hang  # staggered starts: after the ramp, ~concurrency re-sends are waiting
    end = time.perf_counter() + ramp + cfg.hang_duration
    try:
        await asyncio.wait_for(
            closed_loop(
                agents,
                record,
                concurrency=cfg.concurrency,
                until=lambda: time.perf_counter() >= end,
                stagger=ramp,
            ),
            ramp + cfg.hang_duration + agents.outcome_timeout + 10,
        )
    finally:
        fakes.provider_latency(cfg.latency)
        agents.outcome_timeout = cfg.latency + cfg.outcome_slack
    return {
        "provider_latency_ms": cfg.hang_ms,
        "concurrency": cfg.concurrency,
        "seconds": round(ramp + cfg.hang_duration, 1),
        "command_ack_ms": dist_ms(record.command_acks),
        "submit_ack_ms": dist_ms(record.submit_acks),
        "resends": len(record.samples),
        "errors": record.error_report(),
    }


# --- the bot ------------------------------------------------------------------------


async def bench_bot(
    fakes: Fakes, cfg: Config, pinning: Pinning, cwd: Path, floor_ms: float | None, result: JsonDict
) -> None:
    """Every phase against the bot; figures go into ``result`` as they come."""
    postgres = (cfg.postgres, f"bench_{uuid.uuid4().hex[:12]}") if cfg.postgres else None
    port = free_port()
    bot = Child(
        "bot",
        [sys.executable, "-m", "bot", "serve", "--http", "--host", HOST, "--port", str(port)],
        fakes.bot_env(cwd, postgres),
        cwd,
        pinning.app_cpu,
    )
    base = f"http://{HOST}:{port}"
    result["store"] = "postgresql" if postgres else "sqlite"
    if postgres is not None:
        result["postgres_schema"] = postgres[1]
    agents = Agents(
        base + "/slack/events",
        fakes.slack,
        fakes.invoices,
        concurrency=cfg.concurrency,
        outcome_timeout=cfg.latency + cfg.outcome_slack,
    )
    errors: dict[str, JsonDict] = {}
    py_spy = await profile.prepare() if cfg.profile else None
    try:
        await bot.start()
        result["ready_ms"] = round(1000 * await bot.wait_ready(base + "/readyz", READY_TIMEOUT), 1)
        log(f"bot ready in {result['ready_ms']:.0f} ms (pid {bot.pid})")

        warm = Recorder()
        await one_at_a_time(agents, warm, 3 if cfg.quick else 10)
        errors["warmup"] = _errors(warm)
        if not warm.samples:
            # Nothing works end to end: say why now rather than time out phase after phase.
            raise RuntimeError(f"no re-send completed in the warm-up: {warm.errors[:3]}")

        record = Recorder()
        await one_at_a_time(agents, record, cfg.c1_samples)
        outcome = dist_ms([s.outcome for s in record.samples])
        result["c1"] = {
            "outcome_ms": outcome,
            "ratio_p50": ratio(outcome["p50"], floor_ms),
            "ratio_p99": ratio(outcome["p99"], floor_ms),
            "command_ack_ms": dist_ms(record.command_acks),
            "submit_ack_ms": dist_ms(record.submit_acks),
        }
        errors["c1"] = _errors(record)
        log(f"C=1: outcome p50 {outcome['p50']} ms over {outcome['n']} re-sends")

        record = Recorder()
        profiling = (
            asyncio.create_task(profile_window(py_spy, bot.pid, cfg, Path(cfg.profile)))
            if py_spy and cfg.profile
            else None
        )
        window = await load_window(
            agents,
            record,
            concurrency=cfg.concurrency,
            warmup=cfg.warmup,
            duration=cfg.duration,
            app_pid=bot.pid,
        )
        if profiling is not None:
            result["profile"] = await profiling
        figures = window.figures(floor_ms)
        figures["others_cpu_percent"] = others_percent(figures, pinning)
        result["c50"] = {"concurrency": cfg.concurrency, **figures}
        errors["c50"] = _errors(record)
        log(f"C={cfg.concurrency}: {window.rate:.1f} re-sends/s over {window.seconds:.1f} s")

        result["hang"] = await hang_phase(fakes, agents, cfg)
        errors["hang"] = result["hang"]["errors"]
        log(f"hang: submit ack p99 {result['hang']['submit_ack_ms']['p99']} ms")

        result["peak_rss_mb"] = _round(peak_rss_mb(bot.pid))
        result["pinning"]["bot_thread_cpus"] = thread_cpus(bot.pid)
    finally:
        result["errors"] = errors
        await agents.aclose()
        result["bot_exit_code"] = await bot.stop()
        if cfg.bot_log is not None:
            with contextlib.suppress(OSError):
                Path(cfg.bot_log).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(bot.log_path, cfg.bot_log)
                result["bot_log"] = cfg.bot_log
        if result["bot_exit_code"] not in (0, None):
            log(f"bot exited with {result['bot_exit_code']}; its output:\n{bot.output_tail()}")
        if postgres is not None:
            await _drop_schema(postgres[0], postgres[1])


def others_percent(figures: JsonDict, pinning: Pinning) -> JsonDict | None:
    """CPU time on the two pinned CPUs that neither the app nor the load side used.

    Near zero: the figures had the machine to themselves. Large: something else ran.
    """
    if pinning.app_cpu is None or pinning.load_cpu is None:
        return None
    busy = figures["cpus_busy_percent"]
    app = busy.get(f"cpu{pinning.app_cpu}")
    load = busy.get(f"cpu{pinning.load_cpu}")
    return {
        "app_cpu": None if app is None else round(max(0.0, app - figures["app_cpu_percent"]), 1),
        "load_cpu": None
        if load is None
        else round(max(0.0, load - figures["load_cpu_percent"]), 1),
    }


def _errors(record: Recorder) -> JsonDict:
    return record.error_report()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def _drop_schema(url: str, schema: str) -> None:
    """Best effort: remove the benchmark's own schema (never anything else)."""
    import asyncpg  # type: ignore[import-untyped]

    try:
        connection = await asyncpg.connect(url, timeout=5)
        try:
            await asyncio.wait_for(
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'), 10
            )
        finally:
            await connection.close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        log(f"could not drop schema {schema}: {exc}")


# --- the ceiling --------------------------------------------------------------------


async def bench_ceiling(
    fakes: Fakes, cfg: Config, pinning: Pinning, cwd: Path, duration: float
) -> JsonDict:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(ROOT),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "LUMMY_API_KEY": LUMMY_API_KEY,
        "LUMMY_ORGANIZATION_ID": LUMMY_ORG,
    }
    argv = [
        sys.executable,
        "-m",
        "bench.responder",
        "--port",
        str(port),
        "--slack-api-url",
        fakes.slack.api_url,
        "--lummy-url",
        fakes.lummy.base_url,
    ]
    responder = Child("responder", argv, env, cwd, pinning.app_cpu)
    agents = Agents(
        f"http://{HOST}:{port}/slack/events",
        fakes.slack,
        fakes.invoices,
        concurrency=cfg.concurrency,
        outcome_timeout=cfg.outcome_slack,
    )
    fakes.provider_latency(0)
    try:
        await responder.start()
        await responder.wait_ready(f"http://{HOST}:{port}/readyz", READY_TIMEOUT)
        record = Recorder()
        window = await load_window(
            agents,
            record,
            concurrency=cfg.concurrency,
            warmup=min(cfg.warmup, 1.0),
            duration=duration,
            app_pid=responder.pid,
        )
    finally:
        fakes.provider_latency(cfg.latency)
        await agents.aclose()
        await responder.stop(grace=5)
    figures = window.figures(None)
    log(f"ceiling: {window.rate:.0f} re-sends/s, load side {figures['load_cpu_percent']}% CPU")
    return {
        "provider_latency_ms": 0,
        "concurrency": cfg.concurrency,
        "resends_per_s": figures["resends_per_s"],
        "window_s": figures["window_s"],
        "load_cpu_percent": figures["load_cpu_percent"],
        "load_cpu_ms_per_resend": figures["load_cpu_ms_per_resend"],
        "load_capacity_per_s": figures["load_capacity_per_s"],
        "responder_cpu_percent": figures.get("app_cpu_percent"),
        "cpus_busy_percent": figures["cpus_busy_percent"],
        "others_cpu_percent": others_percent(figures, pinning),
        "errors": _errors(record),
    }


# --- the whole run ------------------------------------------------------------------


async def run(cfg: Config, result: JsonDict) -> None:
    """Every phase; figures go into ``result`` as they come, so a failure keeps them."""
    host_machine = machine()
    pinning = Pinning.choose()
    pinning.pin_self()
    result.update(
        {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "config": asdict(cfg) | {"postgres": bool(cfg.postgres)},
            "machine": host_machine,
            "pinning": {"app_cpu": pinning.app_cpu, "load_cpu": pinning.load_cpu},
            "latency_ms": cfg.latency_ms,
        }
    )
    fakes = Fakes()
    with tempfile.TemporaryDirectory(prefix="reenviar-bench-") as tmp:
        cwd = Path(tmp)
        await fakes.start()
        try:
            fakes.provider_latency(cfg.latency)
            floor = await measure_floor(fakes, cfg.floor_samples)
            result["floor_ms"] = dist_ms(floor)
            floor_ms = result["floor_ms"]["p50"]
            log(f"floor p50 {floor_ms} ms (provider latency {cfg.latency_ms} ms)")
            if not cfg.ceiling_only:
                await bench_bot(fakes, cfg, pinning, cwd, floor_ms, result)
            duration = cfg.duration if cfg.ceiling_only else cfg.ceiling_duration
            result["ceiling"] = await bench_ceiling(fakes, cfg, pinning, cwd, duration)
        except Exception as exc:
            # Still write what was measured, and say why the rest is missing.
            log("failed:\n" + "".join(traceback.format_exception(exc)))
            result["failure"] = f"{type(exc).__name__}: {exc}"[:4000]
        except asyncio.CancelledError:
            result["failure"] = "interrupted (SIGTERM or Ctrl-C)"
            raise
        finally:
            result["slack_calls"] = dict(sorted(fakes.slack.calls.items()))
            result["provider_calls"] = dict(sorted(fakes.provider_calls.items()))
            await fakes.stop()


def error_count(result: JsonDict) -> int:
    phases = [*result.get("errors", {}).values(), result.get("ceiling", {}).get("errors", {})]
    return sum(int(phase.get("count", 0)) for phase in phases)


def summary(result: JsonDict) -> str:
    """The one line on stdout."""
    if "failure" in result:
        first = str(result["failure"]).splitlines()[0]
        return f"bench: FAILED {first}"

    def num(value: Any, fmt: str, suffix: str = "") -> str:
        return "?" if value is None else f"{value:{fmt}}{suffix}"

    parts = ["bench:"]
    if "store" in result:
        parts.append(f"store={result['store']}")
    parts.append(f"L={result['latency_ms']}ms floor={num(result['floor_ms']['p50'], '.0f', 'ms')}")
    if "hang" in result:
        c1, c50, hang = result["c1"], result["c50"], result["hang"]
        parts += [
            f"c1={num(c1['ratio_p50'], '.2f', 'x')}",
            f"c{c50['concurrency']} p50={num(c50['ratio_p50'], '.2f', 'x')}"
            f" p99={num(c50['ratio_p99'], '.2f', 'x')}",
            f"rps={num(c50['resends_per_s'], '.1f')}",
            f"cpu/resend={num(c50.get('app_cpu_ms_per_resend'), '.1f', 'ms')}"
            f" (kernel {num(c50.get('app_sys_share_percent'), '.0f', '%')})",
            f"ack(hang) p99 cmd={num(hang['command_ack_ms']['p99'], '.0f', 'ms')}"
            f" submit={num(hang['submit_ack_ms']['p99'], '.0f', 'ms')}",
            f"ready={num(result.get('ready_ms'), '.0f', 'ms')}",
            f"rss={num(result.get('peak_rss_mb'), '.0f', 'MB')}",
            f"loadcpu={num(c50['load_cpu_percent'], '.0f', '%')}",
        ]
    ceiling = result.get("ceiling", {})
    parts.append(
        f"ceiling={num(ceiling.get('resends_per_s'), '.0f', '/s')}"
        f" (loadcpu={num(ceiling.get('load_cpu_percent'), '.0f', '%')})"
    )
    parts.append(f"errors={error_count(result)}")
    return " ".join(parts)


#: The numeric `Config` fields set from the command line (``--latency-ms`` ...), with what
#: their help says (the default is appended).
_NUMERIC_OPTIONS: Final = (
    ("latency_ms", "emulated provider latency L"),
    ("duration", "seconds of the measured C=50 window"),
    ("concurrency", "agents in the closed loops"),
    ("c1_samples", "re-sends one at a time"),
    ("floor_samples", ""),
    ("hang_ms", "provider latency during the ack phase"),
    ("hang_duration", "seconds of the ack phase after its ramp"),
    ("ceiling_duration", "seconds of the ceiling phase"),
)


def parse_args(argv: Sequence[str] | None) -> tuple[Config, Path]:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the production bot, black-box, against local fakes.",
    )
    defaults = Config()
    for name, text in _NUMERIC_OPTIONS:
        parser.add_argument(
            "--" + name.replace("_", "-"),
            type=type(getattr(defaults, name)),
            default=getattr(defaults, name),
            help=f"{text} (default %(default)s)" if text else None,
        )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="only the load generator's ceiling (no bot), for --duration",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run the bot on PostgreSQL (a fresh schema, dropped afterwards)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny counts and short windows: a smoke run of about 20 s",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        type=Path,
        help="record the bot with py-spy over the C=50 window into FILE (folded stacks)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="where to write every figure (default bench/results/latest.json)",
    )
    args = parser.parse_args(argv)
    cfg = Config(
        **{name: getattr(args, name) for name, _ in _NUMERIC_OPTIONS},
        ceiling_only=args.ceiling,
        postgres=args.postgres,
        quick=args.quick,
        profile=str(args.profile) if args.profile else None,
    )
    if args.quick:
        cfg = quick(cfg)
    cfg = replace(cfg, bot_log=str(args.json.with_suffix(".bot.log")))
    return cfg, args.json


async def _main(cfg: Config, result: JsonDict) -> None:
    task = asyncio.current_task()
    if task is not None:
        # A SIGTERM to the benchmark still stops the bot on the way out.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await run(cfg, result)


def main(argv: Sequence[str] | None = None) -> int:
    cfg, json_path = parse_args(argv)
    result: JsonDict = {}
    try:
        asyncio.run(_main(cfg, result))
    except (KeyboardInterrupt, asyncio.CancelledError):
        result.setdefault("failure", "interrupted (SIGTERM or Ctrl-C)")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(summary(result), flush=True)
    log(f"figures in {json_path}")
    if "failure" in result:
        return 2
    return 1 if error_count(result) else 0
