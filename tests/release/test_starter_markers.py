"""The marker parser (grader/starter.py): what each marker becomes, and every malformed case."""
import ast
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.starter import MarkerError, make_solved, make_starter, parse_markers, parse_python, strip_comments

ROOT = Path(__file__).resolve().parents[2]


def starter(source: str, **kwargs) -> str:
    return make_starter(textwrap.dedent(source), "hw9_demo/mod.py", hw="hw9", **kwargs).text


def error_of(source: str, **kwargs) -> MarkerError:
    with pytest.raises(MarkerError) as caught:
        make_starter(textwrap.dedent(source), "hw9_demo/mod.py", hw="hw9", **kwargs)
    return caught.value


def test_block_that_is_the_whole_body_becomes_a_todo_raise_keeping_signature_and_docstring():
    out = starter('''
        def reward_to_go(rewards, gamma):
            """Discounted sum of future rewards."""
            # BEGIN SOLUTION (README 2.1)
            total = 0.0
            return total
            # END SOLUTION
        ''')
    assert out == textwrap.dedent('''
        def reward_to_go(rewards, gamma):
            """Discounted sum of future rewards."""
            raise NotImplementedError("TODO(hw9): reward_to_go, see README section 2.1")
        ''')


def test_block_without_section_points_to_the_readme():
    out = starter('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
        ''')
    assert 'raise NotImplementedError("TODO(hw9): f, see README")' in out


def test_block_that_is_part_of_a_body_keeps_the_code_around_it():
    out = starter('''
        def f(x):
            y = x + 1
            if y > 0:
                # BEGIN SOLUTION
                y = y * 2
                # END SOLUTION
            return y
        ''')
    assert out == textwrap.dedent('''
        def f(x):
            y = x + 1
            if y > 0:
                raise NotImplementedError("TODO(hw9): f, see README")
            return y
        ''')


def test_method_with_decorators_is_named_by_class_and_keeps_decorators():
    out = starter('''
        class Agent:
            @staticmethod
            @some.decorator(1)
            def update(batch):
                """Doc."""
                # BEGIN SOLUTION
                return batch
                # END SOLUTION
        ''')
    assert "    @staticmethod\n    @some.decorator(1)\n    def update(batch):\n        \"\"\"Doc.\"\"\"\n" in out
    assert '        raise NotImplementedError("TODO(hw9): Agent.update, see README")' in out


def test_nested_function_is_named_by_its_enclosing_chain():
    out = starter('''
        class Agent:
            def make(self):
                def schedule(t):
                    # BEGIN SOLUTION
                    return 1 / (1 + t)
                    # END SOLUTION
                return schedule
        ''')
    assert "TODO(hw9): Agent.make.schedule" in out
    assert "            return schedule\n" not in out and "        return schedule\n" in out


def test_async_function_block():
    out = starter('''
        async def fetch():
            # BEGIN SOLUTION
            return await thing()
            # END SOLUTION
        ''')
    assert "TODO(hw9): fetch" in out and "await" not in out


def test_tab_indentation_is_kept():
    source = 'def f(values):\n\tout = []\n\tfor v in values:\n\t\t# BEGIN SOLUTION\n\t\tout.append(v)\n\t\t# END SOLUTION\n\treturn out\n'
    out = make_starter(source, "t.py", hw="hw9").text
    assert out == ('def f(values):\n\tout = []\n\tfor v in values:\n'
                   '\t\traise NotImplementedError("TODO(hw9): f, see README")\n\treturn out\n')


def test_nbgrader_markers_are_accepted():
    out = starter('''
        def f():
            ### BEGIN SOLUTION
            return 1
            ### END SOLUTION
        ''')
    assert "raise NotImplementedError" in out and "return 1" not in out


def test_crlf_line_endings_are_kept():
    source = "def f():\r\n    # BEGIN SOLUTION\r\n    return 1\r\n    # END SOLUTION\r\n"
    assert make_starter(source, "t.py").text == 'def f():\r\n    raise NotImplementedError("TODO: f, see README")\r\n'


def test_several_blocks_in_one_file_are_counted():
    markup = parse_markers(textwrap.dedent('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION

        def g():
            x = 2  # SOLUTION
            return x
        '''))
    assert markup.todo_count == 2
    assert markup.solution_line_numbers() == [4, 8]


