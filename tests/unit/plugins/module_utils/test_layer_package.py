# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import base64
import hashlib
import io
import json
import os
import random
import shutil
import socket
import stat
import struct
import subprocess
import zipfile
import zlib

import pytest

from ansible_collections.layerwise.aws.plugins.module_utils import _layer_package
from ansible_collections.layerwise.aws.plugins.module_utils._layer_errors import LayerInputError
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import UNZIPPED_SIZE_LIMIT
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import Excludes
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import PackageCache
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import ZipWriter
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import build_package
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import cached_package_info
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import content_key
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import pack_stream
from ansible_collections.layerwise.aws.plugins.module_utils._layer_package import scan_source_dir
from ansible_collections.layerwise.aws.plugins.module_utils._layer_source import zip_unzipped_size

TEXT = b"".join(b"def function_%d(value):\n    return value * %d\n\n" % (n, n) for n in range(2000))
RANDOM = random.Random(12).randbytes(200000)

# relative path -> (content, executable)
TREE = {
    "python/pkg/__init__.py": (b"", False),
    "python/pkg/module.py": (TEXT, False),
    "python/pkg/data.bin": (RANDOM, False),
    "python/pkg/sub/deep.py": (b"x = 1\n", False),
    "bin/tool": (b"#!/bin/sh\necho tool\n", True),
    "lib/libthing.so": (RANDOM[:5000], True),
    "nodejs/node_modules/m/index.js": (b"module.exports = 1;\n", False),
    "README": (b"readme\n", False),
}


def make_tree(root, tree=None, reverse=False, regular_mode=0o644, executable_mode=0o755, mtime=None, owner=None):
    tree = TREE if tree is None else tree
    items = sorted(tree.items(), reverse=reverse)
    for relative, (content, executable) in items:
        path = os.path.join(root, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)
        os.chmod(path, executable_mode if executable else regular_mode)
        if owner is not None:
            os.chown(path, owner, owner)
    for directory, _dirs, names in os.walk(root):
        for name in names + [""]:
            if mtime is not None:
                os.utime(os.path.join(directory, name) if name else directory, (mtime, mtime), follow_symlinks=False)
    return str(root)


def build(tmp_path, source, excludes=None, name="package.zip", **kwargs):
    destination = tmp_path / name
    info = build_package(str(source), excludes or [], str(destination), **kwargs)
    return info, destination.read_bytes()


def b64_sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def names_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


# --- reproducibility --------------------------------------------------------


def test_same_files_give_same_bytes_whatever_times_modes_order_and_owner(tmp_path, monkeypatch):
    first = make_tree(tmp_path / "a", mtime=315532800 + 86400 * 7000)
    old_umask = os.umask(0o077)
    try:
        second = make_tree(
            tmp_path / "b", reverse=True, regular_mode=0o600, executable_mode=0o700, mtime=1700000000,
            owner=4242 if os.geteuid() == 0 else None,
        )
    finally:
        os.umask(old_umask)
    info_a, bytes_a = build(tmp_path, first, name="a.zip")

    # The second walk sees every directory listed in reverse order.
    real_scandir = os.scandir

    class Reversed:
        def __init__(self, path):
            self._listing = real_scandir(path)

        def __enter__(self):
            return reversed(sorted(self._listing, key=lambda entry: entry.name))

        def __exit__(self, *exc):
            self._listing.close()

    monkeypatch.setattr(_layer_package.os, "scandir", Reversed)
    info_b, bytes_b = build(tmp_path, second, name="b.zip")

    assert bytes_a == bytes_b
    assert info_a.sha256 == info_b.sha256 == b64_sha256(bytes_a)
    assert info_a.sha256_hex == hashlib.sha256(bytes_a).hexdigest()
    assert info_a.size == len(bytes_a)
    assert info_a.files == len(TREE)
    assert info_a.unzipped_size == sum(len(content) for content, _exe in TREE.values())
    assert info_a.path == str(tmp_path / "a.zip")
    # What differed between the two trees (owners only where chown is allowed).
    stat_a, stat_b = os.stat(os.path.join(first, "bin", "tool")), os.stat(os.path.join(second, "bin", "tool"))
    assert (stat.S_IMODE(stat_a.st_mode), stat.S_IMODE(stat_b.st_mode)) == (0o755, 0o700)
    assert stat_a.st_mtime != stat_b.st_mtime
    assert os.geteuid() != 0 or stat_b.st_uid == 4242 != stat_a.st_uid


