"""Times Meta's C++ PDQ (through the PyPI `pdqhash` binding) on a raw RGB buffer.

Called by the PDQ benchmark (matcher/benches/pdq.rs) with the very buffer it hashed:
    python pdq_reference_bench.py FILE SIDE
FILE holds SIDE*SIDE*3 bytes (R, G, B). Prints one JSON object: the median seconds of
`pdqhash.compute` over batches, the median of the Python-side work inside it (numpy luma,
the bit-vector conversion) measured alone, their difference (the C++ hashing), the hash
as 64 hex digits (the reference's bit order) and its quality.
"""

import json
import statistics
import sys
import time

import numpy as np
import pdqhash
from pdqhash import bindings


def median_seconds(fn, min_batch_s=0.2, batches=7):
    # Grow the batch until it takes min_batch_s, then time `batches` batches.
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start >= min_batch_s:
            break
        n *= 2
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times)


def main():
    path, side = sys.argv[1], int(sys.argv[2])
    data = np.fromfile(path, dtype=np.uint8)
    image = data.reshape((side, side, 3))
    bits, quality = pdqhash.compute(image)
    # bits[0] is the hash's most significant bit, as the reference prints it.
    hex_hash = "".join(
        "%x" % int("".join(str(int(b)) for b in bits[i : i + 4]), 2) for i in range(0, 256, 4)
    )
    words = [0] * 16
    compute = median_seconds(lambda: pdqhash.compute(image))
    python_side = median_seconds(
        lambda: (
            (image[:, :, 0] * 0.299 + image[:, :, 1] * 0.587 + image[:, :, 2] * 0.114).astype(
                "float32"
            ),
            np.zeros((side, side), dtype="float32"),
            bindings.hash_to_vector(words),
        )
    )
    print(
        json.dumps(
            {
                "side": side,
                "compute_s": compute,
                "python_side_s": python_side,
                "cpp_s": max(compute - python_side, 0.0),
                "hash": hex_hash,
                "quality": quality,
                "pdqhash_version": pdqhash.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
