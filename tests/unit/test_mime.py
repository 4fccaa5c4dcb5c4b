"""Translation of marimo outputs into Jupyter mime bundles."""

from __future__ import annotations

import base64
import json

from bridge.translate.mime import to_bundle


def test_text_plain() -> None:
    assert to_bundle("text/plain", "hello") == ({"text/plain": "hello"}, {})
    assert to_bundle("text/plain", "") is None


def test_pre_repr_becomes_text_plain() -> None:
    data, _ = to_bundle("text/html", "<pre class='text-xs'>[1, 2] &lt;x&gt;</pre>")
    assert data == {"text/plain": "[1, 2] <x>"}


def test_html_keeps_html_with_plain_alternative() -> None:
    data, _ = to_bundle("text/html", "<table><tr><td>a</td><td>b</td></tr></table>")
    assert data["text/html"].startswith("<table>")
    assert "a" in data["text/plain"] and "<" not in data["text/plain"]


def test_markdown_is_rendered_html() -> None:
    rendered = (
        '<span class="markdown"><span class="paragraph"><strong>Hi</strong> there</span></span>'
    )
    data, _ = to_bundle("text/markdown", rendered)
    assert data["text/html"] == rendered
    assert data["text/plain"] == "Hi there"


def test_png_data_url_prefix_is_stripped() -> None:
    body = base64.b64encode(b"\x89PNG...").decode()
    data, _ = to_bundle("image/png", f"data:image/png;base64,{body}")
    assert data["image/png"] == body


def test_svg_data_url_is_decoded() -> None:
    svg = "<svg xmlns='http://www.w3.org/2000/svg'></svg>"
    encoded = base64.b64encode(svg.encode()).decode()
    data, _ = to_bundle("image/svg+xml", f"data:image/svg+xml;base64,{encoded}")
    assert data["image/svg+xml"] == svg


def test_json_string_is_parsed() -> None:
    data, _ = to_bundle("application/json", '{"a": [1, 2]}')
    assert data["application/json"] == {"a": [1, 2]}
    assert json.loads(data["text/plain"]) == {"a": [1, 2]}


def test_vegalite_v5_and_v6() -> None:
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "bar"}
    data5, _ = to_bundle("application/vnd.vegalite.v5+json", json.dumps(spec))
    assert data5["application/vnd.vegalite.v5+json"] == spec
    data6, _ = to_bundle("application/vnd.vegalite.v6+json", spec)
    assert data6["application/vnd.vegalite.v6+json"] == spec
    assert data6["application/vnd.vegalite.v5+json"] == spec  # what JupyterLab renders


def test_vegalite_v6_offered_as_v5_names_the_v5_schema() -> None:
    # altair 6 makes v6 specs; JupyterLab 4 bundles vega-lite 5 and renders v5.
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json", "mark": "bar"}
    data, _ = to_bundle("application/vnd.vegalite.v6+json", json.dumps(spec))
    assert data["application/vnd.vegalite.v6+json"] == spec  # untouched
    as_v5 = data["application/vnd.vegalite.v5+json"]
    assert as_v5 == {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "bar"}
    # A spec without a vega-lite $schema is offered as it is.
    bare = {"mark": "point"}
    assert to_bundle("application/vnd.vegalite.v6+json", bare)[0][
        "application/vnd.vegalite.v5+json"
    ] == bare


def test_marimo_mimebundle_string_and_dict_forms() -> None:
    body = base64.b64encode(b"png-bytes").decode()
    bundle = {
        "image/png": f"data:image/png;base64,{body}",
        "text/plain": "<Figure size 640x480>",
        "__metadata__": {"image/png": {"width": 640, "height": 480}},
    }
    for form in (json.dumps(bundle), bundle):
        data, metadata = to_bundle("application/vnd.marimo+mimebundle", form)
        assert data["image/png"] == body
        assert data["text/plain"] == "<Figure size 640x480>"  # its own, not made up
        assert "__metadata__" not in data
        assert metadata == {"image/png": {"width": 640, "height": 480}}


def test_marimo_ui_element_gets_readable_fallback() -> None:
    markup = (
        "<marimo-ui-element object-id='Hbol-0' random-id='x'>"
        "<marimo-slider data-initial-value='5' data-label='&quot;&lt;span&gt;Size&lt;/span&gt;&quot;' "
        "data-start='0' data-stop='10'></marimo-slider></marimo-ui-element>"
    )
    data, _ = to_bundle("text/html", markup)
    assert "marimo slider" in data["text/plain"]
    assert "Size" in data["text/plain"] and "value=5" in data["text/plain"]
    assert "<marimo-" not in data["text/html"]  # nothing that renders as an empty box


def test_marimo_ui_element_label_as_marimo_writes_it() -> None:
    # mo.ui.slider(1, 10, value=3, label="speed").text (marimo 0.25): the label
    # is a JSON string of rendered markdown, HTML-escaped in the attribute.
    markup = (
        "<marimo-ui-element object-id='3aa3' random-id='3aa3'><marimo-slider "
        "data-initial-value='3' data-label='&quot;&#92;u003cspan class=&#92;&quot;markdown "
        "prose dark:prose-invert contents&#92;&quot;&#92;u003e&#92;u003cspan class=&#92;&quot;"
        "paragraph&#92;&quot;&#92;u003espeed&#92;u003c/span&#92;u003e&#92;u003c/span&#92;u003e"
        "&quot;' data-start='1' data-stop='10' data-steps='[]' "
        "data-orientation='&quot;horizontal&quot;'></marimo-slider></marimo-ui-element>"
    )
    data, _ = to_bundle("text/html", markup)
    assert data["text/plain"] == "[marimo slider, label='speed', value=3]"
    dropdown = (
        "<marimo-dropdown data-initial-value='[&quot;b&quot;]' "
        "data-label='&quot;Pick &amp;amp; go&quot;'></marimo-dropdown>"
    )
    data, _ = to_bundle("text/html", dropdown)
    assert data["text/plain"] == "[marimo dropdown, label='Pick & go', value=[\"b\"]]"
    unlabeled = "<marimo-slider data-initial-value='1' data-label='null'></marimo-slider>"
    assert to_bundle("text/html", unlabeled)[0]["text/plain"] == "[marimo slider, value=1]"


def test_unknown_mime_says_so() -> None:
    data, _ = to_bundle("application/vnd.marimo+something", "x")
    assert "marimo" in data["text/plain"]


def test_only_an_error_op_of_a_value_fails_its_cell() -> None:
    import json

    from bridge.translate.displays import read_op, value_error

    error = {"op": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["t"]}
    assert value_error(json.dumps({**error, "value": True})) == {
        "ename": "ValueError", "evalue": "bad", "traceback": ["t"]
    }
    assert value_error(json.dumps({**error, "value": False})) is None  # a display()'s
    figure = json.dumps({"op": "display", "data": {"image/png": "iVBOR"}, "metadata": {}})
    assert value_error(figure) is None
    op = read_op(json.dumps({**error, "value": True}))
    assert op is not None and op.error_text() == "t\n"
