"""marimo outputs to Jupyter mime bundles.

marimo's frontend renders HTML it produced itself; Jupyter frontends pick the
richest mime type they know. Each translation returns ``(data, metadata)``
with a ``text/plain`` alternative wherever one can be given, so consoles and
papermill logs show something readable. ``None`` means "nothing to show".
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

Bundle = tuple[dict[str, Any], dict[str, Any]]

_PRE_REPR = re.compile(r"^<pre class=['\"]text-xs['\"]>(.*)</pre>$", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_MARIMO_COMPONENT = re.compile(r"<marimo-([a-z0-9-]+)([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'([a-z-]+)=(?:"([^"]*)"|\'([^\']*)\')', re.IGNORECASE)
_VEGA = re.compile(r"^application/vnd\.vegalite\.v(\d+)\+json$")
_VEGA_SCHEMA = re.compile(r"^https://vega\.github\.io/schema/vega-lite/v\d+(\.\d+)*\.json$")
VEGALITE_V5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# Components that only wrap others; the inner one names the element.
_WRAPPERS = {"ui-element", "lazy"}
_TEX = re.compile(r"<marimo-tex[^>]*>(.*?)</marimo-tex>", re.DOTALL | re.IGNORECASE)
# A Jupyter widget's view: its model travels as a comm (bridge/widgets).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_TEXT = "A Jupyter widget: live in JupyterLab, Notebook 7 and VS Code"


def html_to_text(markup: str) -> str:
    """A readable plain-text rendering of an HTML fragment."""
    text = re.sub(r"<br\s*/?>|</p>|</div>|</li>|</h\d>|</tr>", "\n", markup, flags=re.I)
    text = html.unescape(_TAG.sub("", text))
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line.strip()).strip()


def _describe_component(name: str, attrs: str) -> str:
    # Attribute values are HTML-escaped; marimo's data-* values are JSON
    # (a label is a JSON string of rendered markdown: "\u003cspan ...").
    values = {
        m.group(1).lower(): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _ATTR.finditer(attrs)
    }
    label = values.get("data-label")
    value = values.get("data-initial-value") or values.get("data-value")
    parts = [f"marimo {name}"]
    if label:
        label_text = html_to_text(_json_or_raw(label))
        if label_text:
            parts.append(f"label={label_text!r}")
    if value is not None:
        parts.append(f"value={value}")
    return "[" + ", ".join(parts) + "]"


def _json_or_raw(text: str) -> str:
    """A JSON string's value, "" for JSON null; anything else as it is."""
    try:
        loaded = json.loads(text)
    except ValueError:
        return text
    if loaded is None:
        return ""
    return loaded if isinstance(loaded, str) else text


def marimo_components_text(markup: str) -> list[str]:
    """Descriptions of the marimo web components inside ``markup``."""
    return [
        _describe_component(m.group(1).lower(), m.group(2))
        for m in _MARIMO_COMPONENT.finditer(markup)
        if m.group(1).lower() not in _WRAPPERS
    ]


def _tex(markup: str) -> str:
    """marimo's math (``<marimo-tex>||[x||]</marimo-tex>``) as the ``\\[x\\]`` and
    ``\\(x\\)`` that JupyterLab's HTML renderer typesets with MathJax."""
    def delimit(match: re.Match[str]) -> str:
        body = match.group(1)
        for marimo, tex in (("||[", "\\["), ("||]", "\\]"), ("||(", "\\("), ("||)", "\\)")):
            body = body.replace(marimo, tex)
        return body

    return _TEX.sub(delimit, markup)


def _html_bundle(markup: str) -> Bundle | None:
    match = _PRE_REPR.match(markup.strip())
    if match:  # marimo's plain repr of a value: show it as text, like IPython
        return {"text/plain": html.unescape(match.group(1))}, {}
    if "<marimo-tex" in markup:
        markup = _tex(markup)
    components = marimo_components_text(markup)
    if components:
        # Only marimo's frontend defines these elements; elsewhere they would
        # render as an empty box. Say what they are instead.
        readable = "\n".join(components)
        note = (
            "<pre>" + html.escape(readable) + "</pre>"
            "<small>This marimo UI element has no Jupyter widget: "
            "it is interactive only in marimo's editor.</small>"
        )
        return {"text/html": note, "text/plain": readable}, {}
    if not markup.strip():
        return None
    return {"text/html": markup, "text/plain": html_to_text(markup) or markup}, {}


