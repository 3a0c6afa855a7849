"""How long the sandbox's stand-ins take: instant (the default) or AWS's own shape, scaled.

Instant is still real (PostgreSQL really starts, tasks really serve, health checks really
run); it only skips the waiting AWS adds. `aws` gives each slow part the time it takes on
AWS, `aws:0.1` a tenth of it, so long waits can be seen, measured and tested.
"""

from __future__ import annotations

from dataclasses import dataclass

# Typical durations on AWS, in seconds (what a person waits in the console).
AWS_SECONDS = {
    "db_creating": 420.0,  # RDS PostgreSQL: "5 to 10 minutes"
    "lb_provisioning": 150.0,  # an ALB: a few minutes
    "task_provisioning": 15.0,  # Fargate finds capacity and attaches the ENI
    "task_pending": 20.0,  # image pull, secrets
    "task_deprovisioning": 10.0,  # ENI detached
    # The container engine stand-in: a first build (base image pulled, pip install) and a
    # first push of its ~75 MB at ~2 MB/s, a common uplink; later ones reuse cached layers.
    # RDS rotates the master password it keeps in Secrets Manager every 7 days by default.
    "secret_rotation": 7 * 24 * 3600.0,
    "image_build": 60.0,
    "image_push": 40.0,
}
# Health checks still need some spacing when instant, or they would spin.
INSTANT_HEALTH_INTERVAL = 0.2


class TimingsError(ValueError):
    pass


@dataclass(frozen=True)
class Timings:
    scale: float = 0.0  # 0: instant

    @classmethod
    def parse(cls, text: str) -> Timings:
        """`instant`, `aws` or `aws:FACTOR` (e.g. aws:0.1)."""
        name, _, factor = text.strip().partition(":")
        if name == "instant" and not factor:
            return cls(0.0)
        if name == "aws":
            try:
                scale = float(factor) if factor else 1.0
            except ValueError:
                scale = -1.0
            if 0 < scale <= 10:
                return cls(scale)
        raise TimingsError(
            f"--timings {text!r}: use instant, aws, or aws:FACTOR with 0 < FACTOR <= 10 "
            "(aws:0.1 takes a tenth of AWS's time)"
        )

    def __str__(self) -> str:
        if not self.scale:
            return "instant"
        return "aws" if self.scale == 1 else f"aws:{self.scale:g}"

    def seconds(self, what: str) -> float:
        return AWS_SECONDS[what] * self.scale

    def scaled(self, aws_seconds: float) -> float:
        """A duration the settings give (grace period, draining): scaled, or none when instant."""
        return aws_seconds * self.scale

    def health_interval(self, aws_seconds: float) -> float:
        return max(INSTANT_HEALTH_INTERVAL, aws_seconds * self.scale)
