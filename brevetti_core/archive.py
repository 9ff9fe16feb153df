"""Model archives: a tar.gz of model files (assets) plus ``metadata.json`` recording each asset's sha256.

``metadata.json`` is ``{"type": "ModelArchiveMetadata", **metadata, "environment": {package: version},
"assets": {name: {"file": arcname, "hash": "sha256:<hex>"}}}`` and is the archive's last member.
Writing goes to a temporary file that replaces the archive only when the ``with`` block ends
without an error, so a failed export never destroys the previous archive. Opening for reading
checks every asset against its recorded hash; an error names the archive and the asset.
Timestamps and owners are zeroed, so the same assets and metadata give the same bytes (and the
same ``versioned_name``).
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import io as _io
import json
import logging
import os
import posixpath
import tarfile
import zlib
from collections.abc import Mapping
from typing import IO, Any, NamedTuple

from .io_tools import IoTools, create_temp_file, io_tools, protocol_of
from .output import json_value, package_versions

log = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"
METADATA_TYPE = "ModelArchiveMetadata"
_CHUNK = 1 << 20
# What a damaged gzip stream or tar structure raises while being read.
_READ_ERRORS = (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError, OSError)


class ModelArchiveError(OSError):
    """A model archive that cannot be read or whose asset does not match its recorded hash."""


class ModelArchiveAsset(NamedTuple):
    """One asset: its path inside the archive and ``"sha256:<hex>"`` of its bytes."""

    file: str
    hash: str


class ModelArchive:
    """A tar.gz model archive at `path` (local or fsspec URL): ``with archive.open_write() as a: a.add_asset(...)``.

    `metadata` (a dict or pydantic model) is written to metadata.json; without it, the archive at
    `path` must exist and its metadata is read from there.
    """

    def __init__(self, path: str | os.PathLike, metadata: Mapping[str, Any] | Any | None = None,
                 io: IoTools = io_tools):
        self.path = os.fspath(path)
        self.io = io
        self.assets: dict[str, ModelArchiveAsset] = {}
        self._mode: str | None = None
        self._tar: tarfile.TarFile | None = None
        self._files: list[_io.IOBase] = []
        self._partial: str | None = None
        if metadata is None:
            if not io.exists(self.path):
                raise FileNotFoundError(f"no model archive at {self.path} to read its metadata from; "
                                        f"pass metadata=... to create one")
            with self.open_read():
                pass
        else:
            dumped = metadata.model_dump(mode="json") if hasattr(metadata, "model_dump") else dict(metadata)
            self.metadata = {key: value for key, value in json_value(dumped).items() if key not in ("assets", "type")}

    # -- modes -------------------------------------------------------------------------------
    def open_write(self) -> ModelArchive:
        """Start a new archive (previous assets are not carried over); it replaces `path` when closed."""
        self._check_closed("writing")
        local = protocol_of(self.path) == "file"
        folder = os.path.dirname(os.path.abspath(self.path)) if local else None
        if folder:
            os.makedirs(folder, exist_ok=True)
        fd, self._partial = create_temp_file(folder, prefix=f".{os.path.basename(self.path)}.", suffix=".part")
        raw = os.fdopen(fd, "wb")
        compressed = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        self._files = [compressed, raw]
        # The archive stays open across calls until close() or __exit__ (via _close_files): no `with` here.
        self._tar = tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.assets = {}
        self._mode = "w"
        return self

    def open_read(self) -> ModelArchive:
        """Open the archive and check every asset against metadata.json (ModelArchiveError naming the asset)."""
        self._check_closed("reading")
        if not self.io.exists(self.path):
            raise FileNotFoundError(f"no model archive at {self.path}")
        # These stay open until close() or __exit__ (through _close_files), or are closed below on failure.
        local = protocol_of(self.path) == "file"
        raw = open(self.path, "rb") if local else _io.BytesIO(self.io.read_file(self.path))  # noqa: SIM115
        try:
            try:
                self._tar = tarfile.open(fileobj=raw, mode="r:gz")  # noqa: SIM115
            except _READ_ERRORS as error:
                raise ModelArchiveError(f"{self.path} is not a readable tar.gz model archive: {error}") from error
            hashes, damage = self._hash_members()
            if damage is not None and METADATA_FILE not in hashes:
                raise damage
            self._load_metadata(hashes)  # a damaged asset fails its hash check here, naming the asset
            if damage is not None:
                raise damage
        except BaseException:
            if self._tar is not None:
                self._tar.close()
            self._tar = None
            raw.close()
            raise
        self._files = [raw]
        self._mode = "r"
        return self

    def close(self) -> None:
        """Finish the archive being written (metadata.json, then it replaces `path`) or close the one being read."""
        if self._mode == "w":
            self._add_bytes(METADATA_FILE, json.dumps(self._metadata_record(), indent=2).encode("utf-8"))
            self._close_files()
            if protocol_of(self.path) == "file":
                os.replace(self._partial_file, self.path)
            else:
                with open(self._partial_file, "rb") as f:
                    self.io.write_file(self.path, f.read())
                os.unlink(self._partial_file)
            self._partial = None
            log.info("Wrote model archive %s with %d assets", self.path, len(self.assets))
        elif self._mode == "r":
            self._close_files()

    def __enter__(self) -> ModelArchive:
        if self._mode is None:
            raise OSError(f"model archive {self.path} is not open: use `with archive.open_write()` or `open_read()`")
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self._mode == "w" and kind is not None:
            self._close_files()
            os.unlink(self._partial_file)
            self._partial = None
            log.warning("Model archive %s was not written (%s); any previous archive there is unchanged",
                        self.path, kind.__name__)
            return
        self.close()

    # -- assets ------------------------------------------------------------------------------
    def add_asset(self, name: str, arcname: str, file: str | os.PathLike | bytes) -> ModelArchiveAsset:
        """Add `file` (a path or URL, or the bytes themselves) as asset `name` at `arcname`; returns its record."""
        if self._mode != "w":
            raise OSError(f"model archive {self.path} is not open for writing: use `with archive.open_write() as a:`")
        if not isinstance(name, str) or not name:
            raise ValueError(f"asset name must be a non-empty string, got {name!r}")
        if name in self.assets:
            raise ValueError(f"model archive {self.path} already has an asset named {name!r}")
        arcname = _member_name(arcname)
        if arcname == METADATA_FILE or arcname in {asset.file for asset in self.assets.values()}:
            raise ValueError(f"asset {name!r}: {arcname!r} is already taken in model archive {self.path}")
        if isinstance(file, (bytes, bytearray, memoryview)):
            digest = self._add_bytes(arcname, bytes(file))
        else:
            digest = self._add_file(arcname, os.fspath(file), name)
        asset = ModelArchiveAsset(arcname, f"sha256:{digest}")
        self.assets[name] = asset
        return asset

    def get_asset(self, name: str) -> _io.BytesIO:
        """The bytes of asset `name`, checked against its recorded sha256."""
        if self._mode != "r":
            raise OSError(f"model archive {self.path} is not open for reading: use `with archive.open_read() as a:`")
        if name not in self.assets:
            raise KeyError(f"model archive {self.path} has no asset {name!r}; assets: {sorted(self.assets)}")
        asset = self.assets[name]
        try:
            data = self._member_file(asset.file).read()
        except _READ_ERRORS as error:
            raise ModelArchiveError(f"asset {name!r} ({asset.file}) in model archive {self.path} "
                                    f"cannot be read: {error}") from error
        _check_hash(self.path, name, asset, "sha256:" + hashlib.sha256(data).hexdigest())
        return _io.BytesIO(data)

    @property
    def versioned_name(self) -> str:
        """``<name>.<version>.tar.gz``, version being the first 4 bytes (little endian) of the archive's md5."""
        if self._mode is not None:
            raise OSError(f"model archive {self.path} is open; close it before asking for its versioned name")
        if not self.io.exists(self.path):
            raise FileNotFoundError(f"no model archive at {self.path}: write it before asking for its versioned name")
        digest = hashlib.md5(self.io.read_file(self.path)).digest()
        base = os.path.basename(self.path.rstrip("/"))
        stem = base[:-len(".tar.gz")] if base.endswith(".tar.gz") else os.path.splitext(base)[0]
        return f"{stem}.{int.from_bytes(digest[:4], 'little')}.tar.gz"

    # -- internals ---------------------------------------------------------------------------
    def _check_closed(self, purpose: str) -> None:
        if self._mode is not None:
            current = "writing" if self._mode == "w" else "reading"
            raise OSError(f"model archive {self.path} is open for {current}; close it before opening it for {purpose}")

    @property
    def _open_tar(self) -> tarfile.TarFile:
        """The tar file of the open archive; set from open_write()/open_read() until it is closed."""
        if self._tar is None:
            raise OSError(f"model archive {self.path} is not open")
        return self._tar

    @property
    def _partial_file(self) -> str:
        """The temporary file being written; set from open_write() until close() or __exit__."""
        if self._partial is None:
            raise OSError(f"model archive {self.path} is not open for writing")
        return self._partial

    def _member_file(self, member: str | tarfile.TarInfo) -> IO[bytes]:
        """The contents of a regular-file member (the only kind hashed and listed as an asset)."""
        source = self._open_tar.extractfile(member)
        if source is None:
            raise ModelArchiveError(f"member {member!r} of model archive {self.path} is not a regular file")
        return source

    def _close_files(self) -> None:
        self._open_tar.close()
        for f in self._files:
            f.close()
        self._tar, self._files, self._mode = None, [], None

    def _metadata_record(self) -> dict:
        environment = self.metadata.get("environment") or package_versions()
        assets = {name: asset._asdict() for name, asset in self.assets.items()}
        return {"type": METADATA_TYPE, **self.metadata, "environment": environment, "assets": assets}

    def _add_bytes(self, arcname: str, data: bytes) -> str:
        self._open_tar.addfile(_member(arcname, len(data)), _io.BytesIO(data))
        return hashlib.sha256(data).hexdigest()

    def _add_file(self, arcname: str, path: str, name: str) -> str:
        fs, fs_path = self.io.filesystem(path)
        if not fs.exists(fs_path):
            raise FileNotFoundError(f"asset {name!r}: no such file {path}")
        if fs.isdir(fs_path):
            raise IsADirectoryError(f"asset {name!r}: {path} is a folder; add its files one by one")
        with fs.open(fs_path, "rb") as source:
            reader = _HashingReader(source)
            self._open_tar.addfile(_member(arcname, int(fs.info(fs_path)["size"])), reader)
        return reader.digest.hexdigest()

    def _hash_members(self) -> tuple[dict[str, str], ModelArchiveError | None]:
        """sha256 of every member, and the damage found past the last member (raised later, after the hash check)."""
        hashes, previous, current = {}, None, None
        try:
            for member in self._open_tar:
                current = member.name
                if member.isfile():
                    digest = hashlib.sha256()
                    source = self._member_file(member)
                    for chunk in iter(functools.partial(source.read, _CHUNK), b""):
                        digest.update(chunk)
                    hashes[member.name] = "sha256:" + digest.hexdigest()
                previous, current = member.name, None
        except _READ_ERRORS as error:
            where = (f"in member {current!r}" if current else
                     f"after member {previous!r}" if previous else "at its start")
            raise ModelArchiveError(f"model archive {self.path} is corrupted {where}: {error}") from error
        try:
            # tarfile stops quietly at a garbled header; reading on to the end checks the gzip CRC.
            for _ in iter(lambda: self._open_tar.fileobj.read(_CHUNK), b""):
                pass
        except _READ_ERRORS as error:
            return hashes, ModelArchiveError(f"model archive {self.path} is corrupted in or after member "
                                             f"{previous!r}: {error}")
        return hashes, None

    def _load_metadata(self, hashes: dict[str, str]) -> None:
        if METADATA_FILE not in hashes:
            raise ModelArchiveError(f"model archive {self.path} has no {METADATA_FILE}; members: {sorted(hashes)}")
        try:
            record = json.loads(self._member_file(METADATA_FILE).read())
            assets = {name: ModelArchiveAsset(entry["file"], entry["hash"]) for name, entry in record["assets"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ModelArchiveError(f"{METADATA_FILE} of model archive {self.path} is not valid model archive "
                                    f"metadata: {type(error).__name__}: {error}") from error
        for name, asset in assets.items():
            if asset.file not in hashes:
                raise ModelArchiveError(f"asset {name!r} ({asset.file}) is listed in {METADATA_FILE} but missing "
                                        f"from model archive {self.path}")
            _check_hash(self.path, name, asset, hashes[asset.file])
        self.assets = assets
        self.metadata = {key: value for key, value in record.items() if key not in ("assets", "type")}


class _HashingReader:
    """A file wrapper hashing what is read through it, so an asset is read once to both store and hash it."""

    def __init__(self, source: IO[bytes]):
        self.source, self.digest = source, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def _member(arcname: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode, info.mtime = size, 0o644, 0
    return info


def _member_name(arcname: str) -> str:
    """`arcname` with '/' separators; ValueError when it is empty, absolute or leaves the archive."""
    text = os.fspath(arcname).replace("\\", "/")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if not parts or text.startswith("/") or ".." in parts or ":" in parts[0]:
        raise ValueError(f"asset arcname {arcname!r} must be a relative path inside the archive (no '..')")
    return posixpath.join(*parts)


def _check_hash(path: str, name: str, asset: ModelArchiveAsset, actual: str) -> None:
    if actual != asset.hash:
        raise ModelArchiveError(f"asset {name!r} ({asset.file}) in model archive {path} is corrupted: its bytes hash "
                                f"to {actual}, but {METADATA_FILE} records {asset.hash}")
