#!/bin/bash
# TUI overhead: the same ~1-minute stage (`--force sl`) run alternately headless
# and in the TUI (tmux, 80x24), twice each. Prints the stage's wall time from the
# run log, the process CPU time (/usr/bin/time) and the load average before each.
# Usage: benches/tui_overhead.sh [QUENCH_BINARY] (default: target/release/quench)
set -euo pipefail
quench=$(realpath "${1:-target/release/quench}")
work=$(mktemp -d)
cd "$work"
cat > p.toml <<'TOML'
[pipeline]
name = "overhead"
[stage.inst]
kind = "disorder.spiked-tensor"
n = 60
temperature = 0.71
[stage.sl]
kind = "sample.diffusion"
inputs = ["inst"]
samples = 4
batch = 4
dt = 0.0003
TOML
"$quench" --cache c run p.toml --headless > /dev/null 2>&1
for i in 1 2; do
  for mode in headless tui; do
    before=$(cat c/runs/latest)
    echo "load: $(uptime | sed 's/.*load average: //')"
    if [ $mode = headless ]; then
      /usr/bin/time -o time.$mode.$i -f "%U %S %e" "$quench" --cache c run p.toml --force sl --headless > /dev/null 2>&1
    else
      tmux new-session -d -s quench-overhead-$$ -x 80 -y 24 \
        "/usr/bin/time -o time.$mode.$i -f '%U %S %e' $quench --cache c run p.toml --force sl"
      while [ "$(cat c/runs/latest)" = "$before" ]; do sleep 1; done
      while ! grep -q run_finished "c/runs/$(cat c/runs/latest)/events.jsonl"; do sleep 1; done
      sleep 2; tmux send-keys -t quench-overhead-$$ q; sleep 2; tmux kill-session -t quench-overhead-$$ 2>/dev/null || true
    fi
    log="c/runs/$(cat c/runs/latest)/events.jsonl"
    ms=$(grep '"stage":"sl","event":"finished"' "$log" | sed 's/.*"wall_ms":\([0-9]*\).*/\1/')
    echo "$mode $i: stage wall ${ms} ms; process user sys elapsed (s): $(cat time.$mode.$i)"
  done
done
rm -rf "$work"
