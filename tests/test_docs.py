"""The documentation holds together: a short README, links that lead somewhere, a layout that matches the tree.

- README.md is for users and stays under ``README_MAX_BYTES`` (the rest lives in docs/, CONTRIBUTING.md);
- every relative link in README.md, CONTRIBUTING.md, docs/*.md and tests/emulator/README.md points at an
  existing file, and a ``#fragment`` into a Markdown file at one of its headings (GitHub's anchors);
- CONTRIBUTING.md's layout (the first fenced block under "## Layout": one entry per line, two spaces of
  indent per level, folders ending in ``/``) lists every module of the library, every benchmark, every
  docs page and every folder of tests/, and lists nothing that does not exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.constants import REPO

README_MAX_BYTES = 15_000
PACKAGE = "constructs_personalize"
DOCUMENTS = sorted(
    [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        REPO / "tests" / "emulator" / "README.md",
        *(REPO / "docs").glob("*.md"),
    ]
)

_FENCE = re.compile(r"^(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def _links(path: Path) -> list[str]:
    found = []
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        found += _LINK.findall(_CODE_SPAN.sub("", line))
    return found


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: code marks and punctuation dropped, lower case, spaces as hyphens."""
    text = _CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading anchors on its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        slug = _slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_readme_is_short() -> None:
    size = len((REPO / "README.md").read_bytes())
    assert size <= README_MAX_BYTES, (
        f"README.md is {size:,} bytes, more than {README_MAX_BYTES:,}: move contributor material to "
        "CONTRIBUTING.md and long explanations to a page of docs/"
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_lead_somewhere(document: Path) -> None:
    broken = []
    for target in _links(document):
        if _EXTERNAL.match(target):
            continue
        file_part, _, fragment = target.partition("#")
        destination = (document.parent / file_part).resolve() if file_part else document
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif fragment and destination.suffix == ".md" and fragment not in _anchors(destination):
            broken.append(f"{target} (no heading with anchor #{fragment})")
    assert not broken, f"{document.relative_to(REPO)}: broken links: {broken}"


def _layout() -> list[str]:
    """The paths CONTRIBUTING.md's layout lists, relative to the repository (folders end in '/')."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8").splitlines()
    start = text.index("## Layout")
    opening = next(i for i in range(start, len(text)) if _FENCE.match(text[i].strip()))
    closing = next(i for i in range(opening + 1, len(text)) if _FENCE.match(text[i].strip()))
    paths: list[str] = []
    parents: list[str] = []
    for number, line in enumerate(text[opening + 1 : closing], start=opening + 2):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0 and indent // 2 <= len(parents), (
            f"CONTRIBUTING.md:{number}: indent by two spaces per level under a folder: {line!r}"
        )
        parents = parents[: indent // 2]
        name = line.split()[0]
        path = "".join(parents) + name
        paths.append(path)
        if name.endswith("/"):
            parents.append(name)
    return paths


def test_layout_lists_only_what_exists() -> None:
    missing = [path for path in _layout() if not (REPO / path).exists()]
    assert not missing, f"CONTRIBUTING.md's layout lists paths that do not exist: {missing}"


def test_layout_folders_are_folders() -> None:
    wrong = [path for path in _layout() if (REPO / path).exists() and path.endswith("/") != (REPO / path).is_dir()]
    assert not wrong, f"in CONTRIBUTING.md's layout, folders (and only folders) end in '/': {wrong}"


def _relative(paths: list[Path]) -> list[str]:
    return sorted(str(path.relative_to(REPO)) for path in paths if "__pycache__" not in path.parts)


def test_layout_lists_every_module() -> None:
    listed = set(_layout())
    expected = _relative(list((REPO / PACKAGE).rglob("*.py")))
    expected += _relative(list((REPO / "bench").glob("*.py")))
    expected += _relative(list((REPO / "docs").glob("*.md")))
    expected += [
        f"{path}/"
        for path in _relative([p for p in (REPO / "tests").iterdir() if p.is_dir() and not p.name.startswith(".")])
    ]
    unlisted = [path for path in expected if path not in listed]
    assert not unlisted, f"add these to CONTRIBUTING.md's layout, one line each: {unlisted}"
