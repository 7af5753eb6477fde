"""The harness's checks of a small model's writes: the file it writes (the one the request names,
not another), the values it writes (none that nothing read shows), a broken write sent again, a
write that would drop most of a file, and the file a request asks for that was never written. A
mixin of :class:`app.core.harness.harness.Harness`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from app.core.agent.messages import ToolCall
from app.core.harness.calls import CONTENT_KIND, FILE_NAME_RE, call_key, is_question, rel_path
from app.core.harness.claims import Evidence, extract_claims
from app.core.harness.part import HarnessPart
from app.core.harness.workspace import DATA_SUFFIXES, SOURCE_SUFFIXES

# Text the request quotes: 'Renew passport', "Hello", `total` (not the apostrophe of "Lena's").
_QUOTED = re.compile(r"(?<![\w])(['\"`])([^'\"`\n]{2,80})\1(?![\w])")

# A placeholder in a request: "add a line 'Low stock threshold: <value>'".
_PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z _-]{0,30}>")
_PLAIN_TEXT = {"", ".txt", ".md", ".rst", ".csv", ".tsv", ".json", ".toml", ".yaml", ".yml",
               ".ini", ".cfg", ".env", ".log"}

# File types a request's new file name may have (``inventory.report`` is a module, not a file).
KNOWN_SUFFIXES = SOURCE_SUFFIXES | DATA_SUFFIXES | {".html", ".css", ".xml", ".cfg", ".env"}


class WriteChecks(HarnessPart):
    def _new_files(self, request: str) -> list[str]:
        """File names ``request`` gives that do not exist here yet (what it asks to create)."""
        files = self.index.files
        return [n for n in dict.fromkeys(FILE_NAME_RE.findall(request))
                if not (self.workspace / n).exists()
                and not any(f.endswith("/" + n) for f in files)]

    def _wrong_file(self, call: ToolCall) -> str:
        """The refusal of a write to an existing file the request does not name, when it names a
        new one: asked to "Add a .editorconfig file", the 0.5B model wrote inventory/config.py."""
        rel = rel_path(call.arguments.get("path"))
        request = self.turn.request
        if not rel or rel not in self.index.files or not request:
            return ""
        if rel in self.index.mentioned_files(request):
            return ""
        new = self._new_files(request)
        if not new:
            named = self.index.mentioned_files(request)
            if named and self.turn.scoped:
                # A small model's write goes where the request says: asked to add a line to
                # README.md with a value from the config, the 0.5B model wrote the config.
                return (f"the request names {', '.join(named[:3])} and not {rel}. Nothing was "
                        f"written. Change the file the request asks to change.")
            return ""
        return (f"the request asks for {new[0]}, which does not exist yet, and does not mention "
                f"{rel}. Nothing was written. Write {new[0]} itself (write_file with path "
                f"{new[0]!r}).")

    def _placeholders(self, call: ToolCall) -> str:
        """The refusal of a write that copies a placeholder of the request (``<value>``) into
        the file instead of the value it stands for: asked to "add a line 'Low stock threshold:
        <value>'", the 0.5B model wrote the right line, then overwrote it with "<value>"."""
        content = call.arguments.get("content", call.arguments.get("new_text"))
        if not isinstance(content, str):
            return ""
        rel = rel_path(call.arguments.get("path"))
        if Path(rel).suffix.lower() not in _PLAIN_TEXT:
            return ""  # markup and code have <tags> and <generics> of their own
        # Only a placeholder inside a line the request quotes: the line it gives to fill in.
        quoted = " ".join(q for _, q in _QUOTED.findall(self.turn.request))
        held = [p for p in dict.fromkeys(_PLACEHOLDER.findall(quoted)) if p in content]
        try:
            before = (self.workspace / rel).read_text("utf-8", errors="replace") if rel else ""
        except OSError:
            before = ""
        held = [p for p in held if p not in before]  # a file that has it keeps it
        if not held:
            return ""
        self.turn.broken_writes[call_key(call)] = f"it wrote {held[0]} itself"
        self.counters["placeholder_writes"] = self.counters.get("placeholder_writes", 0) + 1
        return (f"{held[0]} in the request stands for a value to fill in, not text to copy. "
                f"Nothing was written. Write {rel or 'the file'} with the value itself in its "
                "place (the one the files read or the request give).")

    def _unread_values(self, call: ToolCall) -> str:
        """The refusal of a small model's write that puts a number nothing read or asked for
        into a text file (not code: its literals are the program's own). The grounding check of
        answers, applied to what is written: asked to copy the version from pyproject.toml
        (0.4.2) into VERSION, the 0.5B model wrote 2.4.2."""
        rel = rel_path(call.arguments.get("path"))
        if call.name != "write_file" or not self.turn.scoped or not rel \
                or Path(rel).suffix.lower() in SOURCE_SUFFIXES:
            return ""
        content = str(call.arguments.get("content", ""))
        try:
            before = (self.workspace / rel).read_text("utf-8", errors="replace")
        except OSError:
            before = ""
        kept = Evidence([before], question="")
        unread = [c for c in extract_claims(content) if c.kind == "number"
                  and not kept.supports(c) and not self.turn.evidence.supports(c)]
        if not unread:
            return ""
        values = ", ".join(c.text for c in unread[:3])
        # The next whole-file request for this file is sampled (the same request at temperature
        # 0 gives the same value again).
        self.turn.broken_writes[call_key(call)] = f"it wrote {values}, which nothing read shows"
        # What the harness counted in the reads (a table's data rows) is the value a count is
        # written from: told only "not read", the 0.5B model wrote 10, 14, 17 and 3 for 7 rows.
        counted = (" Counted from the files read: " + " ".join(self.turn.computed)
                   if self.turn.computed else "")
        return (f"the content states {values}, which nothing read or asked in this turn shows. "
                f"Nothing was written. Write {rel} with the values as the files state them."
                f"{counted}")

    def _other_lines(self, call: ToolCall) -> str:
        """The refusal of a small model's whole-file write that changes lines the request does not
        speak of, when the request quotes the text of the lines it means: asked to "Mark 'Renew
        passport' as done in todo.md", the 0.5B model ticked three other tasks and left that one
        open. A line that is kept, moved or added is no change; one that is gone must hold the
        quoted text."""
        rel = rel_path(call.arguments.get("path"))
        if call.name != "write_file" or not self.turn.scoped or not rel \
                or rel not in self.index.files:
            return ""
        try:
            old = (self.workspace / rel).read_text("utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        text = "\n".join(old)
        quoted = [q.strip() for _, q in _QUOTED.findall(self.turn.request) if q.strip() in text]
        if not quoted:
            return ""
        kept = Counter(ln.strip() for ln in str(call.arguments.get("content", "")).splitlines())
        gone: list[str] = []
        for ln in (ln.strip() for ln in old if ln.strip()):
            if kept[ln] > 0:
                kept[ln] -= 1
            else:
                gone.append(ln)
        others = [ln for ln in gone if not any(q in ln for q in quoted)]
        if not others:
            return ""
        meant = next(ln.strip() for ln in old if any(q in ln for q in quoted))
        self.counters["refused_other_lines"] = self.counters.get("refused_other_lines", 0) + 1
        # The next whole-file request for this file is sampled: at temperature 0 it is the same.
        self.turn.broken_writes[call_key(call)] = f"it changed {others[0]!r}"
        more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
        return (f"the request is about the line {meant!r}, but this write also changes "
                f"{others[0]!r}{more}. Nothing was written. Change only the line the request "
                f"names and keep every other line of {rel} as it is.")

    def narrowed_write(self, call: ToolCall) -> ToolCall:
        """A whole-file write cut down to the one line the request quotes, when the model's
        content changes that line and others as well, line for line: asked to "Mark 'Renew
        passport' as done", the 0.5B model ticked it and three other tasks. What runs (and what
        the user approves and sees as a diff) is the file with only that line changed; the
        result says what was left out. ``call`` itself where that cannot be told for sure."""
        rel = rel_path(call.arguments.get("path"))
        content = call.arguments.get("content")
        if call.name != "write_file" or not self.turn.scoped or not rel \
                or rel not in self.index.files or not isinstance(content, str):
            return call
        try:
            old = (self.workspace / rel).read_text("utf-8", errors="replace")
        except OSError:
            return call
        old_lines, new_lines = old.splitlines(keepends=True), content.splitlines()
        while new_lines and not new_lines[-1].strip():  # blank lines at the end are no change
            new_lines.pop()
        body = len(old_lines)
        while body and not old_lines[body - 1].strip():
            body -= 1
        if body != len(new_lines):
            return call
        quoted = [q.strip() for _, q in _QUOTED.findall(self.turn.request) if q.strip()]
        meant = [i for i, ln in enumerate(old_lines) if any(q in ln for q in quoted)]
        if len(meant) != 1:
            return call
        at = meant[0]
        changed = [i for i, (a, b) in enumerate(zip(old_lines[:body], new_lines, strict=True))
                   if a.rstrip("\r\n") != b]
        if at not in changed or len(changed) < 2 or not any(q in new_lines[at] for q in quoted):
            return call
        ending = old_lines[at][len(old_lines[at].rstrip("\r\n")):]
        spliced = [*old_lines[:at], new_lines[at] + ending, *old_lines[at + 1:]]
        self.counters["narrowed_writes"] = self.counters.get("narrowed_writes", 0) + 1
        self.turn.narrowed[call.id] = (
            f"Only the line the request names was changed ({old_lines[at].strip()!r} → "
            f"{new_lines[at].strip()!r}); the content also changed {len(changed) - 1} other "
            f"line(s), which were left as they were.")
        return ToolCall(call.id, "write_file", {"path": rel, "content": "".join(spliced)})

    def unchanged_write(self, call: ToolCall, content: str) -> str:
        """The problem with a small model's write that left the one file the request asks to
        change exactly as it was ("" otherwise): asked to add a line to README.md, the 0.5B model
        wrote README.md back unchanged and answered "I created README.md"."""
        rel = rel_path(call.arguments.get("path"))
        request = self.turn.request
        if call.name != "write_file" or not self.turn.scoped or is_question(request) \
                or not content.startswith(f"{rel} already had exactly this content"):
            return ""
        if self.index.mentioned_files(request) != [rel] or self._new_files(request):
            return ""
        self.turn.broken_writes[call_key(call)] = "it left the file as it was"
        self.counters["unchanged_writes"] = self.counters.get("unchanged_writes", 0) + 1
        return (f"Nothing changed: {rel} already had exactly this content, so the change the "
                f"request asks for is not made. Write {rel} again with the change.")

    def _same_broken_write(self, call: ToolCall) -> str:
        """The refusal of a write identical to one that left a broken file this turn: the model
        is asked once for different content, with the error quoted."""
        key = call_key(call)
        note = self.turn.broken_writes.get(key)
        if note is None:
            return ""
        if key not in self.turn.repeat_refused:
            self.turn.repeat_refused.add(key)
            self.turn.soft_refusal = key  # the first refusal does not end the turn
            # At temperature 0 the model sends the same write again whatever the error says:
            # the next step is sampled (vote_temperature), once.
            self.turn.resample = True
        self.counters["repeated_broken_writes"] = (
            self.counters.get("repeated_broken_writes", 0) + 1)
        rel = rel_path(call.arguments.get("path"))
        error = note.removeprefix("Syntax check: ").split(". The file is broken")[0]
        return (f"this {call.name} repeats the one that left {rel} broken ({error}). Nothing was "
                f"written. Send {call.name} again with different, corrected content for {rel}"
                f"{CONTENT_KIND.get(Path(rel).suffix.lower(), '')}.")

    def _lines_lost(self, rel: str, content: str) -> tuple[int, int]:
        """(non-blank lines of existing file ``rel`` a write of ``content`` drops, non-blank
        lines it has), when it drops more than half of them; (0, n) otherwise."""
        if not rel or rel not in self.index.files:
            return 0, 0
        try:
            old = (self.workspace / rel).read_text("utf-8", errors="replace").splitlines()
        except OSError:
            return 0, 0
        old_lines = [ln.strip() for ln in old if ln.strip()]
        kept = {ln.strip() for ln in content.splitlines()}
        lost = sum(1 for ln in old_lines if ln not in kept)
        if len(old_lines) >= 3 and lost * 2 > len(old_lines):
            return lost, len(old_lines)
        return 0, len(old_lines)

    def _pending_files(self) -> list[str]:
        """Files a small model's request asks to create that still do not exist ("" for a
        question: it creates nothing). Only names with a file type's suffix or a dot file:
        ``inventory.report`` in "python -m inventory.report" is a module."""
        if not self.turn.scoped or is_question(self.turn.request):
            return []
        return [n for n in self._new_files(self.turn.request)
                if (Path(n).suffix.lower() in KNOWN_SUFFIXES or n.startswith("."))
                and not (self.workspace / n).exists()]
