"""`python -m runbook.sandbox serve`: the background sandbox (started by `runbook --sandbox`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runbook.sandbox.background import IDLE_SECONDS, INFO_FILE, serve
from runbook.sandbox.timings import Timings

parser = argparse.ArgumentParser(prog="python -m runbook.sandbox")
parser.add_argument("command", choices=["serve"])
parser.add_argument("--info", type=Path, default=INFO_FILE)
parser.add_argument("--timings", type=Timings.parse, default=Timings())
parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds unused to stop")
parser.add_argument("--log", type=Path, default=None, help="its log, rotated (else stdout)")
args = parser.parse_args()
serve(args.info, args.timings, args.idle, args.log)
# Everything it started is stopped and removed by now: skip tearing down moto's objects one
# by one at exit (seconds, for nothing).
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
