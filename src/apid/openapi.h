/* SPDX-License-Identifier: MIT */
#pragma once

/* src/apid/openapi.json, compiled in (checked to be JSON at build time). */
extern const char openapi_json[];
