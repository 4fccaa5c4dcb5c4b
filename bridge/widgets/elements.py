"""marimo UI elements as live Jupyter widgets.

Only marimo's frontend renders ``<marimo-slider>``. Jupyter frontends render
``@jupyter-widgets/controls`` models, so each element of a cell's output is
shown as the matching ipywidgets widget, made here in the kernel's process
(ipywidgets keeps the model's state and speaks its protocol; its comms go
out through the relay). A value the user sets becomes marimo's
``UpdateUIElementCommand`` for the element, after which the runtime re-runs
every cell that reads it, as marimo's own frontend would have it do.

Which element becomes which widget, and how a widget's value reads as the
value marimo's frontend would send, is ``_MAKERS``; docs/widgets.md,
lists them. Anything else keeps its readable description (mime.py).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from bridge.runtime.messages import CellOutput
from bridge.translate.mime import WIDGET_TEXT, WIDGET_VIEW, marimo_components_text
from bridge.widgets.markup import ANYWIDGET, Element, Form, Group, Node, Stack, read
from bridge.widgets.relay import WidgetRelay

# Sends a value for an element, as marimo's frontend would.
OnValue = Callable[[str, Any], None]


class UiElements:
    """The widgets shown for the UI elements of each cell's latest output."""

    def __init__(self, relay: WidgetRelay, log: logging.Logger) -> None:
        self._relay = relay
        self._log = log
        self._by_cell: dict[str, list[Any]] = {}

    def translate(self, cell_id: str, output: CellOutput) -> CellOutput | None:
        """The output with its UI elements as a widget view; None if it
        holds none this kernel can make live (it is then shown as it is)."""
        self.forget_cell(cell_id)
        if output.mimetype != "text/html" or not isinstance(output.data, str):
            return None
        tree = read(output.data)
        if tree is None:
            return None
        if isinstance(tree, Element) and tree.kind == ANYWIDGET:
            # The runtime relays this widget's model itself: show its view.
            return _view(output, str(tree.data["model_id"]), WIDGET_TEXT)
        try:
            made: list[Any] = []
            widget = _build(tree, self._send_value, made)
        except Exception:
            self._log.warning(
                "cell %s: its UI elements could not be made live", cell_id, exc_info=True
            )
            return None
        self._by_cell[cell_id] = made
        return _view(output, widget.model_id, "\n".join(marimo_components_text(output.data)))

    def forget_cell(self, cell_id: str) -> None:
        """The cell's output changed (or it is gone): close its widgets."""
        for widget in self._by_cell.pop(cell_id, []):
            try:
                # A widget's layout and style are models of their own.
                for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
                    if part is not None:
                        part.close()
                widget.close()
            except Exception:
                self._log.debug("closing a widget failed", exc_info=True)

    def reset(self) -> None:
        for cell in list(self._by_cell):
            self.forget_cell(cell)

    def _send_value(self, object_id: str, value: Any) -> None:
        from marimo._internal.commands import UpdateUIElementCommand
        from marimo._internal.ids import UIElementId

        def command(state: dict[str, Any] | None) -> Any:
            assert state is not None
            return UpdateUIElementCommand(
                object_ids=[UIElementId(object_id)], values=[state["value"]]
            )

        self._relay.interact_here(f"ui:{object_id}", {"value": value}, command)


def _view(output: CellOutput, model_id: str, text: str) -> CellOutput:
    """The output as a widget view, with a text for frontends without widgets."""
    view = {"version_major": 2, "version_minor": 0, "model_id": model_id}
    bundle = {WIDGET_VIEW: view, "text/plain": text}
    return CellOutput(output.channel, "application/vnd.marimo+mimebundle", bundle)


def _build(node: Node, on_value: OnValue, made: list[Any]) -> Any:
    import ipywidgets

    if isinstance(node, Stack):
        children = [_build(child, on_value, made) for child in node.children]
        box = ipywidgets.HBox(children) if node.row else ipywidgets.VBox(children)
        made.append(box)
        return box
    if isinstance(node, Group):
        rows = []
        for key, child in node.children:
            built = _build(child, on_value, made)
            label = ipywidgets.Label(key, layout=ipywidgets.Layout(min_width="4em"))
            row = ipywidgets.HBox([label, built])
            made.extend([label, row])
            rows.append(row)
        title = node.element.label
        if title:
            heading = ipywidgets.Label(title)
            made.append(heading)
            rows.insert(0, heading)
        box = ipywidgets.VBox(rows)
        made.append(box)
        return box
    if isinstance(node, Form):
        return _form(node, on_value, made)
    widget, read_value = _MAKERS[node.kind](node)
    made.append(widget)
    object_id = node.object_id
    if isinstance(widget, ipywidgets.Button):
        clicks = [0]

        def clicked(_: Any) -> None:
            # marimo's button counts clicks; any count above 0 is a click.
            clicks[0] += 1
            on_value(object_id, clicks[0])

        widget.on_click(clicked)
    else:
        widget.observe(lambda change: on_value(object_id, read_value(change["new"])), "value")
    return widget


