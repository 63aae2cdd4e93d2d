#!/usr/bin/env bash
# Feature caching, measured: trains the same frozen model on the same photos twice in one run, once decoding
# images and running the backbone every epoch, once on backbone features computed once and cached, and writes
# RESULTS.md with the epoch-time ratio and the machine.
# Usage: bench/features/run.sh [DATA_DIR] [EPOCHS]   (DATA_DIR defaults to DOGS_DATA, else ../shared/data/dogs-sample)
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:-${DOGS_DATA:-../shared/data/dogs-sample}}"
epochs="${2:-3}"
if [ ! -d "$data" ]; then
  echo "No data folder at '$data': pass a folder with one subfolder per class, or set DOGS_DATA." >&2
  exit 2
fi

dotnet build src/FineTuning.Cli -c Release --nologo -v q > /dev/null
finetune=src/FineTuning.Cli/bin/Release/net10.0/finetune
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
common=(--data "$data" --epochs "$epochs" --batch 16 --seed 1 --device cpu --freeze backbone)

# Same data, split, seed, schedule and deterministic transform; only the feature cache differs.
"$finetune" train "${common[@]}" --augment none --out "$work/uncached" 2> "$work/uncached.log"
"$finetune" train "${common[@]}" --cache-features --feature-cache "$work/features" --out "$work/cached" \
  2> "$work/cached.log"

python3 - "$work" "$data" "$epochs" > bench/features/RESULTS.md <<'PY'
import json, os, platform, statistics, subprocess, sys, datetime
work, data, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = json.load(open(f"{work}/uncached/metrics.json"))
c = json.load(open(f"{work}/cached/metrics.json"))
ue = [e["seconds"] for e in u["epochs"]]
ce = [e["seconds"] for e in c["epochs"]]
fc = c["feature_cache"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
load = os.getloadavg()[0]
images = fc["images"]
print("# Feature caching: epoch time, cached vs uncached\n")
print(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `bench/features/run.sh`, "
      "both runs back to back in one invocation.\n")
print(f"- Machine: {platform.platform()}, {cpu}, {os.cpu_count()} cores, {int(mem) // 1024 // 1024} GiB, no GPU; "
      f"load average {load:.1f} at the end (a shared machine: trust the ratio, not the seconds).")
print(f"- Data: `{os.path.basename(os.path.abspath(data))}`, {images} images "
      f"({len(c['classes'])} classes), batch 16, {epochs} epochs, seed 1, model {c['model']}, frozen backbone, "
      "224x224, no augmentation in either run.\n")
print("| | per epoch (median s) | all epochs (s) |")
print("|---|---:|---:|")
print(f"| uncached (decode + backbone + head every epoch) | {statistics.median(ue):.2f} | {sum(ue):.1f} |")
print(f"| cached (head only, on stored features) | {statistics.median(ce):.3f} | {sum(ce):.1f} |")
print(f"| one-time feature extraction ({fc['computed']} images) | | {fc['seconds']:.1f} |\n")
ratio = statistics.median(ue) / max(statistics.median(ce), 1e-9)
print(f"**Epoch-time ratio uncached / cached: {ratio:.0f}x.** Counting the extraction, the cached run took "
      f"{fc['seconds'] + sum(ce):.1f} s against {sum(ue):.1f} s; every later run on the same images, model and preset "
      "reads the features from disk.\n")
fa = [e["val_accuracy"] for e in c["epochs"]]
ua = [e["val_accuracy"] for e in u["epochs"]]
print("Validation accuracy per epoch, uncached: " + ", ".join(f"{a:.3f}" for a in ua)
      + "; cached: " + ", ".join(f"{a:.3f}" for a in fa) + " (the same training, so they agree within float noise).")
PY
cat bench/features/RESULTS.md
