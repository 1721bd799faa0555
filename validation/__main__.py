"""``python -m validation``: the command line."""

from validation.cli import main

main()
