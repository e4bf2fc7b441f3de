#!/usr/bin/env bash
# Creates .venv (or $MEFLOW_VENV) and installs meflow with everything it needs, CPU-only.
# Usage: bash scripts/install.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${MEFLOW_VENV:-.venv}"
extras=""
[[ "${1:-}" == "--dev" ]] && extras="[dev]"
python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip
# torch==2.13.0 is pinned in pyproject.toml: any other torch request pulls CUDA wheels.
"$py" -m pip install -q -e ".$extras"
# ultralytics: only its model builder is used (ultralytics.nn.tasks). --no-deps keeps
# opencv-contrib-python intact and avoids pulling a CUDA torch. torchvision is installed only
# for its metadata, which ultralytics reads at import; meflow never imports torchvision.
"$py" -m pip install -q --no-deps "ultralytics==8.4.190" "torchvision==0.28.0"
"$py" -c "import cv2, meflow; assert hasattr(cv2, 'optflow'), 'cv2.optflow missing: opencv-python shadows opencv-contrib-python'; print('meflow', meflow.__version__, 'installed in $venv')"
