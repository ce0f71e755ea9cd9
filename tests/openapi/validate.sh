#!/bin/bash
# SPDX-License-Identifier: MIT
# Validates the REST API's description against the OpenAPI 3.1 schema (with its JSON Schema
# dialect), using @seriousme/openapi-schema-validator, pinned, installed once from the npm
# registry into a cache. Usage: validate.sh SPEC
set -euo pipefail
spec=$(realpath "$1")
version=2.11.0
cache=${TGFLEET_NPM_CACHE:-/var/cache/tgfleet-npm}/openapi-schema-validator-$version
if [ ! -f "$cache/.complete" ]; then
        mkdir -p "$cache"
        (cd "$cache" && npm install --silent --no-audit --no-fund "@seriousme/openapi-schema-validator@$version" >/dev/null)
        touch "$cache/.complete"
fi
node --input-type=module -e "
import { Validator } from '$cache/node_modules/@seriousme/openapi-schema-validator/index.js';
const v = new Validator();
const r = await v.validate('$spec');
if (!r.valid || v.version !== '3.1') {
        console.error('invalid OpenAPI ' + v.version + ' document:', JSON.stringify(r.errors, null, 1));
        process.exit(1);
}
console.log('$spec: valid OpenAPI ' + v.version);
"
