"""`python -m ccroute` runs the command-line interface (the daemon is spawned this way)."""

from ccroute.cli import main

if __name__ == "__main__":
    main()
