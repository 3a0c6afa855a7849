"""Loopback blocks: claimed the same way by root and by an ordinary user, never shared."""

from __future__ import annotations

import random
from pathlib import Path

from runbook.sandbox.addresses import CLAIM_PORT, LoopbackBlock


def test_the_claim_needs_no_privilege_and_no_outgoing_connection_takes_its_port() -> None:
    # An ordinary user may bind from ip_unprivileged_port_start (1024 unless changed);
    # outgoing connections take their local ports from ip_local_port_range.
    unprivileged = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert unprivileged <= CLAIM_PORT < ephemeral_low


def test_two_sandboxes_drawing_the_same_block_get_two() -> None:
    first = LoopbackBlock(random.Random(7))
    try:
        second = LoopbackBlock(random.Random(7))  # draws first's block first: it is taken
        try:
            assert second.prefix != first.prefix
            assert first.take() != second.take()
        finally:
            second.close()
    finally:
        first.close()
    again = LoopbackBlock(random.Random(7))  # given back when closed
    try:
        assert again.prefix == first.prefix
    finally:
        again.close()
