"""The Textual app: a guided walk through the six sections, on top of the runbook engine."""
