"""A remembered fact and the arithmetic around it: its normal form (for merging duplicates), how
alike two facts are, and how much weight an old fact still carries (decay unless used).

Pure functions on plain values, so the rules are tested without a database.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

DAY = 86_400.0
USER = "user"  # facts about the user: every project sees them
PROJECT_PREFIX = "project:"

_WORD = re.compile(r"[^\W_]+")
# Words that carry no content: two facts that differ only in these say the same thing.
_FILLER_TEXT = """
a an the is are was were be been am i my me we our us you your it its this that these those of to
in on at for with and or as by from has have had do does did so very really just also
"""
_FILLER = frozenset(_FILLER_TEXT.split())


@dataclass(frozen=True)
class Source:
    """Where a fact was said: the session, the turn, and when."""

    session_id: str
    turn_id: str = ""
    ts: float = 0.0


@dataclass(frozen=True)
class Fact:
    id: int
    scope: str  # "user", or "project:<absolute workspace path>"
    text: str
    created: float
    updated: float  # last time it was said again or edited
    last_used: float  # last time recall returned it (or it was said again)
    uses: int = 0  # times recall returned it
    pinned: bool = False  # never decays away
    sources: tuple[Source, ...] = field(default_factory=tuple)

    @property
    def first_source(self) -> Source | None:
        return self.sources[0] if self.sources else None


def project_scope(workspace: str) -> str:
    return PROJECT_PREFIX + workspace


def scope_label(scope: str) -> str:
    return "user" if scope == USER else "project"


def normalize(text: str) -> str:
    """Case, accents, punctuation and spacing folded away: equal normal forms are duplicates."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD.findall(folded))


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in normalize(text).split() if w not in _FILLER)


def match_query(text: str, limit: int = 24) -> str | None:
    """An FTS5 MATCH expression: each content word quoted (nothing typed is read as FTS5 syntax),
    joined by OR. Possessives and one-letter pieces go ("dog's" looks for "dog")."""
    from app.core.context_store.index import STOPWORDS

    words: list[str] = []
    for w in normalize(text).split():
        if len(w) > 1 and w not in STOPWORDS and w not in _FILLER and w not in words:
            words.append(w)
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in words[:limit])


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of the content words (0 = nothing shared, 1 = the same words)."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 1.0 if normalize(a) == normalize(b) else 0.0
    return len(wa & wb) / len(wa | wb)


def weight(fact: Fact, now: float, half_life_days: float) -> float:
    """How much an old fact still counts: 1.0 when fresh, halving every ``half_life_days`` since
    it was last said or recalled, raised a little by each use (so a fact in use outlives one that
    was said once). Pinned facts always weigh 1.0."""
    if fact.pinned:
        return 1.0
    idle_days = max(0.0, now - max(fact.last_used, fact.updated)) / DAY
    fresh = 0.5 ** (idle_days / half_life_days) if half_life_days > 0 else 1.0
    return min(1.0, fresh * (1.0 + 0.25 * math.log1p(fact.uses)))


def clean_fact(text: str, limit: int = 500) -> str:
    """A fact as stored: one line, trimmed, at most ``limit`` characters."""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def age_text(ts: float, now: float) -> str:
    """"today", "3 days ago", "5 months ago": how old a fact is, for the model and the user."""
    days = max(0.0, now - ts) / DAY
    if days < 1:
        return "today"
    if days < 2:
        return "yesterday"
    if days < 60:
        return f"{int(days)} days ago"
    if days < 730:
        return f"{int(days / 30)} months ago"
    return f"{int(days / 365)} years ago"
