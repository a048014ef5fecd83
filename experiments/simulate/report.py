"""Writes RESULTS.md and one SVG learning-curve plot per dataset from the
JSON files `quorum simulate --out` wrote into DIR.

Usage: python3 experiments/simulate/report.py DIR
"""
import json, os, sys

d = sys.argv[1] if len(sys.argv) > 1 else "experiments/simulate"
rows = []
for name in sorted(os.listdir(d)):
    if not name.endswith(".json"):
        continue
    r = json.load(open(os.path.join(d, name)))
    base = name[:-5]
    rows.append((base, r))
    # SVG: accuracy against labels, blend and random, with the 99%-of-full line.
    w, h, pad = 640, 360, 48
    curves = [("blend", r["curve"], "#1f77b4"), ("random", r["random"]["curve"], "#d62728")]
    xs = [p["labels"] for _, c, _ in curves for p in c]
    ys = [p["accuracy"] for _, c, _ in curves for p in c] + [r["full_accuracy"]]
    x0, x1 = min(xs), max(xs)
    y0, y1 = max(0.0, min(ys) - 0.02), min(1.0, max(ys) + 0.02)
    sx = lambda x: pad + (x - x0) / max(x1 - x0, 1) * (w - 2 * pad)
    sy = lambda y: h - pad - (y - y0) / max(y1 - y0, 1e-9) * (h - 2 * pad)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w/2}" y="20" text-anchor="middle">{base}: test accuracy vs labels ({r.get("seeds", "?")} seeds)</text>',
             f'<line x1="{pad}" y1="{h-pad}" x2="{w-pad}" y2="{h-pad}" stroke="black"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h-pad}" stroke="black"/>']
    for i in range(5):
        yv = y0 + (y1 - y0) * i / 4
        parts.append(f'<text x="{pad-4}" y="{sy(yv)+4:.1f}" text-anchor="end">{yv:.2f}</text>')
        xv = x0 + (x1 - x0) * i / 4
        parts.append(f'<text x="{sx(xv):.1f}" y="{h-pad+16}" text-anchor="middle">{int(xv)}</text>')
    t = 0.99 * r["full_accuracy"]
    parts.append(f'<line x1="{pad}" y1="{sy(t):.1f}" x2="{w-pad}" y2="{sy(t):.1f}" stroke="#888" stroke-dasharray="4,4"/>')
    parts.append(f'<text x="{w-pad}" y="{sy(t)-4:.1f}" text-anchor="end" fill="#555">99% of full-pool accuracy</text>')
    for i, (label, c, color) in enumerate(curves):
        pts = " ".join(f"{sx(p['labels']):.1f},{sy(p['accuracy']):.1f}" for p in c)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{pad+10}" y="{pad+16*i}" fill="{color}">{label}</text>')
    parts.append("</svg>")
    open(os.path.join(d, base + ".svg"), "w").write("\n".join(parts) + "\n")

def fmt(n):
    return "not reached" if n is None else str(n)

lines = ["# Label economy: the blend against uniform random", "",
         "Produced by `experiments/simulate/run.sh` (`quorum simulate`, release build): 20 initial labels,",
         "batch 20, the default blend, the same seeds and test split for both arms. \"Labels to 99%\" is the",
         "first point of the seed-averaged curve at or above 99% of the full-pool accuracy.", "",
         "| dataset | seeds | full-pool accuracy | blend: labels to 99% | random: labels to 99% | blend ÷ random | blend: labels to 95% | random: labels to 95% |",
         "|---|---|---|---|---|---|---|---|"]
for base, r in rows:
    b, rr = r["labels_to_99"], r["random"]["labels_to_99"]
    ratio = f"{b / rr:.2f}" if b and rr else "–"
    lines.append(f"| {base} | {r.get('seeds', '?')} | {r['full_accuracy']:.4f} | {fmt(b)} | {fmt(rr)} | {ratio} | "
                 f"{fmt(r['labels_to_95'])} | {fmt(r['random']['labels_to_95'])} |")
lines.append("")
for base, _ in rows:
    lines.append(f"![{base}]({base}.svg)")
open(os.path.join(d, "RESULTS.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
