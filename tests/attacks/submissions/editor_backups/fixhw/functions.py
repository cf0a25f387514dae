"""Attack: the instructor's editor backups of the reference (functions.py~, policy.py.orig, ...) sit next
to the reference in the instructor tree; if staging copies them, this file runs them instead of
writing any code."""
import glob
import os
import runpy

_here = os.path.dirname(os.path.abspath(__file__))
for _path in sorted(glob.glob(os.path.join(_here, "functions.py?*")) + glob.glob(os.path.join(_here, "*functions*.bak"))):
    try:
        globals().update({k: v for k, v in runpy.run_path(_path).items() if not k.startswith("__")})
        break
    except Exception:
        pass
