"""grader.harness.staging: only the manifest's files come from a submission, read safely."""
import os
import stat
import zipfile

import pytest

from grader.harness.staging import SubmissionError, extract_zip, stage



def test_stage_holds_the_worker_code_but_no_harness_suites_or_public_tests(homework, tmp_path):
    stage(homework, None, tmp_path / "s")
    names = {p.relative_to(tmp_path / "s").as_posix() for p in (tmp_path / "s").rglob("*")}
    assert "grader/sandbox/worker.py" in names and "grader/wire.py" in names and "fixhw/functions.py" in names
    assert not any(n.startswith(("grader/harness", "grader/suites", "suites", "fixhw/tests")) for n in names)
    stage(homework, None, tmp_path / "p", public_tests=True)
    assert (tmp_path / "p" / "fixhw" / "tests" / "test_public.py").is_file()


def test_only_listed_files_are_taken_from_the_submission(homework, tmp_path):
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True)
    (sub / "functions.py").write_text("MARK = 'student'\n")
    for extra in ("__init__.py", "conftest.py", "sitecustomize.py", "evil.pth"):
        (sub / extra).write_text("raise SystemExit('must not be staged')\n")
    notes = stage(homework, tmp_path / "sub", tmp_path / "s")
    assert (tmp_path / "s/fixhw/functions.py").read_text() == "MARK = 'student'\n"
    assert "SystemExit" not in (tmp_path / "s/fixhw/__init__.py").read_text()
    assert not any((tmp_path / "s/fixhw" / n).exists() for n in ("conftest.py", "sitecustomize.py", "evil.pth"))
    assert "ImportError" in (tmp_path / "s/fixhw/policy.py").read_text()  # missing: never the reference
    assert any("fixhw/policy.py is missing" in note for note in notes)
    assert stat.S_IMODE(os.stat(tmp_path / "s/fixhw/functions.py").st_mode) == 0o644


def test_flat_uploads_and_nested_release_folders_are_found(homework, tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "policy.py").write_text("FLAT = 1\n")
    nested = tmp_path / "nested" / "my_release" / "fixhw"
    nested.mkdir(parents=True)
    (nested / "functions.py").write_text("NESTED = 1\n")
    stage(homework, tmp_path / "flat", tmp_path / "a")
    stage(homework, tmp_path / "nested", tmp_path / "b")
    assert (tmp_path / "a/fixhw/policy.py").read_text() == "FLAT = 1\n"
    assert (tmp_path / "b/fixhw/functions.py").read_text() == "NESTED = 1\n"


def test_a_symlinked_file_is_never_followed(homework, tmp_path):
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True)
    os.symlink(homework.suite_dir / "test_functions.py", sub / "functions.py")
    stage(homework, tmp_path / "sub", tmp_path / "s")
    assert "points" not in (tmp_path / "s/fixhw/functions.py").read_text()


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize("name, mode, message", [
    ("../escape.py", 0o100644, "outside"), ("/abs/escape.py", 0o100644, "outside"),
    ("fixhw/functions.py", stat.S_IFLNK | 0o777, "symbolic link"),
])
def test_dangerous_zip_entries_are_refused(tmp_path, name, mode, message):
    archive = _zip(tmp_path / "sub.zip", [(name, "x = 1\n", mode)])
    with pytest.raises(SubmissionError, match=message):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()


def test_a_zipped_release_folder_is_graded_like_a_directory(homework, tmp_path):
    archive = _zip(tmp_path / "sub.zip", [("release/fixhw/functions.py", "ZIPPED = 1\n", 0o100644)])
    stage(homework, archive, tmp_path / "s")
    assert (tmp_path / "s/fixhw/functions.py").read_text() == "ZIPPED = 1\n"


def test_starter_fixture_is_stageable(homework, tmp_path):
    assert stage(homework, homework.root / "starter", tmp_path / "s") == []


