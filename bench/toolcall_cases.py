"""The fixed prompt set for measuring tool-call success on local models (see bench/toolcalls.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FILES = {
    "README.md": "# Weather station\n\nCollects temperature readings and serves them on port 8088.\n",
    "app.py": "import json\n\nPORT = 8088\n\n\ndef main():\n    print('weather station up')\n\n\n"
              "if __name__ == '__main__':\n    main()\n",
    "notes.txt": "Meeting moved to Thursday at 10:00.\nBring the sensor calibration sheet.\n",
    "config.toml": "[server]\nport = 8088\nhost = \"0.0.0.0\"\n",
    "data/readings.csv": "time,temp\n09:00,12.5\n10:00,14.0\n",
    "data/stations.txt": "north\nsouth\n",
}


@dataclass(frozen=True)
class Case:
    prompt: str
    tool: str | None  # the expected first tool, None = answer without a tool
    path: str | None = None  # expected path argument (suffix match)
    answer: str | None = None  # a substring the final answer should contain


CASES: list[Case] = [
    Case("Which files are in this folder? Use a tool.", "list_dir", None, "app.py"),
    Case("List the files in the data directory.", "list_dir", "data", "readings.csv"),
    Case("What files does this project have?", "list_dir", None, "README.md"),
    Case("Show me the directory listing of the workspace.", "list_dir", None, "notes.txt"),
    Case("What does notes.txt say?", "read_file", "notes.txt", "Thursday"),
    Case("Read README.md and tell me what the project does.", "read_file", "README.md",
         "temperature"),
    Case("Which port is set in config.toml?", "read_file", "config.toml", "8088"),
    Case("Show me the contents of app.py.", "read_file", "app.py", "PORT"),
    Case("What is in data/readings.csv?", "read_file", "readings.csv", "12.5"),
    Case("Open data/stations.txt and list the station names.", "read_file", "stations.txt",
         "north"),
    Case("What day was the meeting moved to? Check notes.txt.", "read_file", "notes.txt",
         "Thursday"),
    Case("Look at app.py: what does main() print?", "read_file", "app.py", "weather station up"),
    Case("What is 17*3? Reply with the number only.", None, None, "51"),
    Case("What is the capital of France?", None, None, "Paris"),
    Case("Write a Python function that reverses a string.", None, None, "def"),
    Case("Explain in one sentence what a linked list is.", None, None, "node"),
    Case("Say hello.", None, None, None),
    Case("What is 2 to the power of 10?", None, None, "1024"),
    Case("Translate 'good morning' into Spanish.", None, None, "Buenos"),
    Case("Name three primary colours.", None, None, None),
    Case("Is 7 a prime number? Answer yes or no.", None, None, "es"),
    Case("Give me a one-line shell command that counts lines in a file.", None, None, "wc"),
]


def make_workspace(root: Path) -> Path:
    for rel, text in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root
