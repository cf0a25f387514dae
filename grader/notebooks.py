"""Homework notebooks, generated from one plain-Python source so they never drift.

Each homework keeps its Colab/Jupyter driver as `<package>/notebook.py` in jupytext's "percent"
format (the cells VS Code, PyCharm and Jupyter with jupytext show), read here with jupytext:

    # %% [markdown]
    # # Homework 2: policy gradients       <- markdown cell: every line is a comment, "# " is removed
    # %%
    import subprocess, sys                 <- code cell
    # %% Train a short run                 <- text after "# %%" is a title for the reader, not kept

Lines before the first `# %%` are a header for the TA (comments only) and are not copied. Shell
commands are written in Python (`subprocess.run([...])`), not as `!` magics, so the source stays a
valid Python file that the marker parser (grader/starter.py) reads like any other: code cells may use
solution markers, and solution blocks may sit at the top level of a cell (they become a `raise` in
the student's cell). A block must not span two cells.

`<package>/notebook.ipynb` is generated: in the instructor tree by `python -m grader.notebooks`
(the source verbatim, markers included) and in the release by `python -m grader release` (from the
stubbed source). `python -m grader check` fails when the instructor's copy is stale.

    python -m grader.notebooks [HW ...]          regenerate the instructor notebooks
    python -m grader.notebooks --check [HW ...]  exit 1 if one is missing or stale
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from grader.starter import MarkerError, Problem, parse_markers, split_lines

NOTEBOOK_SOURCE = "notebook.py"
NOTEBOOK = "notebook.ipynb"
_CELL_MARKER = re.compile(r"# %%(\s|$)")  # "# %%x" is not a marker, for jupytext either
# comment_magics=False: a comment such as `# %time` stays a comment instead of becoming a magic.
_PERCENT = {"extension": ".py", "format_name": "percent", "comment_magics": False}
_MAKE_CELL = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
              "raw": nbformat.v4.new_raw_cell}
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Cell:
    kind: str        # "code", "markdown" or "raw"
    source: str
    line: int        # line of its `# %%` marker in the source file


def split_cells(source: str, path: str = NOTEBOOK_SOURCE) -> list[Cell]:
    """Cut a percent-format source into cells; raise MarkerError (file:line) on a malformed one.

    jupytext reads the cells; the line of each marker (for error messages) comes from tokenize.
    """
    rows = _cell_marker_rows(source, path)
    lines = split_lines(source)
    problems = [Problem(path, n, "code before the first '# %%' cell marker would be lost: start a cell above it")
                for n, text in enumerate(lines[: rows[0] - 1] if rows else lines, start=1)
                if text.strip() and not text.lstrip().startswith("#")]
    notebook = jupytext.reads("\n".join(lines[rows[0] - 1:]) if rows else "", fmt=_PERCENT)
    if len(notebook.cells) != len(rows):  # both skip markers inside strings: they should always agree
        raise MarkerError([Problem(path, 1, f"jupytext reads {len(notebook.cells)} cells but there are "
                                            f"{len(rows)} '# %%' markers at the start of a line")])
    for i, (row, cell) in enumerate(zip(rows, notebook.cells)):
        if cell.cell_type == "code":
            continue
        body = lines[row: rows[i + 1] - 1] if i + 1 < len(rows) else lines[row:]
        problems += [Problem(path, n, f"a {cell.cell_type} cell holds only '# ' comment lines")
                     for n, line in enumerate(body, start=row + 1) if line.strip() and not line.startswith("#")]
    if problems:
        raise MarkerError(problems)
    return [Cell(cell.cell_type, cell.source.strip("\n"), row) for row, cell in zip(rows, notebook.cells)]


def _cell_marker_rows(source: str, path: str) -> list[int]:
    """The row of every `# %%` comment at column 0, found with tokenize (never inside a string)."""
    try:
        return [tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT and tok.start[1] == 0 and _CELL_MARKER.match(tok.string)]
    except (tokenize.TokenError, SyntaxError) as err:
        raise MarkerError([Problem(path, 1, f"cannot tokenize: {err}")]) from None


def check_blocks_within_cells(source: str, path: str = NOTEBOOK_SOURCE) -> None:
    """A solution or prompt block may not run across a `# %%` boundary."""
    markup = parse_markers(source, path, allow_module_level=True)
    boundaries = _cell_marker_rows(source, path)
    spans = [(b.begin, b.end) for b in markup.blocks] + [(p.begin, p.end) for p in markup.prompts]
    problems = [Problem(path, row, f"cell marker inside the marker block of lines {begin}-{end}")
                for begin, end in spans for row in boundaries if begin < row < end]
    if problems:
        raise MarkerError(problems)


def build_notebook(source: str, path: str = NOTEBOOK_SOURCE) -> nbformat.NotebookNode:
    """The notebook for a percent-format source, validated with nbformat.validate."""
    check_blocks_within_cells(source, path)
    notebook = nbformat.v4.new_notebook()
    for index, cell in enumerate(split_cells(source, path)):
        # fixed ids keep the generated file byte-identical from one run to the next
        notebook.cells.append(_MAKE_CELL[cell.kind](cell.source, id=f"cell-{index}"))
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "deeprl_course": {"generated_from": Path(path).name,
                          "note": "generated by the release tool; edit the source, not this file"},
    }
    nbformat.validate(notebook)
    return notebook


def notebook_text(source: str, path: str = NOTEBOOK_SOURCE) -> str:
    """The .ipynb file content for a source (deterministic: the same source gives the same bytes)."""
    return nbformat.writes(build_notebook(source, path)) + "\n"


def homework_sources(root: Path = REPO_ROOT, homeworks: list[str] | None = None) -> list[Path]:
    """`hwN_*/notebook.py` of every homework package (or of the ids given, e.g. ["hw2"])."""
    sources = sorted(root.glob(f"hw[0-9]*_*/{NOTEBOOK_SOURCE}"))
    if homeworks:
        sources = [s for s in sources if s.parent.name.split("_")[0] in homeworks]
    return sources


def stale_notebooks(root: Path = REPO_ROOT, homeworks: list[str] | None = None) -> list[Path]:
    """Instructor notebooks that are missing or differ from what their source generates."""
    stale = []
    for source in homework_sources(root, homeworks):
        target = source.with_name(NOTEBOOK)
        expected = notebook_text(source.read_text(encoding="utf-8"), str(source.relative_to(root)))
        if not target.is_file() or target.read_text(encoding="utf-8") != expected:
            stale.append(target)
    return stale


def execute_notebook(path: Path, timeout_s: float = 600, cwd: Path | None = None) -> nbformat.NotebookNode:
    """Run every cell headless with nbclient (as Jupyter would: in the notebook's folder by default)."""
    from nbclient import NotebookClient  # only the tests and TAs need nbclient (extra "notebook")

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout_s, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or Path(path).parent)}})
    client.execute()
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("hw", nargs="*", help="homework ids, e.g. hw2; default: every homework with a notebook.py")
    parser.add_argument("--check", action="store_true", help="only report missing or stale notebooks")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_notebooks(REPO_ROOT, args.hw)
            for path in stale:
                print(f"{path.relative_to(REPO_ROOT)}: stale, run `python -m grader.notebooks`")
            return 1 if stale else 0
        for source in homework_sources(REPO_ROOT, args.hw):
            target = source.with_name(NOTEBOOK)
            target.write_text(notebook_text(source.read_text(encoding="utf-8"), str(source.relative_to(REPO_ROOT))),
                              encoding="utf-8")
            print(f"wrote {target.relative_to(REPO_ROOT)}")
    except MarkerError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
