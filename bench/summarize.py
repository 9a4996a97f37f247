#!/usr/bin/env python3
"""Summarizes bench/run.sh's raw measurements: medians per system, ratios to vdemesh, the
targets of issue #4 as PASS/FAIL, a TSV with the machine description, and a gnuplot script for
the bar charts. Used by bench/run.sh; reads only files it is given."""

import argparse
import csv
import math
import statistics
import sys

ORDER = ["veth", "vxlan", "vde_switch+udp", "vde_plug+udp", "tinc", "vdemesh-tap", "vdemesh-vde"]
USERSPACE_ANCHORS = ["vde_switch+udp", "vde_plug+udp", "tinc"]
METRICS = ["tcp_mbps", "udp64_kpps", "udp64_sent_kpps", "ping_p50_ms", "cpu_s_per_gb",
           "guest_cpu_s_per_gb"]
NAN = float("nan")


def num(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return NAN
    return value


def ok(value):
    return value is not None and not math.isnan(value)


def median(values):
    values = [v for v in values if ok(v)]
    return statistics.median(values) if values else NAN


def fmt(value, digits):
    return f"{value:.{digits}f}" if ok(value) else "—"


def ratio(a, b):
    return a / b if ok(a) and ok(b) and b > 0 else NAN


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--stem", required=True)
    args = ap.parse_args()

    with open(args.raw) as f:
        raw = list(csv.DictReader(f, delimiter="\t"))
    status = {}
    with open(args.status) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts and parts[0]:
                status[parts[0]] = (parts[1] if len(parts) > 1 else "?",
                                    parts[2] if len(parts) > 2 else "")
    with open(args.machine) as f:
        machine = [line.rstrip("\n") for line in f if line.strip()]

    systems = [s for s in ORDER if s in status] + [s for s in status if s not in ORDER]
    med = {}
    runs = {}
    for s in systems:
        rows = [r for r in raw if r["system"] == s]
        runs[s] = len(rows)
        med[s] = {m: median([num(r[m]) for r in rows]) for m in METRICS}

    def get(s, m):
        return med.get(s, {}).get(m, NAN)

    tap, vde = "vdemesh-tap", "vdemesh-vde"

    # The table.
    header = ["system", "TCP Mbit/s", "UDP64 kpps", "ping p50 ms", "CPU-s/GB",
              "guest plugs CPU-s/GB", "tap/this TCP", "vde/this TCP", "tap/this kpps",
              "vde/this kpps"]
    table = []
    for s in systems:
        st, why = status[s]
        if st != "ok" and runs[s] == 0:
            table.append([s, f"{st}: {why}"[:100]])
            continue
        table.append([
            s + ("" if st == "ok" else f" ({st})"),
            fmt(get(s, "tcp_mbps"), 0),
            fmt(get(s, "udp64_kpps"), 1),
            fmt(get(s, "ping_p50_ms"), 3),
            fmt(get(s, "cpu_s_per_gb"), 2),
            fmt(get(s, "guest_cpu_s_per_gb"), 2),
            fmt(ratio(get(tap, "tcp_mbps"), get(s, "tcp_mbps")), 2),
            fmt(ratio(get(vde, "tcp_mbps"), get(s, "tcp_mbps")), 2),
            fmt(ratio(get(tap, "udp64_kpps"), get(s, "udp64_kpps")), 2),
            fmt(ratio(get(vde, "udp64_kpps"), get(s, "udp64_kpps")), 2),
        ])
    widths = [max(len(r[i]) for r in [header] + table if len(r) > i and len(r) == len(header))
              for i in range(len(header))]
    lines = []
    for r in [header] + table:
        if len(r) != len(header):
            lines.append(f"{r[0]:<{widths[0]}}  {r[1]}")
            continue
        cells = [f"{r[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells))
    print()
    print("\n".join(lines))
    print("(medians; UDP64 = 64-byte UDP payloads at unlimited offered rate, packets delivered to"
          " guest 2; CPU-s/GB = host-side processes over the TCP run; — = not measured or"
          " kernel-only)")

    # The targets of issue #4.
    checks = []

    def check(label, value, required, passes, digits):
        if not ok(value) or not ok(required):
            checks.append(f"{label}: n/a (a figure is missing)")
            return
        verdict = "PASS" if passes(value, required) else "FAIL"
        checks.append(f"{label}: {value:.{digits}f} vs {required:.{digits}f} {verdict}")

    ge = lambda v, r: v >= r
    le = lambda v, r: v <= r
    check("vdemesh-tap TCP >= 6 x tinc", get(tap, "tcp_mbps"), 6 * get("tinc", "tcp_mbps"), ge, 0)
    check("vdemesh-tap TCP >= 30% of kernel VXLAN", get(tap, "tcp_mbps"),
          0.3 * get("vxlan", "tcp_mbps"), ge, 0)
    check("vdemesh-vde TCP >= 1.5 x vde_switch+udp", get(vde, "tcp_mbps"),
          1.5 * get("vde_switch+udp", "tcp_mbps"), ge, 0)
    check("vdemesh-vde TCP >= 90% of vde_plug+udp", get(vde, "tcp_mbps"),
          0.9 * get("vde_plug+udp", "tcp_mbps"), ge, 0)
    anchors = [(get(a, "udp64_kpps"), a) for a in USERSPACE_ANCHORS if ok(get(a, "udp64_kpps"))]
    best_kpps, best_kpps_name = max(anchors) if anchors else (NAN, "none")
    anchors = [(get(a, "ping_p50_ms"), a) for a in USERSPACE_ANCHORS if ok(get(a, "ping_p50_ms"))]
    best_ping, best_ping_name = min(anchors) if anchors else (NAN, "none")
    for s in (tap, vde):
        check(f"{s} UDP64 kpps >= 2 x best userspace anchor ({best_kpps_name})",
              get(s, "udp64_kpps"), 2 * best_kpps, ge, 1)
    for s in (tap, vde):
        check(f"{s} ping p50 ms <= best userspace anchor ({best_ping_name})",
              get(s, "ping_p50_ms"), best_ping, le, 3)
    for s in (tap, vde):
        check(f"{s} CPU-s/GB <= tinc / 5", get(s, "cpu_s_per_gb"),
              get("tinc", "cpu_s_per_gb") / 5, le, 2)
    print()
    print("Targets (issue #4):")
    for c in checks:
        print("  " + c)

    # TSV with the machine description.
    cols = ["system", "status", "runs"] + METRICS + ["tap_over_this_tcp", "vde_over_this_tcp",
                                                     "tap_over_this_kpps", "vde_over_this_kpps"]
    with open(args.stem + ".tsv", "w") as f:
        f.write("# vdemesh bench/run.sh: medians per system\n")
        for line in machine:
            f.write(f"# {line}\n")
        for c in checks:
            f.write(f"# target: {c}\n")
        f.write("\t".join(cols) + "\n")
        for s in systems:
            values = [s, status[s][0], str(runs[s])]
            values += [f"{get(s, m):.6g}" if ok(get(s, m)) else "NaN" for m in METRICS]
            for a, m in ((tap, "tcp_mbps"), (vde, "tcp_mbps"), (tap, "udp64_kpps"),
                         (vde, "udp64_kpps")):
                r = ratio(get(a, m), get(s, m))
                values.append(f"{r:.3f}" if ok(r) else "NaN")
            f.write("\t".join(values) + "\n")
    with open(args.stem + "-raw.tsv", "w") as f:
        f.write("# vdemesh bench/run.sh: every repetition\n")
        for line in machine:
            f.write(f"# {line}\n")
        with open(args.raw) as r:
            f.write(r.read())

    def yrange(values):
        """Log-scale range from the decade below the smallest bar to twice the largest."""
        values = [v for v in values if ok(v) and v > 0]
        if not values:
            return "set yrange [*:*]"
        return f"set yrange [{10 ** math.floor(math.log10(min(values)))}:{2 * max(values)}]"

    # gnuplot script: two panels, TCP and UDP64, one bar per system, log scale.
    plotted = [s for s in systems if ok(get(s, "tcp_mbps")) or ok(get(s, "udp64_kpps"))]
    title = "; ".join(l for l in machine if l.split(":")[0] in ("cpu", "kernel", "vdemesh"))
    gp = [
        "set terminal pngcairo size 1100,900 font 'sans,10'",
        f"set output '{args.stem}.png'",
        "set datafile missing 'NaN'",
        "set style fill solid 0.8 border -1",
        "set boxwidth 0.6",
        "set logscale y",
        "set grid ytics",
        "set xtics rotate by -20 noenhanced",
        "set key off",
        "$data << EOD",
    ]
    for i, s in enumerate(plotted):
        t, k = get(s, "tcp_mbps"), get(s, "udp64_kpps")
        colour = 0x2e8b57 if s.startswith("vdemesh") else 0x8c8c8c if s in ("veth", "vxlan") else 0x3a6ea5
        gp.append(f'{i} "{s}" {t if ok(t) else "NaN"} {k if ok(k) else "NaN"} {colour}')
    gp += [
        "EOD",
        f"set multiplot layout 2,1 title \"vdemesh bench ({title})\\n"
        "grey: kernel, no overlay (bounds); blue: userspace anchors; green: vdemesh\" noenhanced",
        "set title 'TCP single stream, guest to guest (Mbit/s, median)'",
        "set ylabel 'Mbit/s'",
        yrange([get(s, "tcp_mbps") for s in plotted]),
        f"set xrange [-0.6:{len(plotted) - 0.4}]",
        "plot $data using 1:3:5:xtic(2) with boxes lc rgb variable, "
        "'' using 1:3:(sprintf('%.0f', $3)) with labels offset 0,0.8",
        "set title '64-byte UDP at unlimited offered rate: delivered (kpps, median)'",
        "set ylabel 'kpps'",
        yrange([get(s, "udp64_kpps") for s in plotted]),
        "plot $data using 1:4:5:xtic(2) with boxes lc rgb variable, "
        "'' using 1:4:(sprintf('%.1f', $4)) with labels offset 0,0.8",
        "unset multiplot",
    ]
    with open(args.stem + ".gp", "w") as f:
        f.write("\n".join(gp) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
