"""The memory briefing: long-term facts and recent sessions condensed by the memory model into a
short text (active context, key facts, recent patterns) that every system prompt carries.

It never holds up a turn: it is built in the background, swapped in whole only once complete and
checked (a reader sees the old text or the new one, never half), and written to disk atomically
so the next start has one at once. ``/clear`` drops it, so stale topics do not follow the user
into unrelated work; a build that was under way when it was cleared is thrown away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.context.tokens import estimate_tokens
from app.core.memory.model import MemoryModel, MemoryModelError
from app.core.memory.service import Memory
from app.core.settings.paths import atomic_write_text

log = logging.getLogger(__name__)

HEADING = "## Memory briefing"
SECTIONS = ("Active context", "Key facts", "Recent patterns")
MAX_FACTS = 40
MAX_INPUT_CHARS = 6000
SNIPPET = 200

SYSTEM = ("You write a short briefing for an assistant about the user it works with, from notes "
          "kept across sessions. Use only what the notes say. Write only the briefing.")
PROMPT = """Write a briefing of at most {words} words with exactly these three sections:

## Active context
What the user was working on most recently (from the recent sessions).
## Key facts
The facts that matter most, copied exactly (names, numbers, paths).
## Recent patterns
What the user tends to ask for or prefer.

Write "none" under an empty section. No preamble.

Long-term facts (most important first):
{facts}

