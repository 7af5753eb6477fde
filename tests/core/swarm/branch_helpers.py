"""A provider with two scripts: one for the conversation, one for its branches (told apart by the
branch's system prompt), so a test decides what each says and when."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from app.core.agent.cancel import CancelToken
from app.core.agent.session import Session, SessionOptions
from app.core.policy.permissions import Approver
from app.core.providers.base import ProviderEvent, ProviderRequest
from app.core.providers.scripted import ScriptedProvider
from app.core.settings.config import Config, SwarmConfig
from app.core.swarm.branch import BRANCH_PROMPT
from app.core.swarm.swarm import Swarm
from app.core.tools.defaults import builtin_tools
from app.runtime.factory import (
    SessionFactory,
    install_branches,
    install_compaction,
    install_swarm,
)


class TwoScripts(ScriptedProvider):
    def __init__(self) -> None:
        super().__init__(context_window=32768)
        self.root = ScriptedProvider(context_window=32768)
        self.branch = ScriptedProvider(context_window=32768)

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        system = request.messages[0].content if request.messages else ""
        target = self.branch if BRANCH_PROMPT in system else self.root
        self.requests.append(request)
        async for ev in target.stream(request, cancel):
            yield ev


def make_root(tmp_path: Path, config: SwarmConfig | None = None, *,
              approver: Approver | None = None) -> tuple[Session, TwoScripts, Swarm]:
    provider = TwoScripts()
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "notes.txt").write_text("the code word is PLUM\n")
    factory = SessionFactory(Config(swarm=config or SwarmConfig()), provider,
                             options=SessionOptions(workspace=ws),
                             sessions_dir=tmp_path / "sessions", tools=builtin_tools,
                             approver=approver,
                             features=(install_swarm, install_branches, install_compaction))
    session = factory.new().session
    assert session.swarm is not None
    return session, provider, session.swarm
