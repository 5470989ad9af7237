"""`mollia annotate ...` verbs (placeholder until its stage lands: registers nothing yet)."""


def register(subparsers) -> None:
    return None
