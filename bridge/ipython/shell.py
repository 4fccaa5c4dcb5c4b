"""Shell commands as plain Python: ``!cmd``, ``x = !cmd`` and ``%pip``.

Run with ``subprocess`` in the runtime, whose console marimo reads at the
file-descriptor level, so a command's output streams into the cell as it is
written. ``%pip install`` also leaves a marker in the twin, which the twin's
writer turns into a PEP 723 dependency.
"""

from __future__ import annotations

import re
import shlex

from bridge.ipython.replacement import (
    Piece,
    Replacement,
    Unsupported,
    block,
    call,
    is_expression,
)

SUBPROCESS = "import subprocess as _subprocess"
# The marker a %pip install leaves in the twin; the twin's writer reads the
# packages back from it into the script's PEP 723 dependencies.
PIP_MARKER = "# %pip install "
_PIP_NOTE = "  (the notebook's script dependencies, PEP 723)"


# IPython's DollarFormatter: ``$name`` or ``$name.attr`` outside single
# quotes (``$$name`` is a literal ``$name``).
_DOLLAR = re.compile(r"(.*?)\$(\$?[\w\.]+)(?=([^']*'[^']*')*[^']*$)")


def shell_string(command: str) -> str:
    """Python source for ``command`` with IPython's expansion of ``{expr}``
    and ``$name``.

    Each ``{expr}`` that is a Python expression becomes part of an f-string,
    so marimo sees the names it reads; a command with any other brace (awk's
    ``{print $1}``) stays literal, as IPython leaves it when expansion fails.
    ``$name`` is the Python variable's value when the notebook has one, and
    otherwise the shell's (``$HOME``): as in IPython, the command is then
    left as typed, all of it.
    """
    braced, names = _dollars(command)
    if not names:
        return _braces(braced)
    expanded = _braces(braced)
    if expanded == repr(braced) or not all(_is_dotted(name) for name in names):
        # ``$1``, or a brace that is no expression (awk's ``{print $1}``):
        # IPython's expansion fails, and it leaves the command as typed.
        return repr(command)
    return f"({expanded} if {' and '.join(_found(names))} else {command!r})"


def _is_dotted(name: str) -> bool:
    return all(part.isidentifier() for part in name.split("."))


def _found(names: list[str]) -> list[str]:
    """Conditions under which every ``$name`` has a value, as IPython's
    expansion succeeds: the root is the notebook's, each attribute exists."""
    conditions: list[str] = []
    for name in dict.fromkeys(names):
        root, *attributes = name.split(".")
        conditions.append(f"{root!r} in globals()")
        for depth, attribute in enumerate(attributes):
            owner = ".".join([root, *attributes[:depth]])
            conditions.append(f"hasattr({owner}, {attribute!r})")
    return list(dict.fromkeys(conditions))


def _dollars(command: str) -> tuple[str, list[str]]:
    """``command`` with each ``$name`` as ``{name}`` (``$$x`` as ``$x``, any
    brace of its own kept), and the names."""
    if "$" not in command:
        return command, []
    out, names, end = "", [], 0
    for match in _DOLLAR.finditer(command):
        text, field = match.group(1), match.group(2)
        out += text
        if field.startswith("$"):
            out += field
        else:
            out += "{" + field + "}"
            names.append(field)
        end = match.end()
    return out + command[end:], names


def _braces(command: str) -> str:
    parts: list[tuple[bool, str]] = []
    rest = command
    while "{" in rest:
        head, _, tail = rest.partition("{")
        expr, closed, after = tail.partition("}")
        if not closed or not is_expression(expr) or "{" in expr:
            return repr(command)
        parts += [(False, head), (True, expr.strip())]
        rest = after
    if "}" in rest:
        return repr(command)
    parts.append((False, rest))
    if not any(is_expr for is_expr, _ in parts):
        return repr(command)
    if all(not is_expr or not any(c in text for c in "'\"\\") for is_expr, text in parts):
        body = "".join(
            f"{{{t}}}" if e else t.replace("{", "{{").replace("}", "}}") for e, t in parts
        )
        quoted = repr(body)
        if quoted.startswith("'") and all("'" not in t for e, t in parts if e):
            return "f" + quoted
        if quoted.startswith('"') and all('"' not in t for e, t in parts if e):
            return "f" + quoted
    return " + ".join(f"str({t})" if e else repr(t) for e, t in parts if t)



