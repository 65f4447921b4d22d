# -*- coding: utf-8 -*-

# Copyright: Contributors to the layerwise.aws collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The layer's package built from a directory, byte for byte reproducibly.

PRIVATE to the collection: not a public API, may change without notice.

The same relative paths, file contents and executable bits give the same zip
bytes, and so the same CodeSha256, on any machine, whatever the timestamps,
owners, other permission bits, umask or directory listing order
(docs/packaging.md gives the rules and the one caveat: the deflate library).

- The zip holds regular files only (no directory entries), sorted by the
  UTF-8 bytes of their POSIX path relative to ``source_dir``.
- Every entry is deflated by zlib at level 6 (raw stream, 32 KiB window,
  memLevel 8, default strategy; input fed in pieces fixed by the content),
  or stored when deflate saves less than 2% on its first 16 KiB; it is
  dated 1980-01-01 00:00:00 (the zip epoch) and given the Unix mode 0755
  when any execute bit is set, else 0644. Headers carry no extra field and
  no comment; the UTF-8 flag is set for non-ASCII names only.
- ZIP64 end records are written only when there are more than 65535 files.

The zip structures are written here with ``struct`` rather than with
``zipfile``, whose defaults (versions, flags, extra fields) are those of the
running Python; ``zipfile`` only reads zips (``_layer_source.zip_unzipped_size``). Files are read and deflated in
worker threads (zlib, like file reads and SHA-256, releases the GIL), small
files in batches, and written in order by the calling thread, which hashes
the zip as it writes it. At most a small window of packed batches waits in
memory; an entry whose packed data grows past ``_IN_MEMORY_LIMIT`` waits in
an anonymous temporary file beside the destination instead.

