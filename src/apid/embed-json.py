# SPDX-License-Identifier: MIT
# Usage: embed-json.py INPUT.json OUTPUT.c — compiles a JSON document in as openapi_json[],
# failing the build when it is not JSON.
import json
import sys

text = open(sys.argv[1], encoding="utf-8").read()
json.loads(text)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("/* Generated from %s. */\n#include \"openapi.h\"\n\n" % sys.argv[1].rsplit("/", 1)[-1])
    out.write("const char openapi_json[] = %s;\n" % json.dumps(text))
