#!/usr/bin/env bash
# Run every benchmark under bench/ and keep their output in bench/results/<date>/.
# Usage: scripts/bench.sh            (everything; the load test's soak lasts 10 minutes)
#        scripts/bench.sh quick      (smaller sizes, no soak: a few minutes)
# The figures in README "Benchmarks" come from these scripts; the machine is shared, so scripts that can
# report CPU time do, and wall times are indicative.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/services.sh
mode=${1:-full}
out="bench/results/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
py=.venv/bin/python

run() {  # run NAME COMMAND...
  local name=$1
  shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$out/$name.txt"
}

if [ "$mode" = quick ]; then
  run feedback_parse_classify "$py" bench/feedback_parse_classify.py --records 50000
  run feedback_corpus_agreement "$py" bench/feedback_corpus_agreement.py
  run feedback_pipe_e2e "$py" bench/feedback_pipe_e2e.py --stdin pipe --records 100000
  run validation_rules "$py" bench/validation_rules.py --count 50000
  run validation_api "$py" bench/validation_api.py
  run validation_csv "$py" bench/validation_csv.py --rows 100000
  run reputation_dnsbl "$py" bench/reputation_dnsbl.py
  run dmarc_import "$py" bench/dmarc_import.py --reports 1000
  run dmarc_parsedmarc "$py" bench/dmarc_parsedmarc.py --reports 100
  run warmup_daily_run "$py" bench/warmup_daily_run.py
  run ips_inventory "$py" bench/ips_inventory.py
  run console_pages "$py" bench/console_pages.py --ips 300 --days 7 --rounds 10
  run powermta_render "$py" bench/powermta_render.py
  run outbox_drain "$py" bench/outbox_drain.py --events 5000
  run outbox_freshness "$py" bench/outbox_freshness.py --records 40
  run accounting_storage "$py" bench/accounting_storage.py --records 100000 --prefill 1000000 --requests 100
  run load "$py" bench/load/run_load.py --batches 20 --reads 600 --soak-seconds 0
else
  run feedback_parse_classify taskset -c 0 "$py" bench/feedback_parse_classify.py
  run feedback_corpus_agreement "$py" bench/feedback_corpus_agreement.py
  run feedback_pipe_e2e "$py" bench/feedback_pipe_e2e.py --stdin pipe
  run validation_rules "$py" bench/validation_rules.py
  run validation_api "$py" bench/validation_api.py
  run validation_csv "$py" bench/validation_csv.py
  run reputation_dnsbl "$py" bench/reputation_dnsbl.py
  run dmarc_import "$py" bench/dmarc_import.py
  run dmarc_parsedmarc "$py" bench/dmarc_parsedmarc.py
  run warmup_daily_run "$py" bench/warmup_daily_run.py
  run ips_inventory "$py" bench/ips_inventory.py
  run console_pages "$py" bench/console_pages.py
  run powermta_render "$py" bench/powermta_render.py
  run outbox_drain "$py" bench/outbox_drain.py
  run outbox_freshness "$py" bench/outbox_freshness.py
  run accounting_storage "$py" bench/accounting_storage.py
  run load "$py" bench/load/run_load.py
fi
echo "results in $out"
