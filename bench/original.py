"""The original service's work, run bare in-process: for each uploaded image,
numpy.array(PIL.Image.open(f)).shape and .nbytes, as its handler computed them (without its
HTTP, API Gateway event or multipart parsing: a lower bound of its time).

Usage: python3 original.py <min_runs> <min_seconds> <image>... ; prints {"medianMs": ...}.
Needs Pillow 9.4 and NumPy 1.24 (Debian 12: apt-get install python3-pil python3-numpy).
"""
import io
import json
import sys
import time

import numpy
from PIL import Image


def answer(images):
    out = []
    for data in images:
        try:
            array = numpy.array(Image.open(io.BytesIO(data)))
            out.append([list(array.shape), array.nbytes / 1000])
        except Exception:
            out.append([])
    return out


def main():
    min_runs, min_seconds = int(sys.argv[1]), float(sys.argv[2])
    images = []
    for path in sys.argv[3:]:
        with open(path, "rb") as f:
            images.append(f.read())
    for _ in range(3):
        answer(images)
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        answer(images)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"medianMs": times[len(times) // 2], "runs": len(times),
                      "shapes": [a[0] if a else [] for a in answer(images)]}))


main()
