"""cvattn's tooling: one command-line entry, ``python -m scripts <command>``; see ``python -m scripts --help``."""
