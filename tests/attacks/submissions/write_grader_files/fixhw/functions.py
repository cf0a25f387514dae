"""Attack: overwrite the grader, the hidden suite and the staged code; report what worked."""
import os

TARGETS = ["/course/fixhw/functions.py", "/course/grader/sandbox/worker.py", "/course/grader/wire.py"]


def probe():
    written = []
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = TARGETS + [os.path.join(here, "functions.py"), os.path.join(here, "..", "grader", "wire.py")]
    for start in (here, os.getcwd(), "/"):
        for up in ("", "..", "../..", "../../.."):
            for name in ("grader/harness/plugin.py", "grader/harness/pytest.ini", "suites/fixhw/test_functions.py",
                         "tests/fixture_hw/suites/fixhw/test_functions.py", "harness-results.json"):
                candidates.append(os.path.normpath(os.path.join(start, up, name)))
    for path in candidates:
        try:
            with open(path, "r+") as f:  # only files that exist: the private /tmp is ours to fill
                f.seek(0, 2)
                f.write("\n# attacked\n")
            written.append(path)
        except OSError:
            pass
    return sorted(set(written))


def discounted_return(rewards, gamma):
    probe()
    return 0.0


def reward_to_go(rewards, gamma):
    raise RuntimeError(f"written: {probe()}")  # the attack test reads this message


def normalize(values):
    raise NotImplementedError
