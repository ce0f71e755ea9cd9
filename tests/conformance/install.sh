#!/bin/bash
# SPDX-License-Identifier: MIT
# Installs the client libraries the conformance suite drives the sandbox with, pinned, once, from
# the npm registry into a cache (as tests/openapi/validate.sh does); prints their node_modules.
set -euo pipefail
packages=(grammy@1.46.0 @a2seven/yoo-checkout@1.1.4)
cache=${TGFLEET_NPM_CACHE:-/var/cache/tgfleet-npm}/conformance-$(echo "${packages[*]}" | md5sum | cut -c1-12)
if [ ! -f "$cache/.complete" ]; then
        mkdir -p "$cache"
        (cd "$cache" && npm install --silent --no-audit --no-fund "${packages[@]}" >/dev/null)
        touch "$cache/.complete"
fi
echo "$cache/node_modules"
