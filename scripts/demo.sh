#!/bin/bash
# The main job end to end.  Grows with the engine: today it shows the
# command line; it becomes a live checkpoint and restore as soon as that
# lands.
set -euo pipefail
cd "$(dirname "$0")/.."
./build/ocicr --version
./build/ocicr --help
