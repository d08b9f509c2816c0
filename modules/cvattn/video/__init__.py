"""Video modules: clips in the (N, C, T, H, W) layout (see cvattn.clips); one file per mechanism."""
