"""grader/notebooks.py reads the percent format with jupytext: the cells are the ones editors show,
and the generated .ipynb is byte-stable (the same notebook.py always gives the same bytes)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

from grader.notebooks import NOTEBOOK, REPO_ROOT, build_notebook, homework_sources, main, notebook_text, split_cells
from grader.starter import MarkerError

TOY_SOURCE = REPO_ROOT / "tests" / "release" / "toy_course" / "hw0_toy" / "notebook.py"


def test_a_magic_like_comment_stays_a_comment():
    # jupytext's default would turn `# %time` into the magic `%time` (and `# %%x` into `%%x`).
    cells = split_cells("# %%\nx = 1\n# %time and # %%x are notes\n# %%x\n")
    assert [c.source for c in cells] == ["x = 1\n# %time and # %%x are notes\n# %%x"]


def test_md_raw_and_titled_markers_are_read_like_jupytext():
    source = "# %% Setup\n\n\nimport math\n\n# %% [md]\n# hi\n#\n# there\n# %% [raw]\n# raw text\n"
    cells = split_cells(source)
    assert [(c.kind, c.source, c.line) for c in cells] == [
        ("code", "import math", 1), ("markdown", "hi\n\nthere", 6), ("raw", "raw text", 10)]
    notebook = build_notebook(source)
    assert [c.cell_type for c in notebook.cells] == ["code", "markdown", "raw"]
    assert all(c.metadata == {} for c in notebook.cells)  # no jupytext bookkeeping in the notebook


def test_a_marker_inside_any_multiline_string_is_text():
    source = "# %%\nA = '''\n# %% not a cell\n'''\nB = \"\"\"\n# %% nor this\n\"\"\"\n"
    assert len(split_cells(source)) == 1


def test_errors_still_point_at_the_line():
    with pytest.raises(MarkerError, match=r"notebook.py:2: code before the first"):
        split_cells("# header\nx = 1\n# %%\ny = 2\n")
    with pytest.raises(MarkerError, match=r"notebook.py:5: a markdown cell"):
        split_cells("# %%\nx = 1\n# %% [markdown]\n# text\nnot a comment\n")
    with pytest.raises(MarkerError, match=r"notebook.py:2: a raw cell"):
        split_cells("# %% [raw]\nraw = 1\n")


@pytest.mark.parametrize("source", [TOY_SOURCE, *homework_sources(REPO_ROOT)], ids=lambda p: p.parent.name)
def test_the_cells_are_the_ones_jupytext_reads_and_writes_back(source: Path):
    text = source.read_text(encoding="utf-8")
    cells = [(c.cell_type, c.source) for c in build_notebook(text).cells]
    # What jupytext writes for the notebook reads back as the same cells.
    rewritten = jupytext.writes(build_notebook(text), fmt="py:percent")
    assert [(c.kind, c.source) for c in split_cells(rewritten)] == cells
    # jupytext on the whole file sees the same cells after the TA's header.
    assert [(c.cell_type, c.source) for c in jupytext.read(source, fmt="py:percent").cells][-len(cells):] == cells


def test_regeneration_is_byte_stable_across_processes(tmp_path):
    """Two fresh interpreters (different hash seeds) write the same bytes as this one."""
    script = ("import sys; from pathlib import Path; from grader.notebooks import notebook_text; "
              "sys.stdout.write(notebook_text(Path(sys.argv[1]).read_text(encoding='utf-8'), 'notebook.py'))")
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", script, str(TOY_SOURCE)], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, check=True)
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1] == notebook_text(TOY_SOURCE.read_text(encoding="utf-8"))
    nbformat.validate(nbformat.reads(outputs[0], as_version=4))


def test_main_rewrites_the_same_bytes(tmp_path, monkeypatch):
    """`python -m grader.notebooks` twice: the second run leaves every notebook byte-identical."""
    package = tmp_path / "hw9_toy"
    package.mkdir()
    (package / "notebook.py").write_text(TOY_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr("grader.notebooks.REPO_ROOT", tmp_path)
    assert main([]) == 0
    first = (package / NOTEBOOK).read_bytes()
    assert main([]) == 0
    assert (package / NOTEBOOK).read_bytes() == first
    assert main(["--check"]) == 0
    assert first == (TOY_SOURCE.with_name(NOTEBOOK)).read_bytes()  # the same as the committed toy notebook

    (package / "notebook.py").write_text(TOY_SOURCE.read_text(encoding="utf-8") + "\n# %%\nprint(1)\n")
    assert main(["--check"]) == 1


def test_the_hand_written_example_in_the_docstring_reads_as_documented():
    source = textwrap.dedent("""\
        # TA header
        # %% [markdown]
        # # Homework 2: policy gradients
        # %%
        import subprocess, sys
        # %% Train a short run
        print("training")
        """)
    assert [(c.kind, c.source) for c in split_cells(source)] == [
        ("markdown", "# Homework 2: policy gradients"), ("code", "import subprocess, sys"),
        ("code", 'print("training")')]
