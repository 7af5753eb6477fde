"""``[harness]``: each mechanism of the agent harness, on or off, with its measured defaults.

The same harness runs for every model (big models only gain from grounded context and checked
answers); voting applies to models whose capability record marks them small.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HarnessConfig:
    # The workspace map in the system prompt (files, line counts, top-level symbols).
    repo_map: bool = True
    map_tokens: int = 0  # 0 = scale with the context window (window / 16, 256 to 2048)
    # Files and folders the request names are read before the first model step.
    grounded_reads: bool = True
    ground_max_files: int = 3
    # A request that names no file: this many files its words point to are read (0 = none).
    related_reads: int = 2
    ground_max_bytes: int = 16_000  # larger named files are left for the model to read in parts
    # A run the request asks for ("Run calc.py", "python -m inventory.report") is made by the
    # harness: before the first step when running comes first, else before the answer is shown
    # if the model never ran it (under the same permission rules as the model's own calls).
    requested_runs: bool = True
    # Tool arguments limited to what exists (path enums) and validated against the schema.
    constrain_paths: bool = True
    path_enum_limit: int = 200  # more paths than this: a free string, checked after the call
    # A small model's request that names nothing to change or run (no file, folder or symbol of
    # the workspace, no new file name, no code) is offered only the tools that read.
    scope_tools: bool = True
    # Claims in an answer checked against what the turn read; one extractive retry.
    grounding_check: bool = True
    # Arithmetic written in the request (17*3, (2+5)/4) computed exactly and given to the model.
    compute_arithmetic: bool = True
    # An answer whose numbers nothing read or ran showed (or that said the request back) is
    # retried by a program the model writes in plain text and the python tool runs.
    compute_programs: bool = True
    # A small model's write or edit of a file (new, or read and up to 200 lines) gets its
    # content from a whole-file request in a fenced block; the call only picks the file.
    whole_file_writes: bool = True
    # write_file refuses to overwrite a file the session has not read.
    read_before_write: bool = True
    # A syntax check after each write or edit of source code, reported to the model.
    syntax_check: bool = True
    # Voting on small decisions of small models: first-to-ahead-by-k (0 or 1 = no voting).
    vote_k: int = 0
    vote_max_samples: int = 5
    vote_temperature: float = 0.7
    vote_answer_tokens: int = 64  # a longer answer is not voted on (it streams as usual)
    # A refused call or the same failing call is tried at most this many extra times.
    max_retries_after_refusal: int = 1
