"""Errors that name the problem. Every user-facing failure raises a subclass of MolliaError."""


class MolliaError(Exception):
    """Base class of every error mollia raises on purpose."""


class UnknownNameError(MolliaError, KeyError):
    """An unknown dataset, model, method, strategy or parameter name."""

    def __init__(self, kind: str, name: str, known):
        self.kind, self.name, self.known = kind, name, sorted(known)
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


def lookup(kind: str, table, name: str):
    """``table[name]`` for a registry ``table`` of ``kind`` (dataset, model, ...); an unknown name
    raises `UnknownNameError` listing the known ones."""
    try:
        return table[name]
    except KeyError:
        raise UnknownNameError(kind, name, table) from None


class DataError(MolliaError, ValueError):
    """Bad input data: missing column, empty text, label outside the list, too few items."""


class CacheError(MolliaError):
    """A cache or results file is corrupt or does not match the parameters asked for."""


class Interrupted(MolliaError):
    """The user interrupted a run (Ctrl-C); what was finished is on disk and the same command resumes."""

    exit_code = 130


class DeprecatedNameWarning(DeprecationWarning):
    """A name in a superseded spelling (it still works; the message names the new one). The CLI
    shows it (Python hides DeprecationWarnings outside ``__main__`` by default)."""
