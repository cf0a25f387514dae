"""Entry point: `python -m grader {grade,batch,release,check} ...`."""
import sys

from grader.cli import main

sys.exit(main())
