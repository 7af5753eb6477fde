"""The needle-in-a-haystack corpus: mixed code, prose and logs, with planted needles and look-alikes.

Code is the running Python's own standard library (real code, full of numbers and identifiers);
prose and logs are generated from a seeded RNG. Needles follow RULER ("One of the special magic
numbers for KEY is: VALUE.") with look-alike distractor keys one edit away; the low-overlap subset
follows NoLiMa (the question shares no content word with the needle: it names a city, the needle a
landmark in it).
"""

from __future__ import annotations

import random
import re
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

ADJ = ["amber", "crimson", "silent", "rapid", "golden", "hollow", "northern", "velvet", "frozen", "brisk",
       "lunar", "coral", "scarlet", "quiet", "ancient", "bright", "dusty", "gentle", "iron", "jade"]
NOUN = ["heron", "falcon", "river", "lantern", "meadow", "harbor", "cipher", "orchid", "summit", "beacon",
        "glacier", "willow", "comet", "ember", "thistle", "quartz", "badger", "canyon", "marble",
        "sparrow"]
SUBJ = ["The committee", "The gateway team", "A reviewer", "The nightly job", "Our auditor",
        "The scheduler", "The vendor", "The build farm", "The support desk"]
VERB = ["reviewed", "approved", "postponed", "rewrote", "measured", "archived", "flagged", "summarised",
        "replaced", "documented"]
OBJ = ["the quarterly budget", "the release notes", "the storage quota", "the onboarding guide",
       "the incident timeline", "the cache policy", "the retention rules", "the load forecast",
       "the escalation matrix", "the vendor contract"]
TAIL = ["after a long discussion", "before the freeze", "with two open questions",
        "for the northern office", "without further changes", "pending legal review", "ahead of schedule",
        "in the shared drive", "during the offsite", "for the second time"]
SERVICES = ["api.gateway", "auth.session", "billing.worker", "search.indexer", "mail.relay", "cache.node"]
PATHS = ["/v1/items", "/v1/users/{id}", "/v2/search", "/healthz", "/v1/orders", "/v1/login", "/metrics"]

# NoLiMa-style pairs: the question names the city, the needle only the landmark.
LANDMARKS = [
    ("Semper Opera House", "Dresden"), ("Eiffel Tower", "Paris"), ("Colosseum", "Rome"),
    ("Brandenburg Gate", "Berlin"), ("Sagrada Familia", "Barcelona"), ("Space Needle", "Seattle"),
    ("Hagia Sophia", "Istanbul"), ("Acropolis", "Athens"), ("Charles Bridge", "Prague"),
    ("Atomium", "Brussels"), ("Kremlin", "Moscow"), ("CN Tower", "Toronto"),
    ("Golden Gate Bridge", "San Francisco"), ("Bondi Beach pavilion", "Sydney"),
    ("Christ the Redeemer statue", "Rio de Janeiro"), ("Petronas Towers", "Kuala Lumpur"),
    ("Burj Khalifa", "Dubai"), ("Tower Bridge", "London"), ("Rijksmuseum", "Amsterdam"),
    ("Alhambra", "Granada"), ("Duomo", "Florence"), ("Hofburg", "Vienna"),
    ("Parliament building on the Danube", "Budapest"), ("Little Mermaid statue", "Copenhagen"),
    ("Gateway Arch", "St. Louis"), ("Forbidden City", "Beijing"), ("Skytree tower", "Tokyo"),
    ("Marina Bay Sands", "Singapore"), ("Table Mountain", "Cape Town"),
    ("Hermitage Museum", "Saint Petersburg"),
]
PEOPLE = ["Yuki", "Maren", "Oskar", "Ilse", "Tomasz", "Ines", "Farid", "Leona", "Cosmo", "Priya", "Anders",
          "Noor", "Matteo", "Greta", "Dmitri", "Sofia", "Kwame", "Lotte", "Ravi", "Elif"]
