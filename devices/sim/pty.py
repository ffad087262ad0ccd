"""A real pseudo-terminal for simulators: clients open `path` exactly like a serial port.

The slave end is put in raw mode (no echo, no CR/LF translation) and kept open by the
simulator, so a client closing and reopening the port does not hang up the master. An
optional `link` is a stable symlink to the slave: restarting a simulator with the same
link lets a client reconnect to "the same port", like replugging a USB adapter.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tty


class PtyPort:
    def __init__(self, link: str | None = None) -> None:
        self.master, self._slave = os.openpty()
        self._closed = False
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.tty_path = os.ttyname(self._slave)
        self.link = link
        if link:
            tmp = f"{link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.tty_path, tmp)
            os.replace(tmp, link)

    @property
    def path(self) -> str:
        """What a client should open: the link if there is one, else the tty itself."""
        return self.link or self.tty_path

    def fileno(self) -> int:
        return self.master

    def read(self) -> bytes:
        try:
            return os.read(self.master, 4096)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:
                return b""
            raise

    def write(self, data: bytes) -> int:
        """Write what fits; with no client reading, the rest is dropped like on a wire."""
        written = 0
        while written < len(data):
            try:
                n = os.write(self.master, data[written:])
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                if exc.errno == errno.EIO:
                    break
                raise
            written += n
        return written

    def close(self) -> None:
        """Idempotent: closing twice must never close a recycled descriptor."""
        if self._closed:
            return
        self._closed = True
        if self.link and os.path.islink(self.link):
            with contextlib.suppress(OSError):
                if os.readlink(self.link) == self.tty_path:
                    os.unlink(self.link)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PtyPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