def test_executable_bit_or_one_byte_changes_the_hash(tmp_path):
    source = make_tree(tmp_path / "src", mtime=1600000000)
    reference = build(tmp_path, source, name="0.zip")[0]

    os.chmod(os.path.join(source, "README"), 0o744)
    executable = build(tmp_path, source, name="1.zip")[0]
    assert executable.sha256 != reference.sha256
    os.chmod(os.path.join(source, "README"), 0o644)
    assert build(tmp_path, source, name="2.zip")[0].sha256 == reference.sha256

    # One byte, same size, same mtime: still a different package.
    path = os.path.join(source, "python", "pkg", "module.py")
    with open(path, "r+b") as handle:
        handle.seek(100)
        original = handle.read(1)
        handle.seek(100)
        handle.write(bytes([original[0] ^ 1]))
    os.utime(path, (1600000000, 1600000000))
    changed = build(tmp_path, source, name="3.zip")[0]
    assert changed.unzipped_size == reference.unzipped_size
    assert changed.sha256 != reference.sha256


def test_worker_count_does_not_change_the_bytes(tmp_path):
    tree = dict(TREE)
    # Larger than a read chunk and, compressed, than what waits in memory: spilled to a file.
    tree["lib/big.so"] = (os.urandom(3 * 1024 * 1024 + 17), True)
    tree["python/big.txt"] = (TEXT * 30, False)
    for index in range(60):
        tree[f"python/many/m{index:03d}.py"] = (b"# %d\n" % index * (index + 1), False)
    source = make_tree(tmp_path / "src", tree)
    results = [build(tmp_path, source, name=f"w{workers}.zip", workers=workers) for workers in (1, 2, 4)]
    assert results[0][1] == results[1][1] == results[2][1]
    with zipfile.ZipFile(io.BytesIO(results[0][1])) as archive:
        assert archive.testzip() is None
        assert archive.read("lib/big.so") == tree["lib/big.so"][0]
        assert archive.read("python/big.txt") == tree["python/big.txt"][0]


def test_chunking_depends_on_content_only():
    data = os.urandom(100) + TEXT * 200 + os.urandom(_layer_package.CHUNK_SIZE)
    assert len(data) > 2 * _layer_package.CHUNK_SIZE
    whole = pack_stream(io.BytesIO(data).readinto)
    source = io.BytesIO(data)
    rng = random.Random(3)

    def short_reads(buffer):
        return source.readinto(memoryview(buffer)[:rng.randint(1, 70000)])

    pieces = pack_stream(short_reads)
    chunks_whole, chunks_pieces = [], []
    whole.write_to(chunks_whole.append)
    pieces.write_to(chunks_pieces.append)
    assert b"".join(chunks_whole) == b"".join(chunks_pieces)
    assert (whole.crc, whole.size, whole.compressed_size) == (pieces.crc, pieces.size, pieces.compressed_size)
    assert zlib.decompress(b"".join(chunks_whole), -15) == data
    assert whole.crc == zlib.crc32(data)


# --- the format -------------------------------------------------------------


def test_every_header_field_is_fixed(tmp_path):
    source = make_tree(tmp_path / "src", {"bin/run": (TEXT, True), "é.txt": (b"e\n", False)}, mtime=1234567890)
    _info, data = build(tmp_path, source)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.comment == b""
        entries = archive.infolist()
    assert [entry.filename for entry in entries] == ["bin/run", "é.txt"]
    # bin/run is deflated; é.txt, too small to gain from deflate, is stored.
    for entry, mode, flags, method, needed in zip(entries, (0o100755, 0o100644), (0, 0x800), (8, 0), (20, 10)):
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert entry.compress_type == method
        assert (entry.create_system, entry.create_version, entry.extract_version) == (3, 20, needed)
        assert entry.flag_bits == flags
        assert entry.extra == b"" and entry.comment == b""
        assert entry.internal_attr == 0
        assert entry.external_attr == mode << 16

    # The bytes, field by field (only the deflate data comes from zlib).
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    run_data = compressor.compress(TEXT) + compressor.flush()
    run_crc = zlib.crc32(TEXT)
    name = b"bin/run"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, run_crc, len(run_data), len(TEXT), len(name), 0)
    assert data.startswith(local + name + run_data)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, 0, 8, 0, 0x21, run_crc, len(run_data), len(TEXT), len(name), 0, 0, 0, 0,
        0o100755 << 16, 0,
    )
    assert central + name in data
    second = "é.txt".encode()
    offset = len(local + name + run_data)
    stored = struct.pack("<IHHHHHIIIHH", 0x04034B50, 10, 0x800, 0, 0, 0x21, zlib.crc32(b"e\n"), 2, 2, len(second), 0)
    assert data[offset:].startswith(stored + second + b"e\n")
    end = data[-22:]
    assert end[:4] == b"PK\x05\x06" and struct.unpack("<HHHHIIH", end[4:])[2:4] == (2, 2) and end[-2:] == b"\x00\x00"


