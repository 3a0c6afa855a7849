"""The command line, one front end of the engine: the `runbook` command (main), its commands
(one module each, in commands/), the composition root that builds their target and engine
(target), the rich renderings (render) and the plain prompts (prompts). The app (screens/) is
the other front end; both word the engine's events with runbook/narration.py."""

from runbook.cli.codes import BAD_INPUT, CLOSED_PIPE, FAILED, INTERRUPTED, OK
from runbook.cli.main import main

__all__ = ["BAD_INPUT", "CLOSED_PIPE", "FAILED", "INTERRUPTED", "OK", "main"]