For unchanged runs, ``PackageCache`` records a package's facts under the
SHA-256 of its files' contents (never their sizes or times), so that
``cached_package_info`` can tell the package's SHA-256 without deflating.
"""

import base64
import collections
import errno
import fnmatch
import hashlib
import itertools
import json
import os
import re
import stat
import struct
import tempfile
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import UNZIPPED_SIZE_LIMIT
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import mib as _mib
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import shown_path

# Bump whenever a change of this file could change the zip bytes for the same files:
# it is part of the content key under which PackageCache records packages.
_FORMAT_VERSION = 1

COMPRESSION_LEVEL = 6
CHUNK_SIZE = 1024 * 1024

_IN_MEMORY_LIMIT = 1024 * 1024
# A file is stored, not deflated, when deflate saves less than this on its first bytes.
_SAMPLE_SIZE = 16 * 1024
_MIN_SAVING_PERCENT = 2
_WINDOW_PER_WORKER = 4
# Small files go to the workers in batches: fewer hand-overs between threads.
_BATCH_FILES = 32
_BATCH_BYTES = 256 * 1024
_MAX_DEFAULT_WORKERS = 8

_DOS_TIME = 0
_DOS_DATE = (1 << 5) | 1  # 1980-01-01: year offset 0, month 1, day 1
_VERSION_NEEDED_STORE = 10  # 1.0
_VERSION_NEEDED_DEFLATE = 20  # 2.0
_VERSION_NEEDED_ZIP64 = 45
_VERSION_MADE_BY = (3 << 8) | 20  # Unix, APPNOTE 2.0
_VERSION_MADE_BY_ZIP64 = (3 << 8) | 45
_FLAG_UTF8 = 0x0800
_METHOD_STORED = 0
_METHOD_DEFLATED = 8
_MODE_EXECUTABLE = stat.S_IFREG | 0o755
_MODE_REGULAR = stat.S_IFREG | 0o644
_MAX_16 = 0xFFFF
_MAX_32 = 0xFFFFFFFF

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")
_ZIP64_END_RECORD = struct.Struct("<IQHHIIQQQQ")
_ZIP64_LOCATOR = struct.Struct("<IIQI")

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_GLOBSTAR = object()
_buffers = threading.local()


class PackageInfo(collections.namedtuple("PackageInfo", "path sha256 sha256_hex size unzipped_size files")):
    """What ``build_package`` wrote. ``sha256`` is base64, as Lambda reports CodeSha256."""

    __slots__ = ()

    def facts(self):
        return {"sha256": self.sha256, "size": self.size, "unzipped_size": self.unzipped_size, "files": self.files}


class _SourceFile:
    """One file of the package: its name in the zip and where its bytes are read from."""

    __slots__ = ("name", "path", "source_dir", "mode", "size", "identity")

    def __init__(self, name, path, source_dir, mode, size, identity):
        self.name = name  # UTF-8 bytes of the POSIX relative path
        self.path = path  # a path without symlinks, opened with O_NOFOLLOW
        self.source_dir = source_dir  # as given, for messages
        self.mode = mode
        self.size = size
        self.identity = identity  # (st_dev, st_ino) seen by the walk

    @property
    def shown(self):
        """The path as the user knows it, for messages."""
        return shown_path(os.path.join(self.source_dir, self.name.decode("utf-8")))


class SourceTree(collections.namedtuple("SourceTree", "root files unzipped_size")):
    """The result of the walk: the real path of ``source_dir``, the files in zip order and their total size."""

    __slots__ = ()


# --- excludes ---------------------------------------------------------------


class Excludes:
    """Glob patterns over paths relative to ``source_dir`` (syntax in docs/packaging.md).

    Close to .gitignore: ``*``, ``?`` and ``[...]`` match within one path
    component; ``**`` as a whole component matches any number of components;
    a pattern without ``/`` (but for a trailing one) matches a name at any
    depth, any other pattern matches from ``source_dir`` down; a trailing
    ``/`` matches directories only; and an excluded directory excludes
    everything below it. Matching is case-sensitive; there is no negation and
    no escape character.
    """

    def __init__(self, patterns):
        if patterns is None:
            patterns = []
        if isinstance(patterns, (str, bytes)) or not isinstance(patterns, (list, tuple)):
            raise LayerInputError("excludes: must be a list of glob patterns")
        self.patterns = tuple(patterns)
        self._compiled = [self._compile(pattern) for pattern in self.patterns]

    @staticmethod
    def _compile(pattern):
        if not isinstance(pattern, str):
            raise LayerInputError(f"excludes: {pattern!r} is not a string")
        if not pattern:
            raise LayerInputError("excludes: a pattern must not be empty")
        if "\0" in pattern:
            raise LayerInputError(f"excludes: {pattern!r} contains a NUL character")
        if pattern.startswith("!"):
            raise LayerInputError(f"excludes: {pattern!r}: negation ('!') is not supported; list only the paths to leave out")
        body = pattern
        directories_only = body.endswith("/")
        anchored = "/" in body.rstrip("/")
        body = body.strip("/")
        parts = body.split("/")
        if not body or any(part in ("", ".", "..") for part in parts):
            raise LayerInputError(
                f"excludes: {pattern!r}: empty, '.' and '..' path components are not allowed"
                " (patterns are relative to source_dir, components separated by a single '/')"
            )
        compiled = tuple(_GLOBSTAR if part == "**" else re.compile(fnmatch.translate(part)) for part in parts)
        if not anchored and compiled[0] is not _GLOBSTAR:
            compiled = (_GLOBSTAR,) + compiled
        return compiled, directories_only

    def match(self, parts, is_dir):
        """Whether the path (a tuple of components) is left out."""
        for compiled, directories_only in self._compiled:
            if directories_only and not is_dir:
                continue
            if _match_parts(compiled, parts):
                return True
            # "a/**" leaves out everything below "a": stop at "a" itself.
            if is_dir and len(compiled) > 1 and compiled[-1] is _GLOBSTAR and _match_parts(compiled[:-1], parts):
                return True
        return False


def _match_parts(pattern, parts):
    if not pattern:
        return not parts
    head = pattern[0]
    if head is _GLOBSTAR:
        if len(pattern) == 1:
            return len(parts) >= 1  # a trailing "**" matches what is below, not the directory itself
        return any(_match_parts(pattern[1:], parts[start:]) for start in range(len(parts) + 1))
    return bool(parts) and head.match(parts[0]) is not None and _match_parts(pattern[1:], parts[1:])


# --- the walk ---------------------------------------------------------------


def _kind_of(mode):
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "a special file"


def _is_within(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _check_root(source_dir):
    if not isinstance(source_dir, str) or not source_dir:
        raise LayerInputError("source_dir: must be a non-empty path")
    if "\0" in source_dir:
        raise LayerInputError(f"source_dir: {source_dir!r} is not a valid path (it contains a NUL character)")
    shown = shown_path(source_dir)
    try:
        info = os.stat(source_dir)
    except FileNotFoundError:
        raise LayerInputError(f"source_dir: {shown} does not exist (or is a broken symlink)")
    except OSError as e:
        raise LayerInputError(f"source_dir: cannot read {shown}: {e.strerror}")
    if not stat.S_ISDIR(info.st_mode):
        raise LayerInputError(f"source_dir: {shown} is not a directory")
    return os.path.realpath(source_dir), info


def scan_source_dir(source_dir, excludes=None, max_unzipped_size=UNZIPPED_SIZE_LIMIT):
    """Walk ``source_dir`` and return the files to package as a ``SourceTree``.

    Every refusal is a ``LayerInputError`` naming ``source_dir`` (or
    ``excludes``), raised before any file is read. Symlinks are followed when
    their target lies inside ``source_dir``; the target's content is stored
    under the link's path.
    """
    patterns = excludes if isinstance(excludes, Excludes) else Excludes(excludes)
    root, root_info = _check_root(source_dir)
    files = []
    total = 0
    excluded = 0
    # A stack, not recursion: a deep tree must not hit the recursion limit.
    # Each item: (real directory path, its components, the (dev, ino) of it and its ancestors).
    stack = [(root, (), ((root_info.st_dev, root_info.st_ino),))]

    def shown(parts):
        return shown_path(os.path.join(source_dir, *parts))

    while stack:
        directory, dir_parts, ancestors = stack.pop()
        try:
            with os.scandir(directory) as listing:
                children = list(listing)
        except OSError as e:
            raise LayerInputError(f"source_dir: cannot read the directory {shown(dir_parts)}: {e.strerror}")
        for child in children:
            parts = dir_parts + (child.name,)
            link_path = child.path
            try:
                info = child.stat(follow_symlinks=False)
            except OSError as e:
                raise LayerInputError(f"source_dir: cannot read {shown(parts)}: {e.strerror}")
            real_path = link_path
            target_error = None
            is_link = stat.S_ISLNK(info.st_mode)
            if is_link:
                try:
                    info = os.stat(link_path)
                except OSError as e:
                    target_error = e
                real_path = os.path.realpath(link_path)
            is_dir = target_error is None and stat.S_ISDIR(info.st_mode)
            if patterns.match(parts, is_dir):
                excluded += 1
                continue
            try:
                name = "/".join(parts).encode("utf-8")
            except UnicodeEncodeError:
                raise LayerInputError(f"source_dir: the name of {shown(parts)} is not valid UTF-8 (rename it, or leave it out with excludes)")
            if is_link:
                _check_symlink(shown(parts), link_path, real_path, root, target_error)
            if is_dir:
                identity = (info.st_dev, info.st_ino)
                if identity in ancestors:
                    raise LayerInputError(
                        f"source_dir: {shown(parts)} is a symlink loop (it points to {shown_path(real_path)}, a directory that contains it)"
                    )
                stack.append((real_path, parts, ancestors + (identity,)))
            elif stat.S_ISREG(info.st_mode):
                if len(name) > _MAX_16:
                    raise LayerInputError(f"source_dir: the path of {shown(parts)} is longer than a zip file name may be (65535 bytes)")
                mode = _MODE_EXECUTABLE if info.st_mode & 0o111 else _MODE_REGULAR
                files.append(_SourceFile(name, real_path, source_dir, mode, info.st_size, (info.st_dev, info.st_ino)))
                total += info.st_size
                if total > max_unzipped_size:
                    raise LayerInputError(
                        f"source_dir: {shown_path(source_dir)} holds more than {max_unzipped_size} bytes ({_mib(max_unzipped_size)}) of files,"
                        " Lambda's limit on the unzipped size of a function and its layers; leave out what the layer does not need with excludes"
                    )
            else:
                raise LayerInputError(
                    f"source_dir: {shown(parts)} is {_kind_of(info.st_mode)}, not a regular file or directory (remove it, or leave it out with excludes)"
                )
    if not files:
        detail = f" ({excluded} paths matched excludes)" if excluded else ""
        raise LayerInputError(f"source_dir: {shown_path(source_dir)} holds no files to package{detail}")
    files.sort(key=lambda source: source.name)
    return SourceTree(root, tuple(files), total)


def _check_symlink(shown, link_path, real_path, root, target_error):
    if target_error is not None:
        if target_error.errno == errno.ELOOP:
            raise LayerInputError(f"source_dir: {shown} is a symlink loop")
        if isinstance(target_error, FileNotFoundError):
            raise LayerInputError(f"source_dir: {shown} is a broken symlink (to {shown_path(os.readlink(link_path))})")
        raise LayerInputError(f"source_dir: cannot read {shown}: {target_error.strerror}")
    if not _is_within(real_path, root):
        raise LayerInputError(f"source_dir: {shown} points outside source_dir (to {shown_path(real_path)})")


# --- deflate ----------------------------------------------------------------


class _EntryData:
    """One entry's data as it goes in the zip (deflated or stored), its CRC-32 and sizes.

    Kept in memory up to ``_IN_MEMORY_LIMIT`` bytes, beyond that in an
    anonymous temporary file.
    """

    def __init__(self, spill_dir, digest_content=False):
        self.method = _METHOD_DEFLATED
        self.content_digest = hashlib.sha256() if digest_content else None
        self.crc = 0
        self.size = 0
        self.compressed_size = 0
        self._chunks = []
        self._spill = None
        self._spill_dir = spill_dir

    def keep(self, data):
        if not data:
            return
        self.compressed_size += len(data)
        if self._spill is None and self.compressed_size > _IN_MEMORY_LIMIT:
            self._spill = tempfile.TemporaryFile(dir=self._spill_dir)
            for chunk in self._chunks:
                self._spill.write(chunk)
            self._chunks = []
        if self._spill is None:
            self._chunks.append(data)
        else:
            self._spill.write(data)

    def read_chunk(self, chunk):
        self.crc = zlib.crc32(chunk, self.crc)
        self.size += len(chunk)
        if self.content_digest is not None:
            self.content_digest.update(chunk)

    def write_to(self, write, prefix=b""):
        """Write ``prefix`` and the data: one call when the data is in memory."""
        if self._spill is None:
            write(b"".join([prefix] + self._chunks))
            return
        write(prefix)
        self._spill.seek(0)
        while True:
            chunk = self._spill.read(CHUNK_SIZE)
            if not chunk:
                break
            write(chunk)

    def close(self):
        self._chunks = []
        if self._spill is not None:
            self._spill.close()


def _chunk_buffer():
    """This thread's read buffer: one per worker, not one per file."""
    buffer = getattr(_buffers, "view", None)
    if buffer is None:
        buffer = _buffers.view = memoryview(bytearray(CHUNK_SIZE))
    return buffer


