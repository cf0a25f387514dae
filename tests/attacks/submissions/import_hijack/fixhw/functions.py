"""Attack: hijack sys.modules, import hooks and the worker's own dispatcher at import time."""
import importlib.abc
import sys
import types


class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        return None


sys.meta_path.insert(0, Finder())
fake = types.ModuleType("numpy.testing")
fake.assert_allclose = lambda *a, **k: None
sys.modules["numpy.testing"] = fake
sys.modules["grader.harness"] = types.ModuleType("grader.harness")
worker = sys.modules.get("grader.sandbox.worker")
if worker is not None:
    worker._dispatch = lambda request: 1.0          # answer everything with 1.0
    worker._describe = lambda exc: {"type": "Passed", "message": "", "traceback": "", "not_implemented": False}


def discounted_return(rewards, gamma):
    return 1.0


def reward_to_go(rewards, gamma):
    return 1.0


def normalize(values):
    return 1.0
