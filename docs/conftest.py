"""pytest runs the ``>>>`` examples of these pages as doctests (see pyproject)."""

import os

# scikit-learn's array API dispatch (gpu.rst) needs it before scipy is imported
os.environ.setdefault("SCIPY_ARRAY_API", "1")

collect_ignore = ["conf.py", "_build", "auto_examples", "api"]
