"""How a recipe makes an argument, or its answer, for a new request, and how those rules are
found from earlier runs.

A rule is a small mapping stored in a learned skill's front matter:

- ``{template: "…{{path0}}…"}``: text built from the request's literals (:func:`shapes.slots`);
- ``{line_of: K, containing: "{{name0}}"}``: the line of step K's result that holds a literal of
  the request (the text an edit replaces);
- ``{edit_of: K, containing: "{{name0}}", set: "{{num0}}", whole: true}``: step K's result with
  the value after that literal, on its one line, set to a new value (a whole-file write that
  changes one setting; ``whole: false`` gives the changed line alone);
- ``{field_of: K, containing: "{{proper0}}", offset: 1}``: a word of that line counted from the
  literal (a CSV row's next column, the path before a ``grep`` hit);
- ``{out: K}``: step K's whole result (a short program output).

A rule is learned only when it reproduces the value of *every* run it is learned from, so a rule
that holds is the most specific description of where a value came from; where none holds the
model fills the value in (:mod:`.recipe_run`).
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{\{(str|path|num|name|proper)(\d+)\}\}")
PART = re.compile(r"\{\{r(\d+)\}\}")  # an answer template's value from a rule
OUT_CHARS = 400  # a result up to this long may be quoted whole in an answer
_VALUE_AFTER = re.compile(r"""(["']?\s*[:=]\s*|\s+)("[^"\n]*"|'[^'\n]*'|[^\s,;#"']+)""")
_WORDS = re.compile(r"[^\s,;|\"'`()\[\]{}<>:=]+")
_OFFSETS = (1, 2, 3, -1, -2, -3, -4)
_VALUE_TOKEN = re.compile(r"\w+(?:[/._@:-]\w+)+")  # storage.py, inventory/storage.py, a_b
_MARK = "\x00{}\x00"  # where a part goes while a template is built


class Unbound(Exception):
    """A rule cannot make its value for this request (the recipe does not apply)."""


# --- binding -------------------------------------------------------------------------------------

def fill_template(template: str, values: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        key = m.group(1) + m.group(2)
        if key not in values:
            raise Unbound(f"the request has no {key}")
        return values[key]

    return PLACEHOLDER.sub(sub, template)


def _result(results: list[str], idx: int) -> str:
    if idx >= len(results):
        raise Unbound(f"step {idx + 1} has no result")
    return results[idx]


def _one_line(text: str, needle: str, idx: int) -> tuple[list[str], int]:
    lines = text.splitlines(keepends=True)
    hits = [i for i, ln in enumerate(lines) if needle and needle in ln and ln.strip()]
    if len(hits) != 1:  # none, or ambiguous: not ours to guess
        raise Unbound(f"{len(hits)} lines of step {idx + 1}'s result contain {needle!r}")
    return lines, hits[0]


def set_value_after(line: str, anchor: str, new: str) -> str:
    """``line`` with the value that follows ``anchor`` (``KEY = 37``, ``"key": 37,``,
    ``key: 37``) replaced by ``new``; a quoted old value keeps its quotes."""
    pos = line.find(anchor)
    if pos < 0:
        raise Unbound(f"no {anchor!r} in the line")
    head = pos + len(anchor)
    m = _VALUE_AFTER.match(line, head)
    if m is None:
        raise Unbound(f"no value after {anchor!r}")
    old = m.group(2)
    if old[:1] in "\"'" and new[:1] not in "\"'":
        new = old[0] + new + old[0]
    return line[:m.start(2)] + new + line[m.end(2):]


def value_after(line: str, anchor: str) -> str | None:
    pos = line.find(anchor)
    m = _VALUE_AFTER.match(line, pos + len(anchor)) if pos >= 0 else None
    return m.group(2).strip("\"'") if m else None


def words(text: str) -> list[str]:
    return [w.rstrip(".") for w in _WORDS.findall(text) if w.rstrip(".")]


def bind(value: Any, values: dict[str, str], results: list[str]) -> Any:
    """The concrete argument for this request; fill-ins are left to the caller."""
    if not isinstance(value, dict):
        return value
    if "template" in value:
        text = fill_template(str(value["template"]), values)
        if value.get("type") == "integer":
            try:
                return int(text.replace(",", ""))
            except ValueError as exc:
                raise Unbound(f"{text!r} is not a whole number") from exc
        return text
    if "out" in value:
        out = _result(results, int(value["out"])).strip()
        if not out:
            raise Unbound("the step printed nothing")
        return out
    for key in ("line_of", "edit_of", "field_of"):
        if key in value:
            idx = int(value[key])
            needle = fill_template(str(value.get("containing", "")), values)
            lines, at = _one_line(_result(results, idx), needle, idx)
            line = lines[at]
            if key == "line_of":
                return line.strip()
            if key == "field_of":
                pos = line.find(needle)
                off = int(value.get("offset", 1))
                side = words(line[pos + len(needle):]) if off > 0 else words(line[:pos])
                if len(side) < abs(off):
                    raise Unbound(f"the line has no word {off} from {needle!r}")
                return side[off - 1] if off > 0 else side[off]
            changed = set_value_after(line, needle, fill_template(str(value.get("set", "")),
                                                                  values))
            if not value.get("whole", True):
                return changed.strip()
            lines[at] = changed
            return "".join(lines)
    return value


def render_answer(answer: dict[str, Any], values: dict[str, str], results: list[str]) -> str:
    """A learned answer template made concrete for this request and these results."""
    parts = [str(bind(rule, values, results)) for rule in answer.get("parts", [])]
    pieces = PART.split(str(answer.get("template", "")))
    out: list[str] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            n = int(piece)
            if n >= len(parts):
                raise Unbound(f"the answer has no part {n}")
            out.append(parts[n])
        else:
            out.append(fill_template(piece, values))
    text = "".join(out).strip()
    if not text:
        raise Unbound("the answer template is empty")
    return text


def referenced_steps(rules: list[Any]) -> set[int]:
    """Steps whose results some rule reads."""
    out: set[int] = set()
    for rule in rules:
        if isinstance(rule, dict):
            for key in ("line_of", "edit_of", "field_of", "out"):
                if key in rule:
                    out.add(int(rule[key]))
    return out


# --- learning ------------------------------------------------------------------------------------

Sample = tuple[Any, dict[str, str], list[str]]  # (value, the request's slots, earlier results)


def templated(value: str, values: dict[str, str]) -> str:
    """``value`` with each request literal in it replaced by its placeholder (longest first)."""
    out = value
    for key, lit in sorted(values.items(), key=lambda kv: -len(kv[1])):
        # Whole tokens only: the literal 2 is not the 2 inside 25.
        pattern = re.compile(r"(?<![\w.])" + re.escape(lit) + r"(?![\w])")
        out = pattern.sub("{{" + key + "}}", out)
    return out


def _holds(rule: dict[str, Any], samples: list[Sample]) -> bool:
    try:
        return all(bind(rule, s, r) == v for v, s, r in samples)
    except Unbound:
        return False


def line_rule(samples: list[Sample]) -> dict[str, Any] | None:
    """A ``line_of`` rule that yields every sample's value, if there is one."""
    _first, first_slots, first_results = samples[0]
    for idx in range(len(first_results)):
        for key in first_slots:
            rule = {"line_of": idx, "containing": "{{" + key + "}}"}
            if _holds(rule, samples):
                return rule
    return None


