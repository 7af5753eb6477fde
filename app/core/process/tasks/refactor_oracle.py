"""A refactor's solver: the recipe's own edit of each place (for recipes that know it). Calibration
scores samples with it; the audit judges each decided edit by it, counting an edit right when the
file parses to the same syntax tree (another spelling of the same change). A run never loads it."""

from __future__ import annotations

import ast
import random
from typing import Any

from app.core.process.oracle import Oracle, OracleCase


def refactor_oracle() -> Oracle:
    def expected(task: Any, step: int) -> Any:
        loc = task.locations[step]
        return task.recipe.expected("".join(task.original(loc.path)), loc.start, loc.end)

    def cases(task: Any, count: int, seed: int) -> list[OracleCase]:
        rng = random.Random(seed)
        out = []
        for _ in range(count):
            i = rng.randrange(len(task.locations))
            path = task.locations[i].path
            edits = tuple((loc.start, loc.end, expected(task, j))
                          for j, loc in enumerate(task.locations[:i]) if loc.path == path)
            out.append(OracleCase(i, (i, edits), None, expected(task, i), None))
        return out

    def judge(task: Any, step: int, state: Any, action: Any) -> bool:
        right = expected(task, step)
        if action == right:
            return True
        if not task.recipe.python:
            return False
        loc = task.locations[step]
        lines = task.current(loc.path, state[1])
        old = lines[loc.start - 1:loc.end]

        def tree(text: str) -> str:
            body = "".join(lines[:loc.start - 1] + task._new_lines(old, text) + lines[loc.end:])
            try:
                return ast.dump(ast.parse(body))
            except SyntaxError:
                return ""

        mine = tree(action)
        return bool(mine) and mine == tree(right)

    return Oracle(cases, expected, judge)
