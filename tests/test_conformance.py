"""jupyter_kernel_test's protocol suite against the installed ``marimo`` kernel."""

from __future__ import annotations

import jupyter_kernel_test


class MarimoKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "marimo"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('oops', file=sys.stderr)"
    code_generate_error = "raise ValueError('boom')"
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "'a' + 'b'", "result": "'ab'"},
        {"code": "{'k': 1}", "mime": "application/json"},
    ]

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "import os; os.getcw", "matches": {"getcwd", "getcwdb"}},
    ]
    complete_code_samples = ["x = 1", "print('hello')", "if x:\n    y = 1\n", "%%scratch\nz = 1"]
    incomplete_code_samples = ["for i in range(3):", "x = (1,", "def f(x):\n    if x:", "x = 1 \\"]
    invalid_code_samples = ["x = )", "1 +* 2", "if x:\n  y\n z"]
    code_history_pattern = "6*"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "zip"
    code_page_something = "zip?"
    # Each display() its own display_data, with the object's own mime type.
    code_display_data = [
        {"code": "from IPython.display import HTML; display(HTML('<b>bold</b>'))",
         "mime": "text/html"},
        {"code": "from IPython.display import Markdown; display(Markdown('**m**'))",
         "mime": "text/markdown"},
        {"code": "display('plain')", "mime": "text/plain"},
    ]
    code_clear_output = "from IPython.display import clear_output as _c; _c()"

    # The kernel as installed, twin on: the protocol suite counts outputs
    # exactly, and no notebook path adds none (test_twin.py).
