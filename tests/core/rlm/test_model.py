"""The reader on the real bundled model: mechanisms only (what a 0.5B model concludes is measured
in bench/rlm.py, not asserted here)."""

from __future__ import annotations

import pytest

from app.core.agent.events import Event
from app.core.rlm.budget import RlmBudget
from app.core.rlm.delegate import ROOT_TOOLS, Delegate
from app.core.rlm.events import DelegateStep
from app.core.rlm.variables import Workspace

LOG = "\n".join(f"[{i:05d}] compiling module_{i}.c ... ok" for i in range(3000)) + \
    "\nld: error: undefined symbol: frobnicate_v2 (referenced by src/main.o)\n"


@pytest.mark.model
async def test_every_round_of_the_real_model_is_a_valid_action(local_model: object) -> None:
    events: list[Event] = []
    delegate = Delegate(local_model, emit=events.append)  # type: ignore[arg-type]
    ws = Workspace()
    ws.add("output_0", LOG)
    budget = RlmBudget(time_budget_s=600.0, min_rounds=2, max_rounds=3)
    finding = await delegate.run("Which symbol is undefined in this build?", ws, budget=budget)
    steps = [e for e in events if isinstance(e, DelegateStep) and e.round > 0]
    assert not finding.error
    assert 1 <= finding.rounds <= 3 and len([s for s in steps if s.depth == 1]) == finding.rounds
    # Under the grammar every reply parsed into one of the offered tools (never free text).
    assert all(s.action.split("(")[0].split(" ")[0] in ROOT_TOOLS for s in steps)
    assert delegate.deepest <= 2
    assert finding.text  # the final answer round always yields text
    assert finding.prompt_tokens > 0