def _read_full(readinto, view):
    """Fill ``view`` unless the end comes first, so that chunks depend on the content only."""
    filled = 0
    while filled < len(view):
        count = readinto(view[filled:])
        if not count:
            break
        filled += count
    return filled


def _saves_enough(sample_size, deflated_size):
    return deflated_size * 100 <= sample_size * (100 - _MIN_SAVING_PERCENT)


def pack_stream(readinto, spill_dir=None, digest_content=False):
    """Read everything ``readinto`` yields and return it deflated or stored (an ``_EntryData``).

    The data is deflated when its first ``_SAMPLE_SIZE`` bytes (all of it
    when shorter) deflate to at most ``100 - _MIN_SAVING_PERCENT`` percent of
    their size; otherwise it is stored as it is (already compressed data,
    tiny and empty files), as zip does, but decided before spending the time
    to deflate a whole incompressible file. Input reaches zlib in pieces
    that depend on the content only. With ``digest_content``, the SHA-256 of
    the content is taken on the way (``content_digest``).
    """
    result = _EntryData(spill_dir, digest_content)
    view = _chunk_buffer()
    try:
        count = _read_full(readinto, view)
        first = view[:count]
        result.read_chunk(first)
        compressor = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, 8, zlib.Z_DEFAULT_STRATEGY)
        sample = first[:_SAMPLE_SIZE]
        head = compressor.compress(sample)
        if count <= _SAMPLE_SIZE:  # the whole content
            deflated = head + compressor.flush()
            if _saves_enough(count, len(deflated)):
                result.keep(deflated)
            else:
                result.method = _METHOD_STORED
                result.keep(bytes(first))
            return result
        # A copy of the compressor tells what the sample deflates to; the stream goes on unchanged.
        if not _saves_enough(len(sample), len(head) + len(compressor.copy().flush())):
            result.method = _METHOD_STORED
            result.keep(bytes(first))
            while count == len(view):
                count = _read_full(readinto, view)
                chunk = view[:count]
                result.read_chunk(chunk)
                result.keep(bytes(chunk))
            return result
        result.keep(head)
        result.keep(compressor.compress(first[_SAMPLE_SIZE:]))
        while count == len(view):
            count = _read_full(readinto, view)
            chunk = view[:count]
            result.read_chunk(chunk)
            result.keep(compressor.compress(chunk))
        result.keep(compressor.flush())
        return result
    except BaseException:
        result.close()
        raise


