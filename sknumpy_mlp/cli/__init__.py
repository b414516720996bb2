"""The ``sknumpy-mlp`` command: train, evaluate, predict with and inspect models.

Run ``sknumpy-mlp --help`` or ``sknumpy-mlp COMMAND --help``. Data comes from
MNIST (``mnist``: the training split for ``train``, the test split for
``evaluate``), an ``.npz`` file with arrays ``X`` and ``y`` (``predict`` needs
``X`` only), or a CSV file with a header row, numeric feature columns and a
label column (``--label-column``, default ``label``). Errors are reported in
one line, with exit status 2 for bad arguments and 1 for everything else.
"""

import os
import sys

from ._commands import COMMANDS
from ._data import _Error
from ._options import PARAMETER_OPTIONS, PROG, _parser

__all__ = ["main", "PARAMETER_OPTIONS"]


def main(argv=None):
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except _Error as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader left (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
