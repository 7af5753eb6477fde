"""The whole loop on the real bundled model: a call the model writes is parsed, asked for, run, paired
with its result, and the turn ends.

What a 0.5B model chooses to do on a multi-step task differs from one CPU to another, so this test
does not depend on it: the model's first step is held to "a call of one of the offered tools" by the
same GBNF machinery the provider uses, and the assertions are about what the loop guarantees for any
call the model writes. How well the model does the task is measured in bench/ (hello_task.py,
toolcalls.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.models.embedded import DEFAULT_MODEL_ID
from app.core.models.quirks import quirks_by_id
from app.core.policy.permissions import PermissionGate, PermissionRequested
from app.core.providers.base import ProviderEvent, ProviderRequest
from app.core.providers.grammar import call_only_gbnf
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.settings.tool_config import PermissionsConfig
from app.runtime.build import default_registry

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def catalog_model(model_path: Path) -> Iterator[LlamaInProcessProvider]:
    """The default model as the app builds it: its catalog quirks (grammar, core tools)."""
    provider = LlamaInProcessProvider(model_path, n_ctx=4096, temperature=0.0, seed=7,
                                      label=DEFAULT_MODEL_ID, quirks=quirks_by_id(DEFAULT_MODEL_ID))
    provider._load_sync()
    yield provider
    if provider._llama is not None:
        provider._llama.close()


class FirstStepCalls:
    """The real model, with its first reply held to a call of one of the offered tools."""

    def __init__(self, inner: LlamaInProcessProvider) -> None:
        self.inner = inner
        self.name, self.model, self.capabilities = inner.name, inner.model, inner.capabilities
        self.requests: list[ProviderRequest] = []

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        if not self.requests and request.tools:
            request = replace(request, extra={**request.extra,
                                              "grammar": call_only_gbnf(request.tools)})
        self.requests.append(request)
        async for event in self.inner.stream(request, cancel):
            yield event

    async def aclose(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_call_the_model_writes_is_asked_run_and_paired(
        catalog_model: LlamaInProcessProvider, tmp_path: Path) -> None:
    provider = FirstStepCalls(catalog_model)
    # write_file asks; nobody is there to answer (no approver), so it is refused, not run.
    session = Session(provider, tools=default_registry(),  # type: ignore[arg-type]
                      options=SessionOptions(workspace=tmp_path, max_iterations=3, max_tokens=160),
                      permissions=PermissionGate(PermissionsConfig(tools={"exec": "deny"})))
    events: list[Event] = []
    session.add_listener(events.append)
    (tmp_path / "greeting.txt").write_text("hello from the fixture\n")

    outcome = await session.run_turn("Create notes.txt containing the word done.")

    assert outcome.status in {"finished", "limit"}, outcome
    offered = {t.name for t in provider.requests[0].tools}
    calls = [e for e in events if isinstance(e, ToolCallStarted)]
    results = {e.call_id: e for e in events if isinstance(e, ToolCallFinished)}
    assert calls, "the grammar holds the first reply to a call, so a call must have been parsed"
    first = calls[0]
    assert first.name in offered
    # The arguments arrived as a JSON object that the tool's schema accepts.
    json.dumps(first.arguments)
    schema = next(t.parameters for t in provider.requests[0].tools if t.name == first.name)
    assert set(schema.get("required", [])) <= set(first.arguments)
    # Every call that started was paired with a result in the same turn (run, refused or failed).
    assert all(c.call_id in results for c in calls)
    # The next step saw the result: it was sent back to the model as a tool message.
    if len(provider.requests) > 1:
        roles = [m.role for m in provider.requests[1].messages]
        assert "tool" in roles or any("result" in (m.content or "") for m in
                                      provider.requests[1].messages)
    # Nothing ran that policy denies or that nobody approved: the workspace is as it was.
    for c in calls:
        if c.name in {"exec", "write_file", "edit_file"}:
            assert results[c.call_id].is_error, results[c.call_id]
    assert sorted(os.listdir(tmp_path)) == ["greeting.txt"]
    asked = [e for e in events if isinstance(e, PermissionRequested)]
    assert all(e.tool in {"write_file", "edit_file"} for e in asked)
