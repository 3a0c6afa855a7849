"""Faults bench: a deploy and a destroy through the fault-injecting proxy, next to clean runs.

Run: python bench/bench_faults.py [--rounds N] [--seed S] [--real-sleep]

Each round deploys and destroys twice in this process, in fresh pretend accounts on one
emulator, both through the proxy: once with nothing injected, once on a mixed, seeded
schedule (throttling, 5xx, dropped connections, lost answers on changing calls, "not
visible yet"). It prints, per phase: the outcome, the requests the runbook sent, how many of
them were resends, the faults injected by kind, the wall time, and the backoff the runbook
asked for. By default the backoff is counted but not slept (the wall time is then the
runbook's own work); --real-sleep sleeps it, as a real run would.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fault proxy is a test part: tests/faults

from goals import parse, run  # noqa: E402
from warm_up import warm_up  # noqa: E402

from runbook import destroy as tear_down  # noqa: E402
from runbook.aws import Aws  # noqa: E402
from runbook.engine import Runbook  # noqa: E402
from runbook.errors import RunbookError  # noqa: E402
from runbook.image import Build  # noqa: E402
from runbook.sandbox import CREDENTIALS, Emulator  # noqa: E402
from runbook.sandbox.container_engine import stand_in  # noqa: E402
from runbook.settings import Settings  # noqa: E402
from runbook.state import StateFile  # noqa: E402
from tests.engine.helpers import COMPLETE, inventory  # noqa: E402
from tests.faults.proxy import (  # noqa: E402
    DROP,
    EVENTUAL_CONSISTENCY,
    KINDS,
    LOST,
    NOT_PLANNED,
    NOT_YET,
    Changes,
    FaultProxy,
    Rule,
    Schedule,
)
from tests.faults.wire import ERROR_500, ERROR_503, THROTTLE  # noqa: E402

ACCOUNTS = itertools.count(400_000_000_001)


def mixed(seed: int) -> Schedule:
    """About one request in five meets a fault; a third of changing calls lose their answer."""
    return Schedule(
        Rule(THROTTLE, times=None, chance=0.10, spare=NOT_PLANNED),
        Rule(ERROR_500, times=None, chance=0.03, spare=NOT_PLANNED),
        Rule(ERROR_503, times=None, chance=0.03, spare=NOT_PLANNED),
        Rule(DROP, times=None, chance=0.03, spare=NOT_PLANNED),
        Rule(LOST, operations=Changes(), spare=NOT_PLANNED, times=None, chance=0.33),
        not_yet=EVENTUAL_CONSISTENCY,
        seed=seed,
    )


@dataclass
class Phase:
    outcome: str = "ok"
    sent: int = 0  # requests the runbook sent, resends included
    resent: int = 0  # after a fault, or while a new thing was not visible yet
    injected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    backoff: float = 0.0  # what the runbook slept (or would have)
    duplicates: str = "none"


def in_account(url: str, number: str) -> Aws:
    aws = Aws("us-east-1", endpoint_url=url, credentials=CREDENTIALS)
    aws.session.events.register(
        "before-sign", lambda request, **_: request.headers.__setitem__("x-moto-account-id", number)
    )
    return aws


def run_phase(proxy: FaultProxy, aws: Aws, step: Callable[[], None], sleeps: list[float]) -> Phase:
    before = Counter(proxy.schedule.injected)
    aws.calls.clear()
    aws.retried.clear()
    sleeps.clear()
    phase = Phase()
    started = time.perf_counter()
    try:
        step()
    except RunbookError as exc:
        phase.outcome = exc.problem.code
    phase.seconds = time.perf_counter() - started
    phase.sent = sum(aws.calls.values())
    phase.injected = Counter(proxy.schedule.injected) - before
    phase.resent = sum(aws.retried.values()) + phase.injected[NOT_YET]
    phase.backoff = sum(sleeps)
    return phase


def one_round(
    emulator: Emulator,
    proxy: FaultProxy,
    schedule: Schedule,
    real_sleep: bool,
    tmp: Path,
    warm_clients: bool = True,
) -> tuple[Phase, Phase]:
    number = str(next(ACCOUNTS))
    truth, aws = in_account(emulator.url, number), in_account(proxy.url, number)
    proxy.schedule = Schedule()
    warm_up(truth)  # moto's per-account set-up: not timed (the deploy needs it anyway)
    if warm_clients:  # the runbook's clients through the proxy, made before the clock starts
        warm_up(aws)
    proxy.schedule = schedule
    settings = Settings().replace("database", instance_class="db.t4g.micro")
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if real_sleep:
            time.sleep(seconds)

    build = Build(engine=stand_in(emulator.url, tmp / "engine"))
    runbook = Runbook(
        settings, aws, StateFile(tmp / f"{number}.json"), sandbox=True, sleep=sleep, build=build
    )
    deploy = run_phase(proxy, aws, runbook.deploy, sleeps)
    found = inventory(truth, settings)
    if found != COMPLETE:
        deploy.duplicates = ", ".join(f"{k} {v}" for k, v in (found - COMPLETE).items()) or "-"
    destroy = run_phase(proxy, aws, lambda: tear_down.run(runbook, tear_down.plan(runbook)), sleeps)
    if sum(inventory(truth, settings).values()):
        destroy.duplicates = "left behind"
    return deploy, destroy


def median(phases: list[Phase], name: str) -> float:
    return statistics.median(getattr(p, name) for p in phases)


def row(label: str, phases: list[Phase]) -> str:
    outcomes = Counter(p.outcome for p in phases)
    outcome = ", ".join(f"{k} x{v}" if len(outcomes) > 1 else k for k, v in outcomes.items())
    injected: Counter[str] = sum((p.injected for p in phases), Counter())
    kinds = ", ".join(
        f"{kind} {injected[kind] / len(phases):.0f}" for kind in (*KINDS, NOT_YET) if injected[kind]
    )
    duplicates = sorted({p.duplicates for p in phases})
    sent, resent = median(phases, "sent"), median(phases, "resent")
    seconds, backoff = median(phases, "seconds"), median(phases, "backoff")
    return (
        f"  {label:<22} {outcome:<8} {sent:>6.0f} {resent:>7.0f} {seconds:>8.2f} {backoff:>9.1f}"
        f"  {'/'.join(duplicates):<10} {kinds or '-'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--real-sleep", action="store_true", help="sleep the backoff for real")
    args = parse(parser, rounds=1)

    emulator = Emulator().start()
    proxy = FaultProxy(emulator.url).start()
    emulator.answer_as(int(proxy.url.rsplit(":", 1)[1]))  # it passes the signed Host on
    clean: dict[str, list[Phase]] = {"deploy": [], "destroy": []}
    faulty: dict[str, list[Phase]] = {"deploy": [], "destroy": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if not args.smoke:  # figures from a smoke run mean nothing: no warm-up
                one_round(emulator, proxy, Schedule(), args.real_sleep, Path(tmp))  # warm-up
            for n in range(args.rounds):  # alternating, so load on the machine hits both
                for results, schedule in (
                    (clean, Schedule()),
                    (faulty, mixed(args.seed + n)),
                ):
                    # A smoke run's figures mean nothing: its clients are made on the clock.
                    deploy, destroy = one_round(
                        emulator, proxy, schedule, args.real_sleep, Path(tmp), not args.smoke
                    )
                    results["deploy"].append(deploy)
                    results["destroy"].append(destroy)
    finally:
        proxy.stop()
        emulator.stop()

    slept = "slept" if args.real_sleep else "counted, not slept"
    print(
        f"== deploy and destroy through the fault proxy: medians of {args.rounds} rounds, "
        f"fresh accounts, seeds {args.seed}..{args.seed + args.rounds - 1}"
    )
    print(
        f"  {'run':<22} {'outcome':<8} {'sent':>6} {'resent':>7} {'wall s':>8} {'backoff s':>9}"
        f"  {'duplicates':<10} faults injected (mean per run)"
    )
    for phase in ("deploy", "destroy"):
        print(row(f"{phase}, no faults", clean[phase]))
        print(row(f"{phase}, mixed faults", faulty[phase]))
        ratio = median(faulty[phase], "seconds") / median(clean[phase], "seconds")
        extra = median(faulty[phase], "sent") / median(clean[phase], "sent")
        print(f"  {'':<22} wall time x{ratio:.2f}, requests x{extra:.2f} with faults")
    print(f"  backoff: {slept}; 'sent' counts every request, resends included")


if __name__ == "__main__":
    run(main)
