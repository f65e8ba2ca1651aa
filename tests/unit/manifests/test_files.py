"""The manifest files a path names, spelled and ordered as pathlib does: `Source.file` and every
message name files as `str(Path(p))` did, so pathlib itself is the oracle here."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.manifests.files import MANIFEST_SUFFIXES, is_manifest_name, manifest_files, pathname


def _pathlib(path: str) -> list[str] | None:
    """What podwall's reader did with pathlib before."""
    found = Path(path)
    if found.is_dir():
        return [
            str(p)
            for p in sorted(found.rglob("*"))
            if p.is_file() and p.suffix in MANIFEST_SUFFIXES
        ]
    return [str(found)] if found.exists() else None


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Nested folders, hidden files, odd names, symlinks to a file and to a folder."""
    for name in [
        "b.yaml", "a.yml", "a-c/x.json", "a/b.yaml", "a/z/deep.yaml", ".hidden.yaml", ".yaml",
        "..yaml", "notes.txt", "x.yaml.bak", "UPPER.YAML", "dir.yaml/inside.yaml", "a.b.json",
    ]:  # fmt: skip
        file = tmp_path / "root" / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("kind: Pod\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.yaml").write_text("kind: Pod\n")
    (tmp_path / "root" / "linked-dir").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "root" / "linked.yaml").symlink_to(tmp_path / "elsewhere" / "far.yaml")
    (tmp_path / "root" / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    return tmp_path


SPELLINGS = [
    ("a folder", "root"),
    ("a folder with a trailing slash", "root/"),
    ("a folder through ./ and //", "./root//."),
    ("a subfolder", "root/a"),
    ("a symlinked folder given itself", "root/linked-dir"),
    ("a file", "root/a/b.yaml"),
    ("a file of any suffix given itself", "root/notes.txt"),
    ("the current folder", "."),
    ("an empty path", ""),
    ("nothing there", "root/missing.yaml"),
    ("a dangling symlink", "root/dangling.yaml"),
]


@pytest.mark.parametrize("given_path", [s[1] for s in SPELLINGS], ids=[s[0] for s in SPELLINGS])
def test_files_are_named_and_ordered_as_pathlib_does(
    tree: Path, given_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    assert manifest_files(given_path) == _pathlib(given_path)


def test_an_absolute_folder_lists_as_pathlib_does(tree: Path) -> None:
    found = manifest_files(str(tree / "root"))
    assert found == _pathlib(str(tree / "root"))
    assert found is not None
    assert str(tree / "root" / "linked.yaml") in found


def test_a_symlinked_subfolder_is_not_entered(tree: Path) -> None:
    found = manifest_files(str(tree / "root")) or []
    assert not any("far.yaml" in f and "linked-dir" in f for f in found)


@given(st.lists(st.sampled_from(["", ".", "..", "a", "b.yaml", "/", "//"]), max_size=6))
def test_a_path_is_spelled_as_pathlib_spells_it(parts: list[str]) -> None:
    text = "".join(parts)
    assert pathname(text) == str(PurePosixPath(text))


@given(st.text(alphabet="ab.yamljson", max_size=8))
def test_a_manifest_name_has_a_manifest_suffix_as_pathlib_reads_it(name: str) -> None:
    assert is_manifest_name(name) == (PurePosixPath(f"x/{name}").suffix in MANIFEST_SUFFIXES)
