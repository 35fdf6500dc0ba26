"""``python -m modelbook``: the same as the ``modelbook`` command."""

from __future__ import annotations

import sys

from modelbook.cli import main

sys.exit(main())
