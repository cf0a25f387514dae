"""Solution markers: find them, check them, and turn a reference file into its starter.

The grammar (docs/RELEASE.md has the TA's version). A marker is a real Python comment, found with
`tokenize`, so the same words inside a string literal are just text:

    # BEGIN SOLUTION  [(README 2.1)]      ...whole statements...      # END SOLUTION
        A block of reference code inside a function. In the starter, the block becomes
        `raise NotImplementedError("TODO(hw2): Agent.update, see README section 2.1")` at the block's
        indentation; the signature, decorators, docstring and any code outside the block stay.
        nbgrader's `### BEGIN SOLUTION` / `### END SOLUTION` are accepted too.
    <assignment>  # SOLUTION
        One assignment whose value is the answer: `x = compute()  # SOLUTION` becomes `x = ...`.
    # BEGIN PROMPT   ...comment lines...   # END PROMPT
        Hint text for students. The lines stay comments in both editions; the release drops the two
        marker lines, the instructor edition keeps them (so TAs see which comments are student hints).

Anything else that looks like a marker (`# begin solution`, `# BEGIN SOLUTIONS`, `# END SOLUTION 2.1`)
is an error, never silently ignored: a typo must not ship a solution. So are unpaired and nested
markers, blocks that cut a statement in two or that sit outside a function (a module-level `raise`
would make the starter fail to import; notebook sources allow them, see `allow_module_level`).
Every error names `file:line`. The starter is parsed with `ast.parse` before it is returned.
"""
from __future__ import annotations

import ast
import io
import json
import re
import threading
import tokenize
from dataclasses import dataclass

_BEGIN_SOLUTION = re.compile(r"#+\s*BEGIN SOLUTION(?:\s+\(README\s+(?P<section>[^()\s][^()]*?)\))?\s*")
_END_SOLUTION = re.compile(r"#+\s*END SOLUTION\s*")
_BEGIN_PROMPT = re.compile(r"#+\s*BEGIN PROMPT\s*")
_END_PROMPT = re.compile(r"#+\s*END PROMPT\s*")
_SOLUTION_LINE = re.compile(r"#+\s*SOLUTION\s*")
# what a mistyped marker looks like: caught so that it is reported instead of ignored
_MARKER_LIKE = re.compile(r"#+\s*(?:(?:BEGIN|END)\s*(?:SOLUTION|PROMPT)|SOLUTIONS?\s*$)", re.IGNORECASE)