def streamed(command: str, *options: str) -> list[Piece]:
    """Run a command (``command`` and ``options``: subprocess.Popen's
    arguments) with its output, stderr included, printed line by line as it
    comes, then its exit status when non-zero.

    Printed by the cell itself, not written by the command to the process's
    file descriptor: marimo reads that in a thread of its own, which may
    still hold the text when the cell has finished (seen in a CI run: the
    output of ``!echo`` missing from its cell's outputs). No stdin:
    a command that asks (``pip uninstall`` without ``-y``) gets EOF.
    """
    return [
        SUBPROCESS,
        call("_process = _subprocess.Popen", [
            command, *options, "stdin=_subprocess.DEVNULL", "stdout=_subprocess.PIPE",
            "stderr=_subprocess.STDOUT", "text=True", "errors='replace'",
        ]),
        block("for _line in _process.stdout:", ['print(_line, end="")'],
              inline='any(print(_line, end="") for _line in _process.stdout)'),
        block("if _process.wait():", ['print(f"exit status {_process.returncode}")'],
              inline='print(f"exit status {_process.returncode}") if _process.wait() else None'),
    ]


def system(command: str) -> Replacement:
    """``!cmd``: output streamed as the command writes it."""
    pip = _pip_args(command)
    if pip is not None:
        return pip_magic(pip)
    return Replacement(setup=streamed(shell_string(command), "shell=True"))


def getoutput(command: str) -> Replacement:
    """``x = !cmd``: the output's lines, stderr included, as IPython's SList."""
    run = call(
        "_subprocess.run",
        [shell_string(command), "shell=True", "stdout=_subprocess.PIPE",
         "stderr=_subprocess.STDOUT", "text=True"],
        ".stdout.splitlines()",
    )
    return Replacement(setup=[SUBPROCESS], value=run)


def _pip_args(command: str) -> str | None:
    """The arguments of a pip command line, or None if it is not one."""
    words = command.split(None, 3)
    for prefix in (["pip"], ["pip3"], ["python", "-m", "pip"], ["python3", "-m", "pip"],
                   ["{sys.executable}", "-m", "pip"]):
        if words[: len(prefix)] == prefix:
            return command.split(None, len(prefix))[len(prefix)] if len(words) > len(prefix) else ""
    return None


def pip_magic(args: str) -> Replacement:
    """``%pip``: pip of the runtime's own interpreter, output streamed.

    ``install`` also goes into the twin as a PEP 723 dependency, and the twin
    keeps a marker instead of installing on every run.
    """
    try:
        argv = shlex.split(args)
    except ValueError as exc:
        raise Unsupported(f"%pip {args}: {exc}") from exc
    command = ", ".join(["_sys.executable", "'-m'", "'pip'", *map(repr, argv)])
    run = streamed(f"[{command}]")
    setup = [run[0], "import sys as _sys", *run[1:]]
    twin = None
    packages = requirements(argv)
    if argv[:1] == ["install"] and packages:
        twin = f"pass  {PIP_MARKER}{' '.join(argv[1:])}{_PIP_NOTE}"
    return Replacement(setup=setup, twin=twin)


def requirements(argv: list[str]) -> list[str]:
    """The packages ``pip <argv>`` installs (options and files left out)."""
    if argv[:1] != ["install"]:
        return []
    out: list[str] = []
    skip = False
    for word in argv[1:]:
        if skip:
            skip = False
            continue
        if word in ("-r", "--requirement", "-e", "--editable", "-c", "--constraint",
                    "-i", "--index-url", "--extra-index-url", "-t", "--target", "-f",
                    "--find-links"):
            skip = True
            continue
        if word.startswith("-") or word.startswith((".", "/")):
            continue
        out.append(word)
    return out


def pip_from_twin(code: str) -> list[str]:
    """The packages a twin cell's %pip markers name."""
    found: list[str] = []
    for line in code.splitlines():
        _, marker, rest = line.partition(PIP_MARKER)
        if marker:
            try:
                found += requirements(["install", *shlex.split(rest.removesuffix(_PIP_NOTE))])
            except ValueError:
                continue
    return found