def _open_checked(source):
    """Open a listed file, refusing one that is no longer the regular file the walk saw."""
    try:
        descriptor = os.open(source.path, _OPEN_FLAGS)
    except OSError as e:
        raise LayerInputError(f"source_dir: cannot read {source.shown}: {e.strerror}")
    stream = open(descriptor, "rb", buffering=0)
    opened = os.fstat(descriptor)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != source.identity:
        stream.close()
        raise LayerInputError(f"source_dir: {source.shown} changed while the package was being built")
    return stream


def _check_size_read(source, size):
    if size != source.size:
        raise LayerInputError(
            f"source_dir: {source.shown} changed while the package was being built ({source.size} bytes when listed, {size} when read)"
        )


def _pack_file(source, spill_dir, digest_content=False):
    with _open_checked(source) as stream:
        try:
            packed = pack_stream(stream.readinto, spill_dir, digest_content)
        except OSError as e:
            raise LayerInputError(f"source_dir: cannot read {source.shown}: {e.strerror}")
    try:
        _check_size_read(source, packed.size)
    except LayerInputError:
        packed.close()
        raise
    return packed


def _digest_file(source):
    """The SHA-256 of a listed file's content, read with the same checks as for packing."""
    digest = hashlib.sha256()
    view = _chunk_buffer()
    size = 0
    with _open_checked(source) as stream:
        try:
            while True:
                count = _read_full(stream.readinto, view)
                digest.update(view[:count])
                size += count
                if count < len(view):
                    break
        except OSError as e:
            raise LayerInputError(f"source_dir: cannot read {source.shown}: {e.strerror}")
    _check_size_read(source, size)
    return digest.digest()


