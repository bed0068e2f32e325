"""``python -m launch``: the same as ``kiosk``."""

import sys

from launch.cli import main

sys.exit(main())
