"""Towers of Hanoi as a step task (MAKER's benchmark), with terse output formats.

State: three pegs, each a tuple of disks from bottom to top, disks 1 (smallest) .. n. The model is
given the strategy, not asked to invent one: if the previous move did not move disk 1, move disk 1
one peg along a fixed cycle; otherwise make the only legal move that does not involve disk 1. The
cycle is 0->1->2 for an even disk count and 0->2->1 for an odd one, so the tower always ends on peg 2.

Formats (param ``format``):
- ``full`` (MAKER): ``move = [disk, from, to]`` and ``next_state = [[..], [..], [..]]``; the
  validator checks the move is legal and that next_state is exactly the state after it.
- ``move``: the model answers the smaller question (the move only); the next state follows from
  the rules. Votes are still on the canonical move.
- ``guided``: a finer decomposition for small models. The strategy's condition (did the previous
  move move disk 1?) is applied by the prompt builder, which asks only the branch that holds: "move
  disk 1 along the cycle" or "make the legal move that does not involve disk 1"; the pegs are listed
  one per line. The model still finds and writes the move; the rules still check it.
- ``choice``: the rules list the legal moves (at most three) as lettered options and the model
  picks one by the strategy (``answer = B``): the model makes exactly the decision the strategy
  makes, and nothing else.

Nothing here knows the solution: see ``hanoi_oracle`` for the solver used by calibration and audit.
"""

from __future__ import annotations

import re
from typing import Any

from app.core.process.params import Param
from app.core.process.task import Answer, Parsed, Prompt, RedFlag, TaskError, register_task

State = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
Move = tuple[int, int, int]
FORMATS = ("full", "move", "guided", "choice")
LETTERS = "ABC"
MAX_DISKS = 30

_INT = r"(0|[1-9][0-9]*)"
_LIST = r"\[\s*((?:0|[1-9][0-9]*)(?:\s*,\s*(?:0|[1-9][0-9]*))*)?\s*\]"
_MOVE_RE = re.compile(r"move\s*=\s*\[\s*" + _INT + r"\s*,\s*" + _INT + r"\s*,\s*" + _INT + r"\s*\]")
_STATE_RE = re.compile(r"next_state\s*=\s*\[\s*" + _LIST + r"\s*,\s*" + _LIST + r"\s*,\s*" + _LIST
                       + r"\s*\]")
_FULL_RE = re.compile(r"\s*" + _MOVE_RE.pattern + r"[ \t]*\r?\n\s*" + _STATE_RE.pattern + r"\s*")
_MOVE_ONLY_RE = re.compile(r"\s*" + _MOVE_RE.pattern + r"\s*")
_CHOICE_RE = re.compile(r"\s*answer\s*=\s*([A-C])\s*")

# Hand-written worked examples, one per disk-1 direction (checked against the rules in tests).
_EXAMPLES = {
    1: ("Example with 4 disks (disk 1 cycles 0 -> 1 -> 2 -> 0):\n"
        "Previous move: [2, 0, 2]\nCurrent state: [[4, 3], [1], [2]]\n"
        "{a1}\n"
        "Previous move: [1, 1, 2]\nCurrent state: [[4, 3], [], [2, 1]]\n"
        "{a2}"),
    -1: ("Example with 3 disks (disk 1 cycles 0 -> 2 -> 1 -> 0):\n"
         "Previous move: [2, 0, 1]\nCurrent state: [[3], [2], [1]]\n"
         "{a1}\n"
         "Previous move: [1, 2, 1]\nCurrent state: [[3], [2, 1], []]\n"
         "{a2}"),
}
_EXAMPLE_ANSWERS = {
    1: (((1, 1, 2), ((4, 3), (), (2, 1))), ((3, 0, 1), ((4,), (3,), (2, 1)))),
    -1: (((1, 2, 1), ((3,), (2, 1), ())), ((3, 0, 2), ((), (2, 1), (3,)))),
}


def fmt_move(move: Move) -> str:
    return f"[{move[0]}, {move[1]}, {move[2]}]"


