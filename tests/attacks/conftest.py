"""Attack submissions are graded by the harness, never collected as tests themselves."""
collect_ignore = ["submissions"]
