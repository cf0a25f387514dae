"""Entry point: `python -m grader {grade,release,check,bundle} ...`."""
import sys

from grader.cli import main

sys.exit(main())
