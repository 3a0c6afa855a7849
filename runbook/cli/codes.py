"""The `runbook` command's exit statuses."""

OK, FAILED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130
CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader left
