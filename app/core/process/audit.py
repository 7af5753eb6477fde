"""The post-hoc audit: every decision in a process's log against the task's solver.

Independent of the engine's own bookkeeping: it re-reads the log from its first line, recomputes
the hash chain and the states by the rules, and compares each decided action with the solver's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.core.process.oracle import Oracle, oracle_for
from app.core.process.recovery import chain_next
from app.core.process.store import ProcessStore
from app.core.process.task import Parsed, RedFlag, Task


@dataclass
class AuditReport:
    decisions: int = 0
    errors: int = 0
    first_errors: list[dict[str, Any]] = field(default_factory=list)
    broken: str = ""  # a rule break or a chain break in the log itself
    solver: bool = True  # False: the task has no solver; only rules and the chain were checked
    done: bool = False
    chain: str = ""
    final_state: Any = None

    def ok(self, total: int | None) -> bool:
        return (not self.errors and not self.broken and self.done
                and (total is None or self.decisions == total))


def same_action(a: Any, b: Any) -> bool:
    """Equal as JSON (a tuple and a list of the same items are one action)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def audit(store: ProcessStore, task: Task) -> AuditReport:
    report = AuditReport()
    oracle: Oracle | None
    try:
        oracle = oracle_for(task)
    except ValueError:
        oracle, report.solver = None, False
    state = task.initial_state()
    chain = ""
    with open(store.log_path, "rb") as fh:
        for line_no, raw in enumerate(fh, 1):
            if not raw.startswith(b'{"r":"d"'):
                continue
            try:
                rec = json.loads(raw)
            except ValueError:
                report.broken = f"line {line_no}: unreadable decision"
                break
            if rec.get("step") != report.decisions:
                report.broken = (f"line {line_no}: decision for step {rec.get('step')} where "
                                 f"{report.decisions} was next")
                break
            action = task.action_from_json(rec["action"])
            answer = task.validate(state, Parsed(action, None))
            if isinstance(answer, RedFlag):
                report.broken = f"line {line_no}: decided move breaks the rules: {answer.detail}"
                break
            chain = chain_next(chain, answer.key)
            if rec.get("h") != chain[:16]:
                report.broken = f"line {line_no}: hash chain mismatch"
                break
            if oracle is not None:
                step = report.decisions
                right = oracle.action_at(task, step)
                ok = (oracle.judge(task, step, state, action) if oracle.judge is not None
                      else same_action(action, right))
                if not ok:
                    report.errors += 1
                    if len(report.first_errors) < 10:
                        report.first_errors.append({"step": step, "decided": _plain(action),
                                                    "solver": _plain(right), "line": line_no})
            state = answer.next_state
            report.decisions += 1
    report.done = task.is_done(state)
    report.chain = chain
    report.final_state = task.state_to_json(state)
    return report


def _plain(action: Any) -> Any:
    return json.loads(json.dumps(action))
