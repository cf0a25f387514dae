"""The grader CLI dispatcher: a subcommand missing from the student edition fails politely."""
import argparse

from grader import cli


def test_missing_instructor_command_says_instructor_edition(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "check", "grader.not_in_this_edition")
    assert cli.main(["check", "hw2"]) == 2
    assert "only available in the instructor edition" in capsys.readouterr().out


def test_import_error_inside_a_command_module_is_not_hidden(monkeypatch, tmp_path):
    broken = tmp_path / "broken_command.py"
    broken.write_text("import a_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "check", "broken_command")
    try:
        cli.main(["check"])
    except ModuleNotFoundError as error:
        assert error.name == "a_module_that_does_not_exist"
    else:
        raise AssertionError("a broken command module must raise, not pretend to be missing")


def test_release_in_a_tree_without_release_yaml_says_instructor_edition(tmp_path, capsys):
    """The student edition ships grader/release.py (the grader's staging uses its file selection) but
    never release.yaml: there, `python -m grader release` only says what it is."""
    from grader import release

    args = argparse.Namespace(out=str(tmp_path / "out"), hw=None, force=False)
    assert release.run(args, root=tmp_path) == 2
    assert "only available in the instructor edition" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()
