"""Whole-file content for a small model's writes: the tool call picks the file, the content comes
from a request of its own in the format the model writes best.

A 0.5B coder model that has to put a file's content inside a JSON tool call writes ``hello world``
into hello.py, replaces a to-do line instead of adding one, and "fixes" a function by changing its
call site. Asked on its own for "the complete new content of todo.md" in a fenced block, with the
file and the request in front of it, it writes the file it was trained on: aider chooses this
"whole" edit format for weak models for the same reason. So for a small model the harness keeps the
call's decision (which file, write or edit) and asks for the content separately; the write that
runs, and that the user approves and sees as a diff, has that content.
"""

from __future__ import annotations

from pathlib import Path

from app.core.agent.messages import Message

REWRITE_SYSTEM = (
    "You write files. Reply with the complete content of the file in one fenced code block and "
    "nothing else: every line the file should have, unchanged lines included.")
MAX_REWRITE_LINES = 200  # larger files are changed with edit_file's exact-match replacement
MAX_CONTEXT_LINES = 40
_FENCE_LANG = {".py": "python", ".json": "json", ".toml": "toml", ".md": "markdown",
               ".sh": "sh", ".js": "javascript", ".ts": "typescript", ".yaml": "yaml",
               ".yml": "yaml", ".html": "html", ".css": "css"}


def fence_lang(rel: str) -> str:
    return _FENCE_LANG.get(Path(rel).suffix.lower(), "")


def rewrite_messages(request: str, rel: str, current: str | None,
                     context: list[tuple[str, str]],
                     facts: list[str] | None = None) -> tuple[Message, ...]:
    """The request for ``rel``'s complete new content: the file as it is (``None``: it does not
    exist yet), other files the turn read (``context``), what the turn computed or ran
    (``facts``: a table's row count, a command's output) and what the user asked."""
    parts = []
    for path, text in context:
        lines = text.splitlines()
        more = "\n..." if len(lines) > MAX_CONTEXT_LINES else ""
        parts.append(f"For reference, {path} contains:\n```\n"
                     + "\n".join(lines[:MAX_CONTEXT_LINES]) + f"{more}\n```")
    if facts:
        # Counted or printed for the turn: the model copies a value here instead of counting
        # (asked to write the number of contacts into count.txt, it wrote 5 of 7).
        parts.append("Known for this request:\n" + "\n".join(facts))
    lang = fence_lang(rel)
    if current is None:
        parts.append(f"The file {rel} does not exist yet.")
        ask = f"Write the complete content of the new file {rel}."
    else:
        parts.append(f"The file {rel} contains:\n```{lang}\n{current.rstrip()}\n```")
        ask = f"Write the complete new content of {rel}, with the change made."
    parts.append(f"Request: {request}\n\n{ask}")
    return (Message(role="system", content=REWRITE_SYSTEM),
            Message(role="user", content="\n\n".join(parts)))


def prefill(rel: str) -> str:
    return f"```{fence_lang(rel)}\n"


def content_from(reply: str) -> str | None:
    """The file content in a reply that continues ``prefill`` (None when there is none)."""
    text = reply
    if text.lstrip().startswith("```"):
        text = text.lstrip().split("\n", 1)[1] if "\n" in text.lstrip() else ""
    if "```" not in text:
        return None  # cut off before the block closed: not a whole file
    body = text.split("```", 1)[0]
    if not body.strip():
        return None
    return body if body.endswith("\n") else body + "\n"
