"""The Hanoi task: strict parser, rules-only validator, constant-size prompts, and the solver."""

from __future__ import annotations

import json

import pytest

from app.core.process.task import Answer, Parsed, RedFlag, TaskError, known_tasks, make_task
from app.core.process.tasks.hanoi import HanoiTask, apply_move, fmt_state
from app.core.process.tasks.hanoi_oracle import move_at, random_cases, state_at, strategy_move

FOUR = HanoiTask(4)
START = ((4, 3, 2, 1), (), ())

GOOD = "move = [1, 0, 1]\nnext_state = [[4, 3, 2], [1], []]"


def test_a_well_formed_reply_parses_and_validates() -> None:
    parsed = FOUR.parse(GOOD)
    assert parsed == Parsed((1, 0, 1), ((4, 3, 2), (1,), ()))
    answer = FOUR.validate(START, parsed)
    assert answer == Answer("1,0,1", (1, 0, 1), ((4, 3, 2), (1,), ()))


@pytest.mark.parametrize("text", [
    "move = [1,0,1]\nnext_state = [[4,3,2],[1],[]]",
    "  move = [1, 0, 1]\n  next_state = [[4, 3, 2], [1], []]\n",
    "move=[ 1 , 0 , 1 ]\r\nnext_state=[[4, 3, 2], [1], [ ]]",
])
def test_spacing_is_not_a_format_deviation(text: str) -> None:
    assert isinstance(FOUR.validate(START, FOUR.parse(text)), Answer)  # type: ignore[arg-type]


MALFORMED = [
    "",
    "move = [1, 0, 1]",  # the state line is missing
    "next_state = [[4, 3, 2], [1], []]\nmove = [1, 0, 1]",  # wrong order
    "Move disk 1 from peg 0 to peg 1.",
    "move = [1, 0]\nnext_state = [[4, 3, 2], [1], []]",  # two numbers
    "move = [1, 0, 1, 2]\nnext_state = [[4, 3, 2], [1], []]",
    "move = (1, 0, 1)\nnext_state = [[4, 3, 2], [1], []]",
    "move = [1, 0, 1]\nnext_state = [[4, 3, 2], [1]]",  # two pegs
    "move = [1, 0, 1]\nnext_state = [[4, 3, 2], [1], [], []]",  # four pegs
    "move = [1, 0, 1]\nnext_state = [[4, 3, 2], [1], [1]]",  # disk 1 twice
    "move = [1, 0, 1]\nnext_state = [[4, 3], [1], []]",  # disk 2 missing
    "move = [1, 0, 1]\nnext_state = [[4, 3, 2, 5], [1], []]",  # a fifth disk
    "move = [01, 0, 1]\nnext_state = [[4, 3, 2], [1], []]",  # leading zero
    "move = [1, 0, 1]\nnext_state = [[4, 3, 2], [1], []]\nThat follows the strategy.",
    "```\nmove = [1, 0, 1]\nnext_state = [[4, 3, 2], [1], []]\n```",
    "move = [1, 0, 1]\nnext_state = [[4, 3, 2], [1], []]\nmove = [2, 0, 2]",
    "move = [-1, 0, 1]\nnext_state = [[4, 3, 2], [1], []]",
    "move = [1.0, 0, 1]\nnext_state = [[4, 3, 2], [1], []]",
    "move = [1, 0, 1] next_state = [[4, 3, 2], [1], []]",  # one line
    "move = [1, 0, 1]\nnext_state = [[4, 3, 2], [1], []",  # unclosed
]


@pytest.mark.parametrize("text", MALFORMED)
def test_any_format_deviation_is_a_red_flag_never_repaired(text: str) -> None:
    result = FOUR.parse(text)
    assert isinstance(result, RedFlag) and result.kind == "format"


