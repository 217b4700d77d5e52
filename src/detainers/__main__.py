"""`python -m detainers` is the `detainers` command."""

from detainers.cli import main

main()
