"""Where this development tree keeps what the benchmark scripts read.

The installed package looks for data only where it is told (``--data``,
``$XPNET_DATA``); these scripts live in the checkout, so they may point it at
the course's files beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The course's cat files: $XPNET_DATA, else ../shared/data/catvnoncat beside the checkout.
CAT_DATA = Path(os.environ.get("XPNET_DATA")
                or Path(__file__).resolve().parents[2] / "shared" / "data" / "catvnoncat")
