"""Planted changes in sac.py (helper B's list): grader/suites/hw3/mutants.py adds SAC_MUTANTS to its
MUTANTS, and SAC_SNIPPETS (NAME -> code that `appended` entries may name, e.g. stubs) to its snippets.
Mutant fields: see grader/mutants.py (file="sac.py", suite_files default ("test_sac.py",))."""
SAC_MUTANTS = ()
SAC_SNIPPETS: dict[str, str] = {}
