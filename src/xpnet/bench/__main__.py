"""``python -m xpnet.bench``: the same options and output as ``xpnet bench``."""

import sys

from .cli import main

sys.exit(main())
