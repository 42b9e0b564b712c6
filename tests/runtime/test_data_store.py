"""The data store: where records are found, how references are checked, when files are read."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from staticimg import GatsbyImage, configure, data_store
from staticimg.data_store import DATA_DIR_ENV, DEVELOPMENT_ENV, ImageDataError

REF = "0123456789abcdef0123"
RECORD = {
    "layout": "fixed",
    "width": 10,
    "height": 10,
    "images": {"fallback": {"src": "/a.jpg", "srcSet": "/a.jpg 10w", "sizes": "10px"}},
}


@pytest.fixture(autouse=True)
def clean_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(DEVELOPMENT_ENV, raising=False)
    data_store.reset()
    yield
    data_store.reset()


def write(folder: Path, reference: str = REF, record: object = RECORD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{reference}.json"
    path.write_bytes(orjson.dumps(record))
    return path


def test_configure_data_dir(tmp_path: Path) -> None:
    write(tmp_path / "data")
    configure(data_dir=tmp_path / "data")
    assert data_store.data_dir() == tmp_path / "data"
    assert data_store.load(REF) == RECORD


def test_configure_accepts_a_string(tmp_path: Path) -> None:
    write(tmp_path)
    configure(data_dir=str(tmp_path))
    assert data_store.load(REF) == RECORD


def test_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "shipped")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "shipped"))
    assert data_store.load(REF) == RECORD


def test_configure_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    configure(data_dir=tmp_path / "here")
    assert data_store.data_dir() == tmp_path / "here"


def test_pyproject_walk_up_with_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.staticimg]\ncache_dir = "build/cache"\n')
    deep = tmp_path / "app" / "pages"
    deep.mkdir(parents=True)
    write(tmp_path / "build" / "cache" / "data")
    monkeypatch.chdir(deep)
    assert data_store.data_dir() == tmp_path / "build" / "cache" / "data"
    assert data_store.load(REF) == RECORD


def test_pyproject_without_table_uses_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    monkeypatch.chdir(tmp_path)
    assert data_store.data_dir() == tmp_path / ".staticimg" / "data"


def test_broken_pyproject_uses_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.staticimg\n")
    monkeypatch.chdir(tmp_path)
    assert data_store.data_dir() == tmp_path / ".staticimg" / "data"


def test_a_package_folder_inside_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "app.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"myapp/imagedata/{REF}.json", orjson.dumps(RECORD))
    with zipfile.ZipFile(archive) as bundle:
        configure(data_dir=zipfile.Path(bundle) / "myapp" / "imagedata")
        assert data_store.load(REF) == RECORD
        assert data_store.load("f" * 20) is None


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "0123456789ABCDEF0123", "0123", f"{REF}.json", f"/{REF}", ""]
)
def test_bad_references_are_refused(bad: str, tmp_path: Path) -> None:
    configure(data_dir=tmp_path)
    with pytest.raises(ValueError, match="not an image reference"):
        data_store.load(bad)


def test_missing_record_is_none(tmp_path: Path) -> None:
    configure(data_dir=tmp_path)
    assert data_store.load(REF) is None


def test_read_once_in_production(tmp_path: Path) -> None:
    path = write(tmp_path)
    configure(data_dir=tmp_path, development=False)
    first = data_store.load(REF)
    path.write_bytes(orjson.dumps({**RECORD, "width": 20}))
    assert data_store.load(REF) is first


def test_re_read_when_changed_in_development(tmp_path: Path) -> None:
    path = write(tmp_path)
    configure(data_dir=tmp_path, development=True)
    first = data_store.load(REF)
    assert data_store.load(REF) is first  # unchanged: no new read
    path.write_bytes(orjson.dumps({**RECORD, "width": 20}))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = data_store.load(REF)
    assert second is not None and second["width"] == 20
    assert 'width="20"' in str(GatsbyImage(REF, ""))  # the render cache follows the record


def test_damaged_record_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / f"{REF}.json").write_text("{not json")
    configure(data_dir=tmp_path)
    with pytest.raises(ImageDataError, match="run `staticimg build` again"):
        data_store.load(REF)


def test_record_that_is_not_an_object(tmp_path: Path) -> None:
    write(tmp_path, record=[1, 2])
    configure(data_dir=tmp_path)
    with pytest.raises(ImageDataError, match="not image data"):
        data_store.load(REF)


def test_changing_the_folder_forgets_records(tmp_path: Path) -> None:
    write(tmp_path / "a")
    configure(data_dir=tmp_path / "a")
    assert data_store.load(REF) is not None
    configure(data_dir=tmp_path / "b")
    assert data_store.load(REF) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("yes", True), ("TRUE", True), ("0", False), ("", False), ("no", False)],
)
def test_development_from_the_environment(
    value: str, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEVELOPMENT_ENV, value)
    assert data_store.is_development() is expected


def test_configure_development_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVELOPMENT_ENV, "1")
    configure(development=False)
    assert data_store.is_development() is False
    configure(data_dir="elsewhere")  # None leaves development as it was
    assert data_store.is_development() is False
