"""The one family of failures a user is meant to read: every refusal the core makes is a
`UserError` (or a subclass), with its words and its parts kept apart, so the command line and the
window each catch one class and phrase the way out in their own terms, never by rewriting text.

Anything else that escapes a job is a bug or an accident of the machine (memory, disk); `describe`
turns it into one plain sentence for both interfaces.
"""
from __future__ import annotations

import errno
import socket


class UserError(Exception):
    """A refusal or failure with a message for the user.

    message: what happened, and where it helps the way out, in words for any interface.
    command: the way out on a terminal (a command to run); the CLI shows it, the window offers
             buttons instead.
    details: the parts (a backbone id, a file name, a URL, a folder) for an interface to phrase.
    kind:    which family it belongs to ("dataset", "weights", "modelfile", ...), for the window
             to choose its buttons.
    """

    kind = "user"

    def __init__(self, message: str, *, command: str = "", **details) -> None:
        super().__init__(message)
        self.message = message
        self.command = command
        self.details = details

    def __str__(self) -> str:
        return self.message

    def terminal_text(self) -> str:
        """The message as the command line prints it: the details that help, then the command."""
        lines = [self.message]
        for label, key in (("File", "filename"), ("URL", "url"), ("Cache folder", "cache")):
            if self.details.get(key):
                lines.append(f"{label}: {self.details[key]}")
        if self.command:
            lines.append(f"Way out: {self.command}")
        return "\n".join(lines)


class NotFound(UserError):
    kind = "notfound"


ERRNO_WORDS = {errno.ENOSPC: "the disk is full", errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EROFS: "the disk is read-only", errno.ENOENT: "it does not exist",
               errno.ENETUNREACH: "no internet connection", errno.EHOSTUNREACH: "no internet connection",
               errno.ENAMETOOLONG: "the name is too long"}


def os_error_words(exc: BaseException) -> str:
    """An OSError (or a network error) in words: never '[Errno -2] Name or service not known'."""
    reason = getattr(exc, "reason", None)  # urllib.error.URLError wraps the real cause
    if isinstance(reason, BaseException):
        exc = reason
    elif isinstance(reason, str) and not isinstance(exc, OSError):
        return reason
    if isinstance(exc, socket.gaierror):
        return "no internet connection (the server's name could not be looked up)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "the connection timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, ConnectionError):
        return "the connection broke off"
    if isinstance(exc, OSError):
        if exc.errno in ERRNO_WORDS:
            return ERRNO_WORDS[exc.errno]
        if exc.strerror:
            return exc.strerror[0].lower() + exc.strerror[1:]
    text = str(exc) or type(exc).__name__
    return text


def describe(exc: BaseException, doing: str, log_file: str = "") -> str:
    """An unexpected failure as one sentence: what was being done, why it failed, where the details
    are. `doing`: 'training', 'reading the folder', ..."""
    if isinstance(exc, UserError):
        return exc.message
    if isinstance(exc, MemoryError):
        why = "the computer ran out of memory. Close other programs, or choose a smaller starting model"
    elif isinstance(exc, RecursionError):
        why = "the input is nested too deeply to be read"
    elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        why = f"the disk is full ({exc.filename or 'no space left'}). Free some space and try again"
    elif isinstance(exc, OSError):
        why = os_error_words(exc) + (f": {exc.filename}" if exc.filename else "")
    else:
        why = f"{type(exc).__name__}: {exc}"
    tail = f" The details are in the log file {log_file}." if log_file else ""
    return f"Something went wrong while {doing}: {why}.{tail}"