def fmt_state(state: State) -> str:
    return "[" + ", ".join(["[" + ", ".join(map(str, peg)) + "]" for peg in state]) + "]"


def apply_move(state: State, move: Move) -> State | str:
    """The state after ``move``, or why the move breaks the rules."""
    disk, src, dst = move
    if not (0 <= src <= 2 and 0 <= dst <= 2):
        return f"peg out of range in {fmt_move(move)}"
    if src == dst:
        return f"move {fmt_move(move)} does not change peg"
    from_peg = state[src]
    if not from_peg or from_peg[-1] != disk:
        return f"disk {disk} is not on top of peg {src}"
    to_peg = state[dst]
    if to_peg and to_peg[-1] < disk:
        return f"disk {disk} cannot go on smaller disk {to_peg[-1]}"
    pegs = list(state)
    pegs[src] = from_peg[:-1]
    pegs[dst] = (*to_peg, disk)
    return (pegs[0], pegs[1], pegs[2])


def legal_moves(state: State) -> list[Move]:
    """Every legal move, in a fixed order (by source peg, then destination)."""
    moves: list[Move] = []
    for src in range(3):
        if not state[src]:
            continue
        disk = state[src][-1]
        for dst in range(3):
            if dst != src and (not state[dst] or state[dst][-1] > disk):
                moves.append((disk, src, dst))
    return moves


def _pegs_lines(state: State) -> str:
    return "\n".join(f"Peg {i}: " + (", ".join(map(str, peg)) if peg else "empty")
                     for i, peg in enumerate(state))


