#!/usr/bin/python3
"""Side-by-side benchmark: TorchSharp (`finetune costs`) against Python PyTorch (bench/pytorch_costs.py).

Both run the same experiment: torchvision's resnet18 architecture with random weights and a 120-way head, batch 8,
224x224, SGD with momentum 0.9, one warm-up step and N timed steps, each mode in its own process. The runner
alternates the two implementations (which one goes first flips every round) so that a change in machine load hits
both, and writes bench/RESULTS.md with TorchSharp/PyTorch ratios of median step time and peak memory per mode.

Usage: /usr/bin/python3 bench/run.py [--rounds 3] [--steps 5] [--threads 2,1] [--no-build]
Not part of CI: it takes minutes (about 15 on an idle 2-core machine with the defaults).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
CLI = os.path.join(OUT, "cli", "finetune")  # replaced by --cli
MODES = ["frozen", "unfrozen", "head-only-optimizer", "frozen-no-grad"]


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_torchsharp(mode, args, threads):
    with tempfile.TemporaryDirectory() as folder:
        report_file = os.path.join(folder, "costs.json")
        command = [args.cli, "costs", "--model", "resnet18", "--random-weights", "--modes", mode,
                   "--classes", str(args.classes), "--batch", str(args.batch), "--size", str(args.size),
                   "--steps", str(args.steps), "--threads", str(threads), "--device", "cpu",
                   "--json", report_file]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with open(report_file) as f:
            report = json.load(f)
    result = report["modes"][0]
    result["machine"] = report["machine"]
    return result


def run_pytorch(mode, args, threads):
    command = ["/usr/bin/python3", os.path.join(ROOT, "bench", "pytorch_costs.py"), "--mode", mode,
               "--classes", str(args.classes), "--batch", str(args.batch), "--size", str(args.size),
               "--steps", str(args.steps), "--threads", str(threads)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=120)
    parser.add_argument("--threads", default="2,1", help="comma-separated thread counts set in both")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--cli", default=CLI, help="the finetune executable (default: the Release build it makes)")
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]

    if not args.no_build:
        log("building finetune (Release) into bench/out/cli ...")
        subprocess.run(["dotnet", "build", "-c", "Release", "--nologo", "-v", "q",
                        os.path.join(ROOT, "src", "FineTuning.Cli"), "-o", os.path.join(OUT, "cli")], check=True)

    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    results = {}  # (implementation, threads, mode) -> list of results
    for threads in threads_list:
        for round_index in range(args.rounds):
            for mode in MODES:
                order = [("torchsharp", run_torchsharp), ("pytorch", run_pytorch)]
                if round_index % 2 == 1:
                    order.reverse()
                for name, runner in order:
                    result = runner(mode, args, threads)
                    results.setdefault((name, threads, mode), []).append(result)
                    log(f"threads {threads}, round {round_index + 1}/{args.rounds}, {mode:20s} {name:10s} "
                        f"step {result['step_ms']:8.1f} ms  peak {result['peak_memory_bytes'] / 2**20:7.0f} MiB")
    load_after = os.getloadavg()
    elapsed = datetime.datetime.now(datetime.timezone.utc) - started

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({f"{k[0]}|{k[1]}|{k[2]}": v for k, v in results.items()}, f, indent=1)
    write_markdown(args, threads_list, results, load_before, load_after, started, elapsed)
    log(f"wrote {args.output}")


def median_of(results, key):
    return statistics.median(r[key] for r in results)


def write_markdown(args, threads_list, results, load_before, load_after, started, elapsed):
    any_ts = next(v for k, v in results.items() if k[0] == "torchsharp")[0]
    any_py = next(v for k, v in results.items() if k[0] == "pytorch")[0]
    machine = any_ts["machine"]
    lines = [
        "# TorchSharp vs PyTorch: the cost experiment side by side",
        "",
        f"Written by `bench/run.py` on {started:%Y-%m-%d %H:%M} UTC in {elapsed.total_seconds() / 60:.0f} min; "
        "every figure below was measured in that run.",
        "",
        "## Machine and versions",
        "",
        f"- Processor: {machine['processor']}, {machine['cores']} cores; {machine['operating_system']}; "
        f"{platform.python_implementation()} {platform.python_version()}",
        f"- TorchSharp {machine['torchsharp_version']} with libtorch {machine['libtorch_version']} "
        f"({machine['runtime']}); `finetune` from {os.path.relpath(args.cli, ROOT)}",
        f"- PyTorch {any_py['torch_version']}, torchvision {any_py['torchvision_version']} (Debian python3-torch, "
        f"oneDNN available: {any_py['mkldnn_enabled']}, generic reference BLAS)",
        f"- Default intra-op threads: PyTorch {any_py['torch_default_threads']}; TorchSharp's libtorch uses one per "
        "core. Each configuration below sets the same count in both.",
        f"- Load average (1, 5, 15 min) before: {load_before[0]:.1f}, {load_before[1]:.1f}, {load_before[2]:.1f}; "
        f"after: {load_after[0]:.1f}, {load_after[1]:.1f}, {load_after[2]:.1f}. A load above the core count means "
        "other work shared the CPUs: trust the ratios (both sides alternate through the same load) more than the "
        "absolute times.",
        "",
        "## Experiment",
        "",
        f"torchvision's resnet18 architecture, random weights, new {args.classes}-way head; batch {args.batch}, "
        f"{args.size}x{args.size}; SGD (lr 0.01, momentum 0.9); 1 warm-up step, then {args.steps} timed steps; "
        f"each mode in its own process; {args.rounds} rounds, implementations alternating (the first one flips "
        "every round). Figures are medians over rounds of each process's median step time, and of its peak "
        "resident memory (VmHWM, reset after the model and batch are built; the baseline is the memory resident "
        "at that point: runtime, libraries, weights).",
        "",
    ]
    for threads in threads_list:
        lines += [
            f"## {threads} thread{'s' if threads != 1 else ''} in both",
            "",
            "| mode | TorchSharp step ms | PyTorch step ms | step ratio TS/PT | TorchSharp peak MiB | "
            "PyTorch peak MiB | peak ratio TS/PT | TS baseline MiB | PT baseline MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for mode in MODES:
            ts = results.get(("torchsharp", threads, mode))
            py = results.get(("pytorch", threads, mode))
            if not ts or not py:
                continue
            ts_step, py_step = median_of(ts, "step_ms"), median_of(py, "step_ms")
            ts_peak, py_peak = median_of(ts, "peak_memory_bytes"), median_of(py, "peak_memory_bytes")
            ts_base, py_base = median_of(ts, "baseline_memory_bytes"), median_of(py, "baseline_memory_bytes")
            lines.append(
                f"| {mode} | {ts_step:.0f} | {py_step:.0f} | {ts_step / py_step:.2f} | {ts_peak / 2**20:.0f} | "
                f"{py_peak / 2**20:.0f} | {ts_peak / py_peak:.2f} | {ts_base / 2**20:.0f} | {py_base / 2**20:.0f} |")
        lines += ["", "Forward / backward / optimizer medians (ms), TorchSharp vs PyTorch:", "",
                  "| mode | TS forward | PT forward | TS backward | PT backward | TS optimizer | PT optimizer |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for mode in MODES:
            ts = results.get(("torchsharp", threads, mode))
            py = results.get(("pytorch", threads, mode))
            if not ts or not py:
                continue
            lines.append("| " + " | ".join([mode] + [
                f"{median_of(r, key):.1f}" for key in ("forward_ms", "backward_ms", "optimizer_ms")
                for r in (ts, py)]) + " |")
        lines.append("")
    lines += ["## Why the figures differ", "", "See [ANALYSIS.md](ANALYSIS.md): what was checked, and with which evidence.",
              ""]
    with open(args.output, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