@pytest.mark.parametrize("line, stub", [
    ("    x = compute(a, b)  # SOLUTION", "    x = ..."),
    ("    x: float = 0.5  # SOLUTION", "    x: float = ..."),
    ("    a = b = compute()  # SOLUTION", "    a = b = ..."),
    ("    self.lr, self.gamma = 3e-4, 0.99 ### SOLUTION", "    self.lr, self.gamma = ..."),
])
def test_solution_line_keeps_the_targets(line, stub):
    out = make_starter(f"def f(self, a, b):\n{line}\n    return a\n", "t.py").text
    assert out == f"def f(self, a, b):\n{stub}\n    return a\n"


def test_solution_line_spanning_several_lines_is_replaced_whole():
    out = starter('''
        weights = compute(
            1, 2,
        )  # SOLUTION
        print(weights)
        ''')
    assert out == "\nweights = ...\nprint(weights)\n"


def test_prompt_lines_stay_as_comments_and_their_markers_go():
    out = starter('''
        def f():
            # BEGIN PROMPT
            # Hint: loop backwards.
            # END PROMPT
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
        ''')
    assert out == textwrap.dedent('''
        def f():
            # Hint: loop backwards.
            raise NotImplementedError("TODO(hw9): f, see README")
        ''')


def test_solved_edition_keeps_the_solution_and_drops_every_marker():
    source = textwrap.dedent('''
        def f(x):
            """Doc."""
            # BEGIN PROMPT
            # Hint: add one.
            # END PROMPT
            # BEGIN SOLUTION (README 2.1)
            y = x + 1
            return y
            # END SOLUTION

        weights = compute(
            1, 2,
        )  # SOLUTION
        TEXT = "# BEGIN SOLUTION"
        ''')
    assert make_solved(source, "hw9_demo/mod.py") == textwrap.dedent('''
        def f(x):
            """Doc."""
            # Hint: add one.
            y = x + 1
            return y

        weights = compute(
            1, 2,
        )
        TEXT = "# BEGIN SOLUTION"
        ''')
    assert make_solved("x = 1\n", "t.py") == "x = 1\n"
    with pytest.raises(MarkerError):
        make_solved("def f():\n    # BEGIN SOLUTION\n    return 1\n", "t.py")  # never closed


@pytest.mark.parametrize("source", [
    'TEXT = "# BEGIN SOLUTION"\n',
    'TEXT = """\n# BEGIN SOLUTION\nx = 1\n"""\n',
    "def f():\n    '''Doc that says\n    # END SOLUTION\n    '''\n    return 1\n",
    "x = f('# SOLUTION')\n",
])
def test_marker_text_inside_strings_is_not_a_marker(source):
    assert make_starter(source, "t.py").text == source


def test_file_without_markers_is_returned_unchanged():
    source = "def f():\n    return 1  # a solution to everything\n"
    assert make_starter(source, "t.py").text == source


def test_module_level_block_is_allowed_in_notebooks_only():
    source = "# BEGIN SOLUTION\nx = 1\n# END SOLUTION\nprint(x)\n"
    assert error_of(source).problems[0].line == 1
    out = make_starter(source, "nb.py", hw="hw9", allow_module_level=True).text
    assert out == 'raise NotImplementedError("TODO(hw9): notebook cell, see README")\nprint(x)\n'


def test_starter_always_parses():
    out = starter('''
        class A:
            def f(self):
                for i in range(3):
                    try:
                        # BEGIN SOLUTION
                        pass
                        # END SOLUTION
                    except ValueError:
                        x = 1  # SOLUTION
        ''')
    ast.parse(out)


# ---- errors: each names file:line -----------------------------------------------------------------

