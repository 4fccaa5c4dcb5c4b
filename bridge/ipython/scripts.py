"""IPython's script magics as plain Python: ``%%script prog``, and the
named ones ``%%bash``, ``%%sh``, ``%%perl``, ``%%ruby``, ``%%python``,
``%%python2``, ``%%python3``, ``%%pypy``.

As IPython 9 runs them (``IPython/core/magics/script.py``): the program
reads the cell's body on its stdin, its output is shown as it comes, and a
non-zero exit is the cell's ``CalledProcessError`` (``--no-raise-error``
keeps the cell a success). ``--out VAR`` / ``--err VAR`` keep the text in a
name instead of showing it. A program that is not installed is said
(``Couldn't find program: 'ruby'``) and the cell succeeds, as in IPython.

``--bg`` starts the program and the cell ends: ``--out VAR`` and ``--err
VAR`` keep its output streams (``VAR.read()`` gives bytes, as IPython's
do), ``--proc VAR`` the process; what no name keeps is discarded.

``%%bash`` and ``%%sh`` get the script as their ``-c`` argument rather than
on stdin: a shell reads stdin as it runs, so a long script printing a lot
would wait on a full pipe while the cell waits to write the rest of it.
Their line numbers (``$LINENO``) are those of the body either way.
"""

from __future__ import annotations

import keyword
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.ipython.replacement import CellCode, Unsupported, spread, text_literal

# The named script magics IPython defines (its default_script_magics).
NAMED = ("bash", "sh", "perl", "ruby", "python", "python2", "python3", "pypy")
_SHELLS = {"bash": "/bin/bash", "sh": "/bin/sh"}


@dataclass
class _Options:
    argv: list[str] = field(default_factory=list)
    out: str | None = None
    err: str | None = None
    proc: str | None = None
    raise_error: bool = True
    background: bool = False


def _options(args: str, magic: str) -> _Options:
    try:
        words = shlex.split(args)
    except ValueError as exc:
        raise Unsupported(f"%%{magic} {args}: {exc}") from exc
    options = _Options()
    while words:
        word = words.pop(0)
        flag, equals, value = word.partition("=")
        if flag in ("--out", "--err", "--proc"):
            target = value if equals else (words.pop(0) if words else "")
            if not target.isidentifier() or keyword.iskeyword(target):
                raise Unsupported(f"%%{magic}: {flag} needs a Python name to keep the text in")
            setattr(options, flag[2:], target)
        elif word == "--no-raise-error":
            options.raise_error = False
        elif word == "--bg":
            options.background = True
        else:
            options.argv.append(word)
    return options


def script_magic(name: str | None) -> Callable[[str, str], CellCode]:
    """The handler of ``%%name`` (``%%script`` when None: the program is
    the first argument)."""

    def run(args: str, body: str) -> CellCode:
        magic = name or "script"
        options = _options(args, magic)
        program = [name] if name else []
        argv = program + options.argv
        if not argv:
            raise Unsupported("%%script needs the program to run: %%script perl")
        lines = _lines(f"# %%{magic} {args}".rstrip(), body, argv, options)
        return CellCode(lines, lines)  # the body is not Python: no line to keep

    return run


def _program(body: str, argv: list[str]) -> tuple[str | None, str, str]:
    """(the shell, if the program is one; the script's text; Popen's first
    arguments): a shell gets the script as ``-c``, any other program on stdin."""
    shell = _SHELLS.get(argv[0]) if len(argv) == 1 else None
    text = body if shell or body.endswith("\n") else body + "\n"  # IPython adds it
    if shell:
        return shell, text, (
            f"_magic_script, shell=True, executable={shell!r}, stdin=_subprocess.DEVNULL"
        )
    return None, text, f"{argv!r}, stdin=_subprocess.PIPE"


