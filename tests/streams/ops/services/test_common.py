"""The launcher's shared helpers: ``streams.ops.services.common``."""

from __future__ import annotations

from streams.ops.services import common


def test_read_tail_reads_only_the_end_of_a_big_log(tmp_path):
    path = tmp_path / "big.log"
    path.write_text("".join(f"line {i}\n" for i in range(200_000)))
    assert common._read_tail(path, 2) == "line 199998\nline 199999"
    assert common._read_tail(tmp_path / "missing.log", 5) == ""