@pytest.mark.parametrize("source, line, words", [
    ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a matching"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", 3, "nested"),
    ("def f():\n    # BEGIN SOLUTION\n    x = 1  # SOLUTION\n    # END SOLUTION\n", 3, "nested"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN PROMPT\n    # END PROMPT\n    # END SOLUTION\n    return 1\n", 3, "nested"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END PROMPT\n", 4, "closes"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", 1, "module level"),
    ("class A:\n    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION\n", 2, "class body"),
    ("def f():\n    # BEGIN SOLUTION\n    # END SOLUTION\n    return 1\n", 2, "empty"),
    ("def f(a):\n    # BEGIN SOLUTION\n    if a:\n        x = 1\n        # END SOLUTION\n        y = 2\n", 3, "cuts a statement"),
    ("def f(a):\n    x = g(\n        # BEGIN SOLUTION\n        a,\n        # END SOLUTION\n    )\n", 4, "cuts a statement"),
    ("def f(a):\n    if a:\n        # BEGIN SOLUTION\n        x = 1\n    y = 2\n    # END SOLUTION\n", 3, "same block"),
    ("def f():\n    x = 1  # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n", 2, "line of its own"),
    ("def f():\n    # begin solution\n    return 1\n", 2, "malformed"),
    ("def f():\n    # BEGIN SOLUTIONS\n    return 1\n", 2, "malformed"),
    ("def f():\n    # END SOLUTION (README 2)\n    return 1\n", 2, "malformed"),
    ("def f():\n    return 1  # solution\n", 2, "malformed"),
    ("def f():\n    # SOLUTION\n    return 1\n", 2, "must end a line of code"),
    ("def f():\n    return compute()  # SOLUTION\n", 2, "assignment"),
    ("def f():\n    x += 1  # SOLUTION\n", 2, "assignment"),
    ("def f():\n    x = 1; y = 2  # SOLUTION\n", 2, "several statements"),
    ("def f(a):\n    if a: x = 1  # SOLUTION\n", 2, "own line"),
    ("x = g(  # SOLUTION\n    1)\n", 1, "last line"),
    ("def f():\n    # BEGIN PROMPT\n    x = 1\n    # END PROMPT\n", 3, "only comment lines"),
    ("def f(:\n    pass\n", 1, "not valid Python"),
])
def test_malformed_markers_are_errors_with_file_and_line(source, line, words):
    with pytest.raises(MarkerError) as caught:
        make_starter(source, "hw9_demo/mod.py")
    problem = caught.value.problems[0]
    assert (problem.path, problem.line) == ("hw9_demo/mod.py", line), str(caught.value)
    assert words in problem.message
    assert str(caught.value).startswith(f"hw9_demo/mod.py:{line}: ")


def test_every_problem_of_a_file_is_reported_at_once():
    source = "def f():\n    # END SOLUTION\n    return 1\n\ndef g():\n    # END SOLUTION\n    return 2\n"
    assert [p.line for p in error_of(source).problems] == [2, 6]


def test_strip_comments_keeps_hashes_inside_strings():
    assert strip_comments("x = '#not a comment'  # a comment\ny = 1\n") == ["x = '#not a comment'  ", "y = 1"]


def test_form_feed_inside_a_string_does_not_shift_line_numbers():
    source = 'SEPARATOR = "a\x0cb"\n\ndef f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n'
    assert make_starter(source, "t.py").text == \
        'SEPARATOR = "a\x0cb"\n\ndef f():\n    raise NotImplementedError("TODO: f, see README")\n'


def test_sources_parse_from_many_threads_at_once():
    # batch grading stages submissions in threads; CPython 3.11's ast.parse alone can then fail with
    # "SystemError: AST constructor recursion depth mismatch" (a CI run did, in check_no_solution)
    source = (ROOT / "grader" / "release.py").read_text()
    with ThreadPoolExecutor(8) as pool:
        trees = list(pool.map(lambda _: parse_python(source, "release.py"), range(64)))
    assert all(ast.dump(tree) == ast.dump(trees[0]) for tree in trees)
