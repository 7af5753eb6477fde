"""Open and create files inside the workspace without following a symlink that appears mid-call.

The tools check a path first (``resolve_in_workspace`` resolves symlinks and refuses escapes); a
second process could then swap a directory on that path for a symlink to somewhere else before
the file is opened. Here every open goes through a descriptor of the workspace root with
``openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`` where the kernel has it (Linux 5.6+, called via
ctypes), and otherwise walks the path one component at a time with ``O_NOFOLLOW``. The checked
path has no symlinks in it, so a symlink found now means the tree changed: the call is refused.

Only regular files are opened as files (a FIFO would block a read forever; a device is never a
workspace file), and new files get the mode the umask gives, like any editor's.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from app.core.tools.base import ToolError

_SYS_OPENAT2 = 437  # the same number on every architecture (added after the syscall table merge)
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


_libc: ctypes.CDLL | None = None
_have_openat2: bool | None = None


def _openat2(dirfd: int, path: str, flags: int, mode: int) -> int:
    assert _libc is not None
    how = _OpenHow(flags, mode if flags & os.O_CREAT else 0,
                   _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS)
    fd = int(_libc.syscall(ctypes.c_long(_SYS_OPENAT2), ctypes.c_int(dirfd),
                           ctypes.c_char_p(os.fsencode(path)), ctypes.byref(how),
                           ctypes.c_size_t(ctypes.sizeof(how))))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)
    return fd


def has_openat2() -> bool:
    """Whether this kernel (and its seccomp policy) lets us use openat2."""
    global _libc, _have_openat2
    if _have_openat2 is None:
        _have_openat2 = False
        if os.name == "posix" and os.uname().sysname == "Linux":
            try:
                _libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open("/", os.O_RDONLY | _DIRECTORY | _CLOEXEC)
                try:
                    os.close(_openat2(fd, ".", os.O_RDONLY | _DIRECTORY | _CLOEXEC, 0))
                    _have_openat2 = True
                finally:
                    os.close(fd)
            except (OSError, AttributeError):
                _have_openat2 = False
    return _have_openat2


def _refused(rel: str, exc: OSError) -> ToolError:
    if exc.errno in (errno.ELOOP, errno.EXDEV):
        return ToolError(f"{rel} changed while it was being opened (a symlink appeared on the "
                         "path); refused")
    if exc.errno == errno.ENAMETOOLONG:
        return ToolError(f"file name too long: {rel[:80]}…")
    return ToolError(f"cannot open {rel}: {exc.strerror or exc}")


def open_beneath(root: Path, target: Path, flags: int, mode: int = 0o666) -> int:
    """A descriptor for ``target`` (a symlink-free path inside ``root``), opened relative to a
    descriptor of ``root``. FileNotFoundError and PermissionError pass through; a symlink or an
    escape found on the way raises ToolError."""
    rel = os.path.relpath(target, root)
    if rel.startswith(".."):
        raise ToolError(f"{target} is outside the workspace; refused")
    flags |= _CLOEXEC | _NOFOLLOW
    rootfd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        try:
            if has_openat2():
                return _openat2(rootfd, rel, flags, mode)
            return _walk_open(rootfd, rel, flags, mode)
        except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError):
            raise
        except OSError as exc:
            raise _refused(rel, exc) from None
    finally:
        os.close(rootfd)


def _walk_open(rootfd: int, rel: str, flags: int, mode: int) -> int:
    parts = [p for p in rel.split(os.sep) if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise OSError(errno.EXDEV, "path leaves the workspace", rel)
    if not parts:
        return os.dup(rootfd) if flags & _DIRECTORY else os.open(".", flags, mode, dir_fd=rootfd)
    cur = rootfd
    opened: list[int] = []
    try:
        for part in parts[:-1]:
            cur = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=cur)
            opened.append(cur)
        return os.open(parts[-1], flags, mode, dir_fd=cur)
    finally:
        for fd in opened:
            os.close(fd)


def open_regular(root: Path | None, target: Path, shown: str) -> BinaryIO:
    """``target`` opened for reading, if it is a regular file (never blocks on a FIFO).
    ``root`` None: a trusted path outside the workspace (the Context Gate's cache)."""
    flags = os.O_RDONLY | _NONBLOCK
    try:
        if root is None:
            fd = os.open(target, flags | _NOFOLLOW | _CLOEXEC)
        else:
            fd = open_beneath(root, target, flags)
    except FileNotFoundError as exc:
        raise ToolError(f"file not found: {shown}") from exc
    except PermissionError as exc:
        raise ToolError(f"permission denied: {shown}") from exc
    except IsADirectoryError as exc:
        raise ToolError(f"{shown} is a directory") from exc
    except OSError as exc:
        raise _refused(shown, exc) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ToolError(f"{shown} is a directory; use list_dir")
        if not stat.S_ISREG(st.st_mode):
            raise ToolError(f"{shown} is not a regular file (a FIFO, socket or device); refused")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def open_dir(root: Path, target: Path, shown: str) -> Iterator[int]:
    """A descriptor of the directory ``target`` inside ``root`` (for ``os.scandir``)."""
    try:
        fd = open_beneath(root, target, os.O_RDONLY | _DIRECTORY)
    except FileNotFoundError as exc:
        raise ToolError(f"directory not found: {shown}") from exc
    except NotADirectoryError as exc:
        raise ToolError(f"{shown} is not a directory") from exc
    except PermissionError as exc:
        raise ToolError(f"permission denied: {shown}") from exc
    try:
        yield fd
    finally:
        os.close(fd)


def _make_dirs(root: Path, rel_parts: list[str]) -> int:
    """Descriptor of root/rel_parts, creating missing directories, never through a symlink."""
    cur = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    for part in rel_parts:
        try:
            nxt = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=cur)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o777, dir_fd=cur)
            try:
                nxt = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=cur)
            except OSError:
                os.close(cur)
                raise
        except OSError:
            os.close(cur)
            raise
        os.close(cur)
        cur = nxt
    return cur


def write_beneath(root: Path, target: Path, data: bytes, shown: str) -> None:
    """Write ``target`` atomically (temp file + rename inside its directory's descriptor): an
    existing file keeps its mode, a new one gets what the umask gives."""
    rel = os.path.relpath(target, root)
    parts = [p for p in rel.split(os.sep) if p not in ("", ".")]
    if not parts or rel.startswith(".."):
        raise ToolError(f"{shown} is outside the workspace; refused")
    try:
        dirfd = _make_dirs(root, parts[:-1])
    except OSError as exc:
        raise _refused(shown, exc) from None
    name = parts[-1]
    tmp = f".{name}.{secrets.token_hex(4)}.tmp"
    try:
        old_mode: int | None = None
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                old_mode = stat.S_IMODE(st.st_mode)
            elif not stat.S_ISLNK(st.st_mode):
                raise ToolError(f"{shown} is not a regular file; refused")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o666,
                     dir_fd=dirfd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if old_mode is not None:
                    os.fchmod(fh.fileno(), old_mode)
            os.replace(tmp, name, src_dir_fd=dirfd, dst_dir_fd=dirfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dirfd)
            raise
    except PermissionError as exc:
        raise ToolError(f"permission denied: {shown}") from exc
    except ToolError:
        raise
    except OSError as exc:
        raise _refused(shown, exc) from None
    finally:
        os.close(dirfd)
