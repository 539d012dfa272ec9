"""Summarises selective.sh's EVALUATION lines (stdlib only): per model, the test split's AURC, E-AURC and error rates,
and per target error rate the SGR threshold fitted on the validation split with its validation and test coverage and
test error rate. Usage: python3 docs/results/selective-retinamnist/summarize.py"""
import os

here = os.path.dirname(os.path.abspath(__file__))
rows = []
for line in open(os.path.join(here, "evaluate-lines.txt")):
    parts = line.split()
    values = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
    rows.append((parts[0], values))

print("| model | test ACC | test error rate | error rate, most confident half | AURC | E-AURC |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
seen = set()
for model, v in rows:
    if model in seen:
        continue
    seen.add(model)
    print(f"| {model} | {v['test_acc']} | {1 - float(v['test_acc']):.4f} | {v['test_risk_half']} | {v['test_aurc']} | {v['test_eaurc']} |")
print()
print("| target error rate (δ 0.05) | model | threshold | validation coverage | test coverage | test error rate |")
print("| ---: | --- | ---: | ---: | ---: | ---: |")
for model, v in rows:
    if v["sgr_threshold"] == "none":
        print(f"| {v['sgr_target']} | {model} | none (every image deferred) | 0 | 0 | – |")
    else:
        print(f"| {v['sgr_target']} | {model} | {v['sgr_threshold']} | {v['sgr_val_coverage']} | {v['sgr_test_coverage']} | {v['sgr_test_risk']} |")

print()
print("| model | referral AUC (grade ≥ 2) | net benefit at 0.1 / 0.2 / 0.3 | operating point (val, sensitivity ≥ 0.8) | test sensitivity | test specificity | test referred |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
seen = set()
for model, v in rows:
    if model in seen or "referral_auc" not in v:
        continue
    seen.add(model)
    print(f"| {model} | {v['referral_auc']} | {v['net_benefit_0.1']} / {v['net_benefit_0.2']} / {v['net_benefit_0.3']} | {v['op_threshold']} | {v['op_test_sensitivity']} | {v['op_test_specificity']} | {v['op_test_referred']} |")
