"""``python -m cloudsim``: the simulator alone (``kiosk-cloudsim`` adds the demo facility)."""

import sys

from cloudsim.cli import main

sys.exit(main())
