"""Small CSV bodies for emulator and lifecycle tests."""

from __future__ import annotations

HEADER = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE"
FIRST_TIMESTAMP = 1_700_000_000


def interactions_csv(rows: int = 1200, users: int = 30, header: str = HEADER, timestamp_scale: int = 1) -> bytes:
    """A valid interactions file (≥ 1,000 rows, every user with ≥ 2), optionally with scaled timestamps."""
    lines = [header]
    for index in range(rows):
        timestamp = (FIRST_TIMESTAMP + index) * timestamp_scale
        lines.append(f"user-{index % users},item-{index % 17},{timestamp},click")
    return ("\n".join(lines) + "\n").encode("utf-8")


def with_line(body: bytes, line_number: int, replacement: str) -> bytes:
    """``body`` with 1-based line ``line_number`` replaced."""
    lines = body.decode("utf-8").split("\n")
    lines[line_number - 1] = replacement
    return "\n".join(lines).encode("utf-8")
