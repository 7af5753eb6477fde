"""Which tools one step offers the model.

Large models get every tool. A model whose capability record names ``core_tools`` (small local
models, which choose worse among many tools) gets those plus the tools its request clearly asks for
("search the web", a URL, "replace", "grep"), the tools the request names (by name, or by a
keyword of the tool: an MCP server's name, a skill's name) and any tool it already used this turn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.providers.base import ToolSpec

TRIGGERS: dict[str, re.Pattern[str]] = {
    # Offered to the default 0.5B model only when asked for: with them always in its prompt it
    # answered "What is 17*3?" with 41 (51 with read_file and list_dir alone).
    "write_file": re.compile(r"\b(create|write|save|make|generate|add|new|put|overwrite)\b",
                             re.IGNORECASE),
    "exec": re.compile(r"\b(run|runs|execute|exec|test|tests|pytest|install|build|compile|"
                       r"command|shell|terminal|git|pip|npm|make|python\d?|bash|sh)\b",
                       re.IGNORECASE),
    "edit_file": re.compile(r"\b(edit|replace|change|rename|fix|modify|update|insert|remove)\b",
                            re.IGNORECASE),
    "grep": re.compile(r"\b(grep|search|find|where|contain|contains|occurrences?|mention)",
                       re.IGNORECASE),
    "glob": re.compile(r"\b(glob|all \S+ files|files? (named|matching|ending)|\*\.\w+)",
                       re.IGNORECASE),
    "web_fetch": re.compile(r"https?://|\bwww\.|\b(url|web ?page|website|fetch|download)\b",
                            re.IGNORECASE),
    "web_search": re.compile(r"\b(search the web|web search|google|look (it )?up online|"
                             r"on the internet|latest news)\b", re.IGNORECASE),
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