@pytest.mark.parametrize(("text", "why"), [
    ("move = [2, 0, 1]\nnext_state = [[4, 3, 1], [2], []]", "not on top"),  # disk 2 is covered
    ("move = [1, 0, 0]\nnext_state = [[4, 3, 2, 1], [], []]", "does not change"),
    ("move = [1, 0, 3]\nnext_state = [[4, 3, 2], [1], []]", "out of range"),
    ("move = [7, 0, 1]\nnext_state = [[4, 3, 2], [1], []]", "no disk"),
    # A legal move whose next state is not what the move makes.
    ("move = [1, 0, 1]\nnext_state = [[4, 3, 2], [], [1]]", "is not the state after"),
    ("move = [1, 0, 1]\nnext_state = [[4, 3, 2, 1], [], []]", "is not the state after"),
])
def test_the_validator_rejects_rule_breaks(text: str, why: str) -> None:
    parsed = FOUR.parse(text)
    assert isinstance(parsed, Parsed)
    result = FOUR.validate(START, parsed)
    assert isinstance(result, RedFlag) and result.kind == "invalid"
    assert why in result.detail


def test_a_bigger_disk_cannot_go_on_a_smaller_one() -> None:
    state = ((4, 3), (2,), (1,))
    parsed = FOUR.parse("move = [2, 1, 2]\nnext_state = [[4, 3], [], [1, 2]]")
    assert isinstance(parsed, Parsed)
    result = FOUR.validate(state, parsed)
    assert isinstance(result, RedFlag) and "smaller disk 1" in result.detail


def test_a_wrong_but_legal_move_passes_the_rules() -> None:
    # The validator knows the rules, not the solution: only the vote can reject this answer.
    parsed = FOUR.parse("move = [1, 0, 2]\nnext_state = [[4, 3, 2], [], [1]]")
    assert isinstance(parsed, Parsed)
    assert isinstance(FOUR.validate(START, parsed), Answer)
    assert move_at(4, 0) != (1, 0, 2)


def test_move_format_derives_the_next_state_by_the_rules() -> None:
    task = HanoiTask(4, "move")
    parsed = task.parse("move = [1, 0, 1]\n")
    assert parsed == Parsed((1, 0, 1), None)
    assert task.validate(START, parsed) == Answer("1,0,1", (1, 0, 1), ((4, 3, 2), (1,), ()))
    assert isinstance(task.parse(GOOD), RedFlag)  # the full format is not this format


def test_prompts_are_constant_size_whatever_the_step() -> None:
    task = HanoiTask(10)
    sizes = set()
    for step in (0, 1, 2, 511, 1000, 1022):
        state = state_at(10, step)
        prev = move_at(10, step - 1) if step else (1, 0, 1)
        p = task.prompt(state, prev)
        assert p.system == task.prompt(task.initial_state(), None).system
        sizes.add(len(p.user) - p.user.count(" "))
    assert max(sizes) - min(sizes) <= 2  # only the digit counts of the pegs differ


@pytest.mark.parametrize("disks", [3, 4])
def test_the_worked_examples_follow_the_rules_and_the_strategy(disks: int) -> None:
    from app.core.process.tasks.hanoi import _EXAMPLE_ANSWERS, _EXAMPLES

    direction = 1 if disks % 2 == 0 else -1
    (m1, s1), (m2, s2) = _EXAMPLE_ANSWERS[direction]
    text = _EXAMPLES[direction]
    assert f"with {disks} disks" in text
    lines = [ln for ln in text.splitlines() if ln.startswith(("Previous", "Current"))]
    for (prev_line, state_line), move, after in zip(zip(lines[::2], lines[1::2], strict=True),
                                                    (m1, m2), (s1, s2), strict=True):
        prev = tuple(json.loads(prev_line.split(": ")[1]))
        state = tuple(tuple(p) for p in json.loads(state_line.split(": ")[1]))
        assert strategy_move(state, prev, disks) == move
        assert apply_move(state, move) == after


def test_oracle_closed_form_matches_playing_the_strategy() -> None:
    for n in (1, 2, 5, 8):
        state, prev = HanoiTask(n).initial_state(), None
        for m in range(2 ** n - 1):
            assert state == state_at(n, m)
            move = move_at(n, m)
            assert move == strategy_move(state, prev, n)
            after = apply_move(state, move)
            assert not isinstance(after, str)
            state, prev = after, move
        assert HanoiTask(n).is_done(state)


def test_random_cases_are_reachable_and_reproducible() -> None:
    a = random_cases(12, 20, seed=3)
    assert a == random_cases(12, 20, seed=3)
    for c in a:
        assert apply_move(c.state, c.move) == c.next_state


