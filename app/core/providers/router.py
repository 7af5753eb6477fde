"""The per-turn router: a transparent light/standard/heavy scorer, escalation on evidence.

Every point of the score has a reason a person can read; thresholds come from ``[router]``
(light below 2, heavy from 6). A turn starts at 2 points (standard) and features move it.

============================  ======================================================
Feature                        Points
============================  ======================================================
prompt length (tokens ≈ /4)    +1 from 40, +2 from 300, +3 from 1500
pasted code / context          +1 per fenced block or quoted block (at most +2)
a diff                         +2
heavy task verbs               +2 for the first (refactor, design, debug, prove, …),
                               +1 per further one (at most +3)
constraints                    +0.5 per bullet/numbered line or must/should/without
                               (at most +2)
tool likelihood                +1 if it names files or asks to run/test/search
conversation depth             +1 after 10 user turns
light cues                     -1 for six words or fewer, -2 for a greeting/thanks
explicit                       "@heavy"/"think hard" → heavy; "@light" → light
============================  ======================================================

Escalation, cascade-style: within a turn, when the history since the user's message shows
malformed tool calls, failing tests or commands, or the turn nears its iteration budget, the next
step goes one level up, and the notice says why.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.context.tokens import estimate_tokens
from app.core.providers.base import (
    Capabilities,
    NoticeChunk,
    Provider,
    ProviderEvent,
    ProviderRequest,
)
from app.core.settings.config import RouterConfig

LEVELS = ("light", "standard", "heavy")
HEAVY_VERBS = ("refactor", "redesign", "design", "architect", "prove", "debug", "optimize",
               "optimise", "implement", "migrate", "rewrite", "analyze", "analyse",
               "investigate", "plan", "diagnose", "port")
_VERB_RE = re.compile(r"\b(" + "|".join(HEAVY_VERBS) + r")\w*\b", re.IGNORECASE)
_FENCE_RE = re.compile(r"```")
_DIFF_RE = re.compile(r"^(diff --git |@@ .+ @@|\+\+\+ |--- a/)", re.MULTILINE)
_BULLET_RE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.MULTILINE)
_CONSTRAINT_RE = re.compile(r"\b(must|should|without|never|always|only)\b", re.IGNORECASE)
_FILE_RE = re.compile(r"\b[\w./-]+\.(?:py|js|ts|rs|go|md|toml|json|yaml|yml|txt|c|h|cpp|java)\b")
_TOOL_WORDS = re.compile(r"\b(run|test|tests|grep|search|list|open|read|file|files|folder|"
                         r"directory)\b", re.IGNORECASE)
_LIGHT_RE = re.compile(r"^\s*(hi|hello|hey|thanks|thank you|ok|okay|yes|no|cool|great)\b[\s!.]*$",
                       re.IGNORECASE)
_FAIL_RE = re.compile(r"(\bFAILED\b|\bfailed\b|Traceback \(most recent call last\)|"
                      r"Exit code: [1-9]|\berror:)")
PARSE_FAILURE_MARK = "could not be parsed"
BASE_SCORE = 2.0


@dataclass(frozen=True)
class RouteDecision:
    level: str
    score: float
    reasons: tuple[str, ...]
    target: str = ""
    escalated: bool = False

    def describe(self) -> str:
        """``standard (score 3: likely needs tools +1) → local:main``"""
        why = ", ".join(self.reasons) if self.reasons else "nothing notable"
        to = f" → {self.target}" if self.target else ""
        return f"{self.level} (score {self.score:g}: {why}){to}"

    def notice(self) -> str:
        return ("escalated to " if self.escalated else "route: ") + self.describe()


def _level(score: float, cfg: RouterConfig) -> str:
    if score < cfg.light_below:
        return "light"
    if score >= cfg.heavy_from:
        return "heavy"
    return "standard"


def score_prompt(text: str, *, depth: int = 0, tools_available: bool = True,
                 cfg: RouterConfig | None = None) -> RouteDecision:
    """Score one user message; every point comes with its reason."""
    cfg = cfg or RouterConfig()
    low = text.lower()
    if "@heavy" in low or re.search(r"\bthink (hard|harder|deeply)\b", low):
        return RouteDecision("heavy", cfg.heavy_from, ("asked to think hard",))
    if "@light" in low:
        return RouteDecision("light", 0.0, ("asked for a light model",))
    points: list[tuple[float, str]] = [(BASE_SCORE, "base")]
    tokens = estimate_tokens(text)
    if tokens >= 1500:
        points.append((3, f"long prompt ~{tokens} tokens"))
    elif tokens >= 300:
        points.append((2, f"long prompt ~{tokens} tokens"))
    elif tokens >= 40:
        points.append((1, f"prompt ~{tokens} tokens"))
    blocks = len(_FENCE_RE.findall(text)) // 2 + (1 if re.search(r"^> ", text, re.MULTILINE)
                                                   else 0)
    if blocks:
        points.append((min(2, blocks), f"{blocks} pasted block(s)"))
    if _DIFF_RE.search(text):
        points.append((2, "contains a diff"))
    verbs = list(dict.fromkeys(m.group(1).lower() for m in _VERB_RE.finditer(text)))
    if verbs:
        points.append((min(3, 1 + len(verbs)), "task verb " + "/".join(verbs[:3])))
    n_constraints = len(_BULLET_RE.findall(text)) + len(_CONSTRAINT_RE.findall(text))
    if n_constraints:
        points.append((min(2.0, 0.5 * n_constraints), f"{n_constraints} constraint(s)"))
    if tools_available and (_FILE_RE.search(text) or _TOOL_WORDS.search(text)):
        points.append((1, "likely needs tools"))
    if depth > 10:
        points.append((1, f"deep conversation ({depth} turns)"))
    if _LIGHT_RE.match(text):
        points.append((-2, "small talk"))
    elif len(text.split()) <= 6 and "```" not in text and not verbs:
        points.append((-1, "short message"))
    total = round(max(0.0, sum(p for p, _ in points)), 2)
    reasons = tuple(f"{r} {p:+g}" for p, r in points[1:])
    return RouteDecision(_level(total, cfg), total, reasons)


def turn_start(messages: Sequence[Message]) -> int:
    """Index of the user message that opened the current turn, or -1.

    A user message right after a tool result (or a tool-calling assistant message) belongs to
    the running turn: a steer, or a nudge the loop appends for small models. Any other user
    message opens a turn.
    """
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role != "user":
            continue
        prev = next((p for p in reversed(messages[:i]) if p.role != "notice"), None)
        if prev is None or prev.role not in ("tool", "assistant") or (
                prev.role == "assistant" and not prev.tool_calls):
            return i
    return -1


def evidence(messages: Sequence[Message], *, iterations: int = 0,
             max_iterations: int = 0) -> list[str]:
    """Signs the current turn is going badly, from the messages since the turn began."""
    since = list(messages[turn_start(messages) + 1:])
    out: list[str] = []
    parse = sum(1 for m in since if m.role in ("notice", "user", "system")
                and PARSE_FAILURE_MARK in m.content)
    parse += sum(1 for m in since if m.role == "assistant" and not m.tool_calls
                 and PARSE_FAILURE_MARK in m.content)
    if parse >= 2:
        out.append(f"{parse} malformed tool calls")
    fails = [m for m in since if m.role == "tool" and (m.is_error or _FAIL_RE.search(m.content))]
    if len(fails) >= 2:
        out.append(f"{len(fails)} failing tool results")
    if max_iterations and iterations >= max(2, int(max_iterations * 0.75)):
        out.append(f"{iterations} of {max_iterations} tool rounds used")
    return out


def _user_key(messages: Sequence[Message]) -> tuple[int, str]:
    """Identifies the current turn: the position and text of the message that opened it."""
    i = turn_start(messages)
    return (i, messages[i].content) if i >= 0 else (-1, "")


@dataclass
class _TurnState:
    key: tuple[int, str] = (0, "")
    level: str = "standard"
    steps: int = 0
    decisions: list[RouteDecision] = field(default_factory=list)


class RoutedProvider:
    """Picks a provider per turn from the router's decision; escalates within a turn."""

    def __init__(self, targets: dict[str, Provider], cfg: RouterConfig, *,
                 names: dict[str, str] | None = None, max_iterations: int = 20,
                 announce: bool | None = None) -> None:
        missing = [lvl for lvl in LEVELS if lvl not in targets]
        if missing:
            raise ValueError(f"router targets missing: {missing}")
        self.targets = targets
        self.cfg = cfg
        self.names = names or {lvl: targets[lvl].name for lvl in LEVELS}
        self.max_iterations = max_iterations
        distinct = len({id(p) for p in targets.values()}) > 1
        # With one provider for every level the decision changes nothing: keep it out of the
        # conversation (the dashboard still shows it) unless asked.
        self.announce = distinct if announce is None else announce
        self._turn = _TurnState()
        self.last: RouteDecision | None = None
        self.current: Provider = targets["standard"]
        self.name = self.current.name
        self.model = self.current.model
        self.capabilities: Capabilities = self.current.capabilities

    def decide(self, request: ProviderRequest) -> tuple[RouteDecision, bool]:
        """The decision for this step and whether it is new (a new turn or an escalation)."""
        key = _user_key(request.messages)
        turn = self._turn
        if key != turn.key:
            users = sum(1 for m in request.messages[:key[0]] if m.role == "user")
            d = score_prompt(key[1], depth=users, tools_available=bool(request.tools),
                             cfg=self.cfg)
            d = RouteDecision(d.level, d.score, d.reasons, self.names[d.level])
            self._turn = _TurnState(key, d.level, 1, [d])
            return d, True
        turn.steps += 1
        signs = evidence(request.messages, iterations=turn.steps,
                         max_iterations=self.max_iterations)
        idx = LEVELS.index(turn.level)
        if signs and idx < len(LEVELS) - 1 and not any(
                d.escalated and d.reasons == tuple(signs) for d in turn.decisions):
            level = LEVELS[idx + 1]
            d = RouteDecision(level, turn.decisions[-1].score, tuple(signs), self.names[level],
                              escalated=True)
            turn.level = level
            turn.decisions.append(d)
            return d, True
        return turn.decisions[-1], False

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        decision, new = self.decide(request)
        self.last = decision
        provider = self.targets[decision.level]
        # An escalation to the model already answering changes nothing the user can see.
        moved = provider is not self.current
        self.current = provider
        self.name, self.model, self.capabilities = provider.name, provider.model, \
            provider.capabilities
        if new and (self.announce or (decision.escalated and moved)):
            yield NoticeChunk(decision.notice(), level="info")
        async for ev in provider.stream(request, cancel):
            yield ev
        self.model, self.capabilities = provider.model, provider.capabilities

    async def aclose(self) -> None:
        seen: set[int] = set()
        for p in self.targets.values():
            if id(p) not in seen:
                seen.add(id(p))
                await p.aclose()
