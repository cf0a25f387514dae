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
import tempfile
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


def format_table(results: dict, width: int = 110) -> str:
    """One line per test: points, status and the first line of the message."""
    tests = results["tests"]
    name_width = min(max([len(_short_name(t)) for t in tests] + [4]), 44)
    lines = [f"{'test':<{name_width}}  {'points':>11}  {'status':<6}  message", "-" * width]
    for t in tests:
        name = _short_name(t)[:name_width]
        message = (t["output"].strip().splitlines() or [""])[0]
        room = max(width - name_width - 25, 20)
        message = message if len(message) <= room else message[: room - 3] + "..."
        lines.append(f"{name:<{name_width}}  {t['score']:>5g}/{t['max_score']:<5g}  {t['status']:<6}  {message}")
    total = sum(t["max_score"] for t in tests)
    lines += ["-" * width, f"{'total':<{name_width}}  {results['score']:>5g}/{total:<5g}"]
    return "\n".join(lines)


def _short_name(test: dict) -> str:
    """"test_x: what it checks" -> "test_x" (the description stays in results.json)."""
    return test["name"].split(": ")[0]
