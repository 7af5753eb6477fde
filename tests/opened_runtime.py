"""A runtime with its first session opened, as a headless run has it (tests of whole runs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.agent.session import Session
from app.core.memory.hook import MemoryHook
from app.runtime.build import Runtime, build_runtime


@dataclass
class OpenedRuntime:
    runtime: Runtime
    session: Session  # the factory's first session (a new one)

    @property
    def memory(self) -> MemoryHook | None:
        return self.runtime.memory

    @property
    def notices(self) -> list[str]:
        return self.runtime.notices


def open_runtime(**kwargs: Any) -> OpenedRuntime:
    """:func:`build_runtime` with ``kwargs``, and a new session from its factory."""
    rt = build_runtime(**kwargs)
    return OpenedRuntime(rt, rt.factory.new().session)
