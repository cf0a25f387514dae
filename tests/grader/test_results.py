"""The terminal table and results.json helpers (grader/harness/results.py)."""
import json

import pytest

from grader.harness.results import PRINTED_MARKER, error_results, format_table, gradescope_results, write_results

PARAMETRIZED = [f"public test_policies_and_agent.py::test_agent_update_changes_the_parameters[{mode}]"
                for mode in ("discrete-no_baseline", "discrete-baseline", "continuous-gae")]
LONG_MESSAGE = ("normalize_advantages=True: actor_loss array([1., 2., 3.], dtype=float32), expected 0.12345; "
                "normalize_advantages=False: actor_loss array([1., 2., 3.], dtype=float32), expected 0.6789 END")


def results_with(tests):
    return gradescope_results([dict(score=0.0, max_score=1.0, status="failed", output="", visibility="visible") | t
                               for t in tests], 1.0, "")


def names_and_messages(table: str) -> tuple[list[str], list[str]]:
    """Read the table back: each row's whole name (wrapped pieces joined) and its message."""
    names, messages = [], []
    for line in table.splitlines()[2:-2]:
        if line.startswith("    "):  # a message too long for its row, on lines of its own
            messages[-1] = f"{messages[-1]} {line.strip()}".strip()
        elif " passed" in line or " failed" in line:  # a row: name  points  status  message
            cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
            names.append(cells[0])
            messages.append(cells[-1] if cells[-1] not in ("passed", "failed") or len(cells) > 3 else "")
        else:  # the rest of a long name
            names[-1] += line.strip()
    return names, messages


def test_whole_names_and_the_whole_first_line_of_the_message_are_shown():
    tests = [{"name": name, "output": f"AssertionError: case {i} failed\ntraceback line"} for i, name in enumerate(PARAMETRIZED)]
    tests.append({"name": "test_update_normalizes_advantages_exactly_when_enabled: the update", "output": LONG_MESSAGE})
    table = format_table(results_with(tests), width=110)
    assert all(len(line) <= 110 for line in table.splitlines()), table
    names, messages = names_and_messages(table)
    assert names == PARAMETRIZED + ["test_update_normalizes_advantages_exactly_when_enabled"], table
    assert messages == [f"AssertionError: case {i} failed" for i in range(3)] + [LONG_MESSAGE], table


def test_a_very_long_message_is_cut_after_a_few_lines():
    table = format_table(results_with([{"name": "test_x", "output": "word " * 2000}]), width=110)
    assert len(table.splitlines()) < 12 and table.splitlines()[-3].endswith("...")


def test_what_a_passing_test_printed_is_not_shown_as_its_message():
    tests = [{"name": "test_prints", "status": "passed", "score": 1.0,
              "output": f"passed\n{PRINTED_MARKER}\nepoch 1 loss 0.5"},
             {"name": "test_fails_and_prints", "output": f"wrong sign\n{PRINTED_MARKER}\nepoch 1 loss 0.5"}]
    table = format_table(results_with(tests), width=110)
    assert names_and_messages(table)[1] == ["passed", "wrong sign"], table
    assert "epoch" not in table and PRINTED_MARKER not in table


def test_public_mode_counts_passed_tests_and_shows_no_points():
    tests = [{"name": "public test_a", "status": "passed", "score": 1.0}, {"name": "public test_b"}]
    table = format_table(results_with(tests), public=True, width=110)
    assert table.splitlines()[-1] == "1 of 2 public tests passed (feedback only: this is not a score)"
    assert "/" not in table and "points" not in table


def test_hidden_mode_totals_points():
    tests = [{"name": "test_a", "status": "passed", "score": 2.0, "max_score": 2.0}, {"name": "test_b", "max_score": 3.0}]
    last = format_table(results_with(tests), width=110).splitlines()[-1].split()
    assert last == ["total", "2/5"]


def test_results_are_strict_json_even_with_nan_scores(tmp_path):
    results = results_with([{"name": "test_nan", "score": float("nan")}])
    write_results(tmp_path / "r.json", results)
    loaded = json.loads((tmp_path / "r.json").read_text(), parse_constant=pytest.fail)
    assert loaded["score"] == 0 and loaded["tests"][0]["status"] == "failed"
    write_results(tmp_path / "e.json", error_results("boom"))
    assert json.loads((tmp_path / "e.json").read_text())["tests"] == []
