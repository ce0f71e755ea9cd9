/* SPDX-License-Identifier: MIT */
/* /openapi.json, compiled in from src/apid/openapi.json, and /docs, a self-contained HTML page
 * rendered from it: no script, no external asset. */

#include <ctype.h>
#include <json-c/printbuf.h>
#include <string.h>

#include "json-util.h"
#include "openapi.h"
#include "request.h"

static const char *const methods[] = { "get", "post", "put", "patch", "delete" };

static void put(struct printbuf *pb, const char *s) {
        printbuf_memappend(pb, s, (int) strlen(s));
}


static void tag(struct printbuf *pb, const char *open, const char *text, const char *close) {
        if (isempty(text))
                return;
        put(pb, open);
        printbuf_html_escaped(pb, text);
        put(pb, close);
}

/* "#/components/schemas/Client" → "Client", linked to its section. */
static void schema_name(struct printbuf *pb, json_object *schema) {
        const char *ref = json_get_string(schema, "$ref"), *type = json_get_string(schema, "type");
        json_object *v;

        if (ref && strrchr(ref, '/')) {
                const char *name = strrchr(ref, '/') + 1;
                put(pb, "<a href=\"#schema-");
                printbuf_html_escaped(pb, name);
                put(pb, "\">");
                printbuf_html_escaped(pb, name);
                put(pb, "</a>");
        } else if (type) {
                printbuf_html_escaped(pb, type);
                if (streq(type, "array") && json_object_object_get_ex(schema, "items", &v)) {
                        put(pb, " of ");
                        schema_name(pb, v);
                }
        } else if (json_object_object_get_ex(schema, "type", &v) && json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        if (i > 0)
                                put(pb, " or ");
                        printbuf_html_escaped(pb, json_object_get_string(json_object_array_get_idx(v, i)));
                }
        } else if (json_object_object_get_ex(schema, "allOf", &v)) {
                put(pb, "all of ");
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        if (i > 0)
                                put(pb, ", ");
                        schema_name(pb, json_object_array_get_idx(v, i));
                }
        } else
                put(pb, "any");
}

/* Follows a local "$ref" ("#/components/responses/NotFound") in @spec. */
static json_object *resolve(json_object *spec, json_object *o) {
        const char *ref = json_get_string(o, "$ref");
        json_object *cur = spec;
        char part[128];

        if (!ref || !startswith(ref, "#/"))
                return o;
        for (const char *p = ref + 2; *p;) {
                size_t n = strcspn(p, "/");
                if (n >= sizeof part)
                        return NULL;
                memcpy(part, p, n);
                part[n] = 0;
                if (!json_object_object_get_ex(cur, part, &cur))
                        return NULL;
                p += n + (p[n] == '/');
        }
        return cur;
}

static void parameters(struct printbuf *pb, json_object *spec, json_object *list) {
        if (!list || json_object_array_length(list) == 0)
                return;
        put(pb, "<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>\n");
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *p = resolve(spec, json_object_array_get_idx(list, i)), *schema = NULL;
                (void) json_object_object_get_ex(p, "schema", &schema);
                tag(pb, "<tr><td><code>", json_get_string(p, "name"), "</code></td>");
                tag(pb, "<td>", json_get_string(p, "in"), "</td><td>");
                schema_name(pb, schema);
                put(pb, "</td><td>");
                printbuf_html_escaped(pb, json_get_string(p, "description"));
                put(pb, "</td></tr>\n");
        }
        put(pb, "</table>\n");
}

static void content_schema(struct printbuf *pb, json_object *content) {
        json_object_object_foreach(content, type, media) {
                json_object *schema = NULL;
                (void) json_object_object_get_ex(media, "schema", &schema);
                tag(pb, " <code>", type, "</code> ");
                schema_name(pb, schema);
        }
}

static void operation(struct printbuf *pb, json_object *spec, const char *path, const char *method,
                      json_object *shared_params, json_object *op) {
        json_object *v, *security;
        bool open = json_object_object_get_ex(op, "security", &security) && json_object_array_length(security) == 0;

        put(pb, "<section class=\"op\"><h3><span class=\"m ");
        printbuf_html_escaped(pb, method);
        put(pb, "\">");
        for (const char *m = method; *m; m++) {
                char c = (char) toupper((unsigned char) *m);
                printbuf_memappend(pb, &c, 1);
        }
        put(pb, "</span> <code>");
        printbuf_html_escaped(pb, path);
        put(pb, "</code></h3>\n");
        tag(pb, "<p><b>", json_get_string(op, "summary"), "</b>");
        put(pb, open ? " (no token needed)</p>\n" : "</p>\n");
        tag(pb, "<p>", json_get_string(op, "description"), "</p>\n");
        parameters(pb, spec, shared_params);
        if (json_object_object_get_ex(op, "parameters", &v))
                parameters(pb, spec, v);
        if (json_object_object_get_ex(op, "requestBody", &v) && json_object_object_get_ex(v, "content", &v)) {
                put(pb, "<p>Body:");
                content_schema(pb, v);
                put(pb, "</p>\n");
        }
        if (json_object_object_get_ex(op, "responses", &v)) {
                put(pb, "<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>\n");
                json_object_object_foreach(v, code, response) {
                        json_object *r = resolve(spec, response), *content;
                        tag(pb, "<tr><td>", code, "</td><td>");
                        printbuf_html_escaped(pb, json_get_string(r, "description"));
                        put(pb, "</td><td>");
                        if (json_object_object_get_ex(r, "content", &content))
                                content_schema(pb, content);
                        put(pb, "</td></tr>\n");
                }
                put(pb, "</table>\n");
        }
        put(pb, "</section>\n");
}

