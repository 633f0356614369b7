"""File and Directory: upload on encode, lazy download on decode, hostile names refused."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from headwater.errors import TypeMismatchError, UserInputError
from headwater.storage.blobs import BlobStore
from headwater.types import Directory, File, decode, encode


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "work" / "report.csv"
    path.parent.mkdir()
    path.write_text("a,b\n1,2\n")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "outputs"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "top.txt").write_text("top")
    (root / "sub" / "mid.bin").write_bytes(b"\x00\x01\x02")
    (root / "sub" / "deeper" / "leaf.txt").write_text("leaf")
    return root


def test_file_basics(report: Path) -> None:
    f = File(report)
    assert f.path == str(report) and f.name == "report.csv"
    assert os.fspath(f) == str(report)
    assert f == File(str(report)) and hash(f) == hash(File(str(report)))
    assert f != File(report.with_name("other.csv"))
    assert repr(f) == f"File({str(report)!r})"
    with f.open() as fh:
        assert fh.read() == b"a,b\n1,2\n"
    assert f.read_text() == "a,b\n1,2\n"


def test_file_roundtrip_is_lazy_and_keeps_the_name(
    report: Path, blobs: BlobStore, _file_cache: Path
) -> None:
    literal = encode(File(report), File, blobs, what="output 'report'")
    assert literal["format"] == "file" and literal["name"] == "report.csv"
    assert literal["type"] == "File" and literal["size"] == 8
    assert literal["preview"] == "File report.csv (8 B)"
    assert blobs.get_bytes(literal["blob"]) == report.read_bytes()

    back = decode(literal, File, blobs)
    assert isinstance(back, File) and back.name == "report.csv"
    assert not _file_cache.exists()  # nothing downloaded yet
    assert "blob=" in repr(back)
    local = Path(back.path)
    assert local.name == "report.csv" and local.is_relative_to(_file_cache)
    assert local.read_text() == "a,b\n1,2\n"
    with back.open() as fh:
        assert fh.read() == b"a,b\n1,2\n"
    assert decode(literal, None, blobs) == back


def test_stored_file_download_and_read_only(report: Path, blobs: BlobStore, tmp_path: Path) -> None:
    back = decode(encode(File(report), File, blobs), File, blobs)
    dest = tmp_path / "copies"
    dest.mkdir()
    copied = back.download(dest)
    assert copied == str(dest / "report.csv") and Path(copied).read_text() == "a,b\n1,2\n"
    assert Path(back.download(tmp_path / "renamed.csv")).read_text() == "a,b\n1,2\n"
    with pytest.raises(UserInputError, match="read-only"):
        back.open("w")


def test_reencoding_a_stored_file_reuses_its_blob(
    report: Path, blobs: BlobStore, _file_cache: Path
) -> None:
    literal = encode(File(report), File, blobs)
    back = decode(literal, File, blobs)
    again = encode(back, File, blobs)
    assert again == literal
    assert not _file_cache.exists()  # no download needed to pass it on


def test_path_objects_are_accepted_as_files(report: Path, blobs: BlobStore) -> None:
    literal = encode(report, File, blobs)
    assert literal["format"] == "file" and literal["name"] == "report.csv"


def test_missing_file_is_a_clear_error(tmp_path: Path, blobs: BlobStore) -> None:
    with pytest.raises(UserInputError, match=r"output 'f': .*missing\.csv is not a file"):
        encode(File(tmp_path / "missing.csv"), File, blobs, what="output 'f'")
    with pytest.raises(TypeMismatchError):
        encode(str(tmp_path), File, blobs)


def test_file_new_gives_a_fresh_path(blobs: BlobStore) -> None:
    out = File.new("result.txt")
    assert out.name == "result.txt" and not os.path.exists(out.path)
    with out.open("w") as fh:
        fh.write("done")
    assert decode(encode(out, File, blobs), File, blobs).read_text() == "done"


def test_directory_roundtrip(tree: Path, blobs: BlobStore, _file_cache: Path) -> None:
    directory = Directory(tree)
    expected = ["sub/deeper/leaf.txt", "sub/mid.bin", "top.txt"]
    assert directory.files() == expected and directory.name == "outputs"

    literal = encode(directory, Directory, blobs)
    assert literal["format"] == "directory" and literal["name"] == "outputs"
    assert literal["size"] == 3 + 3 + 4
    assert literal["preview"] == "Directory outputs (3 files, 10 B)"

    back = decode(literal, Directory, blobs)
    assert isinstance(back, Directory)
    assert back.files() == expected
    assert not _file_cache.exists()  # listed from the manifest
    local = Path(back.path)
    assert local.name == "outputs"
    assert (local / "sub" / "mid.bin").read_bytes() == b"\x00\x01\x02"
    assert dict(back.walk())["sub/deeper/leaf.txt"] == str(local / "sub" / "deeper" / "leaf.txt")
    copy = Path(back.download(Path(tree.parent) / "copy"))
    assert (copy / "top.txt").read_text() == "top"
    assert encode(Directory(tree), Directory, blobs)["blob"] == literal["blob"]


def test_directory_must_exist(tmp_path: Path, blobs: BlobStore) -> None:
    with pytest.raises(UserInputError, match="is not a directory"):
        encode(Directory(tmp_path / "nope"), Directory, blobs)


@pytest.mark.parametrize("name", ["../evil", "..", ".", "a/b", "/etc/passwd", "a\\b", "", None, 5])
@pytest.mark.parametrize("fmt", ["file", "directory"])
def test_hostile_names_are_refused(name: Any, fmt: str, report: Path, blobs: BlobStore) -> None:
    literal = encode(File(report), File, blobs)
    literal.update(format=fmt, name=name)
    with pytest.raises(UserInputError, match="refusing the file name"):
        decode(literal, None, blobs)


def test_hostile_blob_keys_are_refused(report: Path, blobs: BlobStore) -> None:
    literal = encode(File(report), File, blobs)
    literal["blob"] = "sha256/../../../etc/passwd"
    with pytest.raises(UserInputError, match="not a blob key"):
        decode(literal, File, blobs)


@dataclasses.dataclass
class Bundle:
    main: File
    extras: list[File]
    folder: Directory | None = None


def test_files_inside_json_values(report: Path, tree: Path, blobs: BlobStore) -> None:
    other = report.with_name("other.txt")
    other.write_text("other")
    bundle = Bundle(File(report), [File(other), File(report)], Directory(tree))
    literal = encode(bundle, Bundle, blobs)
    assert literal["format"] == "json" and "pickled" not in literal
    assert literal["value"]["main"] == {
        "file": literal["value"]["extras"][1]["file"],
        "name": "report.csv",
        "size": 8,
    }
    back = decode(literal, Bundle, blobs)
    assert isinstance(back.main, File) and back.main.blob is not None
    assert back.main.read_text() == "a,b\n1,2\n"
    assert [f.read_text() for f in back.extras] == ["other", "a,b\n1,2\n"]
    assert back.folder is not None and back.folder.files() == Directory(tree).files()
    assert encode(back, Bundle, blobs)["value"] == literal["value"]


def test_optional_file(report: Path, blobs: BlobStore) -> None:
    assert encode(File(report), File | None, blobs)["format"] == "file"
    assert decode(encode(None, File | None, blobs), File | None, blobs) is None
    literal = encode({"r": File(report)}, dict[str, File], blobs)
    assert decode(literal, dict[str, File], blobs)["r"].read_bytes() == b"a,b\n1,2\n"
    with pytest.raises(UserInputError, match=r"missing\.txt is not a file"):
        encode([File(report.with_name("missing.txt"))], list[File], blobs, what="output 'fs'")
