"""Command-line interface: argument parsing only; every command calls a library function."""
