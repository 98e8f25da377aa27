"""The desktop app: main window, pages, plot, drop zone. Shows state, forwards intent as signals;
model work happens in `monster_studio.app`'s runner, never here."""
