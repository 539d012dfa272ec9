#!/usr/bin/env python3
"""Tables of docs/results.md "CORAL against softmax, paired" from lines.txt and test-predictions-*.csv (stdlib only).

For each model: test ACC of its own decision (a CORAL model's median grade, a softmax model's most probable one) and of
the other rule; selective prediction's AURC as evaluate computes it (confidence: the predicted grade's probability;
errors: the predicted grade's) and as the arg-max rule would have it (maximum probability, the most probable grade's
errors) — the library's RiskCoverageCurve, ties taken in expectation.
Run from the repository root: /usr/bin/python3 docs/results/coral-vs-softmax/summarize.py
"""
import csv
import os
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))


def aurc(confidence, losses):
    order = sorted(range(len(confidence)), key=lambda i: -confidence[i])
    n, area, before, start = len(order), 0.0, 0.0, 0
    while start < n:
        end, group = start, 0.0
        while end < n and confidence[order[end]] == confidence[order[start]]:
            group += losses[order[end]]
            end += 1
        size = end - start
        for j in range(1, size + 1):
            area += (before + group * j / size) / (start + j)
        before += group
        start = end
    return area / n


def median(p):
    total, cumulative = sum(p), 0.0
    for k in range(len(p) - 1):
        cumulative += p[k] / total
        if cumulative >= 0.5:
            return k
    return len(p) - 1


def argmax(p):
    return max(range(len(p)), key=lambda k: (p[k], -k))


def read(model, seed):
    with open(os.path.join(HERE, f"test-predictions-{model}-seed{seed}.csv")) as f:
        rows = list(csv.DictReader(f))
    labels = [int(r["label"]) for r in rows]
    predicted = [int(r["predicted"]) for r in rows]
    p = [[float(r[f"p_{k}"]) for k in range(5)] for r in rows]
    return labels, predicted, p


def fields(line):
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


lines = open(os.path.join(HERE, "lines.txt")).read().splitlines()
evaluations = [fields(l) for l in lines if l.startswith("EVALUATION")]
comparisons = [fields(l) for l in lines if l.startswith("COMPARISON")]

print("| model | seed | ACC (own rule) | ACC (other rule) | AURC (own prediction) | AURC (arg-max rule) | MAE (own) | evaluate's test_aurc | SGR (risk ≤ 0.2): test coverage / risk |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
summary = {}
for seed in range(3):
    for index, model in enumerate(["coral", "plain"]):
        labels, predicted, p = read(model, seed)
        own_rule = median if model == "coral" else argmax
        assert all(own_rule(row) == y for row, y in zip(p, predicted)), "predicted column is the model's rule"
        other = argmax if model == "coral" else median
        acc = sum(y == t for y, t in zip(predicted, labels)) / len(labels)
        acc_other = sum(other(row) == t for row, t in zip(p, labels)) / len(labels)
        own = aurc([row[y] for row, y in zip(p, predicted)], [float(y != t) for y, t in zip(predicted, labels)])
        am = [argmax(row) for row in p]
        old = aurc([max(row) for row in p], [float(y != t) for y, t in zip(am, labels)])
        mae = sum(abs(y - t) for y, t in zip(predicted, labels)) / len(labels)
        e = evaluations[2 * seed + index]
        reported = e["test_aurc"]
        sgr = f"{e['sgr_test_coverage']} / {e['sgr_test_risk']}" if e.get("sgr_threshold", "none") != "none" else "none"
        summary.setdefault(model, []).append((acc, acc_other, own, old, mae))
        name = "CORAL (median)" if model == "coral" else "softmax (arg-max)"
        print(f"| {name} | {seed} | {acc:.4f} | {acc_other:.4f} | {own:.4f} | {old:.4f} | {mae:.4f} | {reported} | {sgr} |")
for model, rows in summary.items():
    cols = list(zip(*rows))
    print(f"| {model} mean ± sd | | " + " | ".join(f"{statistics.mean(c):.4f} ± {statistics.stdev(c):.4f}" for c in cols[:4]) + f" | {statistics.mean(cols[4]):.4f} | | |")

print()
print("| seed | AUC CORAL / softmax | Δ AUC (DeLong p) | ACC CORAL (median) / softmax | only CORAL right / only softmax right | McNemar p |")
print("| ---: | --- | --- | --- | --- | ---: |")
for seed, c in enumerate(comparisons):
    print(f"| {seed} | {c['auc_a']} / {c['auc_b']} | {c['auc_diff']} (p {c['auc_p']}) | {c['acc_a']} / {c['acc_b']} | {c['only_a']} / {c['only_b']} | {c['mcnemar_p']} |")
