"""Runs wrk (a C load generator, `apt-get install wrk`) and reads its rate and percentiles."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from todo_load import Load, Result

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
THREADS = 2


def available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def run(
    port: int,
    load: Load,
    concurrency: int = 32,
    seconds: float = 5.0,
    max_requests: int | None = None,
) -> Result:
    """Keep `concurrency` keep-alive connections busy for `seconds` with 2 wrk threads; with
    `max_requests`, each thread stops sending once it has its share answered (wrk itself
    still ends after `seconds`, its shortest run being a second: the rate is then meaningless,
    but the server is not kept busy for nothing)."""
    script = "\n".join(
        [
            f'wrk.method = "{load.method}"',
            f"wrk.body = [[{load.body.decode()}]]" if load.body else "",
            'wrk.headers["Content-Type"] = "application/json"' if load.body else "",
            *(
                f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}"
                for name, value in load.headers
            ),
            _stop_after(-(-max_requests // THREADS)) if max_requests else "",
        ]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        Path(lua.name).write_text(script)
        output = subprocess.run(
            [
                "wrk",
                f"-t{THREADS}",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                lua.name,
                f"http://127.0.0.1:{port}{load.path}",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    percentiles = {
        int(p): _ms(value) for p, value in re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M)
    }
    return Result(
        requests=requests,
        errors=errors,
        seconds=requests / rate if rate else seconds,
        latencies_ms=[],
        fixed_percentiles=percentiles,
    )


def _stop_after(answers: int) -> str:
    """Lua for one wrk thread (each has its own state): stop once `answers` came back."""
    return (
        "local answered = 0\n"
        "function response(status, headers, body)\n"
        "  answered = answered + 1\n"
        f"  if answered >= {answers} then wrk.thread:stop() end\n"
        "end"
    )
