"""``python -m sknumpy_mlp.cli``."""

import sys

from . import main

sys.exit(main())
