"""`monster-studio COMMAND`: the same core from a terminal. One module per command, each adding
its own subcommand; this module holds the parser and the one place errors become words.

Exit codes: 0 done, 1 the work failed (message on stderr), 2 wrong usage, 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings

from monster_studio import APP_NAME, __version__

COMMANDS = ("train", "classify", "evaluate", "detect", "backbones", "import_weights", "sample", "export", "doctor", "sort")


def parser() -> argparse.ArgumentParser:
    import importlib

    p = argparse.ArgumentParser(prog="monster-studio", description=f"{APP_NAME}: build an image classifier from a "
                                "folder of pictures. With no command, opens the app.")
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("--debug", action="store_true", help="show the Python traceback of an unexpected error")
    p.add_argument("--install-desktop-entry", action="store_true",
                   help="add Monster Studio to the desktop's application menu (Linux), then exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"monster_studio.cli.{name}").add(sub)
    return p


class Terminated(SystemExit):
    """SIGTERM (a `kill`, a logout) or SIGHUP (the terminal closed) arrived."""


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _on_sigterm(signum, frame) -> None:
    # The first signal unwinds like Ctrl+C, so temporary files are removed (and the CSV rows done so
    # far kept) on the way out; a second one while that runs must not cut the clean-up short.
    for sig in STOP_SIGNALS:
        try:
            if signal.getsignal(sig) is _on_sigterm:
                signal.signal(sig, signal.SIG_IGN)
        except (ValueError, OSError):
            pass
    raise Terminated(128 + signum)


def _install_stop_handlers() -> dict:
    """Our handler for SIGTERM and SIGHUP, where they would otherwise kill the process outright
    (one that is ignored, as under nohup, stays ignored). Returns the handlers to put back."""
    previous = {}
    for sig in STOP_SIGNALS:
        try:
            current = signal.getsignal(sig)
            if current in (signal.SIG_DFL, None):
                signal.signal(sig, _on_sigterm)
                previous[sig] = current if current is not None else signal.SIG_DFL
        except (ValueError, OSError):  # not the main thread (a test runner's worker)
            pass
    return previous


def main(argv: list[str] | None = None) -> int:
    from monster_studio.cli.words import fail

    argv = sys.argv[1:] if argv is None else argv
    for stream in (sys.stdout, sys.stderr):  # file names need not be valid UTF-8 on Linux
        try:
            stream.reconfigure(errors="surrogateescape")
        except (AttributeError, ValueError):
            pass
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    from monster_studio.core import files
    from monster_studio.core.errors import UserError, describe

    previous = _install_stop_handlers()
    try:
        with warnings.catch_warnings():
            if not args.debug:  # a library's warning is text for developers, not for the user
                warnings.simplefilter("ignore")
            return args.func(args)
    except UserError as exc:
        return fail(exc.terminal_text())
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130
    except Terminated as exc:
        print("\nstopped (the program was asked to end)", file=sys.stderr)
        return int(exc.code)
    except BrokenPipeError:  # `monster-studio classify ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        return fail(describe(exc, "working").removeprefix("Something went wrong while working: ").rstrip("."))
    except Exception as exc:  # noqa: BLE001 - one plain line, never a traceback (unless asked for)
        if args.debug:
            raise
        return fail(f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the details)")
    finally:
        files.remove_temporaries()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["main", "parser"]
