"""RULER-style tasks planted into the haystack (Hsieh et al. 2024, arXiv 2404.06654), beyond the
single literal needle:

- ``multi_key``: the needle sits among many similar keys, each with its own value (RULER
  multikey_2/3: a haystack made of other needles).
- ``multi_value``: one key has four values on four lines far apart; all must be returned.
- ``multi_hop``: variable tracking, ``VAR c = VAR b``, ``VAR b = VAR a``, ``VAR a = 73914`` ->
  the value of ``c``.
- ``aggregation``: count the lines that report an error code, or say which of three codes occurs
  most often.
- ``absent``: a key that is not in the haystack (its look-alikes are): the answer is "not found".
"""

from __future__ import annotations

import random
import string

from bench.niah_haystack import ADJ, NOUN, SERVICES, Needle

KINDS = ("multi_key", "multi_value", "multi_hop", "aggregation", "absent")


def _key(rng: random.Random, used: set[str]) -> str:
    while True:
        key = f"{rng.choice(ADJ)}-{rng.choice(NOUN)}-{rng.randint(10, 99)}"
        if key not in used:
            used.add(key)
            return key


def _value(rng: random.Random) -> str:
    return str(rng.randint(1_000_000, 9_999_999))


def _magic(key: str, value: str) -> str:
    return f"One of the special magic numbers for {key} is: {value}."


def _var(rng: random.Random, used: set[str]) -> str:
    while True:
        name = "".join(rng.choices(string.ascii_lowercase, k=3)) + f"{rng.randint(10, 99)}"
        if name not in used:
            used.add(name)
            return name


def _log(rng: random.Random, code: str) -> str:
    return (f"2024-03-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
            f"{rng.randint(0, 59):02d}Z ERROR {rng.choice(SERVICES)} request failed with code "
            f"{code} after {rng.randint(20, 900)} ms")


def multi_key(i: int, rng: random.Random, used: set[str]) -> Needle:
    key = _key(rng, used)
    adj, noun, num = key.split("-")
    value = _value(rng)
    # Neighbours that differ by one part; each a real needle with its own value.
    near = {f"{adj}-{noun}-{n}" for n in rng.sample(range(10, 100), 6) if str(n) != num}
    near |= {f"{adj}-{rng.choice(NOUN)}-{num}", f"{rng.choice(ADJ)}-{noun}-{num}"}
    near -= {key}
    used |= near
    extra = [_magic(k, _value(rng)) for k in sorted(near)]
    return Needle(i, "multi_key", _magic(key, value),
                  f"What is the special magic number for {key}?", value, extra=extra)


def multi_value(i: int, rng: random.Random, used: set[str]) -> Needle:
    key = _key(rng, used)
    values = [_value(rng) for _ in range(4)]
    return Needle(i, "multi_value", _magic(key, values[0]),
                  f"What are all the special magic numbers for {key}?", values[0],
                  answers=values, extra=[_magic(key, v) for v in values[1:]])


def multi_hop(i: int, rng: random.Random, used: set[str], hops: int = 3) -> Needle:
    names = [_var(rng, used) for _ in range(hops)]
    value = str(rng.randint(10_000, 99_999))
    links = [f"VAR {names[0]} = {value}"]
    links += [f"VAR {names[k]} = VAR {names[k - 1]}" for k in range(1, hops)]
    return Needle(i, "multi_hop", links[-1],
                  f"What is the value of the variable {names[-1]}?", value, extra=links[:-1])


def aggregation(i: int, rng: random.Random, used: set[str]) -> Needle:
    codes: list[str] = []
    while len(codes) < 3:
        code = f"E-{rng.randint(1000, 9999)}"
        if code not in used:
            used.add(code)
            codes.append(code)
    if i % 2 == 0:  # count
        n = rng.randint(3, 15)
        lines = [_log(rng, codes[0]) for _ in range(n)]
        return Needle(i, "aggregation", lines[0],
                      f"How many log lines report the error code {codes[0]}?", str(n),
                      extra=lines[1:])
    counts = rng.sample(range(3, 13), 3)
    lines = [_log(rng, c) for c, n in zip(codes, counts, strict=True) for _ in range(n)]
    rng.shuffle(lines)
    most = codes[counts.index(max(counts))]
    listed = ", ".join(codes[:2]) + f" and {codes[2]}"
    return Needle(i, "aggregation", lines[0],
                  f"Which of the error codes {listed} occurs most often?", most,
                  extra=lines[1:], wrong=[c for c in codes if c != most])


def absent(i: int, rng: random.Random, used: set[str]) -> Needle:
    key = _key(rng, used)
    adj, noun, num = key.split("-")
    # Look-alikes are planted; the key itself is not.
    looks = [f"{adj}-{noun}-{num[::-1] if num[0] != num[1] else int(num) % 89 + 10}",
             f"{adj}-{noun}-{num}0", f"{adj}-{rng.choice(NOUN)}-{num}"]
    looks = [k for k in looks if k != key]
    used |= set(looks)
    lines = [_magic(k, _value(rng)) for k in looks]
    return Needle(i, "absent", lines[0], f"What is the special magic number for {key}?",
                  "not found", extra=lines[1:])


MAKERS = {"multi_key": multi_key, "multi_value": multi_value, "multi_hop": multi_hop,
          "aggregation": aggregation, "absent": absent}


def make_ruler(counts: dict[str, int], rng: random.Random, *, first_id: int,
               used: set[str]) -> tuple[list[Needle], list[str]]:
    """``counts`` needles of each kind; returns them and no extra distractors (each needle brings
    its own look-alikes in ``extra``)."""
    seen = set(used)
    needles: list[Needle] = []
    i = first_id
    for kind in KINDS:
        for _ in range(counts.get(kind, 0)):
            needles.append(MAKERS[kind](i, rng, seen))
            i += 1
    return needles, []
