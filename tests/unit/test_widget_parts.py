"""The pure parts of bridge/widgets: marimo's element markup read, the ESM
an anywidget needs, and a model's whole state kept."""

from __future__ import annotations

import base64

from bridge.runtime.messages import EsmSpec
from bridge.widgets.markup import Element, Form, Group, Stack, read
from bridge.widgets.protocol import ModelState, esm_source

SLIDER = (
    "<marimo-ui-element object-id='a-0' random-id='r'><marimo-slider data-initial-value='2' "
    "data-label='&quot;\\u003cspan\\u003en\\u003c/span\\u003e&quot;' data-start='1' "
    "data-stop='10' data-step='1' data-steps='[]' data-disabled='false'></marimo-slider>"
    "</marimo-ui-element>"
)
CHECKBOX = (
    "<marimo-ui-element object-id='a-1' random-id='r'><marimo-checkbox "
    "data-initial-value='false' data-label='null' data-disabled='false'></marimo-checkbox>"
    "</marimo-ui-element>"
)


def test_one_element() -> None:
    node = read(SLIDER)
    assert isinstance(node, Element)
    assert (node.object_id, node.kind, node.label) == ("a-0", "slider", "n")
    assert (node.data["start"], node.data["stop"], node.data["initial_value"]) == (1, 10, 2)


def test_a_stack_of_elements() -> None:
    style = "display: flex;flex: 1;flex-direction: row;gap: 0.5rem"
    node = read(f"<div style='{style}'>{SLIDER}{CHECKBOX}</div>")
    assert isinstance(node, Stack) and node.row
    assert [c.kind for c in node.children if isinstance(c, Element)] == ["slider", "checkbox"]


def test_a_dictionary_of_elements() -> None:
    children = '{"a":"text/html:' + SLIDER.replace('"', '\\"') + '"}'
    escaped = children.replace("&", "&amp;").replace("'", "&#x27;").replace("<", "&lt;")
    markup = (
        "<marimo-ui-element object-id='d-2' random-id='r'><marimo-dict "
        "data-initial-value='{&quot;a&quot;:2}' data-label='null' "
        "data-element-ids='{&quot;a-0&quot;:&quot;a&quot;}'>"
        f"<marimo-json-output data-json-data='{escaped}' data-value-types='&quot;python&quot;'>"
        "</marimo-json-output></marimo-dict></marimo-ui-element>"
    )
    node = read(markup)
    assert isinstance(node, Group)
    assert [(key, child.kind) for key, child in node.children if isinstance(child, Element)] == [
        ("a", "slider")
    ]


def test_a_form() -> None:
    markup = (
        "<marimo-ui-element object-id='f-2' random-id='r'><marimo-form "
        "data-element-id='&quot;f-1&quot;' data-submit-button-label='&quot;Go&quot;'>"
        + SLIDER.replace("a-0", "f-1")
        + "</marimo-form></marimo-ui-element>"
    )
    node = read(markup)
    assert isinstance(node, Form)
    assert (node.element.object_id, node.child.object_id, node.child.kind) == (
        "f-2",
        "f-1",
        "slider",
    )
    assert node.element.data["submit_button_label"] == "Go"


def test_anything_else_is_not_read() -> None:
    assert read("<p>hello</p>") is None
    assert read(f"<p>the slider:</p>{SLIDER}") is None  # text around it
    assert read(SLIDER.replace("marimo-slider", "marimo-file")) is None  # no widget for it
    assert read(SLIDER[:-10]) is None  # cut short
    assert read(f"<div style='color: red'>{SLIDER}</div>") is None


def test_the_esm_anywidget_needs() -> None:
    source = "export default { render() {} }"
    inline = "data:text/javascript;base64," + base64.b64encode(source.encode()).decode()
    assert esm_source(EsmSpec(url=inline)) == source
    assert esm_source(EsmSpec(url="https://esm.sh/x@1")) == "https://esm.sh/x@1"
    assert esm_source(EsmSpec(url="./@file/12-abc.js")) is None


def test_a_models_whole_state_with_buffers() -> None:
    model = ModelState({})
    model.merge({"a": 1, "data": None}, [["data"]], [b"one"])
    model.merge({"b": 2}, [], [])
    assert model.full() == ({"a": 1, "data": None, "b": 2}, [["data"]], [b"one"])
    model.merge({"data": None}, [["data"]], [b"two"])  # replaced, not added
    assert model.full()[2] == [b"two"]
    model.merge({"data": [1, 2]}, [], [])  # no longer binary
    assert model.full()[1:] == ([], [])


def test_an_anywidget_alone() -> None:
    markup = (
        "<marimo-ui-element object-id='b-0' random-id='r'><marimo-anywidget "
        "data-initial-value='{&quot;model_id&quot;:&quot;m1&quot;}' data-label='null' "
        "data-model-id='&quot;m1&quot;'></marimo-anywidget></marimo-ui-element>"
    )
    node = read(markup)
    assert isinstance(node, Element) and node.kind == "anywidget"
    assert node.data["model_id"] == "m1"
    style = "display: flex;flex-direction: row"
    assert read(f"<div style='{style}'>{markup}{CHECKBOX}</div>") is None  # not in a box
