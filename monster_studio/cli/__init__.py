"""`monster-studio COMMAND`: the same core from a terminal. One module per command, each adding
its own subcommand; this module holds the parser and the one place errors become words.

Exit codes: 0 done, 1 the work failed (message on stderr), 2 wrong usage, 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

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


def _on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl+C, so temporary files are removed on the way


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

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (a test runner's worker)
        previous = None
    try:
        return args.func(args)
    except UserError as exc:
        return fail(exc.terminal_text())
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130
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
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


__all__ = ["main", "parser"]
