"""Gradescope `results.json` and the terminal table.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
    {"score": 42.0, "execution_time": 12.3, "output": "...",
     "tests": [{"name", "score", "max_score", "status": "passed"|"failed", "output", "visibility"}]}
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import textwrap
from pathlib import Path

TEST_KEYS = ("name", "score", "max_score", "status", "output", "visibility")
# Text a student controls (exception messages, prints) reaches results.json and the instructor's
# terminal: no control characters (ANSI escapes could redraw the table), no bidi overrides, and no
# lone surrogates (printing them to a UTF-8 terminal raises, and strict JSON readers refuse them).
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` with unsafe characters replaced by U+FFFD (newlines and tabs are kept)."""
    return _UNSAFE_CHARS.sub("\ufffd", str(text))


def gradescope_results(tests: list[dict], execution_time: float, output: str) -> dict:
    clean = [{key: test[key] for key in TEST_KEYS} | ({"part": test["part"]} if test.get("part") else {})
             for test in tests]
    for test in clean:  # a NaN score would make results.json invalid JSON
        if not math.isfinite(float(test["score"])):
            test["score"], test["status"] = 0.0, "failed"
        test["name"], test["output"] = clean_text(test["name"]), clean_text(test["output"])
    score = round(sum(float(t["score"]) for t in clean), 6)
    return {"score": score, "execution_time": round(execution_time, 3), "output": clean_text(output), "tests": clean}


def error_results(message: str, execution_time: float = 0.0) -> dict:
    """What is written when grading itself failed: valid JSON, score 0, the reason."""
    return {"score": 0.0, "execution_time": round(execution_time, 3),
            "output": clean_text(f"The autograder hit an internal error and could not grade this submission: {message}\n"
                                 "Please tell the course staff."), "tests": []}


def unreadable_submission_results(message: str, execution_time: float = 0.0) -> dict:
    """The submission itself was refused (unsafe zip entry, oversized file): score 0, what to fix."""
    return {"score": 0.0, "execution_time": round(execution_time, 3),
            "output": clean_text(f"Your submission could not be read: {message}\n"
                                 "Upload the files of the release (no links, no paths outside the folder) and resubmit."),
            "tests": []}


def write_results(path: Path, results: dict) -> None:
    """Atomic: the file is either the previous version or the complete new one, never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(results, f, indent=2, allow_nan=False)
    os.replace(tmp, path)


def format_table(results: dict, public: bool = False, width: int | None = None) -> str:
    """One row per test: its whole name, points (with `public`: only the status) and the first line
    of its message. A long name wraps inside its column; a message too long for the rest of the row
    goes, whole (up to a few lines), on indented lines below it."""
    width = width or max(110, shutil.get_terminal_size((110, 24)).columns)
    tests = results["tests"]
    names = [_short_name(t) for t in tests]
    name_width = min(max([len(n) for n in names] + [4]), width - (40 if public else 50))  # room for a message
    points_header = "" if public else f"{'points':^13}  "
    lines = [f"{'test':<{name_width}}  {points_header}status  message", "-" * width]
    for name, t in zip(names, tests):
        points = "" if public else f"{t['score']:>6g}/{t['max_score']:<6g}  "
        row = f"{points}{t['status']:<6}  "
        message = _first_line(t["output"])
        room = width - name_width - 2 - len(row)
        name_lines = _wrap_name(name, name_width)
        lines.append(f"{name_lines[0]:<{name_width}}  {row}{message if len(message) <= room else ''}".rstrip())
        lines += name_lines[1:]
        if len(message) > room:
            wrapped = textwrap.wrap(message, width - 4, break_on_hyphens=False, max_lines=MAX_MESSAGE_LINES,
                                    placeholder=" ...")
            lines += ["    " + part for part in wrapped]
    lines.append("-" * width)
    if public:
        passed = sum(t["status"] == "passed" for t in tests)
        lines.append(f"{passed} of {len(tests)} public tests passed (feedback only: this is not a score)")
    else:
        total = sum(t["max_score"] for t in tests)
        lines.append(f"{'total':<{name_width}}  {results['score']:>6g}/{total:<6g}")
    return "\n".join(lines)


MAX_MESSAGE_LINES = 4
PRINTED_MARKER = "--- your code printed ---"


def _short_name(test: dict) -> str:
    """"test_x: what it checks" -> "test_x" (the description stays in results.json)."""
    return test["name"].split(": ")[0]


def _first_line(output: str) -> str:
    """The first line of a test's message; what the student's code printed is not its message."""
    message = output.split(PRINTED_MARKER, 1)[0].strip()
    return message.splitlines()[0] if message else ""


def _wrap_name(name: str, width: int) -> list[str]:
    """A test name in lines of at most `width` characters, cut after `_`, `::`, `[`, `-`, `/` or a
    space where possible (test names have no spaces)."""
    lines, line = [], ""
    for token in re.findall(r"[^ _:\[\]/-]*[ _:\[\]/-]*", name):
        if line and len(line) + len(token) > width:
            lines, line = lines + [line], ""
        while len(token) > width:  # a token longer than a whole line: cut it
            lines, token = lines + [token[:width]], token[width:]
        line += token
    return lines + [line] if line or not lines else lines
