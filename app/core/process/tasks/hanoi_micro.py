"""Towers of Hanoi cut finer than one move per call (m = 1/2), for models too small for a move.

Each move is two steps, each a small question:

1. *Which rule now?* The model is told the previous move's disk and answers ``rule = A`` (move
   disk 1 along the cycle) or ``rule = B`` (make the move that does not involve disk 1). Either
   answer is legal, so only the vote decides.
2. The rule's question. For A: "disk 1 is on peg p; which peg comes after p in the cycle?"
   (``peg = q``; either other peg is legal, so again the vote decides). For B: "the pegs without
   disk 1 have top disks x and y; move the smaller onto the other peg: which disk moves?"
   (``disk = z``; the rules reject the larger disk, so here a valid answer is the right one).

The prompt states facts read off the state (where disk 1 is, the two other tops): a presentation of
the state, not of the answer. Everything the strategy decides is still decided by the model's votes.
State: (pegs, previous move, the rule decided for the move in progress or None).
"""

from __future__ import annotations

import re
from typing import Any

from app.core.process.params import Param
from app.core.process.task import Answer, Parsed, Prompt, RedFlag, TaskError, register_task
from app.core.process.tasks.hanoi import MAX_DISKS, Move, State, apply_move, fmt_move

MicroState = tuple[State, Move | None, str | None]
_ANSWER_RE = re.compile(r"\s*(rule|peg|disk)\s*=\s*([AB]|0|[1-9][0-9]*)\s*")

SYSTEM = (
    "You answer one small question about a Tower of Hanoi game with {n} disks (1 is the smallest) "
    "on pegs 0, 1 and 2. The game follows a fixed strategy: after a move of any disk other than "
    "disk 1 (or at the very start), disk 1 moves one peg along the cycle {cycle}; after a move of "
    "disk 1, the one move that does not involve disk 1 is made.\n"
    "Reply with exactly one line in the form the question asks for, and nothing else.")


