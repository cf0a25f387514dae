"""The grader CLI dispatcher: a subcommand missing from the student edition fails politely."""
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
