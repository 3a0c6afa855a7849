"""Commands of `runbook` beyond the guided deploy, one module each (cli.py registers them)."""