# --- the zip ----------------------------------------------------------------


class _HashingWriter:
    """Writes through ``write``, counting bytes and hashing them on the way."""

    def __init__(self, write):
        self._write = write
        self.digest = hashlib.sha256()
        self.offset = 0

    def write(self, data):
        self._write(data)
        self.digest.update(data)
        self.offset += len(data)


class ZipWriter:
    """Writes the zip structures of the entries, in the order they are added.

    Entries never use ZIP64 fields (a package is far below 4 GiB); the end
    records do when there are more than 65535 entries.
    """

    def __init__(self, write):
        self._out = _HashingWriter(write)
        self._central = []
        self.unzipped_size = 0

    @property
    def digest(self):
        return self._out.digest

    @property
    def offset(self):
        return self._out.offset

    def add(self, name, mode, data):
        """Add one entry: ``name`` (bytes), its Unix ``mode`` and its ``_EntryData``."""
        offset = self._out.offset
        if max(offset, data.size, data.compressed_size) >= _MAX_32:
            raise LayerInputError("source_dir: the package would be larger than 4 GiB, far over Lambda's limits")
        flags = 0 if name.isascii() else _FLAG_UTF8
        needed = _VERSION_NEEDED_DEFLATE if data.method == _METHOD_DEFLATED else _VERSION_NEEDED_STORE
        header = _LOCAL_HEADER.pack(
            0x04034B50, needed, flags, data.method, _DOS_TIME, _DOS_DATE,
            data.crc, data.compressed_size, data.size, len(name), 0,
        )
        data.write_to(self._out.write, header + name)
        self._central.append(
            _CENTRAL_HEADER.pack(
                0x02014B50, _VERSION_MADE_BY, needed, flags, data.method, _DOS_TIME, _DOS_DATE,
                data.crc, data.compressed_size, data.size, len(name), 0, 0, 0, 0, mode << 16, offset,
            )
            + name
        )
        self.unzipped_size += data.size

    def finish(self):
        count = len(self._central)
        directory_offset = self._out.offset
        for record in self._central:
            self._out.write(record)
        directory_size = self._out.offset - directory_offset
        if count > _MAX_16 or directory_offset >= _MAX_32 or directory_size >= _MAX_32:
            zip64_offset = self._out.offset
            self._out.write(
                _ZIP64_END_RECORD.pack(
                    0x06064B50, _ZIP64_END_RECORD.size - 12, _VERSION_MADE_BY_ZIP64, _VERSION_NEEDED_ZIP64, 0, 0,
                    count, count, directory_size, directory_offset,
                )
            )
            self._out.write(_ZIP64_LOCATOR.pack(0x07064B50, 0, zip64_offset, 1))
        self._out.write(
            _END_RECORD.pack(
                0x06054B50, 0, 0, min(count, _MAX_16), min(count, _MAX_16),
                min(directory_size, _MAX_32), min(directory_offset, _MAX_32), 0,
            )
        )
        return count


