"""Reference outputs of the intensity and orientation augmentations, computed with NumPy as MONAI 1.x computes them
for the parameters its random transforms draw (gamma, bias-field coefficients, Gaussian sigmas, quarter turns, histogram
control points, the Gibbs alpha, k-space spikes), on a
fixed 2-channel volume and a 1-channel image. The tests give the C# transforms the same parameters and compare; they
need no Python. MONAI itself is not installed here: the formulas below follow MONAI's code, named at each function.

Run with /usr/bin/python3 (NumPy 1.24) from this folder:  /usr/bin/python3 make_augment_fixtures.py
"""
import json
import math

import numpy as np

rng = np.random.default_rng(20261204)
volume = (rng.random((2, 5, 6, 7)) * 200 - 50).astype(np.float32)   # (C, D, H, W)
image = (rng.random((1, 6, 7)) * 3).astype(np.float32)               # (C, H, W)


def adjust_contrast(img, gamma):
    """monai.transforms.AdjustContrast (invert_image=False, retain_stats=False), over all channels at once."""
    epsilon = 1e-7
    img_min = img.min()
    img_range = img.max() - img_min
    return ((img - img_min) / float(img_range + epsilon)) ** gamma * img_range + img_min


def bias_field(spatial_shape, degree, coeff):
    """monai.transforms.RandBiasField._generate_random_field: a sum of Legendre polynomials over [-1, 1] per axis."""
    rank = len(spatial_shape)
    coeff_mat = np.zeros((degree + 1,) * rank)
    coords = [np.linspace(-1.0, 1.0, dim, dtype=np.float32) for dim in spatial_shape]
    if rank == 2:
        coeff_mat[np.tril_indices(degree + 1)] = coeff
        return np.polynomial.legendre.leggrid2d(coords[0], coords[1], coeff_mat)
    pts = [[0, 0, 0]]
    for i in range(degree + 1):
        for j in range(degree + 1 - i):
            for k in range(degree + 1 - i - j):
                pts.append([i, j, k])
    pts = np.stack(pts[1:])
    coeff_mat[pts[:, 0], pts[:, 1], pts[:, 2]] = coeff
    return np.polynomial.legendre.leggrid3d(coords[0], coords[1], coords[2], coeff_mat)


def n_coeff(degree, rank):
    return int(np.prod([(degree + k) / k for k in range(1, rank + 1)]))


def gaussian_1d(sigma, truncated=4.0):
    """monai.networks.layers.convutils.gaussian_1d(approx="erf", normalize=False)."""
    tail = int(max(float(sigma) * truncated, 0.5) + 0.5)
    t = 0.70710678 / abs(sigma)
    out = np.array([0.5 * (math.erf(t * (x + 0.5)) - math.erf(t * (x - 0.5))) for x in range(-tail, tail + 1)])
    return np.clip(out, 0, None)


def gaussian_smooth(img, sigmas):
    """monai.transforms.GaussianSmooth: separable filtering with zero padding, one sigma per spatial axis (in order)."""
    out = img.astype(np.float64)
    for axis, sigma in enumerate(sigmas, start=1):
        kernel = gaussian_1d(sigma)
        tail = len(kernel) // 2
        pad = [(0, 0)] * out.ndim
        pad[axis] = (tail, tail)
        padded = np.pad(out, pad)
        result = np.zeros_like(out)
        for i, w in enumerate(kernel):
            result += w * np.take(padded, range(i, i + out.shape[axis]), axis=axis)
        out = result
    return out


cases = {}
for gamma in (0.7, 2.5):
    cases[f"contrast_volume_{gamma}"] = {"gamma": gamma, "output": adjust_contrast(volume.astype(np.float64), gamma)}
    cases[f"contrast_image_{gamma}"] = {"gamma": gamma, "output": adjust_contrast(image.astype(np.float64), gamma)}
for degree in (2, 3):
    c3 = rng.uniform(0, 0.1, n_coeff(degree, 3))
    c2 = rng.uniform(0, 0.1, n_coeff(degree, 2))
    cases[f"bias_volume_{degree}"] = {"degree": degree, "coefficients": c3, "output": volume * np.exp(bias_field(volume.shape[1:], degree, c3))}
    cases[f"bias_image_{degree}"] = {"degree": degree, "coefficients": c2, "output": image * np.exp(bias_field(image.shape[1:], degree, c2))}
cases["smooth_volume"] = {"sigmas": [0.8, 1.2, 0.5], "output": gaussian_smooth(volume, [0.8, 1.2, 0.5])}
cases["smooth_image"] = {"sigmas": [1.5, 0.3], "output": gaussian_smooth(image, [1.5, 0.3])}
for k in (1, 2, 3):
    cases[f"rot90_volume_{k}"] = {"k": k, "output": np.rot90(volume, k, axes=(2, 3))}
    cases[f"rot90_image_{k}"] = {"k": k, "output": np.rot90(image, k, axes=(1, 2))}
    # Other planes of the (C, D, H, W) volume: (D, H), (D, W), and (W, H), the (H, W) plane turned the other way.
    cases[f"rot90_volume_depth_height_{k}"] = {"k": k, "axes": ["Depth", "Height"], "output": np.rot90(volume, k, axes=(1, 2))}
    cases[f"rot90_volume_depth_width_{k}"] = {"k": k, "axes": ["Depth", "Width"], "output": np.rot90(volume, k, axes=(1, 3))}
    cases[f"rot90_volume_width_height_{k}"] = {"k": k, "axes": ["Width", "Height"], "output": np.rot90(volume, k, axes=(3, 2))}
    cases[f"rot90_image_width_height_{k}"] = {"k": k, "axes": ["Width", "Height"], "output": np.rot90(image, k, axes=(2, 1))}


