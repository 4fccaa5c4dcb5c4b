"""marimo's completion results, told the way Jupyter frontends expect.

marimo answers a completion with jedi's options, each carrying its kind and
documentation: HTML (a highlighted signature block, then the rendered
docstring) or plain text (``x: int``, ``module os``). complete_reply wants
matches and the kinds JupyterLab shows; inspect_reply wants the signature and
docstring of one name, as text/plain and text/markdown, as IPython shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bridge.jupyter.syntax import Target
from bridge.runtime.messages import CompletionOption, CompletionResult

# marimo's signature-help answer to ``f(``: not a completion (see complete.py).
TOOLTIP = "tooltip"
_UNKNOWN = "<unknown>"  # what IPython reports for a kind it cannot tell

_BLOCK = {"p", "div", "pre", "table", "ul", "ol", "dl", "blockquote", "hr", "section"}
_BLOCK |= {f"h{i}" for i in range(1, 7)}
_LINE = {"br", "li", "tr", "dt", "dd"}


class _Text(HTMLParser):
    """HTML to readable text; a leading signature block is kept apart.

    marimo's documentation opens with the signature as a highlighted code
    block when the name has one: that is IPython's ``Signature:`` line.
    """

    def __init__(self, signed: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.signature: str | None = None
        self._signed = signed
        self._pre = 0
        self._pre_parts: list[str] | None = None
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._pre += 1
            if self._signed and self.signature is None and not "".join(self.parts).strip():
                self._pre_parts = []
        if tag in _BLOCK:
            self.parts.append("\n\n")
        elif tag in _LINE:
            self.parts.append("\n- " if tag == "li" else "\n")
            self._cells = 0
        elif tag in ("td", "th"):
            if self._cells:
                self.parts.append("  ")
            self._cells += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK or tag in _LINE:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
            if self._pre_parts is not None:
                self.signature = "".join(self._pre_parts).strip("\n")
                self._pre_parts = None
                return
        if tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._pre_parts is not None:
            self._pre_parts.append(data)
        elif self._pre:
            self.parts.append(data)  # code examples keep their layout
        else:
            flowed = re.sub(r"\s+", " ", data)
            if not self.parts or self.parts[-1].endswith("\n"):
                flowed = flowed.lstrip()
            if flowed:
                self.parts.append(flowed)

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self.parts).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# marimo's rendered documentation is HTML; its plain answers are a type hint
# ("x: int") or a kind ("module os"), which may be followed by the HTML.
_HTML = re.compile(r"<(?:div|p|pre|span|table|h[1-6])\b")
_KIND_LINE = re.compile(r"^(?:module|keyword) [\w.]+\s*")
# How marimo's documentation opens when the name has a signature.
_SIGNATURE_BLOCK = '<div class="language-python3 codehilite">'


def is_html(info: str) -> bool:
    return _HTML.search(info) is not None


def split_info(info: str | None) -> tuple[str | None, str]:
    """(signature, docstring) as text, from an option's documentation."""
    if not info:
        return None, ""
    if not is_html(info):
        return None, info.strip()
    html = _KIND_LINE.sub("", info, count=1)
    parser = _Text(signed=html.lstrip().startswith(_SIGNATURE_BLOCK))
    parser.feed(html)
    parser.close()
    return parser.signature, parser.text()


def _without_keyword(signature: str) -> str:
    """``def f(x)`` -> ``f(x)``, for each overload marimo lists."""
    return re.sub(r"^(?:async\s+)?(?:def|class)\s+", "", signature, flags=re.MULTILINE)


def call_signature(option: CompletionOption) -> str:
    """The ``(params) -> ret`` part IPython puts in ``_jupyter_types_experimental``."""
    if option.type != "function":
        return ""
    signature, _ = split_info(option.completion_info)
    if not signature:
        return ""
    first = " ".join(signature.split("\n\n", 1)[0].split())
    return first[first.index("(") :] if "(" in first else ""


def complete_reply(result: CompletionResult | None, cursor_pos: int) -> dict[str, Any]:
    """complete_reply content; an unanswered request completes nothing."""
    start = cursor_pos
    matches: list[str] = []
    kinds: list[dict[str, Any]] = []
    if result is not None:
        start = max(0, cursor_pos - result.prefix_length)
        for option in result.options:
            if option.type == TOOLTIP or option.name in matches:
                continue
            matches.append(option.name)
            kinds.append(
                {
                    "start": start,
                    "end": cursor_pos,
                    "text": option.name,
                    "type": option.type or _UNKNOWN,
                    "signature": call_signature(option),
                }
            )
    return {
        "status": "ok",
        "matches": matches,
        "cursor_start": start,
        "cursor_end": cursor_pos,
        "metadata": {"_jupyter_types_experimental": kinds},
    }


