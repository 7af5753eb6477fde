"""The harness's lookups in the workspace's files for a request: where a named top-level name is
used beyond the file defining it, a code name a question asks about that no file has, and whether
a program written for a question opens the files it names. A mixin of
:class:`app.core.harness.harness.Harness`.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.core.harness.calls import code_names, is_question
from app.core.harness.part import HarnessPart


class Lookups(HarnessPart):
    def _used_elsewhere(self, request: str) -> list[str]:
        """The top-level names ``request`` uses (at most one) that occur in a file other than the
        one defining them, in a workspace small enough to have been read whole."""
        index = self.index
        if not index.fully_read or len(index.files) > 400:
            return []
        for name, defined_in in index.mentioned_symbols(request).items():
            word = re.compile(rf"\b{re.escape(name)}\b")
            for rel in index.file_paths():
                if rel in defined_in:
                    continue
                try:
                    text = (self.workspace / rel).read_text("utf-8", errors="replace")
                except OSError:
                    continue
                if word.search(text):
                    return [name]
        return []

    def absent_subject(self) -> str:
        """The answer to a question about a code name that occurs nowhere in the workspace
        ("What is the value of API_KEY in inventory/config.py?" when no file has API_KEY), given
        without asking the model: a small model answers with a value next to the topic ("EUR").
        Only for a question that names a file here, in a workspace whose files were all read
        into the index ("" otherwise)."""
        request = self.turn.request
        if not (self.config.grounding_check and is_question(request)):
            return ""
        index = self.index
        files = index.mentioned_files(request)
        names = code_names(request)
        if not files or not names or not index.fully_read:
            return ""
        texts = []
        for rel in index.file_paths():
            try:
                texts.append((self.workspace / rel).read_text("utf-8", errors="replace"))
            except OSError:
                return ""  # unknown is not absent
        every = "\n".join(texts)
        missing = [n for n in names if not re.search(
            rf"(?<![\w]){re.escape(n)}(?![\w])", every, re.IGNORECASE)]
        if not missing:
            return ""
        self.counters["not_found"] += 1
        where = ", ".join(files[:3])
        return (f"{missing[0]} does not occur in {where} or in any other file of the workspace, "
                "so I could not find it and won't guess. If it is set somewhere else (an "
                "environment variable, another project), tell me where to look.")

    def program_problem(self, code: str) -> str:
        """Why a program written for the question cannot answer it ("" when it may run): the
        question names a file of the workspace and the program opens none of them (it printed
        the installed numpy's version for "Which numpy version does pyproject.toml require?")."""
        files = self.index.mentioned_files(self.turn.request)
        if not files or any(Path(f).name in code for f in files):
            return ""
        return (f"the program does not open {files[0]}, which the question is about. Open it by "
                "its relative path and compute the answer from its text.")
