"""parso's cache survives a pickle cut short (bridge/runtime/parso_cache.py).

The fingerprints fail loudly when a parso upgrade moves or reshapes the two
functions the runtime replaces; the rest checks the replacement on a real
parse with a real cache folder.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import parso
import pytest
from parso import cache

from bridge.runtime import parso_cache

SOURCE = "def f(x):\n    return x + 1\n"


def test_parso_still_has_the_functions_the_runtime_replaces() -> None:
    load = inspect.signature(cache._load_from_file_system)
    save = inspect.signature(cache._save_to_file_system)
    assert list(load.parameters) == ["hashed_grammar", "path", "p_time", "cache_path"]
    assert list(save.parameters) == ["hashed_grammar", "path", "item", "cache_path"]
    # Both are called through the module's globals, so replacing them counts.
    assert "_load_from_file_system(" in inspect.getsource(cache.load_module)
    assert "_save_to_file_system(" in inspect.getsource(cache.try_to_save_module)
    assert callable(cache._get_hashed_path)


def _parse(path: Path, folder: Path) -> object:
    cache.parser_cache.clear()  # as a new process: only the pickles remain
    grammar = parso.load_grammar()
    return grammar.parse(path=str(path), cache=True, cache_path=folder)


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    # Put parso back as it was after the test (monkeypatch restores them).
    monkeypatch.setattr(cache, "_load_from_file_system", cache._load_from_file_system)
    monkeypatch.setattr(cache, "_save_to_file_system", cache._save_to_file_system)
    assert parso_cache.patch(cache)


def test_an_empty_pickle_is_a_miss_and_is_written_again(tmp_path: Path, patched: None) -> None:
    module = tmp_path / "m.py"
    module.write_text(SOURCE)
    folder = tmp_path / "cache"
    _parse(module, folder)
    pickles = list(folder.rglob("*.pkl"))
    assert len(pickles) == 1
    pickles[0].write_bytes(b"")  # a runtime killed while writing it
    tree = _parse(module, folder)
    assert tree.get_code() == SOURCE  # type: ignore[attr-defined]
    assert pickles[0].stat().st_size > 0
    _parse(module, folder)  # read back from the rewritten pickle
    assert [p.name for p in folder.rglob("*") if p.name.startswith(".tmp-")] == []


def test_without_the_patch_parso_fails_on_the_same_file(tmp_path: Path) -> None:
    """What the patch is for: parso as shipped raises on an empty pickle.
    When this fails, parso handles it itself and the patch can go."""
    module = tmp_path / "m.py"
    module.write_text(SOURCE)
    folder = tmp_path / "cache"
    _parse(module, folder)
    next(folder.rglob("*.pkl")).write_bytes(b"")
    with pytest.raises(EOFError):
        _parse(module, folder)
