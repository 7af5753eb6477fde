"""The harness's verdict on a final answer: run what the request asked to run first, send the
model back once (the asked file never written, the request said back, an answer off the request,
values nothing read shows), or say what the turn found instead; and which tools that retry step
may call. A mixin of :class:`app.core.harness.harness.Harness`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.core.harness.calls import (
    ECHO_RETRY,
    OFF_TOPIC_RETRY,
    asks_to_be_told,
    echoes,
    is_question,
    off_topic,
)
from app.core.harness.claims import (
    Claim,
    contradicted_by,
    extract_claims,
    has_word,
    not_found_answer,
    retry_instruction,
    topic_lines,
)
from app.core.harness.compute import program_answer
from app.core.harness.part import HarnessPart
from app.core.harness.turn import AnswerReview

if TYPE_CHECKING:
    from app.core.providers.base import ToolSpec

# A fenced code block in a reply: its body.
_FENCE = re.compile(r"```[\w+-]*[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
# A grep line's "path:LINE:" prefix: a position, not a value.
GREP_PREFIX = re.compile(r"^[^\s:]+:\d+:[ \t]?", re.MULTILINE)
_PROBLEMS = {"echo": "it repeated the request", "off_topic": "it did not answer the request"}


class AnswerChecks(HarnessPart):
    def retry_callable(self, specs: tuple[ToolSpec, ...]) -> tuple[str, ...]:
        """The tools the extractive retry step may call (empty = any). Numbers the files did not
        show were counted or computed in the model's head: that step may call only the tool that
        computes (small models otherwise read the same file again and repeat the guess)."""
        if "not_done" in self.turn.retried and self._pending_files():
            return ("write_file",)  # the file the request asks for, nothing else
        if self.turn.unwritten and self.turn.unwritten not in self.turn.written:
            return ("write_file",)  # the file it showed in its reply
        if self.turn.program_tried:
            return ()  # the program step ran (or was refused): no second program by hand
        if self._numbers_unsupported() and any(s.name == "python" for s in specs):
            return ("python",)
        return ()

    def review_answer(self, text: str, *, used_tools: bool,
                      drafts: tuple[str, ...] = ()) -> AnswerReview:
        """``drafts``: the texts of the turn's earlier replies (with their calls)."""
        shown = self._shown_not_written((*drafts, text))
        if shown and "unwritten" not in self.turn.retried and self.config.grounding_check:
            # The change was written into the reply instead of the file: asked to fix calc.py,
            # the 1.5B model showed "the corrected calc.py" in a code block, ran the tests and
            # answered "The bug in calc.py has been fixed".
            self.turn.retried.add("unwritten")
            self.turn.unwritten = shown
            self.counters["unwritten_retries"] = self.counters.get("unwritten_retries", 0) + 1
            return AnswerReview("retry", (
                f"{shown} is unchanged: the code in your reply was not written to it. If my "
                f"request asks you to change {shown}, call write_file with path {shown!r} now; "
                "if not, answer my request."), problem=f"it showed {shown} but did not write it")
        review = self._review(text, used_tools=used_tools)
        if review.action == "accept":
            # An answer that shows nothing a requested run printed gets the output after it:
            # the user asked to see it run.
            output = self.unreported_output(text)
            if output:
                return AnswerReview("append", text=output, problem="it did not show the output")
        return review

    def _review(self, text: str, *, used_tools: bool) -> AnswerReview:
        runs = self.pending_runs()
        if runs and "ran_for_you" not in self.turn.retried:
            # The request asks to run something the turn never ran (since its last write): the
            # harness runs it and the answer comes from the output (asked to create primes.py and
            # run it, the 0.5B model wrote it and answered "I created primes.py").
            self.turn.retried.add("ran_for_you")
            return AnswerReview("run", commands=tuple(runs),
                                problem=f"it did not run {', '.join(runs)}")
        if not self.config.grounding_check or not text.strip():
            return AnswerReview("accept")
        pending = self._pending_files()
        if pending and "not_done" not in self.turn.retried:
            # The turn ends with the file it was asked for never written (asked to write
            # primes.py, the 0.5B model listed the folder and answered with the primes).
            self.turn.retried.add("not_done")
            self.counters["not_done_retries"] = self.counters.get("not_done_retries", 0) + 1
            return AnswerReview("retry", (
                f"{pending[0]} does not exist yet. If my request asks you to create it, call "
                f"write_file with path {pending[0]!r} now; if not, answer my request."),
                problem=f"{pending[0]} was not created")
        if echoes(text, self.turn.request):  # the request parroted back is no answer
            # What the harness computed from the reads (a table's row count) is repeated next to
            # the instruction: a small model lost in a long read finds it there.
            computed = (" Computed from the files read: " + " ".join(self.turn.computed)
                        if self.turn.computed else "")
            return self._retry_or_give_up("echo", ECHO_RETRY + computed + self.lines_to_quote(),
                                          [])
        if not self.turn.acted and self.about_workspace(self.turn.request) and off_topic(
                text, self.turn.request, self.turn.results):
            return self._retry_or_give_up("off_topic", OFF_TOPIC_RETRY, [])
        ev = self.turn.evidence
        # A grep line quoted as the answer ("meetings/b.md:5: - Venue: …") states its position,
        # not a value: the line number is not a claim, as it is not evidence.
        missing = ev.unsupported(GREP_PREFIX.sub("", text))
        general = not used_tools or (not self.turn.arithmetic
                                     and not self.about_workspace(self.turn.request))
        if general:
            # Without tool results, or for a request about nothing in the workspace (unless the
            # harness computed its sums), the answer is general knowledge: only claims about
            # things in the workspace (its files and names) are checked.
            names = {n.lower() for n in self.index.file_paths()} | {
                s.lower() for e in self.index.files.values() for s in e.symbols}
            missing = [c for c in missing if c.kind == "identifier" and any(
                has_word(n, c.text.lower()) for n in names)]
        unseen = self._searched_and_absent(text)
        if unseen:
            # The turn's own search said it is not there: the answer's values are about
            # something else ("numpy" found nothing in pyproject.toml; the 1.5B model gave
            # another package's version, 2.31, as numpy's).
            request = self.turn.request.lower()
            missing = [c for c in extract_claims(GREP_PREFIX.sub("", text))
                       if not has_word(request, c.text.lower())]
            if missing:
                return self._retry_or_give_up("claims", (
                    f"Your search for '{unseen}' found nothing, and nothing read in this turn "
                    f"mentions it. " + retry_instruction(text, missing)), missing)
        if not missing:
            note = contradicted_by(text, self.turn.computed, self.turn.request)
            if note and "contradicted" not in self.turn.retried:
                # One retry, then the answer stands: the model has been shown both.
                self.turn.retried.add("contradicted")
                self.counters["contradicted_retries"] = self.counters.get(
                    "contradicted_retries", 0) + 1
                return AnswerReview("retry", (
                    f"Check your answer before I show it: the count computed from the file says "
                    f"{note}, and your answer does not match it. Answer my request from that "
                    "count, or quote the line that shows otherwise."),
                    problem="it contradicts the count computed from the file")
            return AnswerReview("accept")
        return self._retry_or_give_up("claims", retry_instruction(text, missing), missing)

    def _quotable(self) -> list[str]:
        """The lines of the turn's results about the request, each once: a grep hit and the
        same line read whole are one line (the hit, which says where it is)."""
        lines = [ln for ln in topic_lines(self.turn.results, self.turn.request, limit=6)
                 if ln not in self.turn.computed]  # a count is given as computed already
        hits = {GREP_PREFIX.sub("", ln) for ln in lines if GREP_PREFIX.match(ln)}
        return [ln for ln in lines if GREP_PREFIX.match(ln) or ln not in hits][:3]

    def lines_to_quote(self) -> str:
        """The lines of the turn's results about the request, for a retry that asks the model
        to quote one ("" when none mentions two of its content words)."""
        lines = self._quotable()
        if not lines:
            return ""
        return " Lines read in this turn that mention it:\n" + "\n".join(lines)

    def _retry_or_give_up(self, why: str, instruction: str, missing: list[Claim]) -> AnswerReview:
        """One retry per kind of problem (a parroted request, unsupported values), then the
        honest answer."""
        if why not in self.turn.retried:
            self.turn.retried.add(why)
            self.turn.unsupported = list(missing)
            self.counters["grounding_retries"] += 1
            return AnswerReview("retry", instruction, unsupported=tuple(missing),
                                problem=_PROBLEMS.get(why, ""))
        if re.search(r"\d", self.turn.program_output):
            # The model would not say it, but the program computed it: show that, not a guess.
            # Only a number: the program was asked for because of a guessed number, and one
            # that printed Lena's email for her phone number computed nothing.
            self.counters["program_answers"] = self.counters.get("program_answers", 0) + 1
            return AnswerReview("replace", text=program_answer(self.turn.program_output),
                                unsupported=tuple(missing), problem=_PROBLEMS.get(why, ""))
        self.counters["not_found"] += 1
        return AnswerReview("replace", text=not_found_answer(self.turn.read, self._quotable()),
                            unsupported=tuple(missing), problem=_PROBLEMS.get(why, ""))

    def _shown_not_written(self, texts: tuple[str, ...]) -> str:
        """A file the request names (and asks something of, not about) that a reply of the turn
        showed new code for in a fenced block, and that the turn never wrote ("" if none)."""
        request = self.turn.request
        if not request or is_question(request) or asks_to_be_told(request):
            return ""  # "How would I fix calc.py?" is answered with code
        named = set(self.index.mentioned_files(request))
        for text in texts:
            for m in _FENCE.finditer(text):
                block = m.group(1)
                before = text[max(0, m.start() - 300):m.start()]
                for rel in reversed(self.index.mentioned_files(before)):
                    if rel not in named or rel in self.turn.written:
                        continue
                    try:
                        current = (self.workspace / rel).read_text("utf-8", errors="replace")
                    except OSError:
                        continue
                    have = {ln.strip() for ln in current.splitlines()}
                    lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
                    # New lines beside lines of the file: its content changed, not a quote of
                    # it as it is, nor a command that mentions it ("pytest tests/test_calc.py").
                    if any(ln not in have for ln in lines) and any(
                            len(ln) >= 4 and ln in have for ln in lines):
                        return rel
        return ""

    def _searched_and_absent(self, text: str) -> str:
        """A word of the request that the answer uses, that a grep of this turn searched for
        and found nowhere, and that no result of the turn holds ("" if none)."""
        # What the harness added to reads counts as seen ("4 open ([ ])" of a checklist whose
        # lines say "[ ]", not "open").
        seen = "\n".join([*(r for r in self.turn.results if not r.startswith("no matches")),
                          *self.turn.computed]).lower()
        request, answer = self.turn.request.lower(), text.lower()
        for pattern in self.turn.not_found:
            term = pattern.strip().lower()
            if (re.fullmatch(r"\w[\w .-]{2,}", term) and has_word(request, term)
                    and has_word(answer, term) and not has_word(seen, term)):
                return pattern.strip()
        return ""
