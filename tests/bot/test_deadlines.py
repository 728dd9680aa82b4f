"""The time budgets: one module holds them, and those spent before Slack's ack fit in it."""

from __future__ import annotations

import ast
from pathlib import Path

from bot import deadlines

ROOT = Path(__file__).resolve().parents[2]
BUDGET_WORDS = ("TIMEOUT", "BUDGET")


def test_the_submit_decision_leaves_slack_a_margin() -> None:
    assert deadlines.PRE_ACK_BUDGET + deadlines.NETWORK_MARGIN <= deadlines.SLACK_ACK_LIMIT
    assert deadlines.NETWORK_MARGIN >= 0.5
    # The guard gets what the access check left, but never less than the store's own
    # budget: even a check that used all of its time leaves the whole within budget.
    worst = deadlines.ACCESS_CHECK + max(
        deadlines.STORE_PRE_ACK, deadlines.PRE_ACK_BUDGET - deadlines.ACCESS_CHECK
    )
    assert worst <= deadlines.PRE_ACK_BUDGET


def test_a_blank_modal_opens_before_its_trigger_dies() -> None:
    before_views_open = deadlines.ACCESS_CHECK + deadlines.USUAL_PROVIDER
    assert before_views_open + deadlines.NETWORK_MARGIN < deadlines.TRIGGER_LIFETIME
    # views.open itself is waited for a little past the trigger's life, no more.
    assert deadlines.TRIGGER_LIFETIME < deadlines.VIEWS_OPEN <= deadlines.TRIGGER_LIFETIME + 2


def test_every_budget_is_positive_and_bounded() -> None:
    values = {
        name: value
        for name, value in vars(deadlines).items()
        if name.isupper() and isinstance(value, int | float)
    }
    assert len(values) >= 15
    assert all(0 < value <= 60 for value in values.values()), values


def _budgets_outside_deadlines(path: Path) -> list[str]:
    """Module constants named like a budget, and numeric ``*timeout*`` defaults."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = list(node.targets)
        for target in targets:
            if isinstance(target, ast.Name) and any(w in target.id for w in BUDGET_WORDS):
                found.append(f"{path.relative_to(ROOT)}: {target.id}")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args.kwonlyargs
            for argument, default in zip(arguments, node.args.kw_defaults, strict=True):
                if (
                    "timeout" in argument.arg
                    and isinstance(default, ast.Constant)
                    and isinstance(default.value, int | float)
                ):
                    found.append(f"{path.relative_to(ROOT)}: {node.name}({argument.arg}=)")
    return found


def test_no_other_product_module_defines_a_time_budget() -> None:
    offenders = [
        finding
        for package in ("bot", "handlers")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "deadlines.py"
        for finding in _budgets_outside_deadlines(path)
    ]
    # The copy catalog names a message about a timeout, not a budget.
    assert offenders == ["bot/ui/strings.py: ACCESS_CHECK_TIMEOUT"]
