"""A corrupt or truncated parquet file is an error naming the file, on every backend.

Real files in ``tmp_path``: cut in half, garbage bytes, pages overwritten behind a valid
footer, a directory with one bad part; broken before ``read_parquet`` (its schema is read at
once) and after it (the read itself). The error has the type pandas raises for the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas
import pytest

import litsdf

pytest.importorskip("pyarrow")

BACKENDS = [b.name for b in litsdf.backends() if b.available] + ["auto"]

# (a backend that reads no parquet file falls back to pandas' reader, with a warning)
pytestmark = pytest.mark.filterwarnings("ignore::litsdf.FallbackWarning")


def _good(path: Path) -> bytes:
    frame = pandas.DataFrame({"a": np.arange(2_000), "s": [f"v{i % 7}" for i in range(2_000)]})
    frame.to_parquet(path)
    return path.read_bytes()


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garbage(data: bytes) -> bytes:
    return b"this is not a parquet file\n" * 40


def _pages_overwritten(data: bytes) -> bytes:
    """The data pages scrambled, the footer (schema, row groups) intact."""
    body = bytearray(data)
    for i in range(4, len(body) // 2):
        body[i] ^= 0x5A
    return bytes(body)


BREAKS = {"truncated": _truncated, "garbage": _garbage, "pages": _pages_overwritten}


def _pandas_error(path: Path) -> type[BaseException]:
    with pytest.raises(Exception) as info:
        pandas.read_parquet(path)
    return type(info.value)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", list(BREAKS))
def test_a_broken_file_names_the_file(tmp_path, backend, how):
    path = tmp_path / f"broken-{how}.parquet"
    path.write_bytes(BREAKS[how](_good(tmp_path / "good.parquet")))
    expected = _pandas_error(path)
    with litsdf.option_context(backend=backend), pytest.raises(expected) as info:
        litsdf.read_parquet(str(path)).to_pandas()
    assert path.name in str(info.value)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_a_file_broken_after_the_read_was_built_names_the_file(tmp_path, backend, how):
    """The file is readable when ``read_parquet`` builds the plan and broken when it runs
    (no recorded version: the plan is lowered and run as a plan from elsewhere would be)."""
    from litsdf_compiler import engine
    from litsdf_compiler.ir import relations as rel

    path = tmp_path / f"later-{how}.parquet"
    data = _good(path)
    plan = rel.ReadParquet(str(path))
    path.write_bytes(BREAKS[how](data))
    expected = _pandas_error(path)
    with pytest.raises(expected) as info:
        engine.execute(plan, backend=backend)
    assert path.name in str(info.value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_directory_with_one_bad_file_names_that_file(tmp_path, backend):
    folder = tmp_path / "parts"
    folder.mkdir()
    data = _good(tmp_path / "good.parquet")
    (folder / "part-0.parquet").write_bytes(data)
    (folder / "part-1.parquet").write_bytes(_truncated(data))
    expected = _pandas_error(folder)
    with litsdf.option_context(backend=backend), pytest.raises(expected) as info:
        litsdf.read_parquet(str(folder)).to_pandas()
    assert "part-1.parquet" in str(info.value)
    os.remove(folder / "part-1.parquet")
    with litsdf.option_context(backend=backend):
        got = litsdf.read_parquet(str(folder)).to_pandas()
    pandas.testing.assert_frame_equal(got, pandas.read_parquet(folder))
