"""Build the krew archive (plugins/kubectl-stockade-krew.tar.gz) and write its sha256 into
plugins/stockade.yaml. Run by `make krew` when the launcher changes; the release uploads the archive
to the `uri` the manifest names. The archive is byte-for-byte reproducible (no times, owners)."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "krew" / "kubectl-stockade"
ARCHIVE = HERE / "kubectl-stockade-krew.tar.gz"
MANIFEST = HERE / "stockade.yaml"


def archive_bytes() -> bytes:
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = LAUNCHER.read_bytes()
        info = tarfile.TarInfo(LAUNCHER.name)
        info.size, info.mode, info.mtime = len(data), 0o755, 0
        tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(tar_buffer.getvalue())
    return out.getvalue()


def main() -> None:
    data = archive_bytes()
    ARCHIVE.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    text = re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {digest}", MANIFEST.read_text())
    MANIFEST.write_text(text)
    print(f"{ARCHIVE.name} sha256 {digest}")


if __name__ == "__main__":
    main()
