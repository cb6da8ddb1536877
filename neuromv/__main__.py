"""``python -m neuromv`` runs the CLI."""

import sys

from .cli import main

sys.exit(main())
