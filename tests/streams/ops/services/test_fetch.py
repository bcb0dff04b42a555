"""The cache's unpacking and installing: ``streams.ops.services.fetch``."""

from __future__ import annotations

import zipfile

import pytest

from streams.ops.services import ServiceError, fetch


def test_extract_zip_keeps_executable_bits_and_refuses_escapes(tmp_path):
    archive = tmp_path / "dist.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        script = zipfile.ZipInfo("es/bin/elasticsearch")
        script.external_attr = 0o100755 << 16
        zf.writestr(script, "#!/bin/sh\n")
        conf = zipfile.ZipInfo("es/config/users")
        conf.external_attr = 0o100660 << 16
        zf.writestr(conf, "")
    fetch._extract_zip(archive, tmp_path / "out")
    assert (tmp_path / "out/es/bin/elasticsearch").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out/es/config/users").stat().st_mode & 0o777 == 0o644  # readable by the ES user
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(ServiceError, match="outside"):
        fetch._extract_zip(evil, tmp_path / "out2")
    assert not (tmp_path / "outside.txt").exists()
