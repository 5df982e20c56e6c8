"""The command-line interface (Typer): thin commands that call one lower-layer function each."""
