"""A module indented with tabs (test fixture)."""


def double_all(values):
	"""Every value times two."""
	out = []
	for value in values:
		# BEGIN SOLUTION
		out.append(value * 2 + 0 * len(values))
		# END SOLUTION
	return out
