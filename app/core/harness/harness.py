"""The harness a session runs with: one object, called by the turn loop at fixed points.

:func:`install` is the only place a session gets it (from ``[harness]`` in config). The loop calls:

- :meth:`Harness.turn_started` — refresh the workspace index, reset the turn's evidence;
- :meth:`Harness.render` — the request as the model sees it: workspace map, grounded reads;
- :meth:`Harness.ground` — read what the request names before the first model step;
- :meth:`Harness.offer` — the step's tool specs with arguments limited to what exists;
- :meth:`Harness.review_call` — schema validation and read-before-write, before a call runs;
- :meth:`Harness.after_call` — record reads and evidence, add a syntax check to write results;
- :meth:`Harness.stop_after` — end the turn after a repeated refusal or failure, with a reason;
- :meth:`Harness.review_answer` — the grounding check of a final answer.

Its parts live next to it: what a turn keeps (turn.py), the checks of writes (write_checks.py),
lookups in the workspace's files (lookups.py), the requests of its own (own_requests.py), the runs
a request asks for (runs.py) and the verdict on an answer (answers.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.agent.messages import Message, ToolCall, new_call_id
from app.core.harness.answers import GREP_PREFIX, AnswerChecks
from app.core.harness.arithmetic import computations
from app.core.harness.calls import (
    FILE_NAME_RE,
    call_key,
    describe,
    echoes,
    is_question,
    missing_script,
    path_words,
    rel_path,
    with_path_enum,
)
from app.core.harness.checks import (
    checklist_note,
    hits_note,
    listing_note,
    syntax_note,
    table_note,
)
from app.core.harness.claims import (
    Evidence,
    topic_words,
    without_literals,
)
from app.core.harness.config import HarnessConfig
from app.core.harness.lookups import Lookups
from app.core.harness.own_requests import OwnRequests
from app.core.harness.runs import RequestedRuns
from app.core.harness.schema import missing_path, validate
from app.core.harness.turn import AnswerReview, _Turn
from app.core.harness.workspace import WorkspaceIndex
from app.core.harness.write_checks import WriteChecks
from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolResult

__all__ = ["AnswerReview", "Harness", "echoes", "syntax_note", "table_note"]

if TYPE_CHECKING:
    from app.core.agent.cancel import CancelToken
    from app.core.agent.session import Session
    from app.core.harness.vote import Decision
    from app.core.providers.base import Capabilities, ProviderRequest

# Tools whose ``path`` must name an existing file / folder (what the enum limits them to).
FILE_PATH_TOOLS = ("read_file", "edit_file")
DIR_PATH_TOOLS = ("list_dir",)
WRITE_TOOLS = ("write_file", "edit_file")
RUN_TOOLS = ("exec", "python")
SCRIPT_SUFFIXES = (".py", ".sh", ".js", ".rb", ".pl", ".ps1", ".bash")
# "python convert.py", "sh build.sh", "python -m inventory.report": a command written out.
_COMMAND_RE = re.compile(r"\b(?:python3?|sh|bash|node|ruby|perl|pytest|make)\b\s+[-\w./]+")
# The words for the workspace itself (plurals without the "s").
WORKSPACE_NOUNS = frozenset({"file", "folder", "directory", "dir", "project", "repo",
                             "repository", "workspace", "codebase", "script", "here"})
MAP_HEADER = "Files in the workspace (path, line count, top-level names):"


def _ran_and_failed(content: str) -> bool:
    """Whether a run tool's result is a command's own output ending in a non-zero exit code."""
    body = content.removeprefix("(identical call earlier in this turn; same result)\n")
    lines = [ln for ln in body.strip().splitlines() if ln.strip()]
    return (len(lines) >= 2 and lines[-1].startswith("[exit code ")
            and not body.startswith(("Error:", "Refused")))


class Harness(OwnRequests, WriteChecks, Lookups, RequestedRuns, AnswerChecks):
    def __init__(self, config: HarnessConfig, workspace: Path) -> None:
        self.config = config
        self.workspace = workspace
        self._index: WorkspaceIndex | None = None
        self.read_paths: set[str] = set()  # files read (or written) in this session
        # Calls the harness made for a request → what they read ("inventory/config.py").
        self.grounded: dict[str, str] = {}
        self.turn = _Turn()
        # Counted for the user and the benchmark: how often each mechanism fired.
        self.counters: dict[str, int] = {"grounded_reads": 0, "grounding_retries": 0,
                                         "not_found": 0, "refused_unread_writes": 0,
                                         "invalid_args": 0, "loops_ended": 0}

    # --- workspace -----------------------------------------------------------------------------

    @property
    def index(self) -> WorkspaceIndex:
        if self._index is None or self._index.root != self.workspace.resolve():
            self._index = WorkspaceIndex.build(self.workspace)
        return self._index

    def refresh(self) -> None:
        self.index.refresh()

    def turn_started(self, request: str) -> None:
        self.turn = _Turn(evidence=Evidence(question=request), request=request)
        if self.config.compute_arithmetic:
            self.turn.arithmetic = computations(request)
            for line in self.turn.arithmetic:
                self.turn.evidence.add(line, "computed")
        if self.config.repo_map or self.config.grounded_reads or self.config.constrain_paths:
            self.refresh()

    def map_text(self, context_window: int) -> str:
        """The workspace map, cut to a budget that scales with the window."""
        if not self.config.repo_map:
            return ""
        tokens = self.config.map_tokens or max(256, min(2048, context_window // 16))
        body = self.index.render_map(tokens * 4)
        # What the map states as fact is evidence; its line counts are not (they would make
        # every small number look read).
        for entry in self.index.files.values():
            self.turn.evidence.add(" ".join([entry.path, *entry.symbols]))
        # An empty workspace gets no map at all: told "The workspace is empty." the 0.5B model
        # answered questions about the user with that sentence (bench/memory_recall.py).
        return f"{MAP_HEADER}\n{body}" if body else ""

    # --- grounded reads --------------------------------------------------------------------------

    def grounding_targets(self, request: str) -> list[tuple[str, dict[str, Any]]]:
        """(tool, arguments) for what the request names: files, folders, defined symbols."""
        if not self.config.grounded_reads:
            return []
        index = self.index
        files = index.mentioned_files(request)
        named = bool(files)
        for _name, defined_in in index.mentioned_symbols(request).items():
            if len(defined_in) == 1 and defined_in[0] not in files:
                files.append(defined_in[0])
        if not named and self.config.related_reads:
            # Named no file: the files its words point to, found by retrieval (after the file
            # defining a name it used: "which module imports CURRENCY" is about another one).
            related = index.related_files(topic_words(request), self.config.related_reads + 1)
            files += [f for f in related if f not in files][: self.config.related_reads]
        out: list[tuple[str, dict[str, Any]]] = []
        for rel in files:
            entry = index.files.get(rel)
            if entry is not None and entry.size <= self.config.ground_max_bytes:
                out.append(("read_file", {"path": rel}))
        for name in self._used_elsewhere(request):
            # Where a named symbol is used, not only where it is defined: asked "Which file uses
            # LOW_STOCK_THRESHOLD besides config.py?" the model had only config.py to go on.
            out.insert(min(1, len(out)), ("grep", {"pattern": rf"\b{name}\b"}))
        for word in path_words(request):
            if word in index.dirs and not any(f.startswith(word + "/") for f in files):
                out.append(("list_dir", {"path": word}))
        out = out[: self.config.ground_max_files]
        # What the request asks to run, when running comes first ("Run calc.py. What does it
        # print?"): the model answers from the output instead of guessing it.
        return out + [("exec", {"command": c}) for c in self.runs_before_first_step(request)]

    async def ground(self, session: Session, turn_id: str, cancel: CancelToken) -> None:
        """Run the reads before the first model step, shown to the user as the agent's reads."""
        targets = [(n, a) for n, a in self.grounding_targets(session.last_request_text())
                   if session.tools.get(n) is not None]
        if not targets:
            return
        calls = [ToolCall(new_call_id(), name, args) for name, args in targets]
        for c in calls:
            path = str(c.arguments.get("path", ""))
            self.grounded[c.id] = (path if c.name == "read_file" else f"the folder {path}"
                                   if c.name == "list_dir" else
                                   f"the output of `{c.arguments.get('command', '')}`"
                                   if c.name == "exec" else
                                   f"where {str(c.arguments.get('pattern', ''))[2:-2]} occurs")
        session.commit_message(turn_id, Message(role="assistant", content="",
                                                tool_calls=tuple(calls)))
        for call in calls:
            if cancel.cancelled:
                break
            await session.run_tool(turn_id, call, cancel, grounded=True)
            if call.name == "exec":
                self.turn.harness_ran = True
                self.counters["requested_runs"] = self.counters.get("requested_runs", 0) + 1
            else:
                self.counters["grounded_reads"] += 1

    def is_grounded(self, call_id: str) -> bool:
        return call_id in self.grounded

    def render(self, messages: list[Message], request: Message | None,
               context_window: int) -> list[Message]:
        """What the model sees this step. Grounded reads are attached to the request they were
        made for, like files a user attaches (a small model shown "its own" read call tends to
        make it again); the current request also carries the workspace map. Both go into the
        request rather than the system prompt, so the system prompt and the tool list stay the
        same from one request to the next and llama.cpp's prompt cache keeps them."""
        attached: dict[int, list[Message]] = {}
        out: list[Message] = []
        notes: list[str] = []
        for m in messages:
            if request is not None and m is request:
                notes = self._notes_before(out)
            if m.role == "assistant" and m.tool_calls and not m.content and all(
                    c.id in self.grounded for c in m.tool_calls):
                continue
            if m.role == "tool" and (m.tool_call_id or "") in self.grounded:
                at = next((i for i in range(len(out) - 1, -1, -1) if out[i].role == "user"), -1)
                if at >= 0:
                    attached.setdefault(at, []).append(m)
                continue
            out.append(m)
        for i, m in enumerate(out):
            current = request is not None and m is request
            reads = attached.get(i, [])
            if not reads and not current:
                continue
            parts: list[str] = []
            if current:
                parts.append(self.map_text(context_window))
                parts.extend(notes)
                if self.turn.arithmetic:
                    parts.append("Computed exactly for you: " + "; ".join(self.turn.arithmetic))
            if reads:
                ran = any(r.name == "exec" for r in reads)
                parts.append(("Already read and run for you:\n" if ran
                              else "Already read for you:\n") + "\n".join(
                    f"--- {self.grounded.get(r.tool_call_id or '', 'read')} ---\n"
                    f"{r.content.rstrip()}" for r in reads))
            parts.append(m.content)
            out[i] = replace(m, content="\n\n".join(p for p in parts if p))
        return out

    def _notes_before(self, out: list[Message]) -> list[str]:
        """Notes the app put just before the current request (facts remembered from earlier
        sessions), taken off the end of ``out``: they go into the request next to the map, where
        a small model reads them as part of the question; and what they state is evidence an
        answer may quote, as a file read is."""
        notes: list[str] = []
        while out and out[-1].role == "notice":
            notes.insert(0, out.pop().content.strip())
        for note in notes:
            if note not in self.turn.notes:
                self.turn.notes.append(note)
                self.turn.evidence.add(note, "file")
        return notes

    # --- which tools a step offers ---------------------------------------------------------------

    def names_target(self, request: str) -> bool:
        """Whether ``request`` names something a write or a run could be about: a file, folder or
        top-level symbol of the workspace, a new file's name (``primes.py``, ``.gitignore``) or a
        piece of code in backticks. Decided by the request's shape, never by its verbs."""
        index = self.index
        if "`" in request or FILE_NAME_RE.search(request):
            return True
        if index.mentioned_files(request) or index.mentioned_symbols(request):
            return True
        return any(w in index.dirs for w in path_words(request) if w)

    def about_workspace(self, request: str) -> bool:
        """Whether ``request`` is about this workspace: it names a target (``names_target``) or
        one of its content words occurs here (a file or folder name, a top-level name, a word of
        some file). "What is the capital of France?" in a Python project is not; "How much sugar
        goes into the pancakes?" next to recipes/pancakes.txt is. Unknown (files too many or too
        big to have read) counts as about it, and so does a request that speaks of the workspace
        itself ("Which files are in this folder?")."""
        if self.names_target(request) or not self.index.fully_read:
            return True
        words = {w.removesuffix("s") for w in re.findall(r"[a-z]+", request.lower())}
        if words & WORKSPACE_NOUNS:
            return True
        named, text = self.index.topic_hits(topic_words(request))
        return bool(named or text)

    def scope(self, specs: tuple[ToolSpec, ...], request: str,
              used: set[str]) -> tuple[ToolSpec, ...]:
        """The tools a small model is offered for ``request``: none when the request is not about
        the workspace at all (a 0.5B model offered tools for "What is the capital of France?"
        reads a random file first, and its answer is then checked against that file); without a
        target to change or run ("Who maintains this project?") only the tools that read, so it
        does not run something instead of answering. What it already used this turn stays."""
        if not self.config.scope_tools:
            return specs
        self.turn.scoped = True
        keep = set(used)
        if self._numbers_unsupported() and not self.turn.program_tried:
            keep.add("python")  # the retry after a guessed number computes it (retry_callable)
        if self.answered_by_runs(request):
            # "Run calc.py. What does it print?" once the harness ran it: the answer is in the
            # output, so no tool is offered (asked that, the 0.5B model rewrote calc.py; asked
            # for the shelf panel's value in the report, it read the CSV and quoted the price).
            return tuple(s for s in specs if s.name in keep)
        if is_question(request):
            # A question is answered, not acted on: asked "Which function in calc.py divides two
            # numbers?", the 0.5B model wrote a divide function into calc.py. Nor is anything run
            # unless it names a command (an interpreter and its script, code in backticks):
            # asked "Which test function checks mul?" it ran the tests, and asked which function
            # in calc.py divides, it ran calc.py.
            runs = "`" in request or bool(_COMMAND_RE.search(request))
            drop = WRITE_TOOLS if runs else (*WRITE_TOOLS, *RUN_TOOLS)
            specs = tuple(s for s in specs if s.name not in drop or s.name in keep)
        if self.config.compute_programs or self._new_files(request):
            # A small model computes through the program step (a program asked for in a request
            # of its own), and a file to create holds its own code. Offered the inline python
            # tool, the 0.5B model re-typed convert.py with its bug for "What is the output of
            # python convert.py?" and sent "Write a script primes.py …" as code with prose after.
            specs = tuple(s for s in specs if s.name != "python" or s.name in keep)
        if any(Path(n).suffix.lower() in SCRIPT_SUFFIXES for n in self._new_files(request)):
            # A script to write before it can run: running comes once it exists (asked "Create
            # primes.py …, then run it", the 0.5B model ran the missing file, again and again).
            specs = tuple(s for s in specs if s.name not in RUN_TOOLS or s.name in keep)
        if self.names_target(request):
            return specs
        if not self.about_workspace(request):
            return tuple(s for s in specs if s.name in keep)
        return tuple(s for s in specs
                     if s.name not in (*WRITE_TOOLS, *RUN_TOOLS) or s.name in keep)

    def _numbers_unsupported(self) -> bool:
        claims = self.turn.unsupported
        return bool(claims) and all(c.kind == "number" for c in claims)

    # --- constrained and validated calls -----------------------------------------------------------

    def offer(self, specs: tuple[ToolSpec, ...], handles: list[str]) -> tuple[ToolSpec, ...]:
        """The tool specs of this step with ``path`` limited to paths that exist."""
        if self.turn.program_failed:
            specs = tuple(s for s in specs if s.name != "python")
        if not self.config.constrain_paths:
            return specs
        files = self.index.file_paths()
        dirs = [".", *self.index.dir_paths()]
        out = []
        for spec in specs:
            if spec.name == "grep" and not files:
                continue
            if spec.name in FILE_PATH_TOOLS:
                allowed = files + (handles if spec.name == "read_file" else [])
            elif spec.name in DIR_PATH_TOOLS:
                allowed = dirs
            else:
                out.append(spec)
                continue
            if not allowed and not files:
                # Nothing to read or edit: a model offered read_file in an empty workspace asks
                # for a file named after the question ("staging_server_ip.txt") instead of
                # answering from what it was given.
                continue
            if not allowed or len(allowed) > self.config.path_enum_limit:
                out.append(spec)
                continue
            out.append(with_path_enum(spec, allowed))
        return tuple(out)

    def review_call(self, call: ToolCall, schema: dict[str, Any]) -> str:
        """A problem that stops ``call`` before it runs ("" when it may run)."""
        if call.id in self.turn.incomplete:
            self.counters["incomplete_writes"] = self.counters.get("incomplete_writes", 0) + 1
            return (f"the complete content of {rel_path(call.arguments.get('path'))} did not come "
                    "back, so nothing was written. Send the write_file call again.")
        problem = validate(schema, call.arguments) or (
            self._same_broken_write(call) if call.name in WRITE_TOOLS else "")
        raw = call.arguments.get("path")
        if not problem and call.name in FILE_PATH_TOOLS and isinstance(raw, str) and raw.strip() \
                and not raw.strip().startswith(("@", "/", "~")) \
                and not (self.workspace / raw.strip()).exists():
            problem = missing_path(raw, self.index.file_paths())
        if not problem and call.name == "exec":
            problem = missing_script(str(call.arguments.get("command", "")), self.workspace)
        if problem:
            self.counters["invalid_args"] += 1
            return problem
        if call.name in WRITE_TOOLS:
            problem = (self._wrong_file(call) or self._placeholders(call)
                       or self._unread_values(call) or self._other_lines(call))
            if problem:
                self.counters["invalid_args"] += 1
                return problem
        if self.config.read_before_write and call.name == "edit_file":
            # Claude Code's rule for edits too: a file is changed only after it was read, so an
            # edit matches what is there and a question is never answered by changing a file
            # nobody looked at (a 0.5B model asked which function raises an error renamed a class).
            rel = rel_path(call.arguments.get("path"))
            if rel and rel in self.index.files and rel not in self.read_paths:
                self.counters["refused_unread_writes"] += 1
                return (f"you have not read {rel} in this session; read it first with read_file "
                        "and edit it only if the request asks for a change.")
        if self.config.read_before_write and call.name == "write_file":
            rel = rel_path(call.arguments.get("path"))
            if rel and rel in self.index.files and rel not in self.read_paths:
                self.counters["refused_unread_writes"] += 1
                return (f"{rel} already exists and you have not read it in this session; "
                        "writing would replace its whole content. Read it first with read_file, "
                        "then either change part of it with edit_file or write the complete new "
                        "content.")
            lost, had = self._lines_lost(rel, str(call.arguments.get("content", "")))
            if lost and rel not in self.turn.shrink_warned:
                # Small models "edit" by writing only the changed part: the rest of the file is
                # gone. Once per file the write is stopped with what it would delete.
                self.turn.shrink_warned.add(rel)
                self.counters["refused_shrinking_writes"] = (
                    self.counters.get("refused_shrinking_writes", 0) + 1)
                return (f"this write_file would delete {lost} of the {had} non-blank lines of "
                        f"{rel}. To change part of a file, use edit_file with the exact "
                        "old text and the new text. If you really mean to replace the whole file, "
                        "send the same write_file again.")
        return ""

    def step_temperature(self, default: float | None) -> float | None:
        """The temperature of the next model step: ``default``, or once after a refused repeat
        the sampling temperature, so a greedy model can say something else."""
        if not self.turn.resample:
            return default
        self.turn.resample = False
        return max(default or 0.0, self.config.vote_temperature)

    def after_call(self, call: ToolCall, result: ToolResult) -> ToolResult:
        """Record what the call showed; append a syntax check to a successful write or edit."""
        ev = self.turn.evidence
        self.turn.results.append(result.content)
        if call.name in RUN_TOOLS:
            # What a program printed is evidence, except values written into the program itself:
            # print(1250) computes nothing.
            source = str(call.arguments.get("code") or call.arguments.get("command") or "")
            if call.name == "exec":
                # A refused run counts as done: the user decided, and is not asked again.
                self.note_run(source, ok=not result.content.startswith("Error:"))
            ev.add(without_literals(result.content, source), "computed")
            if call.name == "exec" and not result.content.startswith(("Error:", "Refused")):
                self.turn.printed[source] = result.content
            if not result.is_error and result.content.strip():
                what = (f"`{source}`" if call.name == "exec" else "the python program")
                self.turn.run_outputs.append(f"{what} printed:\n{result.content.strip()[:800]}")
        else:
            if call.name == "read_file" and not result.is_error and not call.arguments.get("lines"):
                # Small models count rows by guess or not at all; the count a table's read
                # comes with is computed here, so an answer can quote it.
                rel = rel_path(call.arguments.get("path"))
                note = table_note(rel, result.content) or checklist_note(rel, result.content)
                if note:
                    result = replace(result, content=f"{result.content.rstrip()}\n{note}")
                    self.turn.computed.append(note)
            if call.name == "grep" and not result.is_error:
                if result.content.startswith("no matches"):
                    self.turn.not_found.append(str(call.arguments.get("pattern") or ""))
                note = hits_note(result.content)
                if note:
                    result = replace(result, content=f"{result.content.rstrip()}\n{note}")
                    self.turn.computed.append(note)
                    # Only the total was worked out here; each line's own number stays a value
                    # of its line ("8 km on Saturday" is not what "Thu: ran 8 km" says).
                    ev.add(note.rsplit("together", 1)[1], "computed")
            if call.name == "list_dir" and not result.is_error:
                note = listing_note(rel_path(call.arguments.get("path")) or ".", result.content)
                if note:
                    result = replace(result, content=f"{result.content.rstrip()}\n{note}")
                    self.turn.computed.append(note)
            # grep's "path:LINE:" prefixes are positions, not values: "contacts.csv:4: …,Leeds"
            # made "4 contacts in Leeds" look read.
            source = rel_path(call.arguments.get("path")) if call.name == "read_file" else ""
            # Each grep hit and each table row stands alone: the row above a CSV's first row
            # is its header ("name,email,city"), which made Priya's e-mail "about" Mia's.
            alone = call.name == "grep" or Path(source).suffix.lower() in (".csv", ".tsv")
            ev.add(GREP_PREFIX.sub("", result.content) if call.name == "grep"
                   else result.content, "file", source=source, window=0 if alone else 1)
            ev.add(json.dumps(call.arguments, ensure_ascii=False, default=str), "request")
        narrowed = self.turn.narrowed.pop(call.id, "")
        if result.is_error:
            return result
        if narrowed:
            result = replace(result, content=f"{result.content}\n{narrowed}")
        if call.name in (*WRITE_TOOLS, *RUN_TOOLS):
            self.turn.acted = True
        rel = rel_path(call.arguments.get("path"))
        if call.name in ("read_file", "grep") and rel in self.index.files \
                and rel not in self.turn.looked_at:
            self.turn.looked_at.append(rel)
        if call.name in ("read_file", *WRITE_TOOLS) and rel:
            self.read_paths.add(rel)
            if call.name == "read_file" and rel not in self.turn.read:
                self.turn.read.append(rel)
        if call.name in WRITE_TOOLS and rel:
            unchanged = self.unchanged_write(call, result.content)
            if unchanged:
                return replace(result, content=unchanged, is_error=True)
            self.refresh()
            self.workspace_changed()
            self.turn.written.add(rel)
            if self.config.syntax_check:
                note = syntax_note(self.workspace / rel, rel)
                if note:
                    broken = not note.endswith(" OK.")
                    if broken:
                        self.turn.broken_writes[call_key(call)] = note
                    # A write that leaves a broken file did not do its step: reported as a
                    # failure, so the loop asks for the fix instead of an answer.
                    return replace(result, content=f"{result.content}\n{note}", is_error=broken)
        elif getattr(call, "name", "") in ("exec", "python"):
            self.refresh()  # a command may have created or changed files
        return result

    def stop_after(self, call: ToolCall, result: ToolResult, *, refused: bool,
                   repeated: bool) -> str:
        """The turn's closing statement when a refused or failing call is being retried ("" =
        go on)."""
        limit = self.config.max_retries_after_refusal
        what = describe(call)
        if refused:
            self.turn.refusals += 1
            if self.turn.refusals > limit:
                self.counters["loops_ended"] += 1
                reason = result.content.removeprefix("Refused:").strip()
                return (f"I stopped: {what} was refused ({reason}). Nothing else was changed. If "
                        "you want it done, approve the call when asked, allow the tool in "
                        "[permissions], or tell me another way to do it.")
            return ""
        if not result.is_error:
            return ""
        if repeated and call.name in RUN_TOOLS and _ran_and_failed(result.content):
            # The command ran and exited non-zero: that is what it reports (a failing test names
            # itself), not a step that failed. The repeat gets the same output and the loop asks
            # for the answer from it; "I stopped" would drop the test the user asked about.
            return ""
        key = call_key(call)
        if self.turn.soft_refusal == key:  # asked for different content: one more step
            self.turn.soft_refusal = ""
            return ""
        seen = self.turn.failures.get(key, 0) + 1
        self.turn.failures[key] = seen
        if seen > limit or repeated:
            self.counters["loops_ended"] += 1
            lines = [ln for ln in result.content.strip().splitlines()
                     if ln.strip() and not ln.startswith("(identical call")]
            # The line that says why (a syntax check follows a write's own success line).
            first = self.turn.broken_writes.get(key) or next(
                (ln for ln in lines if ln.startswith(("Error", "Syntax check"))),
                lines[0] if lines else "failed")
            return (f"I stopped: {what} failed again with the same error ({first[:200]}). "
                    "Tell me how you want to proceed, or fix the cause and ask again.")
        return ""

    # --- votes ---------------------------------------------------------------------------------

    def votes_on(self, caps: Capabilities, request: ProviderRequest) -> bool:
        """Voting is for models marked small in their capability record."""
        return self.config.vote_k >= 2 and caps.small and not request.extra.get("grammar")

    def count_vote(self, decision: Decision) -> None:
        self.counters["votes"] = self.counters.get("votes", 0) + (1 if decision.votes else 0)
        self.counters["vote_samples"] = self.counters.get("vote_samples", 0) + decision.samples
        if decision.votes and not decision.decided:
            self.counters["votes_undecided"] = self.counters.get("votes_undecided", 0) + 1
