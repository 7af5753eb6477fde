"""A stand-in model for refactor tests: it knows the recipe's edit and makes the mistakes models
make (an edit that does not compile, a code fence, lost indentation, a wrong edit that compiles),
chosen by each sample's seed so a step redone after a kill redraws the same samples."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from app.core.process.api import CancelToken, SampleRequest, SampleResult


class RefactorSim:
    def __init__(self, task: Any, p: float = 0.8) -> None:
        self.task, self.p, self.label = task, p, "refactor-sim"

    async def sample(self, requests: Sequence[SampleRequest],
                     cancel: CancelToken) -> list[SampleResult]:
        out = []
        for req in requests:
            i, _edits = req.state
            loc = self.task.locations[i]
            right = self.task.recipe.expected("".join(self.task.original(loc.path)), loc.start,
                                              loc.end)
            u = random.Random(req.seed).random()
            if u < self.p:
                text = right
            elif u < self.p + (1 - self.p) * 0.3:
                text = right.replace("super()", "super(", 1)  # does not compile
            elif u < self.p + (1 - self.p) * 0.5:
                text = f"```python\n{right}\n```"
            elif u < self.p + (1 - self.p) * 0.7:
                text = right.lstrip()  # lost its indentation
            else:
                text = right.replace("super()", "super(object)", 1)  # compiles, wrong
            out.append(SampleResult(text, len(text) // 3, "stop", self.label))
        return out

    async def aclose(self) -> None:
        return None


def make(task: Any, seed: int) -> RefactorSim:
    return RefactorSim(task)