class HanoiMicroTask:
    def __init__(self, disks: int) -> None:
        if isinstance(disks, bool) or not isinstance(disks, int) or not 1 <= disks <= MAX_DISKS:
            raise TaskError(f"hanoi-micro: disks must be an integer from 1 to {MAX_DISKS}, "
                            f"got {disks!r}")
        self.disks = disks
        self.name = "hanoi-micro"
        self.params: dict[str, Any] = {"disks": disks}
        self.total_steps: int | None = 2 * (2 ** disks - 1)
        self.default_token_cap = 8
        self.direction = 1 if disks % 2 == 0 else -1
        self.cycle = "0 -> 1 -> 2 -> 0" if self.direction == 1 else "0 -> 2 -> 1 -> 0"
        self._system = SYSTEM.format(n=disks, cycle=self.cycle)

    def initial_state(self) -> MicroState:
        return ((tuple(range(self.disks, 0, -1)), (), ()), None, None)

    def is_done(self, state: MicroState) -> bool:
        pegs, _, rule = state
        return rule is None and not pegs[0] and not pegs[1] and len(pegs[2]) == self.disks

    def prompt(self, state: MicroState, prev_action: Any | None) -> Prompt:
        pegs, prev, rule = state
        if rule is None:
            moved = ("There was no previous move" if prev is None
                     else f"The previous move moved disk {prev[0]}")
            return Prompt(self._system,
                          f"{moved}.\nQuestion: answer rule = B if the previous move moved disk "
                          "1, and rule = A if it moved any other disk or if there was none.",
                          'root ::= "rule = " [AB]\n')
        one = next(i for i, peg in enumerate(pegs) if peg and peg[-1] == 1)
        if rule == "A":
            after = ((0, 1), (1, 2), (2, 0)) if self.direction == 1 else ((0, 2), (2, 1), (1, 0))
            table = ", ".join(f"after peg {a} comes peg {b}" for a, b in after)
            return Prompt(self._system,
                          f"Disk 1 is on peg {one}. In the cycle {self.cycle}, {table}.\n"
                          f"Question: which peg comes after peg {one}? Answer: peg = N",
                          'root ::= "peg = " [0-2]\n')
        a, b = (i for i in range(3) if i != one)
        tops = [f"peg {i} has top disk {pegs[i][-1]}" if pegs[i] else f"peg {i} is empty"
                for i in (a, b)]
        return Prompt(self._system,
                      f"Disk 1 is on peg {one}. Of the other two pegs, {tops[0]} and {tops[1]}. "
                      "Question: the smaller of those top disks moves onto the other peg; which "
                      "disk moves? Answer: disk = N",
                      'root ::= "disk = " [1-9] [0-9]?\n')

    def parse(self, text: str) -> Parsed | RedFlag:
        m = _ANSWER_RE.fullmatch(text)
        if m is None:
            return RedFlag("format", "not exactly one line 'rule = A|B', 'peg = N' or 'disk = N'")
        kind, value = m[1], m[2]
        if (kind == "rule") != (value in ("A", "B")):
            return RedFlag("format", f"{kind} = {value} is not a {kind}")
        return Parsed((kind, value if kind == "rule" else int(value)), None)

    def validate(self, state: MicroState, parsed: Parsed) -> Answer | RedFlag:
        pegs, prev, rule = state
        kind, value = parsed.action
        if rule is None:
            if kind != "rule":
                return RedFlag("invalid", "the question was which rule applies")
            return Answer(f"rule={value}", ("rule", value), (pegs, prev, value))
        one = next(i for i, peg in enumerate(pegs) if peg and peg[-1] == 1)
        if kind == "move":  # a replayed decision
            move = (value[0], value[1], value[2])
        elif rule == "A" and kind == "peg":
            move = (1, one, value)
        elif rule == "B" and kind == "disk":
            src = next((i for i, peg in enumerate(pegs) if peg and peg[-1] == value), -1)
            if src < 0 or value == 1:
                return RedFlag("invalid", f"disk {value} is not a top disk other than disk 1")
            move = (value, src, 3 - src - one)
        else:
            return RedFlag("invalid", f"'{kind}' does not answer the rule {rule} question")
        if (move[0] == 1) != (rule == "A"):
            return RedFlag("invalid", f"rule {rule} does not allow {fmt_move(move)}")
        after = apply_move(pegs, move)
        if isinstance(after, str):
            return RedFlag("invalid", after)
        return Answer(f"{move[0]},{move[1]},{move[2]}", ("move", move), (after, move, None))

    def state_to_json(self, state: MicroState) -> Any:
        pegs, prev, rule = state
        return {"pegs": [list(p) for p in pegs], "prev": list(prev) if prev else None,
                "rule": rule}

    def state_from_json(self, data: Any) -> MicroState:
        from app.core.process.tasks.hanoi import HanoiTask

        if not isinstance(data, dict) or set(data) != {"pegs", "prev", "rule"} \
                or data["rule"] not in (None, "A", "B"):
            raise TaskError(f"not a hanoi-micro state: {data!r}")
        pegs = HanoiTask(self.disks).state_from_json(data["pegs"])
        prev = None if data["prev"] is None else HanoiTask(self.disks).action_from_json(
            data["prev"])
        return (pegs, prev, data["rule"])

    def action_from_json(self, data: Any) -> Any:
        if isinstance(data, list) and len(data) == 2 and data[0] == "rule" and data[1] in "AB":
            return ("rule", data[1])
        if isinstance(data, list) and len(data) == 2 and data[0] == "move" \
                and isinstance(data[1], list) and len(data[1]) == 3 \
                and all(isinstance(v, int) for v in data[1]):
            return ("move", tuple(data[1]))
        raise TaskError(f"not a hanoi-micro action: {data!r}")


def _factory(params: dict[str, Any]) -> HanoiMicroTask:
    if set(params) != {"disks"}:
        raise TaskError("hanoi-micro takes one parameter: disks")
    return HanoiMicroTask(params["disks"])


register_task("hanoi-micro", _factory, params=(
    Param("disks", "int", help=f"number of disks (1 to {MAX_DISKS}); also --disks N"),))