def _image_body(data: str) -> str:
    """Strip a ``data:...;base64,`` prefix; Jupyter wants the bare base64."""
    if data.startswith("data:"):
        return data.split(",", 1)[1] if "," in data else ""
    return data


def _svg_text(data: str) -> str:
    if data.startswith("data:"):
        head, _, body = data.partition(",")
        if ";base64" in head:
            return base64.b64decode(body).decode("utf-8", "replace")
        from urllib.parse import unquote

        return unquote(body)
    return data


def _loads(data: Any) -> Any:
    if isinstance(data, (str, bytes)):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def _as_vegalite_v5(spec: Any) -> Any:
    """The spec offered as v5: its ``$schema`` names v5, or vega-embed warns
    in the browser console that a v6 spec meets vega-lite 5."""
    if not isinstance(spec, dict) or not _VEGA_SCHEMA.match(str(spec.get("$schema", ""))):
        return spec
    return {**spec, "$schema": VEGALITE_V5_SCHEMA}


def _mimebundle(data: Any) -> Bundle | None:
    inner = _loads(data)
    if not isinstance(inner, dict):
        return None
    out: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    raw_meta = inner.get("__metadata__")
    for mime, value in inner.items():
        if mime == "__metadata__":
            continue
        translated = to_bundle(mime, value)
        if translated is None:
            continue
        for key, item in translated[0].items():
            # The richest form of a type wins; text/plain alternatives made up
            # from another mime must not replace the bundle's own text/plain.
            if key not in out or key == mime:
                out[key] = item
        metadata.update(translated[1])
    if isinstance(raw_meta, dict):
        for mime, meta in raw_meta.items():
            if mime in out and isinstance(meta, dict):
                metadata[mime] = meta
    return (out, metadata) if out else None


def to_bundle(mimetype: str, data: Any) -> Bundle | None:
    """Translate one marimo output into a Jupyter ``(data, metadata)`` pair."""
    if data is None:
        return None
    if mimetype == "text/plain":
        text = str(data)
        return ({"text/plain": text}, {}) if text else None
    if mimetype == "text/html":
        return _html_bundle(str(data))
    if mimetype == "text/markdown":
        # marimo sends markdown already rendered to HTML.
        markup = _tex(str(data)) if "<marimo-tex" in str(data) else str(data)
        if not markup.strip():
            return None
        return {"text/html": markup, "text/plain": html_to_text(markup)}, {}
    if mimetype == "image/svg+xml":
        return {"image/svg+xml": _svg_text(str(data)), "text/plain": "<svg image>"}, {}
    if mimetype.startswith("image/"):
        return {mimetype: _image_body(str(data)), "text/plain": f"<{mimetype} image>"}, {}
    if mimetype == "application/json":
        value = _loads(data)
        return {
            "application/json": value,
            "text/plain": json.dumps(value, indent=2, ensure_ascii=False)
            if not isinstance(value, str)
            else value,
        }, {}
    vega = _VEGA.match(mimetype)
    if vega:
        spec = _loads(data)
        out = {mimetype: spec, "text/plain": "<vega-lite chart>"}
        if int(vega.group(1)) > 5:
            # JupyterLab 4 renders vega-lite v3 to v5 only (it bundles
            # vega-lite 5); most v6 specs (altair 6) render there as they are.
            out["application/vnd.vegalite.v5+json"] = _as_vegalite_v5(spec)
        return out, {}
    if mimetype == "application/vnd.marimo+mimebundle":
        return _mimebundle(data)
    if mimetype == WIDGET_VIEW:
        view = _loads(data)
        if not isinstance(view, dict) or not isinstance(view.get("model_id"), str):
            return None
        return {WIDGET_VIEW: view, "text/plain": WIDGET_TEXT}, {}
    if mimetype in ("text/latex", "text/csv", "application/javascript"):
        return {mimetype: str(data), "text/plain": str(data)}, {}
    # Unknown marimo-specific types: say so rather than show nothing.
    return {"text/plain": f"<{mimetype} output: shown only in marimo's editor>"}, {}
