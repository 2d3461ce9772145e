"""Tests for tools/execution_cache.py: a notebook's executed outputs are reused
only while its code, the library, the data and the environment are unchanged."""

import nbformat
from jupyter_cache import get_cache

from execution_cache import cache_path, executed, fingerprint, remove_stale


def tree(root):
    (root / "rnn_lib" / "data").mkdir(parents=True)
    (root / "rnn_lib" / "model.py").write_text("SIZE = 1\n")
    (root / "rnn_lib" / "data" / "corpus.txt").write_text("to be or not to be\n")
    (root / "requirements.txt").write_text("torch==2.13.0\n")
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return root


def notebook(path, code):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbformat.write(nb, path)
    return path


def test_fingerprint_follows_the_library_the_data_and_the_environment(tmp_path):
    root = tree(tmp_path)
    first = fingerprint(root)
    assert fingerprint(root) == first
    for name, text in [
        ("rnn_lib/model.py", "SIZE = 2\n"),
        ("rnn_lib/data/corpus.txt", "to be\n"),
        ("requirements.txt", "torch==2.14.1\n"),
        ("pyproject.toml", "[project]\nname = 'y'\n"),
    ]:
        before = (root / name).read_text()
        (root / name).write_text(text)
        assert fingerprint(root) != first, name
        (root / name).write_text(before)
        assert fingerprint(root) == first
    (root / "rnn_lib" / "new.py").write_text("")
    assert fingerprint(root) != first


def test_a_notebook_is_reused_only_in_the_state_it_was_executed(tmp_path):
    root = tree(tmp_path)
    path = notebook(root / "chapter.ipynb", "print(1)")
    assert not executed(path, root)  # no build yet
    get_cache(cache_path(root)).cache_notebook_file(str(path), check_validity=False)
    assert executed(path, root)
    notebook(path, "print(2)")  # the chapter's code changed
    assert not executed(path, root)
    notebook(path, "print(1)")
    assert executed(path, root)
    (root / "rnn_lib" / "model.py").write_text("SIZE = 3\n")  # the library changed
    assert not executed(path, root)


def test_stale_caches_are_removed(tmp_path):
    root = tree(tmp_path)
    old = cache_path(root)
    old.mkdir(parents=True)
    (root / "rnn_lib" / "model.py").write_text("SIZE = 4\n")
    new = cache_path(root)
    new.mkdir(parents=True)
    remove_stale(new)
    assert new.is_dir() and not old.exists()
