"""marimo's completion, asked over the runtime's completion queue.

The runtime answers a ``CodeCompletionCommand`` on a worker thread of its
own, even while a cell runs, with a ``completion-result`` keyed by the
command's id. Its first answer is slow: importing jedi and marimo's
completion module, and jedi's first inference, which reads the builtins'
stubs (about 1 s on this machine with jedi's disk cache filled, over 3 s
without it, as on a fresh machine). So:

* the first answer of each runtime is waited for with a budget for a cold
  start (``COLD_BUDGET``), later ones with ``WARM_BUDGET``: a frontend waits on
  the reply, and a runtime that never answers must not hang it;
* once the runtime has been idle for a moment, one completion is asked ahead
  of any user (``warm``), so the first Tab a user presses is answered as
  quickly as the next ones. JupyterLab drops a provider's answer that takes
  over a second (its completer's ``providerTimeout``), so a cold first answer
  is lost there however long the kernel waits. The warm-up waits for an idle
  runtime because it competes for the runtime's GIL with whatever cell runs:
  nbclient and papermill, which send their requests back to back, never
  leave it idle and so never pay for it;
* a Tab pressed while the runtime is cold (starting, or its first answer
  still to come) or busy with a run (a cell that holds the GIL) is answered
  after ``QUICK_BUDGET`` from what the kernel knows itself, when something
  there starts with the name being typed: the names the cell's own code
  binds, the notebook's global names, the builtins and the keywords. An
  answer JupyterLab would drop is worth nothing, and a fresh machine's first
  Tab came before the warm-up had finished (jedi's cache empty: about 3 s).
  An attribute (``os.pa``), a module being imported, or a prefix none of
  those start still waits for the runtime, and so does any completion of a
  warm, idle runtime, whose kinds and docs are worth the wait.
"""

from __future__ import annotations

import asyncio
import builtins
import io
import keyword
import logging
import tokenize
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from bridge.runtime.messages import CompletionOption, CompletionResult

# Generous: a slow machine with an empty jedi cache, under load.
COLD_BUDGET = 30.0
# The runtime has answered before: an answer this late is a stuck worker.
WARM_BUDGET = 3.0
# Under JupyterLab's providerTimeout (1 s), with room for the trip there.
QUICK_BUDGET = 0.8
# How long a starting runtime is waited for before the answer is empty.
START_BUDGET = 60.0
# The warm-up's document: a builtin's prefix, so jedi reads the builtins'
# stubs, the bulk of a first completion. A module attribute (``os.pa``) warms
# no better and costs the runtime about twice the CPU (0.66 s against 1.13 s
# for jedi alone on this machine).
WARM_UP_DOCUMENT = "zi"

# The warm-up waits until this many looks, this far apart, found the runtime
# idle with nothing sent in between.
IDLE_LOOKS = 3
IDLE_POLL = 0.1

# marimo leaves the requesting cell's code out of the context it completes
# in; Jupyter's complete_request names no cell, so this id names none.
_NO_CELL = "__bridge_completion__"

# Tokens that are no part of a statement's words (a NEWLINE ends one).
_NOT_WORDS = frozenset(
    {tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}
)