def find_option(result: CompletionResult | None, name: str) -> CompletionOption | None:
    """The option documenting ``name`` (the last part of a dotted name)."""
    if result is None:
        return None
    last = name.rsplit(".", 1)[-1]
    for option in result.options:
        if option.name == last and option.type != TOOLTIP:
            return option
    return None


@dataclass(frozen=True)
class Source:
    text: str
    file: str | None  # None when defined in the notebook's own cells


_NOT_FOUND: dict[str, Any] = {"status": "ok", "found": False, "data": {}, "metadata": {}}


def inspect_reply(
    name: str, option: CompletionOption | None, source: Source | None, detail_level: int
) -> dict[str, Any]:
    """inspect_reply content in IPython's layout (Signature, Docstring, Type).

    At detail level 1 the source replaces the docstring when it is known,
    as IPython's ``obj??`` does: the docstring is part of it.
    """
    if option is None and source is None:
        return dict(_NOT_FOUND)
    info = option.completion_info if option is not None else None
    signature, doc = split_info(info)
    kind = option.type if option is not None else ""
    if option is not None and info and not is_html(info):
        if info.startswith(f"{option.name}: "):
            kind, doc = info[len(option.name) + 2 :], ""  # a type hint: "x: int"
        elif _KIND_LINE.fullmatch(info):
            doc = ""  # "module os": the Type line says as much
    show_source = detail_level >= 1 and source is not None

    plain: list[str] = []
    if signature:
        plain.append(f"Signature: {_without_keyword(signature)}")
    if show_source:
        assert source is not None
        plain.append(f"Source:\n{source.text.rstrip()}")
    elif doc:
        plain.append(f"Docstring:\n{doc}" if "\n" in doc else f"Docstring: {doc}")
    if source is not None and source.file:
        plain.append(f"File:      {source.file}")
    if kind:
        plain.append(f"Type:      {kind}")
    if not plain:
        return dict(_NOT_FOUND)

    markdown: list[str] = [f"**{name}**" + (f" ({kind})" if kind else "")]
    if show_source:
        assert source is not None
        markdown.append(f"```python\n{source.text.rstrip()}\n```")
    elif info and is_html(info):
        markdown.append(_KIND_LINE.sub("", info, count=1))  # markdown keeps HTML
    elif doc:
        markdown.append(f"```python\n{doc}\n```")
    if source is not None and source.file:
        markdown.append(f"File: `{source.file}`")
    return {
        "status": "ok",
        "found": True,
        "data": {
            "text/plain": "\n".join(plain),
            "text/markdown": "\n\n".join(m for m in markdown if m),
        },
        "metadata": {},
    }


def definition_source(cells: list[str], code: str, target: Target) -> Source | None:
    """Source of the definition of ``target`` in ``code``.

    jedi reads the notebook's cells (statically, executing nothing) the way
    marimo's completion does; runs off the event loop: jedi can take a second.
    Compiled objects and stubs have no source. A definition jedi cannot pin
    to one place gives none rather than a guess: ``os.path`` is both ntpath
    and posixpath to jedi, so ``os.path.join`` has no source here.
    """
    import jedi

    head = "".join(c + "\n" for c in cells)
    text = head + code
    script = jedi.Script(text)

    def infer(end: int) -> list[Any]:
        before = text[: len(head) + end]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1)
        try:
            found = script.infer(line, column)
        except Exception:
            return []
        return [d for d in found if not d.in_builtin_module()]

    def places(found: list[Any]) -> set[tuple[Any, Any]]:
        return {(d.module_path, d.line) for d in found}

    parts = target.name.split(".")
    for i in range(1, len(parts)):
        # Where the prefix ends if written without spaces around the dots.
        prefix_end = target.end - len(".".join(parts[i:])) - 1
        if len(places(infer(prefix_end))) > 1:
            return None
    found = infer(target.end)
    if len(places(found)) != 1:
        return None
    definition = found[-1]
    path = definition.module_path
    if path is None or definition.module_name == "__main__":
        lines, file = text.split("\n"), None
    elif Path(path).suffix == ".py":
        try:
            lines, file = Path(path).read_text(encoding="utf-8").split("\n"), str(path)
        except OSError:
            return None
    else:
        return None
    if definition.type == "module":
        return Source("\n".join(lines), file)
    start = definition.get_definition_start_position()
    stop = definition.get_definition_end_position()
    if start is None or stop is None:
        return None
    (first, col), (last, end_col) = start, stop
    chunk = lines[first - 1 : last]
    if not chunk:
        return None
    chunk[-1] = chunk[-1][:end_col] if len(chunk) > 1 else chunk[-1][col:end_col]
    if len(chunk) > 1:
        chunk[0] = chunk[0][col:]
    return Source("\n".join(chunk), file)
