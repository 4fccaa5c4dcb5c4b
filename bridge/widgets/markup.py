"""marimo UI elements as marimo renders them: the markup, read.

The runtime renders ``mo.ui.slider(1, 10)`` as HTML for marimo's frontend:

    <marimo-ui-element object-id='b-0' random-id='...'>
      <marimo-slider data-initial-value='1' data-start='1' data-stop='10' ...>
      </marimo-slider>
    </marimo-ui-element>

with every ``data-*`` value JSON. ``read`` turns an output made only of such
elements (alone, or laid out by ``mo.hstack``/``mo.vstack``, or grouped by
``mo.ui.array``/``mo.ui.dictionary``) into a tree; anything else (text
around the elements, an element this kernel has no widget for) gives None,
and the output keeps its readable description.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

# The elements elements.py can show as a Jupyter widget.
LIVE = frozenset(
    {
        "slider",
        "range-slider",
        "number",
        "text",
        "text-area",
        "checkbox",
        "switch",
        "dropdown",
        "radio",
        "multiselect",
        "button",
        "date",
    }
)
# marimo's view of an anywidget's model, which the relay already has.
ANYWIDGET = "anywidget"
# The groups: their children are elements of their own (with object ids).
GROUPS = frozenset({"dict"})
_HTML_PREFIX = "text/html:"
_TAG_TEXT = re.compile(r"<[^>]+>")


@dataclass
class Element:
    """One UI element: its object id, its kind (``slider``) and its data."""

    object_id: str
    kind: str
    data: dict[str, Any]

    @property
    def label(self) -> str:
        """The label as text (marimo renders it as markdown HTML)."""
        raw = self.data.get("label")
        if not isinstance(raw, str):
            return ""
        return html.unescape(_TAG_TEXT.sub("", raw)).strip()


@dataclass
class Group:
    """``mo.ui.array``/``mo.ui.dictionary``: children keyed, with a label."""

    element: Element
    children: list[tuple[str, Node]]


@dataclass
class Form:
    """``element.form()``: the element, and a button that submits its value."""

    element: Element
    child: Element


@dataclass
class Stack:
    """``mo.hstack``/``mo.vstack``: children laid out in a row or a column."""

    row: bool
    children: list[Node] = field(default_factory=list)


Node = Element | Group | Form | Stack


class _Tree(HTMLParser):
    """Elements and the flex boxes around them; fails on anything else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Stack(row=False)
        self._stack: list[Stack] = [self.root]
        self._open: list[str] = []  # the tags open, to match their ends
        self._element: Element | None = None  # the element being read
        self._child: Element | None = None  # a form's element, being read
        self._form_child: Element | None = None  # a form's element, read
        self._json: str | None = None  # inside a group: its children, rendered
        self.failed = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self._open.append(tag)
        if self._json is not None:  # inside a group: only its children count
            if tag == "marimo-json-output":
                self._json = values.get("data-json-data", "")
            return
        if tag == "div" and self._element is None:
            style = values.get("style", "").replace(" ", "")
            if "display:flex" not in style:
                self.failed = True
                return
            stack = Stack(row="flex-direction:row" in style)
            self._stack[-1].children.append(stack)
            self._stack.append(stack)
            return
        if tag == "marimo-ui-element":
            new = Element(values.get("object-id", ""), "", {})
            if self._element is None:
                self._element = new
            elif self._element.kind == "form" and self._child is None:
                self._child = new
            else:
                self.failed = True
            return
        reading = self._child or self._element
        if tag.startswith("marimo-") and reading is not None and not reading.kind:
            reading.kind = tag.removeprefix("marimo-")
            for key, raw in values.items():
                if key.startswith("data-"):
                    try:
                        reading.data[key[5:].replace("-", "_")] = json.loads(raw)
                    except ValueError:
                        self.failed = True
            if reading.kind in GROUPS:
                self._json = ""
            return
        self.failed = True

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open.pop() != tag:
            self.failed = True
            return
        if tag == "div" and self._element is None:
            if len(self._stack) > 1:
                self._stack.pop()
            return
        if tag != "marimo-ui-element" or self._element is None:
            return
        rendered, self._json = self._json, None
        if self._child is not None:  # a form's element ends, then the form
            self._form_child, self._child = self._child, None
            return
        element, self._element = self._element, None
        node: Node | None = element
        if element.kind == "form":
            child, self._form_child = self._form_child, None
            node = Form(element, child) if child is not None else None
        elif element.kind in GROUPS:
            node = _group(element, rendered or "")
        if node is None:
            self.failed = True
        else:
            self._stack[-1].children.append(node)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.failed = True


def _group(element: Element, json_data: str) -> Group | None:
    """The children of a ``marimo-dict`` (array or dictionary)."""
    ids = element.data.get("element_ids")
    try:
        rendered = json.loads(json_data)
    except ValueError:
        return None
    if not isinstance(ids, dict):
        return None
    items = rendered.items() if isinstance(rendered, dict) else enumerate(rendered)
    children: list[tuple[str, Node]] = []
    for key, markup in items:
        if not isinstance(markup, str) or not markup.startswith(_HTML_PREFIX):
            return None
        child = read(markup.removeprefix(_HTML_PREFIX))
        if child is None:
            return None
        children.append((str(key), child))
    return Group(element, children)


def read(markup: str) -> Node | None:
    """The UI elements ``markup`` is made of, or None if it is anything else.

    An anywidget (``<marimo-anywidget>``, marimo's wrapper of a widget model
    the runtime relays itself) is read when it stands alone.
    """
    if "<marimo-ui-element" not in markup:
        return None
    parser = _Tree()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:
        return None
    if parser.failed or parser._open or not parser.root.children:
        return None
    node: Node = parser.root
    while isinstance(node, Stack) and len(node.children) == 1:
        node = node.children[0]
    if isinstance(node, Element) and node.kind == ANYWIDGET:
        return node if isinstance(node.data.get("model_id"), str) else None
    return node if _all_live(node) else None


def _all_live(node: Node) -> bool:
    if isinstance(node, Element):
        return node.kind in LIVE and bool(node.object_id)
    if isinstance(node, Group):
        return bool(node.element.object_id) and all(_all_live(c) for _, c in node.children)
    if isinstance(node, Form):
        return bool(node.element.object_id) and _all_live(node.child)
    return bool(node.children) and all(_all_live(c) for c in node.children)