def test_incompressible_files_are_stored_and_the_rest_deflated(tmp_path):
    sample = _layer_package._SAMPLE_SIZE
    tree = {
        "random.so": (os.urandom(3 * sample), False),
        "random-then-text": (os.urandom(sample) + TEXT * 4, False),
        "text-then-random": (TEXT[:sample] + os.urandom(4 * sample), False),
        "text.py": (TEXT, False),
        "tiny.py": (b"x = 1\n", False),
        "empty.py": (b"", False),
    }
    source = make_tree(tmp_path / "src", tree)
    info, data = build(tmp_path, source)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        methods = {entry.filename: entry.compress_type for entry in archive.infolist()}
        assert archive.testzip() is None
        assert all(archive.read(name) == content for name, (content, _exe) in tree.items())
    assert methods == {
        "random.so": zipfile.ZIP_STORED,
        "random-then-text": zipfile.ZIP_STORED,  # decided on its first bytes
        "text-then-random": zipfile.ZIP_DEFLATED,
        "text.py": zipfile.ZIP_DEFLATED,
        "tiny.py": zipfile.ZIP_STORED,
        "empty.py": zipfile.ZIP_STORED,
    }
    assert info.unzipped_size == sum(len(content) for content, _exe in tree.values())


def test_files_sorted_by_utf8_bytes_and_no_directory_entries(tmp_path):
    names = ["z", "a/b", "a-b", "a.b", "B", "é", "a/c/d", "e\u0301"]
    source = make_tree(tmp_path / "src", {name: (name.encode(), False) for name in names})
    _info, data = build(tmp_path, source)
    assert names_of(data) == sorted(names, key=lambda name: name.encode("utf-8"))
    assert names_of(data) == ["B", "a-b", "a.b", "a/b", "a/c/d", "e\u0301", "z", "é"]


def test_modes_are_normalised(tmp_path):
    tree = {"owner-x": (b"1", False), "group-x": (b"2", False), "read-only": (b"3", False), "private": (b"4", False)}
    source = make_tree(tmp_path / "src", tree)
    for name, mode in (("owner-x", 0o100), ("group-x", 0o610), ("read-only", 0o444), ("private", 0o600)):
        os.chmod(os.path.join(source, name), mode)
    _info, data = build(tmp_path, source)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        modes = {entry.filename: entry.external_attr >> 16 for entry in archive.infolist()}
    assert modes == {"group-x": 0o100755, "owner-x": 0o100755, "private": 0o100644, "read-only": 0o100644}


def test_package_reads_back_with_zipfile_and_unzip(tmp_path):
    source = make_tree(tmp_path / "src")
    info, data = build(tmp_path, source)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        for relative, (content, _exe) in TREE.items():
            assert archive.read(relative) == content
    for command in (["unzip", "-tq"], ["zip", "-T"]):
        if shutil.which(command[0]):
            result = subprocess.run(command + [info.path], capture_output=True, text=True, check=False)
            assert result.returncode == 0, result.stdout + result.stderr


def test_zip64_end_records_beyond_65535_entries(tmp_path):
    empty = pack_stream(io.BytesIO(b"").readinto)

    def write(count):
        out = io.BytesIO()
        writer = ZipWriter(out.write)
        for index in range(count):
            writer.add(b"f/%06d" % index, 0o100644, empty)
        assert writer.finish() == count
        return out.getvalue()

    classic = write(65535)
    assert b"PK\x06\x06" not in classic[-120:]
    assert classic[-22:-18] == b"PK\x05\x06" and struct.unpack("<HH", classic[-14:-10]) == (65535, 65535)

    data = write(65536)
    assert data[-98:-94] == b"PK\x06\x06" and data[-42:-38] == b"PK\x06\x07"
    assert struct.unpack("<HH", data[-14:-10]) == (0xFFFF, 0xFFFF)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        assert len(entries) == 65536
        assert entries[-1].filename == "f/065535" and archive.read(entries[-1]) == b""
    if shutil.which("unzip"):
        path = tmp_path / "many.zip"
        path.write_bytes(data)
        result = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def test_facts_are_the_returned_keys(tmp_path):
    info, _data = build(tmp_path, make_tree(tmp_path / "src"))
    assert info.facts() == {"sha256": info.sha256, "size": info.size, "unzipped_size": info.unzipped_size, "files": info.files}


