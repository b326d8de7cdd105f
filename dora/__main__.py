"""`python -m dora` runs the `dora` command."""
from dora.cli import run

run()
