"""grader.manifest: the homework registry and submission.yaml."""
from pathlib import Path

import pytest

from grader.manifest import ManifestError, find_homework, load_manifest

FIXTURE_ROOT = Path(__file__).resolve().parent.parent / "fixture_hw"
FIXTURE_PACKAGE = FIXTURE_ROOT / "fixhw"


def test_fixture_manifest_is_read(homework):
    assert homework.id == "fixhw" and homework.package == "fixhw"
    assert homework.files == ("fixhw/functions.py", "fixhw/policy.py")
    assert homework.parts == {"functions": 6.0, "policy": 4.0} and homework.total_points == 10.0
    assert homework.suite_dir == FIXTURE_ROOT / "suites" / "fixhw"
    assert homework.limits.test_timeout_s == 5


def test_registered_ids_resolve_to_package_directories(tmp_path):
    package = tmp_path / "hw2_policy_gradient"
    package.mkdir()
    (package / "submission.yaml").write_text(
        "homework: hw2\npackage: hw2_policy_gradient\nfiles: [hw2_policy_gradient/returns.py]\nparts: {returns: 5}\n")
    hw = find_homework("hw2", root=tmp_path)
    assert hw.suite_dir == tmp_path / "grader" / "suites" / "hw2" and hw.limits.memory_mb == 4096


def test_unknown_homework_names_the_valid_ones():
    with pytest.raises(ManifestError, match="hw1, hw2"):
        find_homework("hw9")


@pytest.mark.parametrize("files, message", [
    ("[/etc/passwd]", "relative path"), ("[fixhw/../grader/cli.py]", "relative path"),
    ("[common/envs.py]", "outside the package"),
])
def test_student_files_must_stay_inside_the_package(tmp_path, files, message):
    path = tmp_path / "submission.yaml"
    path.write_text(f"homework: x\npackage: fixhw\nfiles: {files}\nparts: {{a: 1}}\n")
    with pytest.raises(ManifestError, match=message):
        load_manifest(path, tmp_path)


def test_unknown_keys_and_limits_are_errors(tmp_path):
    path = tmp_path / "submission.yaml"
    path.write_text("homework: x\npackage: p\nfiles: []\nparts: {}\npoints: 3\n")
    with pytest.raises(ManifestError, match="unknown keys"):
        load_manifest(path, tmp_path)
    path.write_text("homework: x\npackage: p\nfiles: []\nparts: {}\nlimits: {gpu_hours: 3}\n")
    with pytest.raises(ManifestError, match="unknown limit"):
        load_manifest(path, tmp_path)


def test_manifest_of_the_fixture_is_found_from_its_directory():
    assert find_homework(str(FIXTURE_PACKAGE)).root == FIXTURE_ROOT
