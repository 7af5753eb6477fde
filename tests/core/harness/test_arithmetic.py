"""Arithmetic written in a request is computed exactly, given to the model with the request, and
supports an answer that quotes it; a wrong sum after a tool call is still caught."""

from __future__ import annotations

from pathlib import Path

from app.core.harness.arithmetic import computations, evaluate
from app.core.providers.scripted import ScriptedReply
from tests.core.harness.test_scope_and_counts import session_for


def test_the_sums_a_request_writes_are_computed_exactly() -> None:
    assert computations("What is 17*3?") == ["17*3 = 51"]
    assert computations("Compute (2 + 5) / 4 and 2**10, please.") == ["(2 + 5) / 4 = 1.75",
                                                                     "2**10 = 1024"]
    assert computations("What is 12 × 4 - 1?") == ["12 × 4 - 1 = 47"]
    assert computations("0.1 + 0.2") == ["0.1 + 0.2 = 0.3"]  # exact, not 0.30000000000000004


def test_what_is_not_a_sum_is_left_alone() -> None:
    for text in ("The release of 2026-12-06", "Read pages 10-20", "Python 3.11 on 3/4/2025",
                 "There are 17 apples", "Is 9**9**9 big?", "Divide 5 / 0", ""):
        assert computations(text) == [], text
    assert evaluate("__import__('os')") is None
    assert evaluate("2 ** 0.5") is None  # only whole powers


async def test_the_model_sees_the_computed_value_with_the_request(tmp_path: Path) -> None:
    session, provider, _ = session_for(tmp_path, "51.")
    out = await session.run_turn("What is 17*3?")
    assert out.text == "51."
    assert "Computed exactly for you: 17*3 = 51" in provider.requests[0].messages[-1].content


async def test_after_a_tool_call_the_computed_value_supports_the_answer(tmp_path: Path) -> None:
    # The model looked at a file first, so its answer's numbers are checked against what the turn
    # saw: the computed 51 supports "51", and a guessed 55 is sent back.
    right, provider, _ = session_for(
        tmp_path / "a", ScriptedReply.call("list_dir", path="."), "It is 51.")
    assert (await right.run_turn("What is 17*3?")).text == "It is 51."
    assert len(provider.requests) == 2
    wrong, provider, _ = session_for(
        tmp_path / "b", ScriptedReply.call("list_dir", path="."), "It is 55.", "It is 51.",
        compute_programs=False)
    assert (await wrong.run_turn("What is 17*3?")).text == "It is 51."
    assert len(provider.requests) == 3  # the 55 was retried once


async def test_the_computation_can_be_turned_off(tmp_path: Path) -> None:
    session, provider, _ = session_for(tmp_path, "51.", compute_arithmetic=False)
    await session.run_turn("What is 17*3?")
    assert "Computed exactly" not in provider.requests[0].messages[-1].content
