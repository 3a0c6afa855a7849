"""`python -m runbook.cli`: the `runbook` command."""

import sys

from runbook.cli.main import main

sys.exit(main())
