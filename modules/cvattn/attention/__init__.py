"""Attention mechanisms (channel, spatial, hybrid, self-attention, task-specific); one file per mechanism."""
