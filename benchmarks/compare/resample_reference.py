"""nibabel 5.0 / SciPy 1.10 timings of the resampling cases of VolumePreparationBenchmarks, on the same volumes.

    /usr/bin/python3 benchmarks/compare/resample_reference.py

Prints the median of 5 runs (after one warm-up) of nibabel.processing.resample_from_to, order 1, for: the 240x240x155
1 mm LPS head resampled to 1.5 mm (MONAI's Spacing grid: 160x160x104), and the 2 mm modality onto the 1 mm grid.
SciPy's map_coordinates runs on one thread.
"""
import time

import nibabel as nib
import numpy as np
from nibabel.processing import resample_from_to


def head(shape, affine):
    i, j, k = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
    x = affine[0, 0] * i + affine[0, 3]
    y = affine[1, 1] * j + affine[1, 3]
    z = affine[2, 2] * k + affine[2, 3]
    r = x * x / 75.0**2 + y * y / 95.0**2 + z * z / 65.0**2
    v = np.where(r < 1, 200 + 600 * (1 - r) + 20 * np.sin(x / 3) * np.cos(y / 4), 0)
    return nib.Nifti1Image(v.astype(np.float32), affine)


lps = np.array([[-1, 0, 0, 120], [0, -1, 0, 120], [0, 0, 1, -77], [0, 0, 0, 1]], dtype=float)
coarse = np.array([[2, 0, 0, -121], [0, 2, 0, -121], [0, 0, 2, -78], [0, 0, 0, 1]], dtype=float)
mri = head((240, 240, 155), lps)
pet = head((122, 122, 79), coarse)
spaced = lps.copy()
spaced[:3, :3] *= 1.5
shape15 = tuple(int(round((n - 1) / 1.5 + 1)) for n in (240, 240, 155))


def median(f):
    f()
    times = []
    for _ in range(5):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return sorted(times)[2] * 1000


print(f"resample to 1.5 mm {shape15}: {median(lambda: resample_from_to(mri, (shape15, spaced), order=1, mode='nearest')):.1f} ms")
print(f"2 mm modality onto the 1 mm grid: {median(lambda: resample_from_to(pet, mri, order=1, mode='nearest')):.1f} ms")