# --- symlinks ---------------------------------------------------------------


def test_symlinks_inside_are_followed_and_stored_as_files(tmp_path):
    source = make_tree(tmp_path / "src")
    os.symlink("pkg/module.py", os.path.join(source, "python", "alias.py"))
    os.symlink("../bin", os.path.join(source, "python", "tools"))
    os.symlink(os.path.join(source, "README"), os.path.join(source, "README.abs"))
    _info, data = build(tmp_path, source)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("python/alias.py") == TREE["python/pkg/module.py"][0]
        assert archive.read("python/tools/tool") == TREE["bin/tool"][0]
        assert archive.getinfo("python/tools/tool").external_attr >> 16 == 0o100755
        assert archive.read("README.abs") == TREE["README"][0]
        assert all(entry.external_attr >> 16 in (0o100644, 0o100755) for entry in archive.infolist())


def test_source_dir_itself_may_be_a_symlink(tmp_path):
    source = make_tree(tmp_path / "src")
    os.symlink(source, tmp_path / "link")
    assert build(tmp_path, tmp_path / "link", name="l.zip")[1] == build(tmp_path, source, name="s.zip")[1]


@pytest.mark.parametrize("target", ["outside.txt", "outside"])
def test_symlink_leaving_source_dir_is_refused(tmp_path, target):
    source = make_tree(tmp_path / "src")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside.txt").write_bytes(b"secret")
    os.symlink(f"../../{target}", os.path.join(source, "python", "escape"))
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source)
    assert str(error.value) == f"source_dir: {source}/python/escape points outside source_dir (to {tmp_path / target})"
    assert not (tmp_path / "package.zip").exists()


def test_symlink_through_another_link_to_outside_is_refused(tmp_path):
    source = make_tree(tmp_path / "src")
    os.symlink(str(tmp_path), os.path.join(source, "hop"))
    os.symlink("hop", os.path.join(source, "inner"))
    with pytest.raises(LayerInputError, match="points outside source_dir"):
        build(tmp_path, source)


def test_excluded_symlink_is_not_followed(tmp_path):
    source = make_tree(tmp_path / "src")
    os.symlink("/etc", os.path.join(source, "etc"))
    os.symlink("missing", os.path.join(source, "dangling"))
    _info, data = build(tmp_path, source, excludes=["etc", "dangling"])
    assert not any(name.startswith(("etc", "dangling")) for name in names_of(data))


CONTAINS = " (it points to {src}, a directory that contains it)"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda src: os.symlink("self", os.path.join(src, "self")), "source_dir: {src}/self is a symlink loop"),
        (lambda src: os.symlink("..", os.path.join(src, "python", "up")), "source_dir: {src}/python/up is a symlink loop" + CONTAINS),
        (lambda src: os.symlink(".", os.path.join(src, "here")), "source_dir: {src}/here is a symlink loop" + CONTAINS),
        (lambda src: os.symlink("nothing", os.path.join(src, "gone")), "source_dir: {src}/gone is a broken symlink (to nothing)"),
    ],
)
def test_symlink_loops_and_broken_links_are_refused(tmp_path, make, message):
    source = make_tree(tmp_path / "src")
    make(source)
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source)
    assert str(error.value) == message.format(src=source)


def test_links_between_sibling_directories_are_not_a_loop(tmp_path):
    source = make_tree(tmp_path / "src")
    os.symlink("../bin", os.path.join(source, "lib", "bin"))
    os.symlink("../lib", os.path.join(source, "python", "lib"))
    names = names_of(build(tmp_path, source)[1])
    assert "python/lib/bin/tool" in names and "lib/bin/tool" in names


# --- other refusals ---------------------------------------------------------


def test_fifo_and_socket_are_refused_unless_excluded(tmp_path):
    source = make_tree(tmp_path / "src")
    os.mkfifo(os.path.join(source, "python", "pipe"))
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source)
    assert str(error.value) == f"source_dir: {source}/python/pipe is a FIFO, not a regular file or directory (remove it, or leave it out with excludes)"
    os.unlink(os.path.join(source, "python", "pipe"))

    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(os.path.join(source, "sock"))
        with pytest.raises(LayerInputError, match=r"^source_dir: .*/sock is a socket, not a regular file"):
            build(tmp_path, source)
        assert "sock" not in names_of(build(tmp_path, source, excludes=["sock"])[1])
    finally:
        server.close()


