"""Notebooks generated from percent-format sources (grader/notebooks.py), validated and executed."""
import shutil
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from grader.notebooks import (NOTEBOOK, REPO_ROOT, build_notebook, execute_notebook, homework_sources,
                              notebook_text, split_cells, stale_notebooks)
from grader.release import source_files
from grader.starter import MarkerError

TOY_COURSE = Path(__file__).resolve().parent / "toy_course"

SOURCE = textwrap.dedent('''\
    # Header for the TA: not part of the notebook.

    # %% [markdown]
    # # Title
    #
    # Some *text*.

    # %% Setup
    import math

    # %%
    x = math.sqrt(4.0)  # SOLUTION
    TEXT = """
    # %% not a cell marker: inside a string
    """
    print(x)
    ''')


def test_split_cells_reads_markdown_and_code_cells():
    cells = split_cells(SOURCE)
    assert [c.kind for c in cells] == ["markdown", "code", "code"]
    assert cells[0].source == "# Title\n\nSome *text*."
    assert cells[1].source == "import math"
    assert cells[2].source.startswith("x = math.sqrt(4.0)") and "# %% not a cell marker" in cells[2].source
    assert [c.line for c in cells] == [3, 8, 11]


def test_code_before_the_first_cell_is_an_error():
    with pytest.raises(MarkerError, match=r"notebook.py:1: code before the first"):
        split_cells("x = 1\n# %%\ny = 2\n")


def test_markdown_cell_with_code_is_an_error():
    with pytest.raises(MarkerError, match=r"notebook.py:3: a markdown cell"):
        split_cells("# %% [markdown]\n# text\nx = 1\n")


def test_solution_block_may_not_span_two_cells():
    source = "# %%\n# BEGIN SOLUTION\nx = 1\n# %%\ny = 2\n# END SOLUTION\n"
    with pytest.raises(MarkerError, match=r"notebook.py:4: cell marker inside"):
        build_notebook(source)


def test_generated_notebook_validates_and_is_deterministic():
    notebook = build_notebook(SOURCE)
    nbformat.validate(notebook)
    assert [c.id for c in notebook.cells] == ["cell-0", "cell-1", "cell-2"]
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook_text(SOURCE) == notebook_text(SOURCE)
    nbformat.validate(nbformat.reads(notebook_text(SOURCE), as_version=4))


def test_toy_instructor_notebook_is_up_to_date():
    assert stale_notebooks(TOY_COURSE) == []


def test_stale_notebook_is_detected(toy_root: Path):
    source = toy_root / "hw0_toy" / "notebook.py"
    source.write_text(source.read_text() + "\n# %%\nprint('new cell')\n")
    assert stale_notebooks(toy_root) == [toy_root / "hw0_toy" / NOTEBOOK]


def test_toy_notebook_executes_headless_against_the_reference(toy_root: Path):
    notebook = execute_notebook(toy_root / "hw0_toy" / NOTEBOOK, timeout_s=120)
    printed = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.outputs)
    assert "step 2 estimate 0.8750" in printed       # the short experiment ran through run.py
    assert "discounted sum 1.75" in printed


@pytest.mark.parametrize("source", homework_sources(REPO_ROOT), ids=lambda p: p.parent.name)
def test_homework_notebook_is_generated_from_its_source(source: Path):
    assert not stale_notebooks(REPO_ROOT, [source.parent.name.split("_")[0]]), \
        f"{source.with_name(NOTEBOOK)} is stale: run `python -m grader.notebooks`"


@pytest.mark.parametrize("source", homework_sources(REPO_ROOT), ids=lambda p: p.parent.name)
def test_homework_notebook_executes_against_the_reference(source: Path, tmp_path: Path):
    """In a copy of the instructor tree, so that the notebook's runs/ and plots land in tmp_path.
    (hw2's took 11 s on one core; mark a homework's case slow if it passes ~60 s.)"""
    for rel in source_files(REPO_ROOT):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, tmp_path / rel)
    start = time.monotonic()
    notebook = execute_notebook(tmp_path / source.parent.name / NOTEBOOK, timeout_s=600)
    assert any(output.get("output_type") != "error" for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", []))
    print(f"{source.parent.name}/notebook.ipynb executed in {time.monotonic() - start:.0f} s")
