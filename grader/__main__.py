"""Entry point: `python -m grader {grade,release,check} ...`."""
import sys

from grader.cli import main

sys.exit(main())
