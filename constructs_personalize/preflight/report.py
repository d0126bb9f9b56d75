"""Findings of the pre-flight check, grouped by rule, and the message that fails the synth."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

SHOWN_PER_RULE = 5


@dataclass(frozen=True)
class Finding:
    rule: str  # what is wrong, worded for the user; findings with the same rule are grouped
    file: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def where(self) -> str:
        text = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.column is not None:
            text += f" column {self.column}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f": {shown!r}"
        return text


@dataclass
class Report:
    """Every finding counted; the first few per rule kept, so memory stays flat on a bad big file."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Finding]] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        self.counts[finding.rule] += 1
        kept = self.examples.setdefault(finding.rule, [])
        if len(kept) < SHOWN_PER_RULE:
            kept.append(finding)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def format(self, subject: str) -> str:
        total = sum(self.counts.values())
        lines = [f"{subject}: the pre-flight check found {total:,} problem(s) in the training data:"]
        for rule, count in self.counts.items():
            examples = self.examples[rule]
            more = f"; first {len(examples)} shown" if count > len(examples) else ""
            lines.append(f"  - {rule} ({count:,} occurrence(s){more}):")
            lines.extend(f"      {finding.where()}" for finding in examples)
        return "\n".join(lines)


class DataValidationError(ValueError):
    """The data would fail the import job; raised at synth with every problem found."""
