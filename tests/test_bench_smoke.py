"""``python -m bench --quick`` still runs end to end (the benchmark itself is ``make bench``).

Only that it completes and reports every figure; no figure is judged here, and a
re-send that did not go straight through is only counted, so a slow or busy machine
cannot fail this test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: ``--quick`` takes about 15 s; the bound leaves room for a loaded CI machine.
TIMEOUT_SECONDS = 45

TOP_LEVEL_KEYS = {
    "started_at",
    "config",
    "machine",
    "pinning",
    "latency_ms",
    "floor_ms",
    "store",
    "ready_ms",
    "c1",
    "c50",
    "hang",
    "peak_rss_mb",
    "ceiling",
    "errors",
    "slack_calls",
    "bot_exit_code",
}


def test_quick_bench_runs_and_reports_every_figure(tmp_path: Path) -> None:
    json_path = tmp_path / "latest.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench", "--quick", "--json", str(json_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    # 1 means some re-sends did not go straight through (an overloaded machine can do
    # that to the bot); they are counted, not judged here. 2 means no figures at all.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    summary = lines[0]
    assert summary.startswith("bench: store=sqlite L=200ms floor="), summary
    for figure in ("c1=", "c50 p50=", "rps=", "cpu/resend=", "ack(hang)", "ready=", "rss="):
        assert figure in summary, summary
    assert summary.endswith(f"errors={_errors(json_path)}"), summary

    result = json.loads(json_path.read_text())
    missing = TOP_LEVEL_KEYS - result.keys()
    assert not missing, sorted(missing)
    assert "failure" not in result
    assert (done.returncode == 1) == (_errors(json_path) > 0)
    assert result["c1"]["outcome_ms"]["n"] > 0
    assert result["c50"]["resends"] > 0
    assert result["c50"]["resends_per_s"] > 0
    assert result["c50"]["app_cpu_ms_per_resend"] > 0
    for phase in ("c1", "c50"):
        assert result[phase]["outcome_ms"]["p50"] > 0
        assert result[phase]["ratio_p50"] > 0
    assert result["hang"]["command_ack_ms"]["n"] > 0
    assert result["hang"]["submit_ack_ms"]["p99"] > 0
    assert result["ready_ms"] > 0
    assert result["peak_rss_mb"] > 0
    assert result["ceiling"]["resends_per_s"] > 0
    assert result["machine"]["cpu_model"]
    assert result["bot_exit_code"] == 0


def _errors(json_path: Path) -> int:
    result = json.loads(json_path.read_text())
    phases = [*result["errors"].values(), result["ceiling"]["errors"]]
    return sum(phase["count"] for phase in phases)


def test_profile_summary_reads_py_spys_folded_stacks() -> None:
    from bench.profile import summarize

    folded = [
        "thread (11): MainThread;run (bot/cli.py:9);execute (sqlalchemy/engine/base.py:3) 6\n",
        "thread (11): MainThread;run (bot/cli.py:9);request (httpx/_client.py:5) 3\n",
        "thread (12): Thread-7 (_connection_worker_thread);"
        "_connection_worker_thread (aiosqlite/core.py:63) 1\n",
        "a line py-spy cut short\n",
    ]
    summary = summarize(folded).splitlines()
    assert summary[0] == "10 samples"
    assert summary[1] == "self time by package: sqlalchemy 60.0%, httpx 30.0%, aiosqlite 10.0%"
    assert summary[2] == "threads: MainThread 90.0%, _connection_worker_thread 10.0%"
    assert "   90.0%  run (bot/cli.py)" in summary
