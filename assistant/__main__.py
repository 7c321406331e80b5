"""`python -m assistant` is the same as the `hearth` command."""

import sys

from assistant.cli import main

sys.exit(main())