STOP = set(["a", "an", "the", "is", "are", "of", "in", "on", "to", "for", "and", "what", "which", "who",
            "whose", "that", "this", "there", "it", "its", "by", "with", "at", "as", "be", "was", "were",
            "their", "them", "they", "his", "her"])


@dataclass
class Needle:
    id: int
    kind: str           # literal | low_overlap | multi_key | multi_value | multi_hop | aggregation
    text: str           # the planted line (the first, when there are several)
    question: str
    answer: str         # the first gold answer ("not found" for an absent one)
    depth: float = 0.0  # set after ingest: needle line / volume lines
    line: int = 0
    answers: list[str] = field(default_factory=list)  # all must appear (RULER string_match_all)
    extra: list[str] = field(default_factory=list)    # more lines to plant (values, chain links)
    wrong: list[str] = field(default_factory=list)    # must not appear (the other candidates)

    def __post_init__(self) -> None:
        if not self.answers:
            self.answers = [self.answer]


@dataclass
class Haystack:
    directory: Path
    files: list[str] = field(default_factory=list)
    needles: list[Needle] = field(default_factory=list)
    distractors: int = 0
    chars: int = 0


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP}


def _prose(rng: random.Random, n_lines: int) -> list[str]:
    out = []
    for _ in range(n_lines):
        s = rng.choice(SUBJ).strip().capitalize()
        out.append(f"{s} {rng.choice(VERB)} {rng.choice(OBJ)} {rng.choice(TAIL)}; "
                   f"{rng.randint(2, 99)} items were {rng.choice(VERB)} "
                   f"{rng.choice(TAIL)}.")
    return out


def _logs(rng: random.Random, n_lines: int, day: int) -> list[str]:
    out = []
    for i in range(n_lines):
        level = rng.choices(["INFO", "DEBUG", "WARN", "ERROR"], [70, 20, 7, 3])[0]
        path = rng.choice(PATHS).replace("{id}", str(rng.randint(1000, 99999)))
        out.append(f"2024-{1 + day % 12:02d}-{1 + day % 28:02d}T{i // 3600 % 24:02d}:"
                   f"{i // 60 % 60:02d}:{i % 60:02d}.{rng.randint(0, 999):03d}Z {level:<5} "
                   f"{rng.choice(SERVICES)} request_id={rng.getrandbits(48):012x} path={path} "
                   f"status={rng.choice([200, 200, 200, 201, 204, 304, 404, 500])} "
                   f"latency_ms={rng.randint(1, 900)}")
    return out


def _code_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = ("test", "idlelib", "site-packages", "lib2to3", "tkinter", "turtledemo")
    files = [p for p in sorted(root.rglob("*.py")) if not any(s in p.parts for s in skip)]
    return files


def _key(rng: random.Random) -> str:
    return f"{rng.choice(ADJ)}-{rng.choice(NOUN)}-{rng.randint(10, 99)}"


def _lookalikes(key: str, rng: random.Random) -> list[str]:
    adj, noun, num = key.split("-")
    swapped = num[::-1] if num[0] != num[1] else str((int(num) + 11) % 90 + 10)
    return [f"{adj}-{noun}-{swapped}", f"{adj}-{rng.choice([n for n in NOUN if n != noun])}-{num}",
            f"{adj}-{noun}-{num}0"]