def test_the_stage_holds_the_student_edition_of_instructor_files(homework, tmp_path):
    """The worker can read all of /course: no solution outside the student files, no trained
    reference weights left in runs/, no notebook with solution outputs."""
    import shutil
    from grader.manifest import find_homework
    shutil.copytree(homework.package_dir, tmp_path / "root" / "fixhw")
    package = tmp_path / "root" / "fixhw"
    (package / "helpers.py").write_text("def answer():\n    # BEGIN SOLUTION\n    return 'the secret 42 solution'\n"
                                        "    # END SOLUTION\n")
    (package / "runs").mkdir()
    (package / "runs" / "reference_policy.npy").write_bytes(b"trained weights")
    (package / "notebook.ipynb").write_text('{"cells": [{"source": "the secret 42 solution"}]}')
    instructor = find_homework(str(package))
    stage(instructor, homework.root / "starter", tmp_path / "s")
    helpers = (tmp_path / "s/fixhw/helpers.py").read_text()
    assert "the secret 42" not in helpers and "NotImplementedError" in helpers
    assert not (tmp_path / "s/fixhw/runs").exists() and not (tmp_path / "s/fixhw/notebook.ipynb").exists()
    assert "BEGIN SOLUTION" not in (tmp_path / "s/fixhw/functions.py").read_text()  # the starter's
    stage(instructor, None, tmp_path / "ref")  # the reference grade keeps the instructor's student files
    assert "BEGIN SOLUTION" in (tmp_path / "ref/fixhw/functions.py").read_text()


def test_a_student_file_cannot_shadow_a_library(homework, tmp_path):
    sub = tmp_path / "sub"
    (sub / "fixhw").mkdir(parents=True)
    for name in ("numpy.py", "fixhw/numpy.py", "grader/wire.py", "fixhw/__init__.py"):
        (sub / name).parent.mkdir(parents=True, exist_ok=True)
        (sub / name).write_text("raise SystemExit('shadowed')\n")
    stage(homework, sub, tmp_path / "s")
    staged = [p for p in (tmp_path / "s").rglob("*.py") if "shadowed" in p.read_text()]
    assert staged == []


def test_a_zip_bomb_and_unwanted_entries_are_not_extracted(homework, tmp_path):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(40):  # 40 x 5 MB of zeros compress to a few kB each
            zf.writestr(f"junk/{i}.bin", b"\0" * (5 * 2**20))
        zf.writestr("fixhw/functions.py", "OK = 1\n")
    stage(homework, archive, tmp_path / "s")
    assert (tmp_path / "s/fixhw/functions.py").read_text() == "OK = 1\n"
    assert not (tmp_path / "extracted" / "junk").exists()
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("fixhw/too_big.py", b"#" * (5 * 2**20 + 1))
    with pytest.raises(SubmissionError, match="too large"):
        extract_zip(archive, tmp_path / "out")


def _raw_zip(path, names_and_data):
    """A zip whose entries are written exactly as given (zipfile warns about duplicates)."""
    import warnings
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as zf:
        warnings.simplefilter("ignore")
        for name, data in names_and_data:
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("entries, message", [
    ([("fixhw/functions.py", "A = 1\n"), ("fixhw/functions.py", "B = 2\n")], "twice"),
    ([("fixhw", "a file"), ("fixhw/functions.py", "A = 1\n")], "could not be extracted|collides"),
    ([("x" * 300 + "/functions.py", "A = 1\n")], "could not be extracted"),
])
def test_odd_zips_are_refused_with_a_message_not_an_internal_error(tmp_path, entries, message):
    archive = _raw_zip(tmp_path / "sub.zip", entries)
    with pytest.raises(SubmissionError, match=message):
        extract_zip(archive, tmp_path / "out", wanted={"functions.py", "fixhw"})


def test_a_corrupt_zip_is_refused_with_a_message(tmp_path):
    archive = _raw_zip(tmp_path / "sub.zip", [("fixhw/functions.py", "A = 1\n" * 100)])
    data = bytearray(archive.read_bytes())
    data[40:60] = b"\xff" * 20  # inside the first entry's data: its CRC no longer matches
    archive.write_bytes(bytes(data))
    with pytest.raises(SubmissionError, match="could not be extracted"):
        extract_zip(archive, tmp_path / "out")


def _instructor_tree(homework, tmp_path):
    import shutil
    from grader.manifest import find_homework
    shutil.copytree(homework.package_dir, tmp_path / "root" / "fixhw")
    return find_homework(str(tmp_path / "root" / "fixhw")), tmp_path / "root" / "fixhw"


def test_solution_lines_in_a_binary_file_refuse_to_grade(homework, tmp_path):
    from grader.harness.staging import SolutionInStage
    instructor, package = _instructor_tree(homework, tmp_path)
    line = "return np.argmax(observations @ self.weights, axis=1).astype(np.int64)"
    (package / "cache.bin").write_bytes(b"\x80\x04\xff\x00" + line.encode() + b"\x00\xfe")
    with pytest.raises(SolutionInStage, match=r"fixhw/cache\.bin\)") as info:
        stage(instructor, homework.root / "starter", tmp_path / "s")
    assert "argmax" not in str(info.value)