def edit_rule(samples: list[Sample]) -> dict[str, Any] | None:
    """An ``edit_of`` rule (one value set in an earlier result) that yields every sample's value:
    a whole-file write or a new line that differs from what was read in one setting only."""
    first, first_slots, first_results = samples[0]
    new_text = str(first)
    for idx, old_text in enumerate(first_results):
        for key, lit in first_slots.items():
            try:
                lines, at = _one_line(old_text, lit, idx)
            except Unbound:
                continue
            new_lines = new_text.splitlines(keepends=True)
            whole = len(new_lines) > 1
            if whole:
                if len(new_lines) != len(lines):
                    continue
                diff = [i for i, (a, b) in enumerate(zip(lines, new_lines, strict=True))
                        if a != b]
                if diff != [at]:
                    continue
                changed = new_lines[at]
            else:
                changed = new_text
            new_value = value_after(changed, lit)
            if new_value is None:
                continue
            target = templated(new_value, first_slots)
            if not PLACEHOLDER.search(target):
                continue
            rule = {"edit_of": idx, "containing": "{{" + key + "}}", "set": target,
                    "whole": whole}
            if _holds(rule, samples):
                return rule
    return None


def _candidates(slots_: dict[str, str], results: list[str]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for idx, res in enumerate(results):
        if 0 < len(res.strip()) <= OUT_CHARS:
            rules.append({"out": idx})
        for key in slots_:
            rules.append({"line_of": idx, "containing": "{{" + key + "}}"})
            rules += [{"field_of": idx, "containing": "{{" + key + "}}", "offset": off}
                      for off in _OFFSETS]
    return rules


def _find(value: str, text: str) -> re.Match[str] | None:
    return re.search(r"(?<![\w])" + re.escape(value) + r"(?![\w])", text)


def _parts_for(answer: str, slots_: dict[str, str], results: list[str],
               others: list[tuple[str, dict[str, str], list[str]]]) -> list[tuple[dict[str, Any],
                                                                                  str]]:
    """Rules whose value this answer quotes and every other run's answer quotes too."""
    found: list[tuple[dict[str, Any], str]] = []
    literals = set(slots_.values())
    for rule in _candidates(slots_, results):
        try:
            value = str(bind(rule, slots_, results))
        except Unbound:
            continue
        if len(value) < 2 or value in literals or _find(value, answer) is None:
            continue
        try:
            ok = all(_find(str(bind(rule, s, r)), a) is not None for a, s, r in others)
        except Unbound:
            ok = False
        if ok and value not in {v for _, v in found}:
            found.append((rule, value))
    return sorted(found, key=lambda rv: -len(rv[1]))


def answer_rule(answers: list[str], per_run: list[tuple[dict[str, str], list[str]]]
                ) -> dict[str, Any] | None:
    """An answer template that fits every run: the words one run answered with, where each
    value the runs differ in comes from the request or from a rule over the results, and no
    word is a leftover of that one run (every word of the template's own text appears in
    another run's answer, and it holds no digit)."""
    if len(answers) < 2 or any(not a.strip() for a in answers):
        return None
    runs = [(a, s, r) for a, (s, r) in zip(answers, per_run, strict=True)]
    for ref in reversed(range(len(runs))):  # the newest run's wording first
        answer, slots_, results = runs[ref]
        others = runs[:ref] + runs[ref + 1:]
        parts: list[dict[str, Any]] = []
        marked = answer
        for rule, value in _parts_for(answer, slots_, results, others):
            m = _find(value, marked)
            if m is None:  # inside a longer value already taken
                continue
            marked = marked[:m.start()] + _MARK.format(chr(0xE000 + len(parts))) + \
                marked[m.end():]
            parts.append(rule)
        pieces = re.split(_MARK.format("(.)"), marked)
        literal = [templated(p, slots_) for p in pieces[0::2]]
        plain = " ".join(PLACEHOLDER.sub(" ", t) for t in literal)
        if re.search(r"\d", plain):
            continue  # a number no rule explains would be one run's value, stale for the next
        # A path, a file or a code name in the template's own text is a value, not wording,
        # even when every run answered it (the three functions the runs asked about were all
        # in storage.py; the next one is in models.py): only a rule may give it.
        if _VALUE_TOKEN.search(plain):
            continue
        other_words = {w.lower() for a, _, _ in others for w in re.findall(r"[A-Za-z]{3,}", a)}
        if any(w.lower() not in other_words for w in re.findall(r"[A-Za-z]{3,}", plain)):
            continue
        template = "".join(literal[i // 2] if i % 2 == 0 else
                           "{{r" + str(ord(pieces[i]) - 0xE000) + "}}"
                           for i in range(len(pieces)))
        rule_ = {"template": template, "parts": parts}
        try:
            if all(render_answer(rule_, s, r) for _, s, r in runs):
                return rule_
        except Unbound:
            continue
    return None
