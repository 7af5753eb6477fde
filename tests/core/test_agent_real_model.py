"""The whole loop on the real bundled model: write a file, run it, report the output."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.events import Event, ToolCallFinished, ToolCallStarted
from app.core.models.embedded import DEFAULT_MODEL_ID
from app.core.models.quirks import quirks_by_id
from app.core.permissions import PermissionGate
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.session import Session, SessionOptions
from app.core.tool_config import PermissionsConfig
from app.runtime import default_registry

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def catalog_model(model_path: Path) -> Iterator[LlamaInProcessProvider]:
    """The default model as the app builds it: its catalog quirks (grammar, nudges, core tools)."""
    provider = LlamaInProcessProvider(model_path, n_ctx=4096, temperature=0.0, seed=7,
                                      label=DEFAULT_MODEL_ID, quirks=quirks_by_id(DEFAULT_MODEL_ID))
    provider._load_sync()
    yield provider
    if provider._llama is not None:
        provider._llama.close()


async def test_create_hello_py_then_run_it(catalog_model: LlamaInProcessProvider,
                                          tmp_path: Path) -> None:
    session = Session(catalog_model, tools=default_registry(),
                      options=SessionOptions(workspace=tmp_path, max_iterations=6,
                                             max_tokens=200))
    session.permissions = PermissionGate(PermissionsConfig(
        tools={"write_file": "allow", "exec": "allow"}))
    events: list[Event] = []
    session.add_listener(events.append)
    outcome = await session.run_turn("create hello.py that prints hi, then run it")
    assert outcome.status == "finished", outcome

    hello = tmp_path / "hello.py"
    assert hello.exists()
    ran = await asyncio.to_thread(subprocess.run, [sys.executable, str(hello)],
                                  capture_output=True, text=True, timeout=30)
    assert ran.stdout.strip() == "hi"

    calls = [e for e in events if isinstance(e, ToolCallStarted)]
    results = {e.call_id: e for e in events if isinstance(e, ToolCallFinished)}
    execs = [c for c in calls if c.name == "exec" and "hello.py" in c.arguments["command"]]
    assert execs and results[execs[0].call_id].content == "hi"
    assert execs[0].label == "Running hello.py"

    # The answer reports the output, not just the request ("…that prints hi…") echoed back.
    answer = re.sub(r"prints?\s+['\"]?hi\b", "", outcome.text.lower())
    assert re.search(r"\bhi\b", answer), outcome.text