def test_device_kinds_are_named():
    assert _layer_package._kind_of(stat.S_IFCHR | 0o600) == "a character device"
    assert _layer_package._kind_of(stat.S_IFBLK | 0o600) == "a block device"


@pytest.mark.parametrize(
    "given, message",
    [
        ("", "source_dir: must be a non-empty path"),
        ("a\0b", "source_dir: 'a\\x00b' is not a valid path (it contains a NUL character)"),
        ("{tmp}/missing", "source_dir: {tmp}/missing does not exist (or is a broken symlink)"),
        ("{tmp}/file", "source_dir: {tmp}/file is not a directory"),
        ("{tmp}/empty", "source_dir: {tmp}/empty holds no files to package"),
    ],
)
def test_bad_source_dir_is_refused(tmp_path, given, message):
    (tmp_path / "file").write_bytes(b"x")
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(LayerInputError) as error:
        build_package(given.format(tmp=tmp_path), [], str(tmp_path / "out.zip"))
    assert str(error.value) == message.format(tmp=tmp_path)


def test_everything_excluded_is_refused(tmp_path):
    source = make_tree(tmp_path / "src")
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source, excludes=["python", "bin", "lib/", "nodejs", "README"])
    assert str(error.value) == f"source_dir: {source} holds no files to package (5 paths matched excludes)"


def test_unreadable_file_and_directory_are_refused(tmp_path, monkeypatch):
    # As root nothing is unreadable by mode, so the refusal from the system is injected.
    source = make_tree(tmp_path / "src")
    real_open, real_scandir = os.open, os.scandir
    blocked = {os.path.join(source, "python", "pkg", "module.py"), os.path.join(source, "nodejs")}

    def fake_open(path, *args, **kwargs):
        if path in blocked:
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    def fake_scandir(path):
        if path in blocked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(_layer_package.os, "open", fake_open)
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source, excludes=["nodejs"])
    assert str(error.value) == f"source_dir: cannot read {source}/python/pkg/module.py: Permission denied"
    assert [name for name in os.listdir(tmp_path) if name != "src"] == []  # no temporary file left

    monkeypatch.setattr(_layer_package.os, "open", real_open)
    monkeypatch.setattr(_layer_package.os, "scandir", fake_scandir)
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source)
    assert str(error.value) == f"source_dir: cannot read the directory {source}/nodejs: Permission denied"
    # An excluded directory is never opened.
    assert "nodejs/node_modules/m/index.js" not in names_of(build(tmp_path, source, excludes=["nodejs/"])[1])


@pytest.mark.parametrize("by_symlink", [True, False])
def test_file_replaced_after_the_walk_is_refused(tmp_path, monkeypatch, by_symlink):
    source = make_tree(tmp_path / "src")
    (tmp_path / "secret").write_bytes(b"x" * len(TREE["README"][0]))
    real_scan = _layer_package.scan_source_dir

    def scan_then_swap(*args, **kwargs):
        tree = real_scan(*args, **kwargs)
        readme = os.path.join(source, "README")
        # Made before the old file goes, so that it cannot take the old inode number.
        if by_symlink:
            os.symlink(str(tmp_path / "secret"), readme + ".new")
        else:
            shutil.copy(str(tmp_path / "secret"), readme + ".new")
        os.replace(readme + ".new", readme)
        return tree

    monkeypatch.setattr(_layer_package, "scan_source_dir", scan_then_swap)
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source)
    if by_symlink:  # O_NOFOLLOW: the link is not opened
        assert str(error.value).startswith(f"source_dir: cannot read {source}/README: ")
    else:
        assert str(error.value) == f"source_dir: {source}/README changed while the package was being built"


def test_file_that_grows_after_the_walk_is_refused(tmp_path, monkeypatch):
    source = make_tree(tmp_path / "src")
    real_scan = _layer_package.scan_source_dir

    def scan_then_append(*args, **kwargs):
        tree = real_scan(*args, **kwargs)
        with open(os.path.join(source, "README"), "ab") as handle:
            handle.write(b"more")
        return tree

    monkeypatch.setattr(_layer_package, "scan_source_dir", scan_then_append)
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source)
    assert str(error.value) == f"source_dir: {source}/README changed while the package was being built (7 bytes when listed, 11 when read)"


