"""``python -m nocturna`` is the ``nocturna`` command."""

import sys

from nocturna.cli.main import main

sys.exit(main())
