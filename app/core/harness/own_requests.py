"""The harness's requests of their own: a program that computes a guessed number, and a small
model's whole-file content for a write. A mixin of :class:`app.core.harness.harness.Harness`; the
why of each is in compute.py and rewrite.py, the session's side in app/core/agent/program_step.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.agent.messages import ToolCall
from app.core.harness.calls import rel_path
from app.core.harness.compute import MAX_PROGRAM_TOKENS, PROGRAM_PREFILL, program_messages
from app.core.harness.part import HarnessPart
from app.core.harness.rewrite import MAX_REWRITE_LINES, rewrite_messages
from app.core.harness.rewrite import prefill as rewrite_prefill
from app.core.providers.base import ToolSpec

if TYPE_CHECKING:
    from app.core.providers.base import ProviderRequest

WRITE_TOOLS = ("write_file", "edit_file")
# The longest ``content`` a small model may put in a write_file call when whole-file writes are
# on: the content comes from the whole-file request, and in the JSON the 0.5B model could go on
# for its whole max_tokens (2,048 tokens of a primes.py that never closed).
BRIEF_CONTENT = 120


class OwnRequests(HarnessPart):
    if TYPE_CHECKING:  # provided by the Harness
        read_paths: set[str]

        def _numbers_unsupported(self) -> bool: ...

        def _wrong_file(self, call: ToolCall) -> str: ...

        def _new_files(self, request: str) -> list[str]: ...

    # --- programs that compute ---------------------------------------------------------------

    def wants_program(self) -> bool:
        """Whether the retry of this answer is a program that computes it: the answer stated
        numbers that nothing read or ran showed, or said the request back after reading files,
        and no program has been tried this turn."""
        if not self.config.compute_programs or self.turn.program_tried:
            return False
        echoed = "echo" in self.turn.retried and bool(self.turn.looked_at)
        return self._numbers_unsupported() or echoed

    def program_request(self, *, previous: str = "", error: str = "") -> ProviderRequest:
        """The single-turn request for the program (see app/core/harness/compute.py): the
        question and the start of each file the turn read or searched."""
        from app.core.providers.base import ProviderRequest

        self.turn.program_tried = True
        files: list[tuple[str, str]] = []
        for rel in self.turn.looked_at[: self.config.ground_max_files]:
            try:
                files.append((rel, (self.workspace / rel).read_text("utf-8", errors="replace")))
            except OSError:
                continue
        return ProviderRequest(
            messages=program_messages(self.turn.request, files, previous=previous, error=error),
            max_tokens=MAX_PROGRAM_TOKENS, prefill=PROGRAM_PREFILL,
            # A repair is sampled: at temperature 0 the 0.5B model sent back the program that
            # had just failed, unchanged.
            temperature=self.config.vote_temperature if previous else 0.0)

    def program_ran(self, output: str) -> str:
        """The answer step's instruction once the program printed ``output``."""
        self.turn.program_output = output.strip()
        self.counters["programs"] = self.counters.get("programs", 0) + 1
        return (f"Result: {output.strip()[:500]}\nAnswer my request \"{self.turn.request}\" in one "
                "sentence with this result.")

    def program_failed(self) -> str:
        """The retry instruction once the program failed: no more programs this turn (the model
        sends the failing one again), quote the line or say it is not there."""
        self.turn.program_failed = True
        self.counters["programs_failed"] = self.counters.get("programs_failed", 0) + 1
        return ("Check your answer before I show it: nothing read in this turn supports it. "
                "Quote the line that gives the answer; if the files do not contain it, say that "
                "you could not find it." + self.lines_to_quote())

    def program_refused(self, result: str) -> str:
        """The turn's closing statement when running the program was refused: the guess is not
        shown and the model does not try the same another way."""
        self.counters["loops_ended"] += 1
        reason = result.removeprefix("Refused:").strip().split(";")[0].rstrip(".")
        return ("I won't guess that number: nothing I read states it, and the short "
                f"program that would compute it was not run ({reason}). Approve the python "
                "tool, or allow it in [permissions], and ask again.")

    def brief_content(self, specs: tuple[ToolSpec, ...]) -> tuple[ToolSpec, ...]:
        """``write_file``'s ``content`` limited to BRIEF_CONTENT characters (whole-file writes on)."""
        if not self.config.whole_file_writes:
            return specs
        out = []
        for spec in specs:
            if spec.name == "write_file" and "content" in spec.parameters.get("properties", {}):
                params = json.loads(json.dumps(spec.parameters))
                params["properties"]["content"]["maxLength"] = BRIEF_CONTENT
                spec = ToolSpec(spec.name, spec.description, params, spec.keywords)
            out.append(spec)
        return tuple(out)

    def incomplete_write(self, call: ToolCall) -> None:
        """The whole-file request for ``call`` brought no complete file: the call's own content
        is only a beginning, so review_call stops it."""
        self.turn.incomplete.add(call.id)

    # --- whole-file content for small models ----------------------------------------------------

    def rewrite_target(self, call: ToolCall, small: bool) -> tuple[str, str | None] | None:
        """(path, its current text or None for a new file) when the content of ``call`` is to
        come from a whole-file request (app/core/harness/rewrite.py); None to run it as sent."""
        if not (small and self.config.whole_file_writes) or call.name not in WRITE_TOOLS:
            return None
        raw = call.arguments.get("path")
        if self._wrong_file(call):
            # The write went to a file the request does not name while it names exactly one to
            # create (or, naming none to create, exactly one to change): the right step at the
            # wrong file, so it is made to the named one, and the whole-file request below
            # writes its content. Otherwise review_call refuses it.
            new = self._new_files(self.turn.request)
            named = [] if new else self.index.mentioned_files(self.turn.request)
            if len(new) + len(named) != 1:
                return None
            raw = (new or named)[0]
            self.counters["retargeted_writes"] = self.counters.get("retargeted_writes", 0) + 1
            if new:
                return rel_path(raw), None  # a new file: written whole, an edit_file included
        rel = rel_path(raw)
        if not rel or not isinstance(raw, str) or raw.strip().startswith(("/", "~", "@")) \
                or ".." in Path(rel).parts:
            return None
        path = self.workspace / rel
        if not path.exists():
            return (rel, None) if call.name == "write_file" else None
        if rel not in self.read_paths or not path.is_file():
            return None  # review_call refuses it (read first)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if "\x00" in text or text.count("\n") > MAX_REWRITE_LINES:
            return None
        return rel, text

    def rewrite_request(self, rel: str, current: str | None) -> ProviderRequest:
        from app.core.providers.base import ProviderRequest

        context: list[tuple[str, str]] = []
        for other in self.turn.looked_at:
            if other != rel and len(context) < 2:
                try:
                    context.append((other, (self.workspace / other).read_text(
                        "utf-8", errors="replace")))
                except OSError:
                    continue
        # After a write of this file that left it broken, the next attempt is sampled: at
        # temperature 0 the same request gives the same broken file.
        broken = any(json.loads(k[len("write_file"):]).get("path") == rel
                     for k in self.turn.broken_writes if k.startswith("write_file"))
        self.counters["whole_file_writes"] = self.counters.get("whole_file_writes", 0) + 1
        return ProviderRequest(
            messages=rewrite_messages(self.turn.request, rel, current, context,
                                      [*self.turn.computed, *self.turn.run_outputs]),
            max_tokens=min(4096, len(current or "") // 2 + 320),
            temperature=self.config.vote_temperature if broken else 0.0,
            prefill=rewrite_prefill(rel))