def test_names_that_are_not_utf8_are_refused_unless_excluded(tmp_path):
    source = make_tree(tmp_path / "src")
    bad = os.path.join(os.fsencode(source), b"python", b"caf\xe9.py")
    with open(bad, "wb") as handle:
        handle.write(b"x = 1\n")
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source)
    assert str(error.value) == f"source_dir: the name of {source}/python/caf\\xe9.py is not valid UTF-8 (rename it, or leave it out with excludes)"
    assert len(names_of(build(tmp_path, source, excludes=["caf*.py"])[1])) == len(TREE)


def test_destination_inside_source_dir_is_refused(tmp_path):
    source = make_tree(tmp_path / "src")
    with pytest.raises(LayerInputError, match=r"^source_dir: the package would be written to .*/src/out.zip, inside source_dir"):
        build_package(source, [], os.path.join(source, "out.zip"))


def test_failed_build_keeps_the_previous_package(tmp_path):
    source = make_tree(tmp_path / "src")
    info, data = build(tmp_path, source)
    os.mkfifo(os.path.join(source, "pipe"))
    with pytest.raises(LayerInputError):
        build(tmp_path, source)
    assert (tmp_path / "package.zip").read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == ["package.zip", "src"]


# --- excludes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, path, is_dir, expected",
    [
        ("*.pyc", "a.pyc", False, True),
        ("*.pyc", "python/pkg/__pycache__/a.cpython-311.pyc", False, True),
        ("*.pyc", "a.pyc.txt", False, False),
        ("__pycache__", "python/pkg/__pycache__", True, True),
        ("__pycache__/", "python/pkg/__pycache__", True, True),
        ("__pycache__/", "python/__pycache__", False, False),  # a trailing / matches directories only
        ("__pycache__/**", "__pycache__/a.pyc", False, True),
        ("__pycache__/**", "__pycache__", True, True),  # "a/**" stops at "a"
        ("__pycache__/**", "__pycache__", False, False),  # but not a file named "a"
        ("__pycache__/**", "python/__pycache__/a.pyc", False, False),  # anchored: it has a /
        ("**/__pycache__/**", "python/pkg/__pycache__/a.pyc", False, True),
        ("**/__pycache__", "__pycache__", True, True),
        (".git", ".git", True, True),
        (".git/**", ".git/objects/ab/cdef", False, True),
        ("python/tests/**", "python/tests/test_a.py", False, True),
        ("python/tests/**", "x/python/tests/test_a.py", False, False),
        ("/top.txt", "top.txt", False, True),
        ("/top.txt", "sub/top.txt", False, False),
        ("python/*.txt", "python/a.txt", False, True),
        ("python/*.txt", "python/sub/a.txt", False, False),  # * stays within a component
        ("python/**/*.txt", "python/a.txt", False, True),  # ** matches zero components
        ("python/**/*.txt", "python/a/b/c.txt", False, True),
        ("a?c", "abc", False, True),
        ("a?c", "a/c", False, False),
        ("[!a]*.md", "b.md", False, True),
        ("[!a]*.md", "a.md", False, False),
        ("*.PY", "a.py", False, False),  # case-sensitive
        ("bin", "bin", False, True),
        ("bin", "python/bin", True, True),
    ],
)
def test_exclude_pattern_semantics(pattern, path, is_dir, expected):
    assert Excludes([pattern]).match(tuple(path.split("/")), is_dir) is expected


def test_excludes_in_a_build(tmp_path):
    tree = dict(TREE)
    tree.update({
        "python/pkg/__pycache__/module.cpython-311.pyc": (b"pyc", False),
        "python/pkg/stale.pyc": (b"pyc", False),
        ".git/HEAD": (b"ref: refs/heads/main\n", False),
        "python/tests/test_pkg.py": (b"assert True\n", False),
        "docs": (b"a file named docs\n", False),
        "python/docs/index.md": (b"# docs\n", False),
    })
    source = make_tree(tmp_path / "src", tree)
    excludes = ["__pycache__", "*.pyc", ".git/**", "python/tests/**", "docs/"]
    names = names_of(build(tmp_path, source, excludes=excludes)[1])
    assert names == sorted(
        [name for name in tree if "__pycache__" not in name and not name.endswith(".pyc") and not name.startswith((".git/", "python/tests/", "python/docs/"))],
        key=str.encode,
    )
    assert "docs" in names