class HanoiTask:
    """Move a tower of ``disks`` disks from peg 0 to peg 2, one decided move per step."""

    def __init__(self, disks: int, fmt: str = "full") -> None:
        if isinstance(disks, bool) or not isinstance(disks, int) or not 1 <= disks <= MAX_DISKS:
            raise TaskError(f"hanoi: disks must be an integer from 1 to {MAX_DISKS}, got {disks!r}")
        if fmt not in FORMATS:
            raise TaskError(f"hanoi: format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        self.disks = disks
        self.format = fmt
        self.name = "hanoi"
        self.params: dict[str, Any] = {"disks": disks, "format": fmt}
        self.total_steps: int | None = 2 ** disks - 1
        self.direction = 1 if disks % 2 == 0 else -1
        self._all = frozenset(range(1, disks + 1))
        digits = len(str(disks))
        # A full reply: about 6 tokens for the move, 2 per disk for the state. Generous until the
        # calibration has measured the real length distribution.
        self.default_token_cap = {"full": 24 + 3 * disks * digits, "choice": 8}.get(fmt, 24)
        self._system = self._system_prompt()
        self._grammar = self._gbnf()

    # --- prompt ------------------------------------------------------------------------------

    def _choice_system(self) -> str:
        cycle = "0 -> 1 -> 2 -> 0" if self.direction == 1 else "0 -> 2 -> 1 -> 0"
        return (
            f"You choose the next move in the Tower of Hanoi with {self.disks} disks, numbered 1 "
            "(smallest) upwards, on pegs 0, 1 and 2. Each peg lists its disks from bottom to top; "
            "the last one listed is the top disk. You are shown the legal moves.\n"
            f"Strategy: if the previous move did not move disk 1, choose the move that takes disk "
            f"1 one peg along the cycle {cycle}. If the previous move moved disk 1, choose the "
            "move that does not move disk 1.\n"
            "Reply with exactly one line and nothing else: answer = LETTER")

    def _system_prompt(self) -> str:
        if self.format == "guided":
            return self._guided_system()
        if self.format == "choice":
            return self._choice_system()
        n = self.disks
        cycle = "0 -> 1 -> 2 -> 0" if self.direction == 1 else "0 -> 2 -> 1 -> 0"
        (m1, s1), (m2, s2) = _EXAMPLE_ANSWERS[self.direction]
        if self.format == "full":
            out = "move = [disk, from, to]\nnext_state = [[...], [...], [...]]"
            a1 = f"move = {fmt_move(m1)}\nnext_state = {fmt_state(s1)}"
            a2 = f"move = {fmt_move(m2)}\nnext_state = {fmt_state(s2)}"
            ask = "Reply with exactly these two lines and nothing else:"
        else:
            out = "move = [disk, from, to]"
            a1, a2 = f"move = {fmt_move(m1)}", f"move = {fmt_move(m2)}"
            ask = "Reply with exactly this one line and nothing else:"
        example = _EXAMPLES[self.direction].format(a1=a1, a2=a2)
        return (
            f"You carry out one step of the Tower of Hanoi. There are {n} disks, numbered 1 "
            f"(smallest) to {n} (largest), on three pegs numbered 0, 1 and 2. A state lists each "
            "peg's disks from bottom to top: [[3, 2], [1], []] means peg 0 holds disk 3 with disk 2 "
            "on top, peg 1 holds disk 1 and peg 2 is empty. A move [disk, from, to] takes the top "
            "disk of peg `from` and puts it on peg `to`. Only a top disk can move, and a disk may "
            "never be put on a smaller disk.\n\n"
            f"Strategy: if the previous move did not move disk 1, move disk 1 one peg along the "
            f"cycle {cycle}. Otherwise make the only legal move that does not move disk 1.\n\n"
            f"{ask}\n{out}\n\n{example}"
        )

    def _guided_system(self) -> str:
        return (
            f"You make one move in the Tower of Hanoi with {self.disks} disks, numbered 1 "
            "(smallest) upwards, on pegs 0, 1 and 2. Each peg lists its disks from bottom to top, "
            "so the last disk listed is the top disk. Only a top disk can move, and never onto a "
            "smaller disk. Do what the rule for this move says.\n"
            "Reply with exactly one line and nothing else: move = [disk, from peg, to peg]")

    def prompt(self, state: State, prev_action: Move | None) -> Prompt:
        if self.format == "guided":
            cycle = ((0, 1), (1, 2), (2, 0)) if self.direction == 1 else ((0, 2), (2, 1), (1, 0))
            if prev_action is None or prev_action[0] != 1:
                rule = ("Rule for this move: move disk 1 one peg along its cycle: "
                        + ", ".join(f"from peg {a} it goes to peg {b}" for a, b in cycle) + ".")
            else:
                rule = ("Rule for this move: do not move disk 1. Of the two pegs that do not hold "
                        "disk 1, move the smaller top disk onto the other one (an empty peg takes "
                        "any disk).")
            return Prompt(self._system, f"{rule}\n{_pegs_lines(state)}", self._grammar)
        if self.format == "choice":
            prev = ("none (this is the first move)" if prev_action is None else
                    f"disk {prev_action[0]} from peg {prev_action[1]} to peg {prev_action[2]}")
            options = "\n".join(f"{LETTERS[i]}) move disk {d} from peg {a} to peg {b}"
                                for i, (d, a, b) in enumerate(legal_moves(state)))
            return Prompt(self._system, f"Previous move: {prev}\n{_pegs_lines(state)}\n"
                                        f"Legal moves:\n{options}", self._grammar)
        prev = fmt_move(prev_action) if prev_action is not None else "none (this is the first move)"
        return Prompt(self._system, f"Previous move: {prev}\nCurrent state: {fmt_state(state)}",
                      self._grammar)

    def _gbnf(self) -> str:
        num = "[1-9]" if self.disks < 10 else "[1-9] [0-9]?"
        move = '"move = [" num ", " peg ", " peg "]"'
        if self.format == "choice":
            return 'root ::= "answer = " [A-C]\n'
        if self.format != "full":
            root = f"root ::= {move}\n"
        else:
            root = (f'root ::= {move} "\\nnext_state = [" lst ", " lst ", " lst "]"\n'
                    'lst ::= "[" ( num ( ", " num )* )? "]"\n')
        return root + f"num ::= {num}\npeg ::= [0-2]\n"

    # --- state -------------------------------------------------------------------------------

    def initial_state(self) -> State:
        return (tuple(range(self.disks, 0, -1)), (), ())

    def is_done(self, state: State) -> bool:
        return not state[0] and not state[1] and len(state[2]) == self.disks

    def state_to_json(self, state: State) -> Any:
        return [list(peg) for peg in state]

    def state_from_json(self, data: Any) -> State:
        if (not isinstance(data, list) or len(data) != 3
                or not all(isinstance(p, list) for p in data)
                or not all(isinstance(d, int) and not isinstance(d, bool)
                           for p in data for d in p)):
            raise TaskError(f"not a Hanoi state (three lists of disk numbers): {data!r}")
        state: State = (tuple(data[0]), tuple(data[1]), tuple(data[2]))
        problem = self._check_state(state)
        if problem:
            raise TaskError(problem)
        return state

    def action_from_json(self, data: Any) -> Move:
        if (not isinstance(data, list) or len(data) != 3
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)):
            raise TaskError(f"not a Hanoi move [disk, from, to]: {data!r}")
        return (data[0], data[1], data[2])

    def _check_state(self, state: State) -> str:
        disks = [d for peg in state for d in peg]
        if len(disks) != self.disks or set(disks) != self._all:
            return f"state {fmt_state(state)} does not hold each disk 1..{self.disks} exactly once"
        for i, peg in enumerate(state):
            if any(peg[j] < peg[j + 1] for j in range(len(peg) - 1)):
                return f"peg {i} of {fmt_state(state)} has a disk on a smaller disk"
        return ""

    # --- parsing and rules -------------------------------------------------------------------

    def parse(self, text: str) -> Parsed | RedFlag:
        if self.format == "choice":
            chosen = _CHOICE_RE.fullmatch(text)
            if chosen is None:
                return RedFlag("format", "not exactly one line 'answer = A|B|C'")
            return Parsed(chosen[1], None)
        if self.format != "full":
            m = _MOVE_ONLY_RE.fullmatch(text)
            if m is None:
                return RedFlag("format", "not exactly one line 'move = [disk, from, to]'")
            return Parsed((int(m[1]), int(m[2]), int(m[3])), None)
        m = _FULL_RE.fullmatch(text)
        if m is None:
            return RedFlag("format", "not exactly 'move = [..]' then 'next_state = [[..],[..],[..]]'")
        a, b, c = (tuple(map(int, g.split(","))) if g else () for g in (m[4], m[5], m[6]))
        if len(a) + len(b) + len(c) != self.disks or {*a, *b, *c} != self._all:
            return RedFlag("format", f"next_state does not hold each disk 1..{self.disks} once")
        return Parsed((int(m[1]), int(m[2]), int(m[3])), (a, b, c))

    def validate(self, state: State, parsed: Parsed) -> Answer | RedFlag:
        move: Move = parsed.action
        if isinstance(move, str):  # a lettered option ("choice"): the rules list the options
            options = legal_moves(state)
            pick = LETTERS.find(move)
            if not 0 <= pick < len(options):
                return RedFlag("invalid", f"there is no option {move} (only {len(options)})")
            move = options[pick]
        if not 1 <= move[0] <= self.disks:
            return RedFlag("invalid", f"no disk {move[0]}")
        after = apply_move(state, move)
        if isinstance(after, str):
            return RedFlag("invalid", after)
        if parsed.next_state is not None and parsed.next_state != after:
            return RedFlag("invalid", f"next_state is not the state after {fmt_move(move)}")
        # The next state is a function of (state, move) once valid, so the move is the key.
        return Answer(f"{move[0]},{move[1]},{move[2]}", move, after)


def _factory(params: dict[str, Any]) -> HanoiTask:
    unknown = set(params) - {"disks", "format"}
    if unknown:
        raise TaskError(f"hanoi: unknown parameter(s) {', '.join(sorted(unknown))}; "
                        "known: disks, format")
    if "disks" not in params:
        raise TaskError("hanoi: the number of disks is required (--disks N)")
    return HanoiTask(params["disks"], str(params.get("format", "full")))


register_task("hanoi", _factory, params=(
    Param("disks", "int", help=f"number of disks (1 to {MAX_DISKS}); also --disks N"),
    Param("format", "str", "full", help="full | move | guided | choice; also --format")))
