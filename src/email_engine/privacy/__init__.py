"""Privacy: erasing a recipient address everywhere it is stored (the right to be forgotten)."""