def test_states_from_json_are_checked() -> None:
    assert FOUR.state_from_json([[4, 3], [2], [1]]) == ((4, 3), (2,), (1,))
    for bad in ([[4, 3], [2]], [[4, 3, 2, 1], [], [1]], [[3, 4], [2], [1]], "x",
                [[4, 3], [2], [True]]):
        with pytest.raises(TaskError):
            FOUR.state_from_json(bad)
    assert fmt_state(((4, 3), (), (2, 1))) == "[[4, 3], [], [2, 1]]"


def test_unknown_tasks_and_bad_parameters_are_clear_errors() -> None:
    assert "hanoi" in known_tasks()
    with pytest.raises(TaskError, match="unknown task 'towers'"):
        make_task("towers", {})
    for params, msg in [({}, "disks is required"), ({"disks": 0}, "1 to 30"),
                        ({"disks": "3"}, "expected an integer"), ({"disks": 3, "format": "x"}, "format"),
                        ({"disks": 3, "pegs": 4}, "unknown parameter")]:
        with pytest.raises(TaskError, match=msg):
            make_task("hanoi", params)


def test_a_malformed_task_definition_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.process import task as task_module

    known_tasks()  # load the built-in tasks first, so the registry is not empty below

    class Half:
        name = "half"

        def initial_state(self) -> int:
            return 0

    monkeypatch.setitem(task_module._TASKS, "half", lambda params: Half())
    with pytest.raises(TaskError, match="malformed: it lacks prompt, parse"):
        make_task("half", {})


def test_choice_format_lists_the_legal_moves_and_maps_the_letter() -> None:
    task = HanoiTask(4, "choice")
    state = ((4, 3), (), (2, 1))
    prompt = task.prompt(state, (1, 1, 2))
    assert "A) move disk 3 from peg 0 to peg 1" in prompt.user
    assert "C) move disk 1 from peg 2 to peg 1" in prompt.user and "D)" not in prompt.user
    answer = task.validate(state, task.parse("answer = A"))  # type: ignore[arg-type]
    assert answer == Answer("3,0,1", (3, 0, 1), ((4,), (3,), (2, 1)))
    # With only two legal moves, C is no option at all.
    two = ((4, 3, 2, 1), (), ())
    flag = task.validate(two, task.parse("answer = C"))  # type: ignore[arg-type]
    assert isinstance(flag, RedFlag) and flag.kind == "invalid"
    for bad in ("answer = D", "answer: A", "A", "answer = A\nanswer = B", "answer = a"):
        assert isinstance(task.parse(bad), RedFlag)
    # A resume replays decisions as moves: the validator takes those too.
    assert task.validate(state, Parsed((3, 0, 1), None)) == answer


def test_hanoi_micro_runs_two_questions_per_move_through_the_same_engine(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from app.core.agent.cancel import CancelToken
    from app.core.process.audit import audit
    from app.core.process.oracle import oracle_for
    from tests.core.process.helpers import ScriptedSampler, make_runner

    task = make_task("hanoi-micro", {"disks": 4})
    oracle = oracle_for(task)

    def perfect(req) -> str:  # type: ignore[no-untyped-def]
        kind, value = oracle.action_at(task, req.step)
        if kind == "rule":
            return f"rule = {value}"
        return f"peg = {value[2]}" if value[0] == 1 else f"disk = {value[0]}"

    runner, store = make_runner(tmp_path, task, [ScriptedSampler(perfect)], k=2)
    outcome = asyncio.run(runner.run(CancelToken()))
    assert outcome.status == "finished" and outcome.step == 30
    assert audit(store, task).ok(30)
    state = task.initial_state()
    for bad in ("peg = 1", "rule = C", "disk = A", "rule = A\n."):
        parsed = task.parse(bad)
        assert isinstance(parsed, RedFlag) or isinstance(task.validate(state, parsed), RedFlag)
    # Rule B's question has one valid answer: the larger top disk cannot move.
    mid = (((4, 3), (2,), (1,)), (1, 0, 2), "B")
    assert isinstance(task.validate(mid, Parsed(("disk", 3), None)), RedFlag)
    assert task.validate(mid, Parsed(("disk", 2), None)).key == "2,1,0"  # type: ignore[union-attr]
