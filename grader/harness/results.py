"""Gradescope `results.json` and the terminal table.

Gradescope's format (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
    {"score": 42.0, "execution_time": 12.3, "output": "...",
     "tests": [{"name", "score", "max_score", "status": "passed"|"failed", "output", "visibility"}]}
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

TEST_KEYS = ("name", "score", "max_score", "status", "output", "visibility")


def gradescope_results(tests: list[dict], execution_time: float, output: str) -> dict:
    clean = [{key: test[key] for key in TEST_KEYS} | ({"part": test["part"]} if test.get("part") else {})
             for test in tests]
    score = round(sum(float(t["score"]) for t in clean), 6)
    return {"score": score, "execution_time": round(execution_time, 3), "output": output, "tests": clean}


def error_results(message: str, execution_time: float = 0.0) -> dict:
    """What is written when grading itself failed: valid JSON, score 0, the reason."""
    return {"score": 0.0, "execution_time": round(execution_time, 3),
            "output": f"The autograder hit an internal error and could not grade this submission: {message}\n"
                      "Please tell the course staff.", "tests": []}


def unreadable_submission_results(message: str, execution_time: float = 0.0) -> dict:
    """The submission itself was refused (unsafe zip entry, oversized file): score 0, what to fix."""
    return {"score": 0.0, "execution_time": round(execution_time, 3),
            "output": f"Your submission could not be read: {message}\n"
                      "Upload the files of the release (no links, no paths outside the folder) and resubmit.",
            "tests": []}


def write_results(path: Path, results: dict) -> None:
    """Atomic: the file is either the previous version or the complete new one, never half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(results, f, indent=2)
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