def _started(start: str, streams: str, program: str) -> list[str]:
    """The Popen of the program, and IPython's words when it is not there."""
    missing = f"Couldn't find program: {program!r}"
    return [
        "try:",
        "    _process = _subprocess.Popen(",
        f"        {start},",
        f"        {streams},",
        "    )",
        "except FileNotFoundError:",
        f"    print({missing!r})",
        "else:",
    ]


def _lines(comment: str, body: str, argv: list[str], options: _Options) -> list[str]:
    if options.proc is not None and not options.background:
        raise Unsupported(f"{comment[2:]}: --proc keeps a process run with --bg")
    if options.background:
        return _background(comment, body, argv, options)
    shell, text, start = _program(body, argv)
    captured = options.out is not None or options.err is not None
    errors = "_subprocess.PIPE" if captured else "_subprocess.STDOUT"
    kept = [name for name in (options.out, options.err) if name is not None]
    feeds = not shell and not captured
    lines = [
        comment,
        "import subprocess as _subprocess",
        *(["import sys as _sys"] if captured else []),
        *(["import threading as _threading", *_FEED] if feeds else []),
        f"_magic_script = {text_literal(text)}",
        # As IPython: the names exist even when the program does not.
        *([f"{' = '.join(kept)} = ''"] if kept else []),
        *_started(
            start, f"stdout=_subprocess.PIPE, stderr={errors}, text=True, errors='replace'",
            argv[0],
        ),
    ]
    body_lines: list[str] = []
    if captured:
        # communicate() feeds stdin while it reads: no full pipe can block it.
        feed = "" if shell else "_magic_script"
        body_lines.append(f"_out, _err = _process.communicate({feed})")
        body_lines.append(f"{options.out} = _out" if options.out else 'print(_out, end="")')
        body_lines.append(
            f"{options.err} = _err" if options.err else 'print(_err, end="", file=_sys.stderr)'
        )
    else:
        if feeds:
            body_lines.append(
                "_threading.Thread(target=_feed, args=(_process.stdin, _magic_script), "
                "daemon=True).start()"
            )
        body_lines += ["for _line in _process.stdout:", '    print(_line, end="")']
    if options.raise_error:
        body_lines += [
            "if _process.wait():",
            "    raise _subprocess.CalledProcessError(_process.returncode, _magic_script)",
        ]
    elif not captured:
        body_lines.append("_process.wait()")
    return lines + spread(body_lines, "    ")


def _background(comment: str, body: str, argv: list[str], options: _Options) -> list[str]:
    """``--bg``: the program started, its body fed from a thread, the cell done."""
    shell, text, start = _program(body, argv)
    streams = {
        stream: "_subprocess.PIPE" if name else "_subprocess.DEVNULL"
        for stream, name in (("stdout", options.out), ("stderr", options.err))
    }
    kept = [(name, value) for name, value in (
        (options.out, "_process.stdout"), (options.err, "_process.stderr"),
        (options.proc, "_process")) if name is not None]
    texts = [name for name in (options.out, options.err) if name is not None]
    lines = [
        comment,
        "import subprocess as _subprocess",
        *([] if shell else ["import threading as _threading", *_FEED]),
        f"_magic_script = {text_literal(text)}",
        # As IPython: the stream names exist, empty, when the program does not.
        *([f"{' = '.join(texts)} = ''"] if texts else []),
        *([f"{options.proc} = None"] if options.proc else []),
        *_started(start, f"stdout={streams['stdout']}, stderr={streams['stderr']}", argv[0]),
    ]
    body_lines = [] if shell else [
        "_threading.Thread(target=_feed, args=(_process.stdin, _magic_script.encode()), "
        "daemon=True).start()"
    ]
    body_lines += [f"{name} = {value}" for name, value in kept] or ["pass"]
    return lines + spread(body_lines, "    ")


# The body goes to the program's stdin from a thread of its own, while the
# cell reads the output: a long body and a long output cannot block each
# other on full pipes. A program that stops reading early is no error.
_FEED = [
    "def _feed(stream, text):",
    "    try:",
    "        stream.write(text)",
    "        stream.close()",
    "    except BrokenPipeError:",
    "        pass",
]
