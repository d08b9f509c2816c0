"""Parity recipes: how to run each module's official implementation (one file per cvattn module id).

Each file defines ``RECIPE = Recipe(...)`` (see :class:`scripts.parity.Recipe`); ``_common`` holds the
conversions several recipes share. ``python -m scripts parity record ID --official DIR`` runs one.
"""