def make_needles(n: int, rng: random.Random, low_overlap_share: float) -> tuple[list[Needle],
                                                                                 list[str]]:
    n_low = min(round(n * low_overlap_share), len(LANDMARKS) - 1)
    needles: list[Needle] = []
    distractors: list[str] = []
    used: set[str] = set()
    pairs = rng.sample(LANDMARKS, len(LANDMARKS))
    for i in range(n):
        value = str(rng.randint(1_000_000, 9_999_999))
        if i % max(1, n // max(n_low, 1)) == 0 and n_low and \
                sum(x.kind == "low_overlap" for x in needles) < n_low:
            landmark, city = pairs.pop()
            person = rng.choice(PEOPLE)
            text = f"{person} lives beside the {landmark}; the door code there is {value}."
            question = f"What digits unlock the entrance of the person residing in {city}?"
            assert not (words(text) & words(question)), (text, question)
            needles.append(Needle(i, "low_overlap", text, question, value))
            continue
        key = _key(rng)
        while key in used:
            key = _key(rng)
        used.add(key)
        kind_word = rng.choice(["number", "code"])
        text = f"One of the special magic {kind_word}s for {key} is: {value}."
        needles.append(Needle(i, "literal", text, f"What is the special magic {kind_word} for "
                                                  f"{key}?", value))
        for look in _lookalikes(key, rng):
            if look not in used:
                distractors.append(f"One of the special magic {kind_word}s for {look} is: "
                                   f"{rng.randint(1_000_000, 9_999_999)}.")
    # Remaining landmarks become distractors for the low-overlap questions.
    for landmark, _city in pairs[:10]:
        distractors.append(f"{rng.choice(PEOPLE)} lives beside the {landmark}; the door code "
                           f"there is {rng.randint(1_000_000, 9_999_999)}.")
    return needles, distractors


def build(directory: Path, target_chars: int, n_needles: int, seed: int = 7,
          low_overlap_share: float = 0.2, ruler: dict[str, int] | None = None) -> Haystack:
    """Write the haystack under ``directory`` (files in the order ingest reads them)."""
    rng = random.Random(seed)
    code = _code_files()
    parts: list[tuple[str, list[str]]] = []
    total = 0
    ci = 0
    part = 0
    while total < target_chars:
        group = f"p{part:03d}"
        if ci < len(code):
            try:
                src = code[ci].read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                src = []
            name = f"{group}/a_{code[ci].stem}.py"
            ci += 1
        else:  # the standard library ran out (10M tokens): vary synthetic code
            src = [f"def handler_{part}_{j}(x):\n    return x * {rng.randint(2, 9999)}"
                   for j in range(400)]
            name = f"{group}/a_generated.py"
        parts.append((name, src))
        parts.append((f"{group}/b_notes.md", _prose(rng, rng.randint(40, 120))))
        parts.append((f"{group}/c_service.log", _logs(rng, rng.randint(60, 200), part)))
        total += sum(len(x) + 1 for _, lines in parts[-3:] for x in lines)
        part += 1
    needles, distractors = make_needles(n_needles, rng, low_overlap_share)
    if ruler:
        from bench.ruler_tasks import make_ruler

        more, more_distractors = make_ruler(ruler, rng, first_id=len(needles),
                                            used={n.text for n in needles})
        needles += more
        distractors += more_distractors
    # Global line positions: needles evenly over depth, distractors at random, kept apart.
    sizes = [len(lines) for _, lines in parts]
    n_lines = sum(sizes)
    taken: list[int] = []
    plants: list[tuple[int, str]] = []
    for i, nd in enumerate(needles):
        pos = int(n_lines * (i + 0.5) / len(needles))
        taken.append(pos)
        plants.append((pos, nd.text))
    rng_positions = sorted(taken)
    # A needle's other lines (more values, the rest of a chain, counted lines) at random depths.
    distractors = [line for nd in needles for line in nd.extra] + distractors
    for d in distractors:
        for _ in range(100):
            pos = rng.randrange(n_lines)
            if all(abs(pos - t) > 40 for t in rng_positions):
                break
        plants.append((pos, d))
    plants.sort(key=lambda x: x[0], reverse=True)
    starts = []
    acc = 0
    for s in sizes:
        starts.append(acc)
        acc += s
    for pos, text in plants:  # from the end, so earlier positions stay valid
        fi = max(i for i, s in enumerate(starts) if s <= pos)
        lines = parts[fi][1]
        lines.insert(pos - starts[fi], text)
    hay = Haystack(directory, needles=needles, distractors=len(distractors))
    for name, lines in parts:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n".join(lines) + "\n"
        path.write_text(body, encoding="utf-8")
        hay.files.append(name)
        hay.chars += len(body)
    return hay
