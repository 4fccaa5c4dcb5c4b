"""Every relative link in README.md and docs/ resolves.

For README.md and every ``docs/**/*.md``: each Markdown link ``[text](target)``
and image ``![alt](target)`` outside fenced code blocks and inline code must
name a file or folder that exists, relative to the file that holds it, inside
the repository. A ``#anchor`` must be a heading of the file it points into
(the same file for a bare ``#anchor``), by GitHub's slug rule. Links with a
scheme (``https:``, ``mailto:`` ...) are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


# A fence opens with three or more backticks or tildes, indented at most
# three spaces beyond the list item it sits in (any indent is accepted here).
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
# Inline code: a run of backticks, then anything up to the same run, within
# one paragraph (no blank line inside).
_CODE_SPAN = re.compile(r"(`+)(?:(?!\n[ \t]*\n)[\s\S])+?\1")
# [text](target) or ![alt](target): the text may hold one level of brackets
# ("Cell In[2]") and span lines; the target may be in <...> and be followed by
# a title.
_INLINE_LINK = re.compile(
    r"!?\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<target><[^>\n]*>|[^\s()]*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
# [label]: target (a reference definition)
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*(?P<target><[^>\n]*>|\S+)", re.MULTILINE)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_HTML_ANCHOR = re.compile(r"""<a\s[^>]*\b(?:name|id)\s*=\s*["']([^"']+)["']""")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


@dataclass(frozen=True)
class Link:
    line: int
    target: str

    def __str__(self) -> str:
        return f"line {self.line}: ({self.target})"


def prose(text: str) -> str:
    """The text with fenced code blocks blanked out, line numbers kept."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                out.append("")
            else:
                out.append(line)
        else:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                if not line.strip().strip(fence[0]):
                    fence = None
            out.append("")
    return "\n".join(out)


def _blank_code_spans(text: str) -> str:
    """Inline code replaced by spaces, newlines kept (so line numbers hold)."""
    return _CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def links(text: str) -> list[Link]:
    """The links of a Markdown text, outside code, with their line numbers."""
    body = _blank_code_spans(prose(text))
    found: list[Link] = []
    for pattern in (_INLINE_LINK, _REFERENCE):
        for match in pattern.finditer(body):
            target = match.group("target")
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            line = body.count("\n", 0, match.start("target")) + 1
            found.append(Link(line, target))
    return sorted(found, key=lambda link: link.line)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lowercased, without
    punctuation other than hyphens and underscores, spaces as hyphens."""
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors_of(text: str) -> set[str]:
    """Every anchor a Markdown text defines: its headings' slugs (repeats get
    -1, -2 ... as on GitHub) and HTML anchors."""
    seen: dict[str, int] = {}
    result: set[str] = set()
    for line in prose(text).split("\n"):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group("text"))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    result.update(_HTML_ANCHOR.findall(text))
    return result


@cache
def anchors(path: Path) -> frozenset[str]:
    return frozenset(anchors_of(path.read_text(encoding="utf-8")))


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the links of one file, one line per broken link."""
    problems: list[str] = []
    for link in links(path.read_text(encoding="utf-8")):
        target = link.target
        if not target or _SCHEME.match(target):
            if not target:
                problems.append(f"{link}: empty target")
            continue
        file_part, _, anchor = target.partition("#")
        if file_part:
            file_part = unquote(file_part)
            if file_part.startswith("/"):
                dest = root / file_part.lstrip("/")
            else:
                dest = path.parent / file_part
            dest = dest.resolve()
            if not dest.is_relative_to(root.resolve()):
                problems.append(f"{link}: outside the repository")
                continue
            if not dest.exists():
                problems.append(f"{link}: no such file {dest.relative_to(root.resolve())}")
                continue
        else:
            dest = path
        if anchor and dest.suffix == ".md" and dest.is_file():
            if unquote(anchor).lower() not in anchors(dest):
                problems.append(f"{link}: no heading #{anchor} in {dest.name}")
    return problems


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


DOCS = doc_files()


def test_there_are_docs() -> None:
    assert (ROOT / "README.md").is_file()
    assert len(DOCS) > 5, "docs/ has no pages"


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_every_relative_link_resolves(doc: Path) -> None:
    problems = broken_links(doc)
    assert not problems, f"{_rel(doc)} has broken links:\n" + "\n".join(problems)


def test_readme_links_every_docs_page() -> None:
    readme = ROOT / "README.md"
    linked = {
        (readme.parent / unquote(link.target.partition("#")[0])).resolve()
        for link in links(readme.read_text(encoding="utf-8"))
        if not _SCHEME.match(link.target)
    }
    pages = sorted((ROOT / "docs").glob("*.md"))
    missing = [_rel(page) for page in pages if page.resolve() not in linked]
    assert not missing, f"README.md does not link to: {', '.join(missing)}"


# The check itself: it must see what a reader would click, and nothing else.


def test_slug_follows_github() -> None:
    assert slug("Jupyter habits: magics, shell commands, display()") == (
        "jupyter-habits-magics-shell-commands-display"
    )
    assert slug("marimo's UI elements") == "marimos-ui-elements"
    assert slug("display() and clear_output()") == "display-and-clear_output"
    assert slug("The browser suite: `make e2e`") == "the-browser-suite-make-e2e"
    assert slug("[Speed](speed.md) at scale") == "speed-at-scale"
    assert anchors_of("# A\n## A\n```\n# not a heading\n```\n## A\n") == {"a", "a-1", "a-2"}


def test_links_found_where_a_reader_sees_them() -> None:
    text = "\n".join(
        [
            "A [link](a.md) and ![an image, Cell In[2]](b.png 'title').",
            "A link whose text [spans",
            "two lines](c.md#x).",
            "`[not a link](in-code.md)` and <https://example.org>.",
            "  ```python",
            "  [not a link](in-a-fence.md)",
            "  ```",
            "[ref]: <d e.md>",
        ]
    )
    assert links(text) == [
        Link(1, "a.md"),
        Link(1, "b.png"),
        Link(3, "c.md#x"),
        Link(8, "d e.md"),
    ]


def test_a_broken_link_fails(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## A section\n", encoding="utf-8")
    (tmp_path / "pic.png").write_bytes(b"")
    readme = tmp_path / "README.md"
    readme.write_text(
        "\n".join(
            [
                "# Top",
                "[ok](docs/page.md) [ok](docs/page.md#a-section) [ok](#top) ![ok](pic.png)",
                "[ok](https://example.org/nothing) [ok](mailto:a@b.c)",
                "[missing](docs/nothing.md)",
                "[bad anchor](docs/page.md#no-section)",
                "[bad local anchor](#nowhere)",
                "![missing picture](examples/none.png)",
                "[outside](../../etc/passwd)",
                "```",
                "[in a fence](docs/nothing.md)",
                "```",
            ]
        ),
        encoding="utf-8",
    )
    problems = broken_links(readme, root=tmp_path)
    assert [p.split(":")[0] for p in problems] == [
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
    ], problems
    assert "no such file docs/nothing.md" in problems[0]
    assert "no heading #no-section in page.md" in problems[1]
    assert "no heading #nowhere in README.md" in problems[2]
    assert "outside the repository" in problems[4]
    assert doc_files(tmp_path) == [readme, tmp_path / "docs" / "page.md"]
