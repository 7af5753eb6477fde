"""What the harness keeps for one turn, and its verdict on a final answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.harness.claims import Claim, Evidence


@dataclass
class _Turn:
    evidence: Evidence = field(default_factory=Evidence)
    retried: set[str] = field(default_factory=set)
    refusals: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    read: list[str] = field(default_factory=list)
    unsupported: list[Claim] = field(default_factory=list)  # what the retry is about
    request: str = ""
    shrink_warned: set[str] = field(default_factory=set)
    broken_writes: dict[str, str] = field(default_factory=dict)  # call → its syntax error
    narrowed: dict[str, str] = field(default_factory=dict)  # call id → what was left out
    repeat_refused: set[str] = field(default_factory=set)
    soft_refusal: str = ""
    computed: list[str] = field(default_factory=list)  # counts the harness added to reads
    arithmetic: list[str] = field(default_factory=list)  # "17*3 = 51" for sums the request wrote
    resample: bool = False  # the next step is sampled, not greedy
    notes: list[str] = field(default_factory=list)  # notes given with the request (evidence)
    looked_at: list[str] = field(default_factory=list)  # files read or searched this turn
    results: list[str] = field(default_factory=list)  # what the turn's tools returned
    acted: bool = False  # a write, edit or run succeeded: the answer reports it ("Done.")
    program_tried: bool = False  # a program computed (or tried to compute) the answer
    program_output: str = ""  # what it printed
    program_failed: bool = False  # it failed twice: python is not offered again this turn
    incomplete: set[str] = field(default_factory=set)  # writes whose whole content never came
    scoped: bool = False  # the tools were scoped for a small model this turn
    run_outputs: list[str] = field(default_factory=list)  # "`python stats.py` printed: …"
    printed: dict[str, str] = field(default_factory=dict)  # command run → its last output
    # Commands that ran since the workspace last changed (a write makes earlier runs stale).
    ran: list[str] = field(default_factory=list)
    harness_ran: bool = False  # the harness ran what the request asks to run, before step one
    written: set[str] = field(default_factory=set)  # files a write or edit of the turn changed
    not_found: list[str] = field(default_factory=list)  # grep patterns that matched nothing
    unwritten: str = ""  # a file the model showed code for instead of writing it (the retry's)


@dataclass
class AnswerReview:
    """What the loop does with a final answer: show it, retry once, or replace it."""

    action: str  # "accept" | "retry" | "replace" | "run" | "append"
    instruction: str = ""
    text: str = ""
    unsupported: tuple[Claim, ...] = ()
    problem: str = ""  # what was wrong, for the notice ("it repeated the request")
    commands: tuple[str, ...] = ()  # "run": what the harness runs before the answer
