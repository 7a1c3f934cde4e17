"""Time symcnn's training step against PyTorch eager and a hand-written NumPy step; print markdown tables.

    python scripts/bench.py [--quick] [--networks a b c d] [--rounds 1000] [--batch-rounds 150]
                            [--batch-size 32] [--build-repeats 5] [--sizes 27 54 108 216]
                            [--sweep-rounds 200] [--allow-slow-builds]

The same as ``symcnn bench``; this script sets the one-thread variables (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS = 1) before numpy is imported, so it runs in one process.
Run it on a quiet machine: the numbers are only as steady as the machine is idle.
"""

import os
import sys

# before numpy or torch is imported: BLAS and OpenMP read these once, when they load
os.environ.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})

from symcnn.cli import main  # noqa: E402  (after the thread settings)

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