def test_markers_in_docstrings_and_the_graded_files_are_not_leaks(homework, tmp_path):
    """Docs may talk about markers; the graded files are the student's (or the reference itself)."""
    instructor, package = _instructor_tree(homework, tmp_path)
    (package / "about.py").write_text('"""Solutions sit between\n# BEGIN SOLUTION\nand # END SOLUTION lines."""\n')
    sub = tmp_path / "sub" / "fixhw"
    sub.mkdir(parents=True)
    (sub / "functions.py").write_text((package / "functions.py").read_text())  # the student kept the markers
    stage(instructor, tmp_path / "sub", tmp_path / "s")
    stage(instructor, None, tmp_path / "ref")


def test_only_tracked_files_are_staged_from_a_git_checkout(homework, tmp_path):
    import subprocess
    instructor, package = _instructor_tree(homework, tmp_path)
    root = package.parent
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c"]):
        subprocess.run(["git", *command], cwd=root, check=True, capture_output=True)
    (package / "scratch.py").write_text("x = 1\n")  # untracked: an instructor's scratch file
    stage(instructor, homework.root / "starter", tmp_path / "s")
    assert (tmp_path / "s/fixhw/policy.py").is_file() and not (tmp_path / "s/fixhw/scratch.py").exists()


def test_a_used_homework_is_staged_as_its_solved_edition(tmp_path):
    """`uses:` (hw4 imports hw3's SAC): the other package is importable with its reference code (markers
    dropped), its tests left out, and the stage passes the leak check although the graded homework's
    solution repeats some of its lines (hw5's offline agents repeat hw3's DQN target)."""
    import dataclasses

    from grader.manifest import find_homework

    homework = dataclasses.replace(find_homework("hw2"), uses=("hw3_qlearning_ac",))
    stage(homework, None, tmp_path / "s")
    sac = (tmp_path / "s/hw3_qlearning_ac/sac.py").read_text()
    assert "TODO(hw3)" not in sac and "BEGIN SOLUTION" not in sac and "def polyak_update(" in sac
    assert "NotImplementedError" not in (tmp_path / "s/hw3_qlearning_ac/dqn.py").read_text()
    assert (tmp_path / "s/hw3_qlearning_ac/sac_networks.py").is_file()
    assert not (tmp_path / "s/hw3_qlearning_ac/tests").exists()


def test_solution_lines_that_a_used_homework_shows_are_no_leak(tmp_path, monkeypatch):
    """hw5's offline agents repeat hw3's DQN target line: staged in hw3's solved dqn.py it is no leak of
    hw5; a line of the graded homework's solution found nowhere in the used package still is."""
    import dataclasses

    from grader.harness import staging
    from grader.manifest import find_homework

    shared = "return rewards.float() + gamma * (1.0 - terminated.float()) * next_values"
    own = "distinctive_answer = only_this_homework_writes(this_line)"
    monkeypatch.setattr(staging, "secret_lines", lambda root, package: {shared.replace(" ", ""), own.replace(" ", "")})
    homework = dataclasses.replace(find_homework("hw2"), uses=("hw3_qlearning_ac",))
    stage_dir = tmp_path / "s"
    (stage_dir / "hw3_qlearning_ac").mkdir(parents=True)
    (stage_dir / "hw3_qlearning_ac/dqn.py").write_text(f"def f(rewards, gamma, terminated, next_values):\n    {shared}\n")
    staging.check_no_solution(homework, stage_dir)
    (stage_dir / "hw3_qlearning_ac/extra.py").write_text(f"{own}\n")
    with pytest.raises(staging.SolutionInStage, match="hw3_qlearning_ac/extra.py line 1"):
        staging.check_no_solution(homework, stage_dir)
    with pytest.raises(staging.SolutionInStage, match="dqn.py"):  # without `uses`, the shared line is a leak
        staging.check_no_solution(dataclasses.replace(homework, uses=()), stage_dir)


def test_uses_must_name_another_homework_package(tmp_path):
    from grader.manifest import ManifestError, load_manifest

    manifest = tmp_path / "hw4_model_based" / "submission.yaml"
    manifest.parent.mkdir()
    for uses, ok in ((["hw3_qlearning_ac"], True), (["numpy"], False), (["hw4_model_based"], False)):
        manifest.write_text(f"homework: hw4\npackage: hw4_model_based\nfiles: []\nparts: {{a: 1}}\nuses: {uses}\n")
        if ok:
            assert load_manifest(manifest, tmp_path).uses == tuple(uses)
        else:
            with pytest.raises(ManifestError, match="another homework"):
                load_manifest(manifest, tmp_path)
