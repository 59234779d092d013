"""``python -m ml2p_symbolic`` is ``ml2p-proof``."""

import sys

from .cli import main

sys.exit(main())
