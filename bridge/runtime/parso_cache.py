"""parso's cache of parsed modules, made safe to kill.

Completion (jedi, in marimo's runtime) keeps every module it parsed as a
pickle in parso's cache (``~/.cache/jedi``), shared by every kernel of the
user. parso writes a pickle in place and reads one without allowing for a
short file: a runtime killed while writing (a kernel restarted during the
completion warm-up) leaves an empty pickle, and from then on every
completion that reads that module fails with ``EOFError``, in every kernel,
until someone deletes the cache (jedi-vim#251). Seen in CI: every completion
of the test run came back empty after one such kill.

Two changes, applied in the runtime by the launcher:

* a pickle that cannot be read is a cache miss: the module is parsed again
  and its pickle written anew;
* a pickle is written to a temporary file beside it and renamed into
  place, so no reader ever sees half of one.

Both replace private functions of ``parso.cache``;
tests/unit/test_parso_cache.py fails loudly if an upgrade moves them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import pickle
import sys
import tempfile
from typing import Any


def install() -> None:
    """Patch parso's cache now if it is imported, else when it is.

    Not by importing it: parso costs about 50 ms, and the runtime imports it
    only for its first completion, off the path of a kernel's start.
    """
    module = sys.modules.get("parso.cache")
    if module is not None:
        patch(module)
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds ``parso.cache`` as the standard finder does, and patches it
    once its module has run."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "parso.cache":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            patch(module)

        loader.exec_module = exec_module
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        return spec


def patch(cache: Any) -> bool:
    """Replace the two functions if they are the ones this knows; True if done."""
    load = getattr(cache, "_load_from_file_system", None)
    save = getattr(cache, "_save_to_file_system", None)
    hashed_path = getattr(cache, "_get_hashed_path", None)
    if load is None or save is None or hashed_path is None or getattr(load, "_bridge", False):
        return False

    def load_from_file_system(
        hashed_grammar: Any, path: Any, p_time: Any, cache_path: Any = None
    ) -> Any:
        try:
            return load(hashed_grammar, path, p_time, cache_path=cache_path)
        except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
            # Unreadable (short, or from another parso): a miss; parsing the
            # module again rewrites it.
            try:
                os.unlink(hashed_path(hashed_grammar, path, cache_path=cache_path))
            except OSError:
                pass
            return None

    def save_to_file_system(
        hashed_grammar: Any, path: Any, item: Any, cache_path: Any = None
    ) -> None:
        target = hashed_path(hashed_grammar, path, cache_path=cache_path)
        fd, temporary = tempfile.mkstemp(
            dir=os.path.dirname(target), prefix=".tmp-", suffix=".pkl"
        )
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(item, f, pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise

    load_from_file_system._bridge = True  # type: ignore[attr-defined]
    cache._load_from_file_system = load_from_file_system
    cache._save_to_file_system = save_to_file_system
    return True
