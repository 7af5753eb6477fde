"""The process engine on the real bundled model: in-process and behind llama_cpp.server.

Kept to a handful of short samples: what is proved is the path (grammar and seed reach llama.cpp,
replies are judged, counted and stored), not the model's skill, which calibration measures.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.core.agent.cancel import CancelToken
from app.core.process.calibrate import calibrate
from app.core.process.pool import EndpointPool, PoolMember
from app.core.process.samplers import SampleRequest
from app.core.process.spec import ProcessBudget
from app.core.process.stats import latest_calibration, save_calibration
from app.core.process.tasks.hanoi import HanoiTask
from app.core.providers.openai_http import OpenAIHTTPProvider
from tests.core.process.helpers import make_runner, records
from tests.servers import llama_server

MOVE_LINE = re.compile(r"move = \[[1-9], [0-2], [0-2]\]")

pytestmark = pytest.mark.model


class _Borrowed:
    """The session's loaded model, lent to a pool without letting the pool close it."""

    def __init__(self, provider: Any) -> None:
        self._p = provider
        self.name, self.model, self.capabilities = provider.name, provider.model, \
            provider.capabilities

    def stream(self, request: Any, cancel: CancelToken) -> Any:
        return self._p.stream(request, cancel)

    async def aclose(self) -> None:
        return None


async def test_in_process_calibration_with_grammar_and_seeds(local_model: Any,
                                                             tmp_path: Path) -> None:
    task = HanoiTask(3, "guided")
    pool = EndpointPool([PoolMember("in-process", _Borrowed(local_model))], label="qwen-0.5b")
    # The same seed at a high temperature draws the same reply: a redone step redraws its votes.
    prompt = task.prompt(task.initial_state(), None)
    twice = await pool.sample([SampleRequest(prompt, 1.0, 12, 1234, 0, i) for i in (0, 1)],
                              CancelToken())
    assert twice[0].text == twice[1].text and MOVE_LINE.fullmatch(twice[0].text)

    report = await calibrate(task, pool, samples=3, temperature=0.1, seed=2)
    assert report.samples == 3
    assert "format" not in report.details["flags"]  # the grammar forced the format
    assert report.valid + report.details["flags"].get("invalid", 0) == 3
    assert 5 <= report.len_max <= 16 or report.valid == 0
    save_calibration(report.row(), tmp_path / "stats.db")
    row = latest_calibration("hanoi", "guided", "qwen-0.5b", tmp_path / "stats.db")
    assert row is not None and row["samples"] == 3 and row["verdict"] in ("go", "no-go")


async def test_a_step_voted_on_by_llama_cpp_server(model_path: Path, tmp_path: Path) -> None:
    task = HanoiTask(2, "guided")
    with llama_server(model_path, n_ctx=1024) as url:
        pool = EndpointPool([PoolMember(url, OpenAIHTTPProvider(url, "m", name=url,
                                                              native_tool_calls=False))],
                            label="served")
        runner, store = make_runner(tmp_path, task, [pool], k=1, max_rounds=2,
                                    budget=ProcessBudget(max_steps=1), log_text="all",
                                    token_cap=task.default_token_cap)
        outcome = await runner.run(CancelToken())
        await pool.aclose()
    recs = records(store)
    samples = [r for r in recs if r["r"] in ("s", "f")]
    assert samples and all(MOVE_LINE.fullmatch(r["text"]) for r in samples)  # grammar honoured
    assert outcome.status in ("paused", "stopped")
    if outcome.status == "paused":  # decided: the one step is legal, chosen by one vote
        decision = next(r for r in recs if r["r"] == "d")
        assert decision["step"] == 0 and decision["votes"] == {decision["key"]: 1}
