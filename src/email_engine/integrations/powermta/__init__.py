"""PowerMTA: its directive reference, configuration rendering, linting and safe deployment."""
