"""Compute, don't guess: a number the turn never read or computed is computed by a program.

A small coder model asked inside a tool-call conversation to "call python with a program that
reads the file" sends ``print(250)``, its guess wrapped in code. Asked on its own for a program,
in plain text with the question and the start of the files, the same 0.5B model writes the csv
loop or the ``sum(...)`` that gets it right (measured in BENCHMARKS.md, "Agent tasks"): code is
what it was trained on. So the harness asks for the program in a separate, single-turn request,
runs it with the ``python`` tool (the user sees the call; the permission rules apply), and the
model answers quoting what it printed. A failing program gets one repair with its error.
"""

from __future__ import annotations

from pathlib import Path

from app.core.agent.messages import Message

PROGRAM_SYSTEM = (
    "You write short Python 3 programs that answer a question exactly. The program runs in the "
    "project folder, opens the files it needs by their relative paths, computes the answer and "
    "prints only the answer. Standard library only, at most 10 lines, no comments.")
PROGRAM_PREFILL = "```python\n"
HEAD_LINES = 8
# The program's own reply: a fenced block's content; it is cut at the closing fence.
MAX_PROGRAM_TOKENS = 320


def file_view(rel: str, text: str) -> str:
    """How the program request shows a file: its first lines and how many there are."""
    lines = text.splitlines()
    head = "\n".join(lines[:HEAD_LINES])
    more = f"\n... ({len(lines)} lines in all)" if len(lines) > HEAD_LINES else ""
    # A table's columns are named by its header; reading rows by name is what the model gets
    # wrong least (by index it sums the header too).
    tip = (" (a table: csv.DictReader gives each data row as a dict keyed by the header)"
           if Path(rel).suffix.lower() in (".csv", ".tsv") else "")
    return f"The file {rel}{tip} begins:\n{head}{more}"


def program_messages(request: str, files: list[tuple[str, str]], *, previous: str = "",
                     error: str = "") -> tuple[Message, ...]:
    """The single-turn request for a program that answers ``request`` from ``files``
    ((path, text) pairs); with ``previous`` and ``error``, the request to repair it."""
    views = "\n\n".join(file_view(rel, text) for rel, text in files)
    ask = (f"{views}\n\n" if views else "") + f"Question: {request}\nWrite the program."
    messages = [Message(role="system", content=PROGRAM_SYSTEM), Message(role="user", content=ask)]
    if previous:
        messages.append(Message(role="assistant", content=f"```python\n{previous}\n```"))
        messages.append(Message(role="user", content=(
            f"The program failed: {error}\nWrite the corrected program.")))
    return tuple(messages)


def program_from(reply: str) -> str:
    """The program in a reply that continues ``PROGRAM_PREFILL`` (or starts a fence itself)."""
    text = reply.lstrip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    code = text.split("```", 1)[0]
    return code.strip("\n") if code.strip() else ""


def program_failure(output: str, is_error: bool) -> str:
    """Why a program's run did not answer ("" when it printed something and exited 0)."""
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    if is_error:
        shown = [ln for ln in lines if not ln.startswith("[exit code")]
        return (shown[-1] if shown else "it exited with an error")[:300]
    if not lines or lines[0].startswith("(no output"):  # the python tool's note for silence
        return "it printed nothing; print the answer"
    return ""


def program_answer(output: str) -> str:
    """The answer shown when the model would not state what the program printed."""
    shown = output.strip()
    if "\n" in shown or len(shown) > 200:
        return f"A short program computed it from the files (shown above). It printed:\n{shown[:1500]}"
    return f"A short program computed it from the files (shown above): {shown}"
