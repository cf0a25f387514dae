"""Attack: look for hidden suites, reference solutions, grader files and secrets; report them."""
import os


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
    return sorted(set(found))


def discounted_return(rewards, gamma):
    return str(probe())


def reward_to_go(rewards, gamma):
    raise RuntimeError(f"found: {probe()}")  # the attack test reads this message


def normalize(values):
    return probe()