Recent sessions (newest first):
{sessions}"""


def _snip(text: str, n: int = SNIPPET) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def checked(text: str, words: int) -> str:
    """The model's briefing, tidied: headings as ``### name``, at most ``words`` words (cut at a
    line), or :class:`MemoryModelError` when it lacks the sections."""
    lines = []
    found = 0
    for raw in text.strip().splitlines():
        bare = re.sub(r"^[#*\s]+|[*:\s]+$", "", raw).strip()
        name = next((s for s in SECTIONS if bare.lower() == s.lower()), None)
        if name is not None:
            found += 1
            lines.append(f"### {name}")
        elif raw.strip():
            lines.append(raw.rstrip())
    if found < 2:
        raise MemoryModelError("the briefing did not have its sections")
    out: list[str] = []
    count = 0
    for line in lines:
        n = len(line.split())
        if count + n > words and not line.startswith("### "):
            break
        out.append(line)
        count += n
    return "\n".join(out).strip()


class Bulletin:
    def __init__(self, memory: Memory, model: MemoryModel | None, path: Path,
                 workspace: Path, *, words: int = 300,
                 clock: Callable[[], float] = time.time) -> None:
        self.memory = memory
        self.model = model
        self.path = path
        self.workspace = workspace
        self.words = words
        self.clock = clock
        self.text = ""
        self.built_at = 0.0
        self.last_error = ""
        self.builds = 0
        self._generation = 0
        self._cancel: CancelToken | None = None
        self.attempts = 0
        self.attempted = asyncio.Event()  # set after each rebuild attempt (tests await it)
        self.load()

    # --- the cached text -----------------------------------------------------------------------

    def load(self) -> None:
        """Warm start: the briefing the last run wrote."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            self.text, self.built_at = text, self.path.stat().st_mtime
        except (OSError, UnicodeDecodeError):
            self.text, self.built_at = "", 0.0

    def clear(self) -> bool:
        """Drop the briefing (and the file); a build under way is discarded. Returns whether
        there was one."""
        had = bool(self.text)
        self._generation += 1
        self.cancel("the briefing was cleared")
        self.text, self.built_at = "", 0.0
        with contextlib.suppress(OSError):
            self.path.unlink()
        return had

    def section(self, window: int) -> str:
        """The briefing for the system prompt, within ~5% of the window (150 to 1,000 tokens)."""
        text = self.text
        if not text:
            return ""
        budget = max(150, min(1000, window // 20))
        lines = text.splitlines()
        while lines and estimate_tokens("\n".join(lines)) > budget:
            lines.pop()
        if not lines:
            return ""
        return (f"{HEADING}\nWhat you know from earlier sessions (it may be out of date):\n"
                + "\n".join(lines))

    @property
    def building(self) -> bool:
        return self._cancel is not None

    def cancel(self, reason: str) -> bool:
        token = self._cancel
        return bool(token is not None and token.cancel(reason))

    # --- building ------------------------------------------------------------------------------

    def inputs(self) -> tuple[list[str], list[str]]:
        """(fact lines, session lines) for the prompt, within :data:`MAX_INPUT_CHARS`."""
        scopes = self.memory.scopes(self.workspace)
        facts = [f"- {_snip(f.text)}" for f in self.memory.facts.strongest(
            scopes, MAX_FACTS, self.memory.config.half_life_days)]
        sessions: list[str] = []
        for d in self.memory.past.recent(scopes[1:], sessions=3, turns=4):
            sessions.append(f"Session of {time.strftime('%Y-%m-%d', time.localtime(d.last_ts))}:")
            sessions += [f"  user: {_snip(r)}" for r in d.requests]
            if d.answers:
                sessions.append(f"  assistant (last answer): {_snip(d.answers[-1])}")
        while facts and sum(map(len, facts)) > MAX_INPUT_CHARS * 0.6:
            facts.pop()
        while sessions and sum(map(len, facts + sessions)) > MAX_INPUT_CHARS:
            sessions.pop()
        return facts, sessions

    async def rebuild(self) -> bool:
        """Build a new briefing and swap it in; False (the old one stays) when there is nothing
        to brief, the model failed, or the briefing was cleared or cancelled meanwhile."""
        try:
            return await self._rebuild()
        finally:
            self.attempts += 1
            self.attempted.set()

    def next_attempt(self) -> Coroutine[Any, Any, None]:
        """Something to await for the end of the next rebuild attempt (counted from this call,
        so an attempt that ends before the waiting starts still counts)."""
        target = self.attempts + 1

        async def wait() -> None:
            while self.attempts < target:
                self.attempted.clear()
                await self.attempted.wait()

        return wait()

    async def _rebuild(self) -> bool:
        if self.model is None:
            self.last_error = "no memory model"
            return False
        generation = self._generation
        facts, sessions = await asyncio.to_thread(self.inputs)
        if not facts and not sessions:
            self.last_error = "nothing remembered yet"
            return False
        prompt = PROMPT.format(words=self.words, facts="\n".join(facts) or "none",
                               sessions="\n".join(sessions) or "none")
        cancel = self._cancel = CancelToken()
        try:
            reply = await self.model.complete(
                [Message(role="system", content=SYSTEM), Message(role="user", content=prompt)],
                max_tokens=int(self.words * 2.2), cancel=cancel)
            text = checked(reply, self.words)
        except MemoryModelError as exc:
            self.last_error = str(exc)
            log.info("memory briefing not rebuilt: %s", exc)
            return False
        finally:
            if self._cancel is cancel:
                self._cancel = None
        if generation != self._generation or cancel.cancelled:
            self.last_error = "cleared while it was being built"
            return False
        self.text, self.built_at = text, self.clock()  # the swap: one assignment
        self.builds += 1
        self.last_error = ""
        try:
            await asyncio.to_thread(atomic_write_text, self.path, text + "\n")
        except OSError as exc:
            log.warning("could not save the memory briefing: %s", exc)
        return True

    def status(self) -> str:
        if self.building:
            state = "being rebuilt"
        elif self.text:
            mins = max(0, int((self.clock() - self.built_at) / 60))
            state = f"{len(self.text.split())} words, built {mins} min ago"
        else:
            state = "none yet"
        why = f" (last try: {self.last_error})" if self.last_error else ""
        return f"memory briefing: {state}{why}"


class BulletinSchedule:
    """Rebuild the briefing ``delay_s`` after start-up and then every ``every_s``, only while no
    turn runs. With ``yield_to_turns`` (a local memory model sharing the CPU) a turn that starts
    cancels the build under way, which is tried again once the session is idle."""

    def __init__(self, bulletin: Bulletin, *, delay_s: float, every_s: float,
                 busy: Callable[[], bool], yield_to_turns: bool, retry_s: float = 30.0) -> None:
        self.bulletin = bulletin
        self.delay_s, self.every_s, self.retry_s = delay_s, every_s, retry_s
        self.busy = busy
        self.yield_to_turns = yield_to_turns
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._idle.set()
            self._task = asyncio.get_running_loop().create_task(self._run())

    def turn(self, phase: str) -> None:
        """The memory hook's news: a turn ``started`` or ``ended``."""
        if phase == "started":
            self._idle.clear()
            if self.yield_to_turns:
                self.bulletin.cancel("a turn started")
        else:
            self._idle.set()

    def rebuild_soon(self) -> None:
        """Skip the rest of the wait (``/memory rebuild``)."""
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _run(self) -> None:
        await self._sleep(self.delay_s)
        while True:
            while self.busy():
                self._idle.clear()
                await self._idle.wait()
            try:
                await self.bulletin.rebuild()
            except Exception:  # background work never takes the app down
                log.exception("memory briefing failed")
            retry = self.bulletin.last_error.startswith("cancelled")
            await self._sleep(self.retry_s if retry else self.every_s)

    async def aclose(self) -> None:
        self.bulletin.cancel("the app is closing")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
