"""`python -m garrison` runs the CLI."""

from garrison.cli.main import main

main()