def default_workers():
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_DEFAULT_WORKERS))


def _batches(files):
    """Consecutive files in groups of up to ``_BATCH_FILES`` and about ``_BATCH_BYTES``: one task each."""
    batch, size = [], 0
    for source in files:
        if batch and (size + source.size > _BATCH_BYTES or len(batch) >= _BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(source)
        size += source.size
    if batch:
        yield batch


def _pack_batch(batch, spill_dir, digest_content=False):
    packed = []
    try:
        for source in batch:
            packed.append(_pack_file(source, spill_dir, digest_content))
    except BaseException:
        _close_all(packed)
        raise
    return packed


def _close_all(packed):
    for data in packed:
        data.close()


def _write_entries(files, writer, workers, spill_dir, content_digests=None):
    """Pack ``files`` and add them to ``writer`` in order; fill ``content_digests`` when it is a list."""
    digest_content = content_digests is not None

    def add(source, data):
        writer.add(source.name, source.mode, data)
        if digest_content:
            content_digests.append(data.content_digest.digest())

    if workers <= 1:
        for source in files:
            packed = _pack_file(source, spill_dir, digest_content)
            try:
                add(source, packed)
            finally:
                packed.close()
        return
    # Pack ahead in the workers, write in order here: at most `window` batches wait.
    window = workers * _WINDOW_PER_WORKER
    remaining = _batches(files)
    pending = collections.deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for batch in itertools.islice(remaining, window):
                pending.append((batch, pool.submit(_pack_batch, batch, spill_dir, digest_content)))
            while pending:
                batch, future = pending.popleft()
                packed = future.result()
                try:
                    following = next(remaining, None)
                    if following is not None:
                        pending.append((following, pool.submit(_pack_batch, following, spill_dir, digest_content)))
                    for source, data in zip(batch, packed):
                        add(source, data)
                finally:
                    _close_all(packed)
        except BaseException:
            for _batch, future in pending:
                future.cancel()
            for _batch, future in pending:
                if not future.cancelled() and future.exception() is None:
                    _close_all(future.result())
            raise


def build_package(source_dir, excludes, destination_path, workers=None, max_unzipped_size=UNZIPPED_SIZE_LIMIT, cache=None):
    """Zip ``source_dir`` (less ``excludes``) reproducibly into ``destination_path``.

    The zip is written to a temporary file in the destination's directory and
    renamed into place, so ``destination_path`` holds either its previous
    content or the whole new package. Returns a ``PackageInfo``; the SHA-256
    is computed while writing. With a ``PackageCache``, the package's facts
    are recorded under the content key of the files (hashed while they are
    read, no second read). Bad input raises ``LayerInputError`` (message
    starting with ``source_dir:`` or ``excludes:``); a destination that cannot
    be written raises ``OSError``.
    """
    tree = scan_source_dir(source_dir, excludes, max_unzipped_size)
    destination_path = os.path.abspath(destination_path)
    destination_dir = os.path.dirname(destination_path)
    if _is_within(os.path.realpath(destination_dir), tree.root):
        raise LayerInputError(
            f"source_dir: the package would be written to {shown_path(destination_path)}, inside source_dir, and become part of the next one"
        )
    workers = default_workers() if workers is None else max(1, int(workers))
    temporary_path = os.path.join(destination_dir, f".{os.path.basename(destination_path)}.{os.urandom(6).hex()}.tmp")
    descriptor = os.open(temporary_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        with open(descriptor, "wb", buffering=CHUNK_SIZE) as stream:
            writer = ZipWriter(stream.write)
            content_digests = [] if cache is not None else None
            _write_entries(tree.files, writer, workers, destination_dir, content_digests)
            count = writer.finish()
            size = writer.offset
        if writer.unzipped_size > max_unzipped_size:
            raise LayerInputError(
                f"source_dir: {shown_path(source_dir)} holds {writer.unzipped_size} bytes of files, over the {max_unzipped_size} bytes"
                f" ({_mib(max_unzipped_size)}) Lambda accepts unzipped for a function and its layers"
            )
        os.replace(temporary_path, destination_path)
    except BaseException:
        try:
            os.unlink(temporary_path)
        except OSError:
            pass
        raise
    digest = writer.digest.digest()
    info = PackageInfo(
        path=destination_path,
        sha256=base64.b64encode(digest).decode("ascii"),
        sha256_hex=digest.hex(),
        size=size,
        unzipped_size=writer.unzipped_size,
        files=count,
    )
    if cache is not None:
        cache.record(_content_key(tree.files, content_digests), info)
    return info


# --- unchanged runs: the package's facts by the content of its files --------


def _content_key(files, content_digests):
    """SHA-256 (hex) of everything the zip bytes depend on: format, deflate library, names, modes, contents."""
    key = hashlib.sha256()
    settings = (
        f"layerwise.aws package format {_FORMAT_VERSION}; zlib {zlib.ZLIB_RUNTIME_VERSION}; level {COMPRESSION_LEVEL};"
        f" chunk {CHUNK_SIZE}; sample {_SAMPLE_SIZE}; saving {_MIN_SAVING_PERCENT}\n"
    )
    key.update(settings.encode("utf-8"))
    for source, content_digest in zip(files, content_digests):
        key.update(struct.pack("<IIQ", len(source.name), source.mode, source.size) + source.name + content_digest)
    return key.hexdigest()


def _digest_batch(batch):
    return [_digest_file(source) for source in batch]


def content_key(tree, workers=None):
    """The content key of a ``SourceTree``: every file is read and hashed (in worker threads)."""
    workers = default_workers() if workers is None else max(1, int(workers))
    if workers <= 1:
        digests = [_digest_file(source) for source in tree.files]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            digests = [digest for batch in pool.map(_digest_batch, _batches(tree.files)) for digest in batch]
    return _content_key(tree.files, digests)


class PackageCache:
    """What package the same files gave before: content key -> ``PackageInfo`` facts, no zip.

    The key hashes the content of every file (and names, modes, the package
    format and the zlib version), never sizes or timestamps, so any change to
    a file, one byte with the same size and time included, is a miss. Each
    record is a small JSON file in ``directory``, which must be a directory
    owned by the user running the module and writable by nobody else (it is
    created with mode 0700); otherwise the cache is not used. A record that
    cannot be read is a miss: the cache never fails a run.
    """

    def __init__(self, directory):
        self.directory = directory

    def _usable(self):
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            info = os.lstat(self.directory)
        except (OSError, ValueError):
            return False
        return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022

    def _path(self, key):
        return os.path.join(self.directory, f"{key}.json")

    def lookup(self, key):
        """The recorded facts (``path`` None) for ``key``, or None."""
        if not self._usable():
            return None
        try:
            with open(self._path(key), "r", encoding="utf-8") as record:
                facts = json.load(record)
            info = PackageInfo(
                path=None, sha256=facts["sha256"], sha256_hex=facts["sha256_hex"], size=facts["size"],
                unzipped_size=facts["unzipped_size"], files=facts["files"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(info.sha256_hex, str) or re.fullmatch("[0-9a-f]{64}", info.sha256_hex) is None:
            return None
        if base64.b64encode(bytes.fromhex(info.sha256_hex)).decode("ascii") != info.sha256:
            return None
        if not all(isinstance(value, int) and value >= 0 for value in (info.size, info.unzipped_size, info.files)):
            return None
        return info

    def record(self, key, info):
        """Record ``info`` under ``key``; silently nothing when the cache cannot be written."""
        if not self._usable():
            return
        facts = {name: getattr(info, name) for name in ("sha256", "sha256_hex", "size", "unzipped_size", "files")}
        temporary = os.path.join(self.directory, f".{key}.{os.urandom(6).hex()}.tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as record:
                json.dump(facts, record)
            os.replace(temporary, self._path(key))
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass


def cached_package_info(source_dir, excludes, cache, workers=None, max_unzipped_size=UNZIPPED_SIZE_LIMIT):
    """The facts of the package ``source_dir`` would give, from ``cache``, or None.

    Walks the tree (every refusal of ``build_package`` applies) and reads and
    hashes every file, but deflates and writes nothing. On a hit, the returned
    ``PackageInfo`` has ``path`` None: call ``build_package`` when the zip
    itself is needed (to publish it).
    """
    tree = scan_source_dir(source_dir, excludes, max_unzipped_size)
    return cache.lookup(content_key(tree, workers))
