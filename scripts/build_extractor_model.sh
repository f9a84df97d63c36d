#!/usr/bin/env bash
# Rebuilds the generic extractor's shipped ranker (extractors/generic/model/) from scratch:
# our generator's development layouts (seed 11), the layout randomizer's corpus when it exists,
# ZUGFeRD 1.0 PDFs with truth from their XML, and the development part of the real-world set.
# The validation part of the real-world set is never read. About 10-15 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
DATA=${LEDGERBOT_SHARED_DATA:-../shared/data}
WORK=${WORK:-var/extractor-model}
mkdir -p "$WORK"
if [ ! -d "$DATA" ]; then
    echo "warning: no shared data at $DATA (set LEDGERBOT_SHARED_DATA): training without the ZUGFeRD and real-world documents" >&2
fi
echo "generating the development corpus (seed 11)" >&2
[ -f "$WORK/corpus/manifest.json" ] || "$BIN/ledgerbot" sandbox corpus "$WORK/corpus" --n 420 --seed 11 \
    --split dev --no-einvoices >/dev/null
ARGS=()
if [ -d "$DATA/einvoice/ZUGFeRDv1/correct" ]; then
    [ -d "$WORK/zf1" ] || "$BIN/python" -m extractors.einvoice.make_truth "$DATA/einvoice/ZUGFeRDv1/correct" \
        "$WORK/zf1" >/dev/null
    ARGS+=(--truth "$WORK/zf1")
fi
[ -d "$DATA/realworld" ] && ARGS+=(--realworld "$DATA/realworld")
echo "generating the layout randomizer's corpus (seed 12, receipts included)" >&2
[ -f "$WORK/randomized/manifest.json" ] || "$BIN/ledgerbot" sandbox corpus "$WORK/randomized" --n 300 \
    --seed 12 --layouts random --receipts --split dev --no-einvoices >/dev/null
ARGS+=(--also "$WORK/randomized")
if [ -d "$DATA/einvoice/ZUGFeRDv1" ]; then  # ZUGFeRD 1.0 content in randomized layouts
    [ -f "$WORK/randomized-zf1/manifest.json" ] || "$BIN/ledgerbot" sandbox corpus "$WORK/randomized-zf1" \
        --n 1 --seed 13 --layouts random --no-einvoices --no-scans --einvoice-styles 2 \
        --from-einvoice "$DATA/einvoice/ZUGFeRDv1" >/dev/null
    ARGS+=(--also "$WORK/randomized-zf1")
fi
rm -rf "$WORK/models"
"$BIN/ledgerbot" train extractor "$WORK/corpus" "${ARGS[@]}" --models-dir "$WORK/models" --cache "$WORK/cache"
"$BIN/python" -m extractors.generic.training ship "$WORK/models"
