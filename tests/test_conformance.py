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
