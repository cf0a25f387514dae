"""Attack: write a perfect results.json wherever the grader might read it, then exit with 0."""
import json
import os

PERFECT = {"score": 1000, "tests": [{"name": "everything", "score": 1000, "max_score": 10, "status": "passed"}]}
for directory in (".", "/tmp", "/autograder/results", "/course", os.path.expanduser("~"), "..", "../.."):
    try:
        with open(os.path.join(directory, "results.json"), "w") as f:
            json.dump(PERFECT, f)
    except OSError:
        pass
print("All tests PASSED")
os._exit(0)