@pytest.mark.parametrize(
    "excludes, message",
    [
        ("*.pyc", "excludes: must be a list of glob patterns"),
        ([3], "excludes: 3 is not a string"),
        ([""], "excludes: a pattern must not be empty"),
        (["a\0"], "excludes: 'a\\x00' contains a NUL character"),
        (["!keep.py"], "excludes: '!keep.py': negation ('!') is not supported; list only the paths to leave out"),
        (["a/../b"], "excludes: 'a/../b': empty, '.' and '..' path components are not allowed"),
        (["./a"], "excludes: './a': empty"),
        (["a//b"], "excludes: 'a//b': empty"),
        (["/"], "excludes: '/': empty"),
    ],
)
def test_bad_excludes_are_refused(tmp_path, excludes, message):
    source = make_tree(tmp_path / "src")
    with pytest.raises(LayerInputError) as error:
        build_package(source, excludes, str(tmp_path / "out.zip"))
    assert str(error.value).startswith(message)
    assert not (tmp_path / "out.zip").exists()


# --- sizes ------------------------------------------------------------------


def test_unzipped_size_limit(tmp_path):
    source = make_tree(tmp_path / "src")
    total = sum(len(content) for content, _exe in TREE.values())
    assert build(tmp_path, source, max_unzipped_size=total)[0].unzipped_size == total
    with pytest.raises(LayerInputError) as error:
        build(tmp_path, source, name="over.zip", max_unzipped_size=total - 1)
    assert str(error.value).startswith(f"source_dir: {source} holds more than {total - 1} bytes (")
    assert not (tmp_path / "over.zip").exists()
    assert UNZIPPED_SIZE_LIMIT == 250 * 1024 * 1024


