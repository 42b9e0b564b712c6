"""`python -m staticimg.compiler` is the `staticimg` command."""

from staticimg.compiler.cli import console

console()
