"""``python -m sandbox``: run the sandbox platforms on loopback until Ctrl-C or SIGTERM."""

import sys

from sandbox.server import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
