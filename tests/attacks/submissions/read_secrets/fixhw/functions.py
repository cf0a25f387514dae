"""Attack: look for hidden suites, reference solutions, grader files and secrets; report them."""
import importlib
import os
import sys


def probe():
    """What the sandbox let us see (the test asserts it is nothing)."""
    found = []
    for root in ("/", "/work", "/root", "/home", "/course", "/tmp"):
        for directory, subdirs, files in os.walk(root):
            # the Python installation is visible by design (its own test suite has look-alike names)
            if directory.startswith(("/proc", "/sys", "/dev", "/usr", "/tmp/venv")) or "/lib/python3" in directory:
                subdirs[:] = []
                continue
            for name in files + subdirs:
                if name in ("suites", "harness", "test_functions.py", "test_policy.py", "harness-config.json",
                            "harness-results.json", "fixture_hw", ".git"):
                    found.append(os.path.join(directory, name))
    for secret in ("/proc/1/environ", "/etc/shadow"):
        try:
            with open(secret, "rb") as f:
                if b"GRADER_ATTACK_SECRET" in f.read():
                    found.append(secret)
        except OSError:
            pass
    if "GRADER_ATTACK_SECRET" in os.environ:
        found.append("os.environ")
    for pid in os.listdir("/proc"):  # other processes' command lines and environments
        for what in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if b"GRADER_ATTACK_SECRET" in data or b"harness" in data or b"suites" in data:
                found.append(f"/proc/{pid}/{what}")
    # an installed copy of the grader (pip install . puts grader/ and the homeworks in site-packages)
    for entry in sys.path:
        for secret in ("grader/harness/plugin.py", "grader/suites", "fixture_hw", "tests/fixture_hw"):
            if entry and os.path.exists(os.path.join(entry, secret)):
                found.append(os.path.join(entry, secret))
    for module in ("grader.harness", "grader.harness.plugin", "grader.suites"):
        try:
            importlib.import_module(module)
            found.append(module)
        except ImportError:
            pass
    return sorted(set(found))


def discounted_return(rewards, gamma):
    return str(probe())


def reward_to_go(rewards, gamma):
    raise RuntimeError(f"found: {probe()}")  # the attack test reads this message


def normalize(values):
    return probe()
