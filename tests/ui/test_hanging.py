"""Log lines wrap under their own text (a hanging indent), and nothing of them is lost."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from screens.hanging import HangingLines, hanging_indent


def rows(lines: list[Text], width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(HangingLines(lines))
    return [row.rstrip() for row in console.export_text().splitlines()]


def test_a_marked_line_continues_under_its_text() -> None:
    line = Text("  → ec2 AuthorizeSecurityGroupIngress  ok  0.05 s, and then some more", "cyan")
    got = rows([line], 40)
    assert got[0].startswith("  → ec2")
    assert len(got) > 1 and all(row.startswith("    ") and row[4] != " " for row in got[1:])
    assert "".join(got).replace(" ", "") == line.plain.replace(" ", "")


def test_an_arn_longer_than_the_panel_folds_under_the_indent() -> None:
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/flask-todo/0123"
    got = rows([Text(f"      registered 1 targets in ({arn})")], 40)
    assert all(row.startswith("      ") for row in got)
    assert "".join(row.strip() for row in got).endswith(arn[-20:] + ")")


def test_short_lines_and_unmarked_lines_are_left_alone() -> None:
    got = rows([Text("short"), Text("Section I: looking at what exists, with words to wrap")], 30)
    assert got[0] == "short"
    assert len(got) > 2 and not any(row.startswith(" ") for row in got[1:])


def test_the_indent_counts_cells_for_a_wide_marker() -> None:
    assert hanging_indent("  ⏳ waiting for the database") == (4, 5)  # the emoji takes 2 cells
    assert hanging_indent("✓ Section I done") == (2, 2)
    assert hanging_indent("Section I: looking") == (0, 0)
    assert hanging_indent("\u00a0\u00a0↳ Essential container exited") == (4, 4)