def _form(node: Form, on_value: OnValue, made: list[Any]) -> Any:
    """The element and a submit button: the form's value is the element's
    value when submitted, as in marimo (the element's own changes run nothing)."""
    import ipywidgets

    widget, read_value = _MAKERS[node.child.kind](node.child)
    pending = [read_value(widget.value)] if hasattr(widget, "value") else [None]
    widget.observe(lambda change: pending.__setitem__(0, read_value(change["new"])), "value")
    label = node.element.data.get("submit_button_label")
    submit = ipywidgets.Button(
        description=str(label or "Submit"),
        disabled=bool(node.element.data.get("submit_button_disabled", False)),
    )
    submit.on_click(lambda _: on_value(node.element.object_id, pending[0]))
    box = ipywidgets.VBox([widget, submit])
    made.extend([widget, submit, box])
    return box


def _description(element: Element) -> dict[str, Any]:
    label = element.label
    out: dict[str, Any] = {"disabled": bool(element.data.get("disabled", False))}
    if label:
        out["description"] = label
        out["style"] = {"description_width": "initial"}
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _slider(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    d = e.data
    steps = d.get("steps") or []
    if steps:
        # marimo's value is the index of the step chosen.
        options = [(str(step), index) for index, step in enumerate(steps)]
        widget = ipywidgets.SelectionSlider(
            options=options, value=int(d.get("initial_value", 0)), **_description(e)
        )
        return widget, int
    start, stop, value = d.get("start", 0), d.get("stop", 100), d.get("initial_value")
    step = d.get("step")
    whole = all(isinstance(v, int) for v in (start, stop, value, step) if v is not None)
    cls = ipywidgets.IntSlider if whole else ipywidgets.FloatSlider
    kwargs = {"min": start, "max": stop, "value": value}
    if _number(step):
        kwargs["step"] = step
    return cls(**kwargs, **_description(e)), lambda v: v


def _range_slider(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    d = e.data
    start, stop, value = d.get("start", 0), d.get("stop", 100), d.get("initial_value")
    whole = all(isinstance(v, int) for v in (start, stop, *(value or [])))
    cls = ipywidgets.IntRangeSlider if whole else ipywidgets.FloatRangeSlider
    kwargs: dict[str, Any] = {"min": start, "max": stop, "value": tuple(value or (start, stop))}
    if _number(d.get("step")):
        kwargs["step"] = d["step"]
    return cls(**kwargs, **_description(e)), list


def _number_box(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    d = e.data
    start, stop, value, step = d.get("start"), d.get("stop"), d.get("initial_value"), d.get("step")
    whole = all(isinstance(v, int) for v in (start, stop, value, step) if v is not None)
    kwargs: dict[str, Any] = {"value": value}
    if start is not None and stop is not None:
        cls = ipywidgets.BoundedIntText if whole else ipywidgets.BoundedFloatText
        kwargs.update(min=start, max=stop)
    else:
        cls = ipywidgets.IntText if whole else ipywidgets.FloatText
    if _number(step):
        kwargs["step"] = step
    return cls(**kwargs, **_description(e)), lambda v: v


def _text(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    cls = ipywidgets.Textarea if e.kind == "text-area" else ipywidgets.Text
    # marimo sends a text's value when the field is left or Enter is
    # pressed (its debounce), not at every key.
    widget = cls(
        value=str(e.data.get("initial_value", "")),
        placeholder=str(e.data.get("placeholder") or ""),
        continuous_update=False,
        **_description(e),
    )
    return widget, str


def _checkbox(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    widget = ipywidgets.Checkbox(
        value=bool(e.data.get("initial_value")), indent=False, **_description(e)
    )
    return widget, bool


def _dropdown(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    options = [str(o) for o in e.data.get("options") or []]
    chosen = e.data.get("initial_value") or []
    widget = ipywidgets.Dropdown(
        options=options, value=chosen[0] if chosen else None, **_description(e)
    )
    # marimo's dropdown value is the list of keys chosen (none: empty).
    return widget, lambda v: [v] if v is not None else []


def _radio(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    options = [str(o) for o in e.data.get("options") or []]
    widget = ipywidgets.RadioButtons(
        options=options, value=e.data.get("initial_value"), **_description(e)
    )
    return widget, lambda v: v


def _multiselect(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    options = [str(o) for o in e.data.get("options") or []]
    widget = ipywidgets.SelectMultiple(
        options=options, value=tuple(e.data.get("initial_value") or ()), **_description(e)
    )
    return widget, list


def _button(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    widget = ipywidgets.Button(
        description=e.label or "Click", disabled=bool(e.data.get("disabled", False))
    )
    return widget, lambda v: v


def _date(e: Element) -> tuple[Any, Callable[[Any], Any]]:
    import ipywidgets

    raw = e.data.get("initial_value")
    value = datetime.date.fromisoformat(raw) if isinstance(raw, str) and raw else None
    widget = ipywidgets.DatePicker(value=value, **_description(e))
    return widget, lambda v: v.isoformat() if v is not None else ""


_MAKERS: dict[str, Callable[[Element], tuple[Any, Callable[[Any], Any]]]] = {
    "slider": _slider,
    "range-slider": _range_slider,
    "number": _number_box,
    "text": _text,
    "text-area": _text,
    "checkbox": _checkbox,
    "switch": _checkbox,
    "dropdown": _dropdown,
    "radio": _radio,
    "multiselect": _multiselect,
    "button": _button,
    "date": _date,
}
