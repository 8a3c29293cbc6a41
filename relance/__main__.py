import sys

from relance.cli import main

sys.exit(main(["relance", *sys.argv[1:]]))
