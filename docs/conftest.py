"""pytest runs the ``>>>`` examples of these pages as doctests (see pyproject)."""

collect_ignore = ["conf.py", "_build", "auto_examples", "api"]