def test_zip_unzipped_size_reads_the_central_directory(tmp_path):
    path = tmp_path / "given.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("python/", b"")
        archive.writestr("python/a.py", b"a" * 1000)
        archive.writestr("python/b.py", b"b" * 234)
    assert zip_unzipped_size(str(path)) == (1234, 2)
    assert zip_unzipped_size(str(path), max_unzipped_size=1234) == (1234, 2)
    with pytest.raises(LayerInputError) as error:
        zip_unzipped_size(str(path), max_unzipped_size=1233)
    assert str(error.value).startswith(f"filename: {path} unzips to 1234 bytes, over the 1233 bytes (")

    (tmp_path / "not.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(LayerInputError, match=r"^filename: .*/not.zip is not a readable zip file"):
        zip_unzipped_size(str(tmp_path / "not.zip"))
    with pytest.raises(LayerInputError, match=r"^filename: cannot read .*/missing.zip: "):
        zip_unzipped_size(str(tmp_path / "missing.zip"))


def test_our_package_and_zip_unzipped_size_agree(tmp_path):
    info, _data = build(tmp_path, make_tree(tmp_path / "src"))
    assert zip_unzipped_size(info.path) == (info.unzipped_size, info.files)


# --- memory -----------------------------------------------------------------


def test_only_a_window_of_compressed_entries_waits(tmp_path, monkeypatch):
    source = make_tree(tmp_path / "src", {f"d{index % 10}/f{index:04d}": (b"%d" % index * 20, False) for index in range(1000)})
    live = {"now": 0, "peak": 0}
    real_init, real_close = _layer_package._EntryData.__init__, _layer_package._EntryData.close

    def counting_init(self, *args):
        real_init(self, *args)
        live["now"] += 1
        live["peak"] = max(live["peak"], live["now"])

    def counting_close(self):
        live["now"] -= 1
        real_close(self)

    monkeypatch.setattr(_layer_package._EntryData, "__init__", counting_init)
    monkeypatch.setattr(_layer_package._EntryData, "close", counting_close)
    build(tmp_path, source, workers=2)
    assert live["now"] == 0
    # The window of batches waiting, and the batch being written.
    assert live["peak"] <= (2 * _layer_package._WINDOW_PER_WORKER + 1) * _layer_package._BATCH_FILES
    assert live["peak"] < 1000


def test_scan_lists_files_in_zip_order_without_reading_them(tmp_path, monkeypatch):
    source = make_tree(tmp_path / "src")

    def no_open(*args, **kwargs):
        raise AssertionError("the walk must not open files")

    monkeypatch.setattr(_layer_package.os, "open", no_open)
    tree = scan_source_dir(source, ["bin"])
    assert [entry.name.decode() for entry in tree.files] == sorted((name for name in TREE if not name.startswith("bin/")), key=str.encode)
    assert tree.unzipped_size == sum(len(content) for name, (content, _exe) in TREE.items() if not name.startswith("bin/"))


# --- unchanged runs: the record by content ----------------------------------


def test_cache_gives_the_facts_of_the_same_files_without_building(tmp_path, monkeypatch):
    source = make_tree(tmp_path / "src")
    cache = PackageCache(str(tmp_path / "cache"))
    assert cached_package_info(source, [], cache) is None
    info, _data = build(tmp_path, source, cache=cache)
    assert stat.S_IMODE(os.stat(tmp_path / "cache").st_mode) == 0o700

    def no_deflate(*args, **kwargs):
        raise AssertionError("a hit must not deflate")

    monkeypatch.setattr(_layer_package, "pack_stream", no_deflate)
    for workers in (1, 2):
        hit = cached_package_info(source, [], cache, workers=workers)
        assert hit == info._replace(path=None)


def test_cache_key_ignores_times_owners_and_order_like_the_zip(tmp_path):
    first = make_tree(tmp_path / "a", mtime=1000000000)
    second = make_tree(tmp_path / "b", reverse=True, regular_mode=0o600, executable_mode=0o700, mtime=1700000000)
    assert content_key(scan_source_dir(first)) == content_key(scan_source_dir(second), workers=1)


@pytest.mark.parametrize("change", ["one byte, same size and time", "executable bit", "rename", "new file", "excluded file"])
def test_cache_misses_on_any_change_that_changes_the_zip(tmp_path, change):
    source = make_tree(tmp_path / "src", mtime=1600000000)
    cache = PackageCache(str(tmp_path / "cache"))
    info, _data = build(tmp_path, source, excludes=["*.log"], cache=cache)
    readme = os.path.join(source, "README")
    if change == "one byte, same size and time":
        with open(readme, "r+b") as handle:
            handle.write(b"R")
        os.utime(readme, (1600000000, 1600000000))
    elif change == "executable bit":
        os.chmod(readme, 0o755)
    elif change == "rename":
        os.rename(readme, readme + ".md")
    elif change == "new file":
        (tmp_path / "src" / "NEW").write_bytes(b"")
    else:
        (tmp_path / "src" / "debug.log").write_bytes(b"left out")
    hit = cached_package_info(source, ["*.log"], cache)
    if change == "excluded file":
        assert hit == info._replace(path=None)  # the package is the same
    else:
        assert hit is None
        rebuilt, _data = build(tmp_path, source, excludes=["*.log"], name="again.zip", cache=cache)
        assert rebuilt.sha256 != info.sha256
        assert cached_package_info(source, ["*.log"], cache) == rebuilt._replace(path=None)


def test_cache_key_names_the_deflate_library(tmp_path, monkeypatch):
    tree = scan_source_dir(make_tree(tmp_path / "src"))
    key = content_key(tree)
    monkeypatch.setattr(_layer_package.zlib, "ZLIB_RUNTIME_VERSION", "1.3.0.zlib-ng")
    assert content_key(tree) != key


def test_unreadable_or_foreign_cache_is_not_used(tmp_path):
    source = make_tree(tmp_path / "src")
    directory = tmp_path / "cache"
    cache = PackageCache(str(directory))
    build(tmp_path, source, cache=cache)
    key = content_key(scan_source_dir(source))

    record = directory / f"{key}.json"
    good = record.read_text()
    for bad in ("not json", "{}", '{"sha256": "x", "sha256_hex": "00", "size": 1, "unzipped_size": 1, "files": 1}'):
        record.write_text(bad)
        assert cache.lookup(key) is None
    facts = json.loads(good)
    facts["sha256"] = base64.b64encode(b"\0" * 32).decode()  # does not match sha256_hex
    record.write_text(json.dumps(facts))
    assert cache.lookup(key) is None

    record.write_text(good)
    assert cache.lookup(key) is not None
    os.chmod(directory, 0o777)  # writable by others: not trusted
    assert cache.lookup(key) is None
    os.chmod(directory, 0o700)
    if os.geteuid() == 0:
        os.chown(directory, 4242, 4242)  # owned by someone else: not trusted
        assert cache.lookup(key) is None
    (tmp_path / "file").write_bytes(b"")
    assert PackageCache(str(tmp_path / "file")).lookup(key) is None
    PackageCache(str(tmp_path / "file")).record(key, build(tmp_path, source, name="x.zip")[0])  # no error


def test_cache_hit_still_refuses_bad_trees(tmp_path):
    source = make_tree(tmp_path / "src")
    cache = PackageCache(str(tmp_path / "cache"))
    build(tmp_path, source, cache=cache)
    os.symlink("/etc/hostname", os.path.join(source, "python", "leak"))
    with pytest.raises(LayerInputError, match="points outside source_dir"):
        cached_package_info(source, [], cache)
