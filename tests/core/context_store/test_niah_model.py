"""End to end on the real bundled model: needles planted in a few-MB mixed haystack are found
through the agent loop with only the ctx tools (retrieval first, the model reads the window)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent.events import ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.context_store.ingest import ingest
from app.core.context_store.planner import RetrievalFirstProvider
from app.core.context_store.store import VolumeStore
from app.core.context_store.tools import ctx_tools
from app.core.tools.base import ToolRegistry
from bench.niah_haystack import build


@pytest.mark.model
async def test_planted_needles_are_found(tmp_path: Path, local_model: object) -> None:
    hay = build(tmp_path / "hay", 3_000_000, 3, seed=11, low_overlap_share=0.0)
    assert hay.chars >= 3_000_000 and hay.distractors >= 6
    report = ingest([tmp_path / "hay"], "hay", tmp_path / "vols")
    assert report.meta.chunks > 500
    store = VolumeStore(tmp_path / "vols")
    for needle in hay.needles:
        planner = RetrievalFirstProvider(local_model, "hay")  # type: ignore[arg-type]
        session = Session(planner, tools=ToolRegistry(ctx_tools(store)),
                          options=SessionOptions(max_tokens=32))
        tools: list[str] = []
        session.add_listener(lambda ev, t=tools: t.append(ev.name)
                             if isinstance(ev, ToolCallStarted) else None)
        out = await session.run_turn(needle.question)
        assert tools == ["ctx_grep", "ctx_slice"]
        assert needle.answer in out.text, (needle.question, out.text, planner.last_prompt)
    store.close()
