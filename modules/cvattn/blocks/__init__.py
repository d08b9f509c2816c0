"""Plug-and-play blocks (convolutions, context modules, fusion, activations); one file per mechanism."""