class Completions:
    """Asks the runtime for completions; one per kernel, across runtimes.

    ``runtime`` gives the current runtime, waiting for one that is starting;
    the kernel hands each ``completion-result`` to ``arrived`` and tells
    ``runtime_replaced`` when a runtime goes away. What could not be answered
    is said in ``log``, the kernel's.
    """

    def __init__(
        self,
        runtime: Callable[[], Awaitable[Any]],
        log: logging.Logger,
        names: Callable[[], Iterable[str]] = tuple,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self._runtime = runtime
        self._log = log
        self._names = names  # the global names the notebook's cells define
        self._busy = busy  # whether a run is in flight
        self._waiters: dict[str, asyncio.Future[CompletionResult]] = {}
        # The runtime whose completion worker has answered once (warm).
        self._warm: object | None = None
        self._warming: str | None = None
        self._warming_runtime: object | None = None
        self._watched: object | None = None  # the runtime warm_when_idle looks at

    def arrived(self, result: CompletionResult) -> None:
        """A completion-result from the runtime, on the event loop."""
        if result.completion_id == self._warming:
            self._warm = self._warming_runtime
            self._warming = None
        waiter = self._waiters.get(result.completion_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(result)
        # Else its request gave up waiting: nobody to tell.

    def runtime_replaced(self) -> None:
        """The runtime died or was stopped: the next one starts cold."""
        self._warm = None
        self._warming = None
        self._warming_runtime = None
        self._watched = None

    def warm_when_idle(self, runtime: Any, activity: Callable[[], tuple[int, int]]) -> None:
        """Warm ``runtime`` once it has been idle for a moment (on the loop).

        ``activity()`` gives the runs in flight and the runs ever sent; the
        looks stop once the runtime is warm or replaced.
        """
        self._watched = runtime
        self._look(runtime, activity, 0, -1)

    def _look(
        self, runtime: Any, activity: Callable[[], tuple[int, int]], looks: int, seen: int
    ) -> None:
        if not runtime.alive or self._watched is not runtime or self._warm is runtime:
            return
        in_flight, sent = activity()
        looks = looks + 1 if in_flight == 0 and sent == seen else 0
        if looks >= IDLE_LOOKS:
            self.warm(runtime)
            return
        loop = asyncio.get_running_loop()
        loop.call_later(IDLE_POLL, self._look, runtime, activity, looks, sent)

    def warm(self, runtime: Any) -> None:
        """Ask one completion of ``runtime`` that nobody waits for."""
        if self._warm is runtime or self._warming_runtime is runtime:
            return
        request_id = uuid.uuid4().hex
        self._warming, self._warming_runtime = request_id, runtime
        try:
            runtime.complete(_command(request_id, WARM_UP_DOCUMENT))
        except Exception:
            self._log.warning("completion warm-up could not reach the runtime", exc_info=True)
            self._warming = self._warming_runtime = None

    async def ask(self, document: str, quick: bool = True) -> CompletionResult | None:
        """marimo's completion of ``document``'s end; None if none came in time.

        With ``quick``, while the runtime is cold (starting, or its first
        answer still to come) or busy with a run, an answer that is not there
        after ``QUICK_BUDGET`` is ``quick_answer``'s when it has one; the
        runtime's own answer still arrives, and warms it, for nobody.
        """
        asked = asyncio.ensure_future(self._ask(document))
        if quick:
            done, _ = await asyncio.wait({asked}, timeout=QUICK_BUDGET)
            if not done and (self._warm is None or self._busy()):
                answer = quick_answer(uuid.uuid4().hex, document, self._names)
                if answer is not None:
                    self._log.info(
                        "completion: the marimo runtime had not answered within %.1f s;"
                        " answered from the names the kernel knows",
                        QUICK_BUDGET,
                    )
                    return answer
        return await asked

    async def _ask(self, document: str) -> CompletionResult | None:
        loop = asyncio.get_running_loop()
        try:
            # Shielded: giving up must not cancel the runtime's start, which
            # the next execute_request still waits for.
            runtime = await asyncio.wait_for(asyncio.shield(self._runtime()), START_BUDGET)
        except Exception as exc:
            self._log.warning("completion: no marimo runtime to ask (%s); no matches sent", exc)
            return None
        budget = WARM_BUDGET if self._warm is runtime else COLD_BUDGET
        request_id = uuid.uuid4().hex
        waiter: asyncio.Future[CompletionResult] = loop.create_future()
        self._waiters[request_id] = waiter
        try:
            runtime.complete(_command(request_id, document))
            result = await asyncio.wait_for(waiter, budget)
        except asyncio.TimeoutError:
            self._log.warning(
                "completion: the marimo runtime did not answer within %.0f s; no matches sent",
                budget,
            )
            return None
        except Exception as exc:
            self._log.warning("completion failed (%s); no matches sent", exc)
            return None
        finally:
            self._waiters.pop(request_id, None)
        if runtime.alive:
            self._warm = runtime
        return result


def quick_answer(
    request_id: str, document: str, notebook_names: Callable[[], Iterable[str]]
) -> CompletionResult | None:
    """What completes the name typed at ``document``'s end without the
    runtime: the names the document itself holds (a function's parameters,
    a cell's own imports), the notebook's global names (``notebook_names()``;
    its ``_private`` names are each cell's own), builtins and keywords. None
    where only the runtime knows (an attribute, a module being imported) or
    nothing should be offered (a name being defined, a string, a comment)."""
    typed = _typed_name(document)
    if typed is None:
        return None
    prefix, own = typed
    # jedi's kinds where they are plain; a name of the notebook's is not known here.
    found = {n: "" for n in own if n.startswith(prefix)}
    for name in notebook_names():
        if name.startswith(prefix) and not name.startswith("_"):
            found.setdefault(name, "")
    for name in dir(builtins):
        if name.startswith(prefix) and not name.startswith("_"):
            kind = "class" if isinstance(getattr(builtins, name), type) else "function"
            found.setdefault(name, kind)
    for name in keyword.kwlist:
        if name.startswith(prefix):
            found.setdefault(name, "keyword")
    if not found:
        return None
    return CompletionResult(
        completion_id=request_id,
        prefix_length=len(prefix),
        options=[CompletionOption(name=n, type=found[n]) for n in sorted(found)],
    )


# After these the name being typed is one being made (``def f``, ``as x``)
# or a module's (``import ma``, ``from os import pa``): not a name in scope.
_NOT_A_REFERENCE = frozenset({"import", "from", "def", "class", "as", "global", "nonlocal"})


def _typed_name(document: str) -> tuple[str, set[str]] | None:
    """The name being typed at ``document``'s end, and the names the
    document binds before it; None unless it is a reference to a name."""
    statements: list[list[tokenize.TokenInfo]] = [[]]
    try:
        for token in tokenize.generate_tokens(io.StringIO(document).readline):
            if token.type == tokenize.ERRORTOKEN:
                return None  # an unclosed string, or worse
            if token.type == tokenize.NEWLINE or token.string == ";":
                statements.append([])
            elif token.type not in _NOT_WORDS:
                statements[-1].append(token)
    except (tokenize.TokenError, SyntaxError):
        pass  # an open bracket or string at the end: what came before counts
    # The tokenizer ends a last line without a newline with one of its own.
    last = next((st for st in reversed(statements) if st), [])
    lines = document.split("\n")
    if not last or last[-1].type != tokenize.NAME:
        return None
    if last[-1].end != (len(lines), len(lines[-1])):
        return None  # a space, or a string the tokenizer gave up in, after it
    if len(last) > 1 and (last[-2].string == "." or last[-2].string in _NOT_A_REFERENCE):
        return None
    if last[0].string in ("import", "from"):
        return None  # ``import a, ma``: a module's name, the runtime's to say
    typed = last.pop().string
    return typed, _bound(statements)


def _bound(statements: list[list[tokenize.TokenInfo]]) -> set[str]:
    """The names the statements mention, roughly: every name but attributes
    and keywords, and of an import only what it binds."""
    names: set[str] = set()
    for statement in statements:
        words = [t.string for t in statement]
        if words and words[0] in ("import", "from"):
            start = words.index("import") + 1 if "import" in words else len(words)
            group: list[str] = []  # one imported name: ``a.b``, ``c as d``
            for word in [*words[start:], ","]:
                if word in (",", "(", ")"):
                    bound = group[-1:] if len(group) > 2 and group[-2] == "as" else group[:1]
                    names.update(n for n in bound if n.isidentifier())
                    group = []
                elif word != ".":
                    group.append(word)
            continue
        for i, token in enumerate(statement):
            if token.type != tokenize.NAME or keyword.iskeyword(token.string):
                continue
            if i == 0 or words[i - 1] != ".":
                names.add(token.string)
    return names


def _command(request_id: str, document: str) -> Any:
    from marimo._internal.commands import CodeCompletionCommand
    from marimo._internal.ids import CellId_t

    return CodeCompletionCommand(
        id=request_id,  # type: ignore[arg-type]  # marimo's RequestId is a str
        document=document,
        cell_id=CellId_t(_NO_CELL),
    )
