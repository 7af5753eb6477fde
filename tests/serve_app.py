"""The real Nanobot app on a scripted model, as `nanobot serve` runs it for each browser tab (the
browser test serves this instead of the local model, which would take minutes to load).

    python tests/serve_app.py EVENTS.jsonl

The first prompt gets a short reply; the second streams a few words and then waits until it is
cancelled (Esc Esc). Every core event is appended to EVENTS.jsonl so the test sees what the app
did, not only what the browser drew.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import to_record
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.tui.app import NanobotApp
from tests.tui.harness import FIXED_HW, make_factory

REPLY = "Hello from the scripted model, served to a browser."
SLOW = "This reply waits for Esc Esc"


def main() -> None:
    events = Path(sys.argv[1])
    workspace = Path(tempfile.mkdtemp(prefix="nanobot-serve-"))
    slow = ScriptedReply(chunks=[SLOW, " and never ends."], gate_at=1, gate=asyncio.Event())
    provider = ScriptedProvider([ScriptedReply.text(REPLY), slow], model="qwen2.5-coder-0.5b")
    app = NanobotApp(make_factory(workspace, provider), hardware=FIXED_HW, blink=False)

    def record(ev: object) -> None:
        with events.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(to_record(ev), ensure_ascii=False, default=str) + "\n")  # type: ignore[arg-type]

    app.session.add_listener(record)
    app.run()


if __name__ == "__main__":
    main()
