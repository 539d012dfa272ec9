"""Summarises bound.sh's EVALUATION lines (stdlib only): per model and way of choosing the operating point for
sensitivity >= 0.8 (grade >= 2) on the validation split, its threshold and the test split's sensitivity, specificity
and share referred. Usage: python3 docs/results/referral-bound-retinamnist/summarize.py"""
import os

here = os.path.dirname(os.path.abspath(__file__))
print("| model | chosen | threshold | test sensitivity | test specificity | test referred |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for line in open(os.path.join(here, "evaluate-lines.txt")):
    parts = line.split()
    model, confidence = parts[0], parts[1].split("=", 1)[1]
    v = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
    chosen = "on the validation images" if confidence == "none" else f"bound, {float(confidence):.0%} confidence"
    print(f"| {model} | {chosen} | {v['op_threshold']} | {v['op_test_sensitivity']} | {v['op_test_specificity']} | {v['op_test_referred']} |")