def histogram_shift(img, moved):
    # MONAI's RandHistogramShift: evenly spaced control points over [min, max] moved to `moved` (scaled alike), np.interp.
    lo, hi = img.min(), img.max()
    reference = np.linspace(0, 1, len(moved))
    return np.interp(img, reference * (hi - lo) + lo, np.asarray(moved) * (hi - lo) + lo)


for n in (3, 10):
    for name, img in (("volume", volume), ("image", image)):
        moved = np.linspace(0, 1, n)
        for i in range(1, n - 1):   # as MONAI draws them: between the moved point before and the original point after
            moved[i] = rng.uniform(moved[i - 1], moved[i + 1])
        cases[f"histogram_{name}_{n}"] = {"moved": moved, "output": histogram_shift(img.astype(np.float64), moved)}


def gibbs(img, alpha):
    # MONAI's GibbsNoise: k-space of the spatial axes, zero frequency centred (fftshift), kept within a ball of radius
    # (1 - alpha) * max(shape) * sqrt(2) / 2 about (shape - 1) / 2, back by the inverse transform, real part.
    dims = tuple(range(1, img.ndim))
    k = np.fft.fftshift(np.fft.fftn(img, axes=dims), axes=dims)
    shape = k.shape[1:]
    r = (1 - alpha) * np.max(shape) * np.sqrt(2) / 2.0
    center = (np.array(shape) - 1) / 2
    coords = np.ogrid[tuple(slice(0, i) for i in shape)]
    mask = np.sqrt(sum((coord - c) ** 2 for coord, c in zip(coords, center))) <= r
    k = k * mask[None]
    return np.fft.ifftn(np.fft.ifftshift(k, axes=dims), axes=dims).real


for alpha in (0.0, 0.3, 0.8):
    cases[f"gibbs_volume_{alpha}"] = {"alpha": alpha, "output": gibbs(volume.astype(np.float64), alpha)}
    cases[f"gibbs_image_{alpha}"] = {"alpha": alpha, "output": gibbs(image.astype(np.float64), alpha)}


def kspace_spike(img, locations, fractions, intensity_range=None):
    # MONAI's RandKSpaceSpikeNoise for drawn locations (fftshift order, one per channel) and fractions of the range:
    # the default range is 0.95 to 1.1 times 2.5 x the mean log-magnitude of each channel's k-space; KSpaceSpikeNoise
    # sets log(|k| + 1e-10) at the location to the value, keeps the phase, and returns the real part of the inverse.
    dims = tuple(range(1, img.ndim))
    k = np.fft.fftshift(np.fft.fftn(img, axes=dims), axes=dims)
    log_abs = np.log(np.abs(k) + 1e-10)
    phase = np.angle(k)
    means = np.mean(log_abs, axis=dims) * 2.5
    values = []
    for c, (loc, f) in enumerate(zip(locations, fractions)):
        low, high = intensity_range if intensity_range is not None else (means[c] * 0.95, means[c] * 1.1)
        value = low + f * (high - low)
        log_abs[(c,) + tuple(loc)] = value
        values.append(value)
    k = np.exp(log_abs) * np.exp(1j * phase)
    return np.fft.ifftn(np.fft.ifftshift(k, axes=dims), axes=dims).real


cases["spike_volume_default"] = {"locations": [[1, 4, 2], [3, 0, 6]], "fractions": [0.25, 0.8], "range": None,
                                 "output": kspace_spike(volume.astype(np.float64), [[1, 4, 2], [3, 0, 6]], [0.25, 0.8])}
cases["spike_volume_range"] = {"locations": [[2, 3, 3], [2, 3, 3]], "fractions": [0.5, 0.5], "range": [9.0, 11.0],
                               "output": kspace_spike(volume.astype(np.float64), [[2, 3, 3], [2, 3, 3]], [0.5, 0.5], (9.0, 11.0))}
cases["spike_image_default"] = {"locations": [[5, 1]], "fractions": [0.6], "range": None,
                                "output": kspace_spike(image.astype(np.float64), [[5, 1]], [0.6])}


def plain(value):
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "values": [float(v) for v in value.ravel()]}
    return value


with open("augment_fixture.json", "w") as f:
    json.dump({
        "numpy": np.__version__,
        "volume": plain(volume), "image": plain(image),
        "cases": {name: {k: (plain(v) if k == "output" else (v.tolist() if isinstance(v, np.ndarray) else v)) for k, v in case.items()} for name, case in cases.items()},
    }, f)
print(len(cases), "cases")