_NON_CODE_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                    tokenize.ENDMARKER, tokenize.ENCODING}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class MarkerError(ValueError):
    """One or more malformed markers; `problems` lists them, each with its file:line."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class SolutionBlock:
    begin: int                # line of `# BEGIN SOLUTION` (1-based)
    end: int                  # line of `# END SOLUTION`
    section: str | None       # README section named on the BEGIN line, e.g. "2.1"
    qualname: str | None      # enclosing function, e.g. "PGAgent.update"; None at module level
    indent: str               # leading whitespace of the block's first statement


@dataclass(frozen=True)
class SolutionLine:
    first: int                # first line of the assignment (it may span several lines)
    last: int                 # the line carrying `# SOLUTION`
    stub: str                 # what replaces it, without indentation: "x = ..."
    indent: str


@dataclass(frozen=True)
class PromptBlock:
    begin: int
    end: int


@dataclass(frozen=True)
class Markup:
    """Every marker of one file, checked and placed."""
    blocks: tuple[SolutionBlock, ...] = ()
    lines: tuple[SolutionLine, ...] = ()
    prompts: tuple[PromptBlock, ...] = ()

    @property
    def todo_count(self) -> int:
        return len(self.blocks) + len(self.lines)

    def solution_line_numbers(self) -> list[int]:
        """Lines of reference code the starter must not contain (marker lines excluded)."""
        numbers = [n for b in self.blocks for n in range(b.begin + 1, b.end)]
        numbers += [n for s in self.lines for n in range(s.first, s.last + 1)]
        return sorted(numbers)


@dataclass(frozen=True)
class Starter:
    text: str
    markup: Markup


@dataclass(frozen=True)
class _Marker:
    kind: str                 # "begin_solution", "end_prompt", "solution_line", ...
    line: int
    section: str | None = None


@dataclass(frozen=True)
class _Statement:
    node: ast.stmt
    first: int                # first line, decorators included
    last: int
    owner: ast.AST            # the node whose body list holds it
    body_key: tuple[int, str]
    scope: tuple[ast.AST, ...]  # enclosing functions and classes, outermost first


def has_markers(source: str) -> bool:
    """Cheap pre-filter: could this text hold a marker at all?"""
    return "SOLUTION" in source.upper() or "PROMPT" in source.upper()


# CPython 3.11's AST builder is not thread-safe: two threads parsing at once can fail with
# "SystemError: AST constructor recursion depth mismatch" (cpython gh-106905). Batch grading stages
# submissions in threads (and staging parses the sources), so every parse here takes this lock.
_PARSE_LOCK = threading.Lock()


def parse_python(source: str | bytes, path: str = "<string>") -> ast.Module:
    """ast.parse(source, filename=path), one thread at a time (see _PARSE_LOCK)."""
    with _PARSE_LOCK:
        return ast.parse(source, filename=path)


def parse_markers(source: str, path: str = "<string>", *, allow_module_level: bool = False) -> Markup:
    """Find, pair and place every marker of a Python source; raise MarkerError on any problem."""
    try:
        tree = parse_python(source, path)
    except SyntaxError as err:
        raise MarkerError([Problem(path, err.lineno or 1, f"not valid Python: {err.msg}")]) from None
    comments, code_rows = _scan_tokens(source, path)
    markers = _classify_comments(comments, code_rows, path)
    solution_spans, prompt_spans, solution_lines = _pair(markers, path)
    statements = _index_statements(tree)
    lines = split_lines(source)
    problems: list[Problem] = []
    blocks = []
    for begin, end in solution_spans:
        try:
            blocks.append(_place_block(begin.line, end.line, begin.section, statements, code_rows, lines, path, allow_module_level))
        except MarkerError as err:
            problems += err.problems
    prompts = []
    for begin, end in prompt_spans:
        code = [row for row in range(begin.line + 1, end.line) if row in code_rows]
        if code:
            problems.append(Problem(path, code[0], "a PROMPT block holds only comment lines (hint text for students)"))
        prompts.append(PromptBlock(begin.line, end.line))
    placed_lines = []
    for marker in solution_lines:
        try:
            placed_lines.append(_place_line(marker.line, statements, lines, source, path))
        except MarkerError as err:
            problems += err.problems
    if problems:
        raise MarkerError(problems)
    return Markup(tuple(blocks), tuple(placed_lines), tuple(prompts))


def make_starter(source: str, path: str = "<string>", *, hw: str | None = None,
                 allow_module_level: bool = False) -> Starter:
    """The student version of `source`: solution code stubbed, prompt markers dropped.

    `hw` ("hw2") tags the TODO messages. The result is checked with ast.parse; a failure there is a
    bug of this module or a marker placement it should have refused, and is raised as MarkerError.
    """
    markup = parse_markers(source, path, allow_module_level=allow_module_level)
    if not markup.blocks and not markup.lines and not markup.prompts:
        return Starter(source, markup)
    lines = split_lines(source, keepends=True)
    replacement: dict[int, str | None] = {}  # 1-based line -> new text (None: drop the line)
    tag = f"TODO({hw})" if hw else "TODO"
    for block in markup.blocks:
        where = block.qualname or "notebook cell"
        section = f"see README section {block.section}" if block.section else "see README"
        message = json.dumps(f"{tag}: {where}, {section}")
        replacement[block.begin] = f"{block.indent}raise NotImplementedError({message}){_ending(lines[block.begin - 1])}"
        for n in range(block.begin + 1, block.end + 1):
            replacement[n] = None
    for line in markup.lines:
        replacement[line.first] = f"{line.indent}{line.stub}{_ending(lines[line.last - 1])}"
        for n in range(line.first + 1, line.last + 1):
            replacement[n] = None
    for prompt in markup.prompts:
        replacement[prompt.begin] = None
        replacement[prompt.end] = None
    out = []
    for n, text in enumerate(lines, start=1):
        new = replacement.get(n, text)
        if new is not None:
            out.append(new)
    starter = "".join(out)
    try:
        parse_python(starter, path)
    except SyntaxError as err:
        raise MarkerError([Problem(path, err.lineno or 1,
                                   f"the generated starter is not valid Python ({err.msg}); check the markers")]) from None
    return Starter(starter, markup)


def make_solved(source: str, path: str = "<string>", *, allow_module_level: bool = False) -> str:
    """The solved edition of `source`: the reference code kept, every marker comment dropped.

    BEGIN/END SOLUTION and BEGIN/END PROMPT lines go (the prompt's hint comments stay, as in the
    starter), and a `# SOLUTION` line keeps its assignment without the marker comment. This is what
    the grader stages for a homework another one `uses`, and what `release --solved` ships.
    """
    markup = parse_markers(source, path, allow_module_level=allow_module_level)
    if not markup.blocks and not markup.lines and not markup.prompts:
        return source
    lines = split_lines(source, keepends=True)
    dropped = {n for block in markup.blocks for n in (block.begin, block.end)}
    dropped |= {n for prompt in markup.prompts for n in (prompt.begin, prompt.end)}
    marked = {line.last for line in markup.lines}
    out = []
    for n, text in enumerate(lines, start=1):
        if n in dropped:
            continue
        if n in marked:
            body = text.rstrip("\r\n")
            text = _SOLUTION_COMMENT.sub("", body) + _ending(text)
        out.append(text)
    return "".join(out)


_SOLUTION_COMMENT = re.compile(r"\s*#+\s*SOLUTION\s*$")


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):] or "\n"


def _scan_tokens(source: str, path: str) -> tuple[list[tuple[int, int, str]], set[int]]:
    """Comments as (row, col, text), and the set of rows that hold code (strings included)."""
    comments, code_rows = [], set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments.append((tok.start[0], tok.start[1], tok.string))
            elif tok.type not in _NON_CODE_TOKENS:
                code_rows.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError) as err:
        raise MarkerError([Problem(path, 1, f"cannot tokenize: {err}")]) from None
    return comments, code_rows


def _classify_comments(comments, code_rows: set[int], path: str) -> list[_Marker]:
    markers, problems = [], []
    for row, _col, text in comments:
        text = text.rstrip()
        alone = row not in code_rows
        if match := _BEGIN_SOLUTION.fullmatch(text):
            kind, section = "begin_solution", match.group("section")
        elif _END_SOLUTION.fullmatch(text):
            kind, section = "end_solution", None
        elif _BEGIN_PROMPT.fullmatch(text):
            kind, section = "begin_prompt", None
        elif _END_PROMPT.fullmatch(text):
            kind, section = "end_prompt", None
        elif _SOLUTION_LINE.fullmatch(text):
            kind, section = "solution_line", None
        elif _MARKER_LIKE.match(text):
            problems.append(Problem(path, row, f"malformed marker {text!r}: write '# BEGIN SOLUTION', "
                                               "'# BEGIN SOLUTION (README 2.1)', '# END SOLUTION', "
                                               "'# BEGIN PROMPT', '# END PROMPT' or '<assignment>  # SOLUTION'"))
            continue
        else:
            continue
        if kind == "solution_line" and alone:
            problems.append(Problem(path, row, "'# SOLUTION' must end a line of code (an assignment)"))
            continue
        if kind != "solution_line" and not alone:
            problems.append(Problem(path, row, f"{text!r} must be on a line of its own"))
            continue
        markers.append(_Marker(kind, row, section))
    if problems:
        raise MarkerError(problems)
    return markers


def _pair(markers: list[_Marker], path: str):
    """Match BEGIN/END pairs; no nesting of any kind is allowed."""
    solutions, prompts, lines, problems = [], [], [], []
    open_marker: _Marker | None = None
    for marker in markers:
        if marker.kind.startswith("begin"):
            if open_marker is not None:
                problems.append(Problem(path, marker.line, f"nested marker: {_name(marker)} inside "
                                                           f"{_name(open_marker)} opened at line {open_marker.line} "
                                                           f"(is its END missing?)"))
                continue
            open_marker = marker
        elif marker.kind.startswith("end"):
            if open_marker is None:
                problems.append(Problem(path, marker.line, f"{_name(marker)} without a matching "
                                                           f"{_name(marker).replace('END', 'BEGIN')}"))
                continue
            if open_marker.kind[len("begin"):] != marker.kind[len("end"):]:
                problems.append(Problem(path, marker.line, f"{_name(marker)} closes {_name(open_marker)} "
                                                           f"opened at line {open_marker.line}"))
                open_marker = None
                continue
            (solutions if marker.kind == "end_solution" else prompts).append((open_marker, marker))
            open_marker = None
        else:  # solution_line
            if open_marker is not None:
                problems.append(Problem(path, marker.line, f"nested marker: '# SOLUTION' inside "
                                                           f"{_name(open_marker)} opened at line {open_marker.line}"))
                continue
            lines.append(marker)
    if open_marker is not None:
        problems.append(Problem(path, open_marker.line, f"{_name(open_marker)} is never closed "
                                                        f"(missing {_name(open_marker).replace('BEGIN', 'END')})"))
    if problems:
        raise MarkerError(sorted(problems, key=lambda p: p.line))
    return solutions, prompts, lines


def _name(marker: _Marker) -> str:
    return {"begin_solution": "'# BEGIN SOLUTION'", "end_solution": "'# END SOLUTION'",
            "begin_prompt": "'# BEGIN PROMPT'", "end_prompt": "'# END PROMPT'",
            "solution_line": "'# SOLUTION'"}[marker.kind]


def _index_statements(tree: ast.Module) -> list[_Statement]:
    """Every statement with its span, the body list holding it and its enclosing scopes."""
    statements: list[_Statement] = []

    def visit(owner: ast.AST, field: str, body: list, scope: tuple) -> None:
        for node in body:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            statements.append(_Statement(node, first, node.end_lineno, owner, (id(owner), field), scope))
            inner = scope + (node,) if isinstance(node, _SCOPES) else scope
            for name in ("body", "orelse", "finalbody"):
                children = getattr(node, name, None)
                if isinstance(children, list) and children and isinstance(children[0], ast.stmt):
                    visit(node, name, children, inner)
            for handler in getattr(node, "handlers", []):
                visit(handler, "body", handler.body, inner)
            for case in getattr(node, "cases", []):
                visit(case, "body", case.body, inner)

    visit(tree, "body", tree.body, ())
    return statements


def _place_block(begin: int, end: int, section: str | None, statements: list[_Statement], code_rows: set[int],
                 lines: list[str], path: str, allow_module_level: bool) -> SolutionBlock:
    """Check that lines begin..end hold whole statements of one body inside a function."""
    inside = [s for s in statements if begin < s.first and s.last < end]
    inside_nodes = {id(s.node) for s in inside}
    top = [s for s in inside if id(s.owner) not in inside_nodes]
    covered = {row for s in top for row in range(s.first, s.last + 1)}
    cut = [row for row in range(begin + 1, end) if row in code_rows and row not in covered]
    if cut:
        raise MarkerError([Problem(path, cut[0], f"the solution block (lines {begin}-{end}) cuts a statement "
                                                 "in two: the markers must enclose whole statements")])
    if not inside:
        raise MarkerError([Problem(path, begin, "empty solution block: put the reference code between the markers")])
    if len({s.body_key for s in top}) > 1:
        raise MarkerError([Problem(path, begin, f"BEGIN SOLUTION and END SOLUTION (line {end}) must be in the "
                                                "same block of code, at the same indentation")])
    scope = top[0].scope
    if isinstance(top[0].owner, ast.ClassDef) or (scope and isinstance(scope[-1], ast.ClassDef)):
        raise MarkerError([Problem(path, begin, "solution block in a class body: put it inside a method")])
    if not scope and not allow_module_level:
        raise MarkerError([Problem(path, begin, "solution block at module level: the starter would raise on "
                                                "import; put the code inside a function")])
    qualname = ".".join(node.name for node in scope) or None
    first_line = lines[top[0].first - 1]
    indent = first_line[: len(first_line) - len(first_line.lstrip())]
    return SolutionBlock(begin, end, section, qualname, indent)


def _place_line(row: int, statements: list[_Statement], lines: list[str], source: str, path: str) -> SolutionLine:
    """The assignment that `# SOLUTION` on `row` ends, and its stub `targets = ...`."""
    holding = [s for s in statements if s.first <= row <= s.last]
    if not holding:
        raise MarkerError([Problem(path, row, "'# SOLUTION' must end an assignment")])
    latest = max(s.first for s in holding)
    stmt = [s for s in holding if s.first == latest][-1]  # the innermost statement starting last
    on_row = [s for s in statements if s.first <= row <= s.last and s.body_key == stmt.body_key]
    if len(on_row) > 1:
        raise MarkerError([Problem(path, row, "'# SOLUTION' line holds several statements: keep one per line")])
    node = stmt.node
    if isinstance(node, ast.Assign):
        targets = " = ".join(ast.get_source_segment(source, t) for t in node.targets)
        stub = f"{targets} = ..."
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target = ast.get_source_segment(source, node.target)
        stub = f"{target}: {ast.get_source_segment(source, node.annotation)} = ..."
    else:
        raise MarkerError([Problem(path, row, f"'# SOLUTION' must end an assignment (`x = value`), not a "
                                              f"{type(node).__name__}; use a BEGIN/END SOLUTION block")])
    if stmt.last != row:
        raise MarkerError([Problem(path, row, f"'# SOLUTION' must be on the last line of the assignment "
                                              f"(line {stmt.last})")])
    first_line = lines[stmt.first - 1]
    if first_line[: node.col_offset].strip():
        raise MarkerError([Problem(path, row, "a '# SOLUTION' assignment must start its own line")])
    return SolutionLine(stmt.first, stmt.last, stub, first_line[: len(first_line) - len(first_line.lstrip())])


def split_lines(source: str, keepends: bool = False) -> list[str]:
    """Lines as Python's tokenizer counts them: split at "\\n" only (str.splitlines also splits at
    form feeds and other separators that may sit inside a string, which would shift line numbers)."""
    parts = source.split("\n")
    if keepends:
        lines = [part + "\n" for part in parts[:-1]]
        return lines + [parts[-1]] if parts[-1] else lines
    lines = [part.removesuffix("\r") for part in parts]
    return lines[:-1] if not lines[-1] else lines


def strip_comments(source: str) -> list[str]:
    """The lines of `source` with their comments cut off (found with tokenize, so '#' in strings stays)."""
    lines = split_lines(source)
    for row, col, _text in sorted(_scan_tokens(source, "<string>")[0], reverse=True):
        lines[row - 1] = lines[row - 1][:col]
    return lines
