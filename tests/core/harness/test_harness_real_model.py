"""Harness mechanisms on the real bundled model: what they guarantee whatever the model writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.agent.session import Session, SessionOptions
from app.core.harness.claims import extract_claims
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness
from app.core.harness.turn import AnswerReview
from app.core.providers.base import ProviderRequest, TextChunk, ToolCallChunk
from app.core.providers.grammar import tool_or_text_gbnf
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools

pytestmark = pytest.mark.model

FILES = {"settings/app_config.toml": "timeout = 37\n", "notes.txt": "buy milk\n",
         "src/main.py": "print('hi')\n"}


def workspace(root: Path) -> Path:
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("ask", ["Read the config file.", "Read secrets.env for me."])
async def test_a_constrained_path_is_always_one_that_exists(local_model: LlamaInProcessProvider,
                                                            tmp_path: Path, ask: str) -> None:
    harness = Harness(HarnessConfig(), workspace(tmp_path))
    read = next(s for s in ToolRegistry(builtin_tools()).specs() if s.name == "read_file")
    offered = harness.offer((read,), [])
    # The call branch alone, so the step is a call whatever the model prefers; the path inside
    # it is what the enum decides.
    call_only = tool_or_text_gbnf(offered).replace("root ::= call | answer", "root ::= call", 1)
    request = ProviderRequest(messages=(Message(role="user", content=ask),), tools=offered,
                              max_tokens=60, extra={"grammar": call_only})
    calls = []
    text = ""
    async for chunk in local_model.stream(request, CancelToken()):
        if isinstance(chunk, ToolCallChunk):
            calls.append({"name": chunk.call.name, "arguments": chunk.call.arguments})
        elif isinstance(chunk, TextChunk):
            text += chunk.text
    call = calls[0] if calls else json.loads(text)
    assert call["name"] == "read_file"
    assert call["arguments"]["path"] in FILES


async def test_an_answer_is_never_a_value_the_turn_did_not_see(
        local_model: LlamaInProcessProvider, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    harness = Harness(HarnessConfig(), ws)
    session = Session(local_model, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws, max_iterations=4, max_tokens=120),
                      harness=harness)
    draft: list[str] = []
    original = harness.review_answer

    def spy(text: str, *, used_tools: bool, drafts: tuple[str, ...] = ()) -> AnswerReview:
        draft.append(text)
        return original(text, used_tools=used_tools, drafts=drafts)

    harness.review_answer = spy  # type: ignore[method-assign]
    out = await session.run_turn("What is the retry limit in settings/app_config.toml? "
                                 "Reply with just the number.")
    assert draft, "the answer went through the grounding check"
    evidence = harness.turn.evidence
    if harness.counters["grounding_retries"]:
        assert evidence.unsupported(draft[0]), "a retry only follows an unsupported claim"
    # Whatever the model said, what the user sees states nothing the turn never saw.
    shown = [c.text for c in extract_claims(out.text) if not evidence.supports(c)]
    assert shown == [], out.text
