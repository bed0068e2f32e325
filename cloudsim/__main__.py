"""``python -m cloudsim``: the same as ``kiosk-cloudsim``."""

import sys

from cloudsim.cli import main

sys.exit(main())
