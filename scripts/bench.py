"""Time symcnn against PyTorch float64 and naive approaches in one run; prints a table of medians.

    python scripts/bench.py [--networks a b] [--repeats 200] [--no-unrolled]

(the same as ``symcnn bench``).
"""

import sys

from symcnn.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
