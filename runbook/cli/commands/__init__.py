"""One module per `runbook` command; each builds its engine with its own listener."""
