"""The cost curves of a `boxoffice bench` results file as PNG plots (matplotlib, headless)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _save(fig, out: Path, name: str) -> Path:
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _line(out: Path, name: str, title: str, xlabel: str, points: list[tuple[float, float]], log_x: bool) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, marker="o")
    for x, y in points:
        ax.annotate(f"{y:,.0f}", (x, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    if log_x:
        ax.set_xscale("log")
    ax.set_ylim(0, max(ys) * 1.25)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("decided / s")
    ax.grid(alpha=0.3)
    return _save(fig, out, name)


def _bars(out: Path, name: str, title: str, labels: list[str], values: list[float]) -> Path:
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    ax.bar(labels, values, color=["#4c72b0", "#dd8452"][: len(values)])
    for i, v in enumerate(values):
        ax.annotate(f"{v:,.0f}", (i, v), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
    ax.set_ylim(0, max(values) * 1.25)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("decided / s")
    return _save(fig, out, name)


def draw(results_path: str, out: Path) -> list[Path]:
    results = json.loads(Path(results_path).read_text())
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    curves = results.get("curves")
    if curves:
        paths.append(
            _line(
                out,
                "drain-by-size.png",
                "Drain as the tables grow (commands preloaded)",
                "commands",
                [(r["commands"], r["decided_per_s"]) for r in curves["size"]],
                True,
            )
        )
        paths.append(
            _line(
                out,
                "drain-by-shows.png",
                "Drain over 1 to 100,000 shows (100,000 commands)",
                "shows",
                [(r["shows"], r["decided_per_s"]) for r in curves["shows"]],
                True,
            )
        )
        paths.append(
            _bars(
                out,
                "drain-processors.png",
                "1 vs 2 processors (1,000 shows)",
                [f"{r['processors']} processor(s)" for r in curves["processors"]],
                [r["decided_per_s"] for r in curves["processors"]],
            )
        )
        paths.append(
            _bars(
                out,
                "drain-shards.png",
                "1 vs 2 shards (1,000 shows)",
                [f"{r['shards']} shard(s)" for r in curves["shards"]],
                [r["decided_per_s"] for r in curves["shards"]],
            )
        )
    http = results.get("http")
    if http:
        steps = http["steps"]
        offered = [s["offered_per_s"] for s in steps]
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
        left.plot(offered, offered, linestyle="--", color="grey", label="offered")
        left.plot(offered, [s["accepted_per_s"] for s in steps], marker="o", label="accepted")
        left.set_title("Offered vs accepted (through NGINX)", fontsize=10)
        left.set_xlabel("offered requests / s")
        left.set_ylabel("requests / s")
        left.legend()
        left.grid(alpha=0.3)
        for key, style in (("accept", "-"), ("decision", "--")):
            for pct, marker in (("p50_ms", "o"), ("p99_ms", "s")):
                right.plot(
                    offered, [s[key][pct] for s in steps], linestyle=style, marker=marker, label=f"{key} {pct[:3]}"
                )
        right.axhline(250, color="red", linewidth=0.8, label="250 ms")
        right.set_yscale("log")
        right.set_title("Latency by offered rate", fontsize=10)
        right.set_xlabel("offered requests / s")
        right.set_ylabel("ms")
        right.legend(fontsize=7)
        right.grid(alpha=0.3)
        paths.append(_save(fig, out, "http-stepped.png"))
    return paths