static void schema_section(struct printbuf *pb, const char *name, json_object *schema) {
        json_object *props, *required = NULL, *v;

        put(pb, "<section class=\"schema\"><h3 id=\"schema-");
        printbuf_html_escaped(pb, name);
        put(pb, "\">");
        printbuf_html_escaped(pb, name);
        put(pb, "</h3>\n");
        tag(pb, "<p>", json_get_string(schema, "description"), "</p>\n");
        if (json_object_object_get_ex(schema, "enum", &v)) {
                put(pb, "<p>One of:");
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        tag(pb, " <code>", json_object_get_string(json_object_array_get_idx(v, i)), "</code>");
                put(pb, "</p>\n");
        }
        if (json_object_object_get_ex(schema, "allOf", &v)) {
                put(pb, "<p>");
                schema_name(pb, schema);
                put(pb, "</p>\n");
        }
        if (!json_object_object_get_ex(schema, "properties", &props))
                return (void) put(pb, "</section>\n");
        (void) json_object_object_get_ex(schema, "required", &required);
        put(pb, "<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>\n");
        json_object_object_foreach(props, field, fs) {
                bool req = false;
                for (size_t i = 0; required && i < json_object_array_length(required); i++)
                        req = req || streq(json_object_get_string(json_object_array_get_idx(required, i)), field);
                tag(pb, "<tr><td><code>", field, "</code></td><td>");
                schema_name(pb, fs);
                put(pb, req ? "</td><td>yes</td><td>" : "</td><td></td><td>");
                printbuf_html_escaped(pb, json_get_string(fs, "description"));
                put(pb, "</td></tr>\n");
        }
        put(pb, "</table></section>\n");
}

static const char style[] =
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
        "code{font-family:ui-monospace,monospace}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
        ".op{border-top:1px solid #ddd;margin-top:1.5em}.m{padding:0 .4em;border-radius:3px;color:#fff;background:#555}"
        ".get{background:#2a7}.post{background:#27c}.delete{background:#c33}</style>\n";

void docs_page(Request *q) {
        _cleanup_(json_object_putp) json_object *spec = NULL;
        json_object *info = NULL, *paths = NULL, *components = NULL, *schemas = NULL;
        struct printbuf *pb;

        if (json_parse(openapi_json, strlen(openapi_json), &spec) < 0)
                return request_reply_error(q, 503, "unavailable", "The API description does not parse.");
        pb = printbuf_new();
        if (!pb)
                return request_reply_error(q, 503, "out_of_memory", "Out of memory.");
        (void) json_object_object_get_ex(spec, "info", &info);
        (void) json_object_object_get_ex(spec, "paths", &paths);
        (void) json_object_object_get_ex(spec, "components", &components);
        (void) json_object_object_get_ex(components, "schemas", &schemas);

        put(pb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                               "<meta name=\"viewport\" content=\"width=device-width\">");
        tag(pb, "<title>", json_get_string(info, "title"), "</title>\n");
        put(pb, style);
        put(pb, "</head><body>\n");
        tag(pb, "<h1>", json_get_string(info, "title"), "</h1>\n");
        tag(pb, "<p><b>", json_get_string(info, "summary"), "</b></p>\n");
        tag(pb, "<p>", json_get_string(info, "description"), "</p>\n");
        put(pb, "<p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1).</p>\n"
                               "<h2>Operations</h2>\n");
        json_object_object_foreach(paths, path, item) {
                json_object *shared = NULL, *op;
                (void) json_object_object_get_ex(item, "parameters", &shared);
                for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                        if (json_object_object_get_ex(item, methods[i], &op))
                                operation(pb, spec, path, methods[i], shared, op);
        }
        put(pb, "<h2>Schemas</h2>\n");
        json_object_object_foreach(schemas, name, schema)
                schema_section(pb, name, schema);
        put(pb, "</body></html>\n");
        request_reply(q, 200, "text/html; charset=utf-8", pb->buf);
        printbuf_free(pb);
}

void docs_openapi(Request *q) {
        request_reply_json(q, 200, openapi_json);
}
