"""Summarises docs/results/fundus-calibration/lines.txt (written by run.sh): per run and as mean ± sd over the seeds,
the fitted temperature, the validation ECE before and after it (in-sample: fitted on those photographs), and the test
folder's ECE and NLL at the model file's temperature and at temperature 1, with AUC, ACC, QWK and the referral
sensitivity and specificity of the operating point chosen on the calibrated probabilities. Runs with
--calibration-fraction (docs/results/fundus-calibration-split/lines.txt) add the held-out training photographs the
temperature was fitted on (their count and ECE before and after it); their validation ECE is then out of sample.
Usage: /usr/bin/python3 docs/results/fundus-calibration/summarize.py [lines.txt]"""
import statistics
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("lines.txt"))
lines = [l.split() for l in path.read_text().splitlines() if l.strip()]
runs = []
for result, evaluation in zip(lines[0::2], lines[1::2]):
    assert result[0] == "RESULT" and evaluation[0] == "EVALUATION"
    r = dict(f.split("=", 1) for f in result[1:] if "=" in f)
    e = dict(f.split("=", 1) for f in evaluation[1:] if "=" in f)
    assert r["temperature"] == e["temperature"], "the evaluation is of the run's model file"
    runs.append((r.get("head", "softmax"), r["seed"], r, e))

split = all("calibration_images" in r for *_, r, _ in runs)
keys = [("T", "r", "temperature")] + ([("cal. images", "r", "calibration_images"), ("cal ECE T=1", "r", "cal_ece_uncalibrated"),
        ("cal ECE", "r", "cal_ece")] if split else []) + [("val ECE T=1", "r", "val_ece_uncalibrated"), ("val ECE", "r", "val_ece"),
        ("test ECE T=1", "e", "test_ece_uncalibrated"), ("test ECE", "e", "test_ece"),
        ("test NLL T=1", "e", "test_nll_uncalibrated"), ("test NLL", "e", "test_nll"),
        ("test AUC", "e", "test_auc"), ("test ACC", "e", "test_acc"), ("test QWK", "e", "test_qwk"),
        ("ref. sens.", "e", "referral_sensitivity"), ("ref. spec.", "e", "referral_specificity")]
print("| run | " + " | ".join(k[0] for k in keys) + " |")
print("| --- |" + " ---: |" * len(keys))
for head in dict.fromkeys(h for h, *_ in runs):
    mine = [(s, r, e) for h, s, r, e in runs if h == head]
    for s, r, e in mine:
        print(f"| {head}, seed {s} | " + " | ".join((r if src == "r" else e)[k] for _, src, k in keys) + " |")
    cells = []
    for _, src, k in keys:
        values = [float((r if src == "r" else e)[k]) for _, r, e in mine]
        cells.append(f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}" if len(values) > 1 else f"{values[0]:.4f}")
    print(f"| {head}, mean ± sd | " + " | ".join(cells) + " |")
