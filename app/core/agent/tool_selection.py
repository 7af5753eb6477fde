"""Which tools one step offers the model.

Large models get every tool. A model whose capability record names ``core_tools`` (small local
models, which choose worse among many tools) gets that fixed set, the web tools when the request
names a URL or the web, the tools the request names (by name, or by a keyword of the tool: an MCP
server's name, a skill's name) and any tool it already used this turn.

The core set is fixed rather than picked by words in the request: the phrase triggers that used to
add ``write_file``, ``edit_file``, ``exec`` and ``grep`` missed ordinary requests ("mark X as done",
"set font_size to 16", "append …"), and a tool list that changes with the request defeats the prompt
cache. What they protected against (a small model calling a tool it should not, inventing values)
is now caught by the harness: paths limited to real files, read-before-write, checked answers
(bench/agent_tasks.py measures it). The harness then narrows the set by the request's shape, not
its words (``Harness.scope``): a request that names no file, folder, symbol, new file or code gets
only the tools that read, since a 0.5B model offered ``exec`` for "What is 17*3?" ran a file
instead of answering. The web tools stay out of a small model's prompt unless asked
for: they are rarely needed and cost prompt tokens on every step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.providers.base import ToolSpec

TRIGGERS: dict[str, re.Pattern[str]] = {
    "web_fetch": re.compile(r"https?://|\bwww\.|\b(url|web ?page|website)\b", re.IGNORECASE),
    "web_search": re.compile(r"\b(search the web|web search|google|look (it )?up online|"
                             r"on the internet)\b", re.IGNORECASE),
}


def select_tools(specs: Iterable[ToolSpec], request: str, core: tuple[str, ...],
                 used: Iterable[str] = ()) -> tuple[ToolSpec, ...]:
    """``specs`` narrowed to ``core`` + triggered + ``used`` tools (all of them when ``core`` is
    empty); the original order is kept."""
    all_specs = tuple(specs)
    if not core:
        return all_specs
    wanted = set(core) | set(used)
    wanted |= {name for name, rx in TRIGGERS.items() if rx.search(request)}
    wanted |= {s.name for s in all_specs if any(named(k, request) for k in (s.name, *s.keywords))}
    return tuple(s for s in all_specs if s.name in wanted)


def named(keyword: str, request: str) -> bool:
    """Whether ``request`` names ``keyword`` as a word: ``write_note`` matches "write_note" and
    "write note", never "rewrite notes"."""
    words = [w for w in re.split(r"[\s_\-]+", keyword.lower()) if w]
    if not words:
        return False
    pattern = r"(?<![a-z0-9])" + r"[\s_\-]+".join(map(re.escape, words)) + r"(?![a-z0-9])"
    return re.search(pattern, request.lower()) is not None
