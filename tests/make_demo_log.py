"""Record ``assets/demo-session.jsonl``: a short session run through the real loop and store.

The replies come from the scripted provider (so the log shows reasoning, markdown with code and a
table, a real ``list_dir`` call, a steer and a cancel on demand); the loop, the tool and the session
file are the real ones. Run ``python -m tests.make_demo_log`` from the repository root to rebuild it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from app.core.agent.events import Event, TextDelta
from app.core.agent.messages import ToolCall
from app.core.agent.session import Session, SessionOptions
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.store.session_store import SessionStore
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools

OUT = Path(__file__).resolve().parents[1] / "assets" / "demo-session.jsonl"

ANSWER = """## Reversing a string

In Python the shortest way is a **slice** with a step of `-1`:

```python
def reverse(text: str) -> str:
    \"\"\"Return text backwards.\"\"\"
    return text[::-1]
```

| approach | cost | note |
|---|---|---|
| `text[::-1]` | O(n) | idiomatic |
| `"".join(reversed(text))` | O(n) | explicit |

- Works for any `str`
- Combining characters may need `unicodedata`
"""

ESSAY = ("Here is a long walk through the history of text editors, starting with line editors "
         "such as ed, then screen editors like vi and Emacs, and on to ")


def words(text: str) -> list[str]:
    out, cur = [], ""
    for ch in text:
        cur += ch
        if ch in " \n":
            out.append(cur)
            cur = ""
    return out + ([cur] if cur else [])


async def record(path: Path) -> None:
    gate = asyncio.Event()
    provider = ScriptedProvider([
        ScriptedReply(tool_calls=[ToolCall("call_demo_ls", "list_dir", {"path": "."})]),
        ScriptedReply(chunks=words("There are three files: `README.md`, `app.py` and "
                                   "`notes.txt`.")),
        ScriptedReply(chunks=words(ANSWER), reasoning=words(
            "The user wants a string reversal. A slice is idiomatic; show a table of options.")),
        ScriptedReply(tool_calls=[ToolCall("call_demo_read", "read_file", {"path": "notes.txt"})]),
        ScriptedReply(chunks=words("You asked for the first line only: **buy milk**.")),
        ScriptedReply(chunks=[*words(ESSAY), "more"], gate_at=len(words(ESSAY)), gate=gate),
    ], model="qwen2.5-coder-0.5b")
    with tempfile.TemporaryDirectory() as ws:
        root = Path(ws)
        (root / "README.md").write_text("# Demo\n")
        (root / "app.py").write_text("print('hi')\n")
        (root / "notes.txt").write_text("buy milk\ncall Bob\nwater plants\n")
        store = SessionStore(path)
        session = Session(provider, tools=ToolRegistry(default_tools()),
                          options=SessionOptions(workspace=root), store=store)
        session.thinking = True
        await session.run_turn("Which files are in this folder?")
        await session.run_turn("How do I reverse a string in Python?")
        provider.request_seen.clear()
        turn = asyncio.ensure_future(session.run_turn("Read notes.txt"))
        await provider.request_seen.wait()
        session.inject("Only the first line, please.")
        await turn
        seen: list[str] = []

        def cancel_mid_sentence(ev: Event) -> None:
            # The gate holds the reply mid-sentence; cancel it there, as a user would.
            if isinstance(ev, TextDelta):
                seen.append(ev.text)
                if "".join(seen) == ESSAY:
                    session.cancel()

        session.add_listener(cancel_mid_sentence)
        await session.run_turn("Write a long essay on text editors.")
        store.close()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    target.unlink(missing_ok=True)  # a fresh recording, not appended to the old one
    asyncio.run(record(target))
    print(f"wrote {target}")
