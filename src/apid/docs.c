/* SPDX-License-Identifier: MIT */
/* /openapi.json, compiled in from src/apid/openapi.json, and /docs, a self-contained HTML page
 * rendered from it: no script, no external asset. */

#include <ctype.h>
#include <stdlib.h>
#include <json-c/printbuf.h>
#include <string.h>

#include "json-util.h"
#include "openapi.h"
#include "request.h"

static const char *const methods[] = { "get", "post", "put", "patch", "delete" };

static void put(struct printbuf *pb, const char *s) {
        printbuf_memappend(pb, s, (int) strlen(s));
}


/* @s in capitals: an HTTP method as it is written. */
static void put_upper(struct printbuf *pb, const char *s) {
        for (; *s; s++) {
                char c = (char) toupper((unsigned char) *s);
                printbuf_memappend(pb, &c, 1);
        }
}

static void tag(struct printbuf *pb, const char *open, const char *text, const char *close) {
        if (isempty(text))
                return;
        put(pb, open);
        printbuf_html_escaped(pb, text);
        put(pb, close);
}

/* @text for people: escaped, and `quoted` spans as code, as the description writes them. */
static void prose(struct printbuf *pb, const char *text) {
        for (const char *p = strempty(text); *p;) {
                const char *open = strchr(p, '`'), *close = open ? strchr(open + 1, '`') : NULL;
                char *span;

                if (!close) {
                        printbuf_html_escaped(pb, p);
                        return;
                }
                span = strndup(p, (size_t) (open - p));
                if (span)
                        printbuf_html_escaped(pb, span);
                free(span);
                span = strndup(open + 1, (size_t) (close - open - 1));
                put(pb, "<code>");
                if (span)
                        printbuf_html_escaped(pb, span);
                put(pb, "</code>");
                free(span);
                p = close + 1;
        }
}

static void para(struct printbuf *pb, const char *open, const char *text, const char *close) {
        if (isempty(text))
                return;
        put(pb, open);
        prose(pb, text);
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
                prose(pb, json_get_string(p, "description"));
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

/* --- examples, made from the schemas ---------------------------------------------------------------- */

/* An example of a value of @schema: its own "example", else one made from its type (the first
 * of an enum, a time for a date-time, the minimum of a number, one item of an array, every
 * property of an object). A new object, or NULL for null. */
static json_object *example_of(json_object *spec, json_object *schema, unsigned depth) {
        json_object *v, *o;
        const char *type;

        /* A reference may carry its own example, as a property's of a shared schema. */
        if (json_object_object_get_ex(schema, "example", &v))
                return json_object_get(v);
        schema = resolve(spec, schema);
        if (!schema || depth > 8)
                return NULL;
        if (json_object_object_get_ex(schema, "example", &v))
                return json_object_get(v);
        if (json_object_object_get_ex(schema, "const", &v))
                return json_object_get(v);
        if (json_object_object_get_ex(schema, "examples", &v) && json_object_array_length(v) > 0)
                return json_object_get(json_object_array_get_idx(v, 0));
        if (json_object_object_get_ex(schema, "allOf", &v)) {
                o = json_object_new_object();
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *part = example_of(spec, json_object_array_get_idx(v, i), depth + 1);
                        json_object_object_foreach(part, key, value)
                                json_object_object_add(o, key, json_object_get(value));
                        json_object_put(part);
                }
                return o;
        }
        if (json_object_object_get_ex(schema, "enum", &v))
                return json_object_get(json_object_array_get_idx(v, 0));
        type = json_get_string(schema, "type");
        if (!type && json_object_object_get_ex(schema, "type", &v) && json_object_is_type(v, json_type_array))
                for (size_t i = 0; !type && i < json_object_array_length(v); i++)
                        if (!streq(json_object_get_string(json_object_array_get_idx(v, i)), "null"))
                                type = json_object_get_string(json_object_array_get_idx(v, i));
        if (streq_ptr(type, "object")) {
                o = json_object_new_object();
                if (json_object_object_get_ex(schema, "properties", &v)) {
                        json_object_object_foreach(v, key, property)
                                json_object_object_add(o, key, example_of(spec, property, depth + 1));
                }
                return o;
        }
        if (streq_ptr(type, "array")) {
                o = json_object_new_array();
                if (json_object_object_get_ex(schema, "items", &v))
                        json_object_array_add(o, example_of(spec, v, depth + 1));
                return o;
        }
        if (streq_ptr(type, "integer")) {
                int64_t n = 1;
                if (json_get_int64(schema, "default", &n) < 0)
                        (void) json_get_int64(schema, "minimum", &n);
                return json_object_new_int64(n);
        }
        if (streq_ptr(type, "boolean"))
                return json_object_new_boolean(true);
        if (streq_ptr(type, "string"))
                return json_object_new_string(json_get_string(schema, "default") ?:
                                              streq_ptr(json_get_string(schema, "format"), "date-time")
                                              ? "2026-12-01T09:30:00Z" : "…");
        return NULL;
}

/* The JSON example of the first media type of @content, as indented text, or NULL. */
static char *content_example(json_object *spec, json_object *content) {
        json_object_object_foreach(content, type, media) {
                json_object *schema = NULL, *e;
                char *text;
                if (!startswith(type, "application/json") || !json_object_object_get_ex(media, "schema", &schema))
                        return NULL;
                e = example_of(spec, schema, 0);
                if (json_object_is_type(e, json_type_object) && json_object_object_length(e) == 0) {
                        json_object_put(e);   /* nothing the schema tells (this document) */
                        return NULL;
                }
                text = strdup(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(e);
                return text;
        }
        return NULL;
}

/* @path with each {parameter} replaced by an example of it. */
static void example_path(struct printbuf *pb, json_object *spec, const char *path, json_object *shared,
                         json_object *own) {
        json_object *lists[] = { shared, own };

        for (const char *p = path; *p;) {
                const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL;
                json_object *e = NULL;

                if (!close) {
                        put(pb, p);
                        return;
                }
                printbuf_memappend(pb, p, (int) (open - p));
                for (size_t l = 0; !e && l < ELEMENTSOF(lists); l++)
                        for (size_t i = 0; !e && lists[l] && i < json_object_array_length(lists[l]); i++) {
                                json_object *param = resolve(spec, json_object_array_get_idx(lists[l], i)), *schema;
                                const char *name = json_get_string(param, "name");
                                if (name && strlen(name) == (size_t) (close - open - 1) &&
                                    strncmp(name, open + 1, strlen(name)) == 0 &&
                                    json_object_object_get_ex(param, "schema", &schema))
                                        e = example_of(spec, schema, 0);
                        }
                put(pb, e ? json_object_get_string(e) : "1");
                json_object_put(e);
                p = close + 1;
        }
}

/* A request a reader can paste (curl), and the answer it gets. */
static void example(struct printbuf *pb, json_object *spec, const char *server, const char *path, const char *method,
                    json_object *shared, json_object *op, bool open) {
        _cleanup_free_ char *body = NULL, *answer = NULL;
        const char *answer_code = NULL;
        struct printbuf *cmd = printbuf_new();
        json_object *v, *own = NULL;

        if (!cmd)
                return;
        (void) json_object_object_get_ex(op, "parameters", &own);
        if (json_object_object_get_ex(op, "requestBody", &v) && json_object_object_get_ex(v, "content", &v))
                body = content_example(spec, v);
        if (json_object_object_get_ex(op, "responses", &v)) {
                json_object_object_foreach(v, code, response) {
                        json_object *content;
                        if (code[0] == '2' && json_object_object_get_ex(resolve(spec, response), "content", &content)) {
                                answer = content_example(spec, content);
                                answer_code = code;
                                break;
                        }
                }
        }
        put(cmd, "curl");
        if (!streq(method, "get")) {
                put(cmd, " -X ");
                put_upper(cmd, method);
        }
        if (!open)
                put(cmd, " -H \"Authorization: Bearer $TOKEN\"");
        if (body) {
                put(cmd, " -H 'Content-Type: application/json' -d '");
                put(cmd, body);
                put(cmd, "'");
        }
        put(cmd, " ");
        put(cmd, server);
        example_path(cmd, spec, path, shared, own);
        put(pb, "<p>Example:</p>\n<pre>");
        printbuf_html_escaped(pb, cmd->buf);
        put(pb, "</pre>\n");
        printbuf_free(cmd);
        if (answer) {
                tag(pb, "<p>Answer (", answer_code, "):</p>\n<pre>");
                printbuf_html_escaped(pb, answer);
                put(pb, "</pre>\n");
        }
}

/* --- the page ------------------------------------------------------------------------------------- */

static void operation(struct printbuf *pb, json_object *spec, const char *server, const char *path, const char *method,
                      json_object *shared_params, json_object *op) {
        json_object *v, *security;
        bool open = json_object_object_get_ex(op, "security", &security) && json_object_array_length(security) == 0;

        put(pb, "<section class=\"op\" id=\"op-");
        printbuf_html_escaped(pb, strempty(json_get_string(op, "operationId")));
        put(pb, "\"><h3><span class=\"m ");
        printbuf_html_escaped(pb, method);
        put(pb, "\">");
        put_upper(pb, method);
        put(pb, "</span> <code>");
        printbuf_html_escaped(pb, path);
        put(pb, "</code></h3>\n");
        tag(pb, "<p><b>", json_get_string(op, "summary"), "</b>");
        put(pb, open ? " (no token needed)</p>\n" : "</p>\n");
        para(pb, "<p>", json_get_string(op, "description"), "</p>\n");
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
                        /* A reference may say what the status means for this operation. */
                        const char *meaning = json_get_string(response, "description") ?: json_get_string(r, "description");
                        tag(pb, "<tr><td>", code, "</td><td>");
                        prose(pb, meaning);
                        put(pb, "</td><td>");
                        if (json_object_object_get_ex(r, "content", &content))
                                content_schema(pb, content);
                        put(pb, "</td></tr>\n");
                }
                put(pb, "</table>\n");
        }
        example(pb, spec, server, path, method, shared_params, op, open);
        put(pb, "</section>\n");
}

/* The table of contents: the operations by tag, then the schemas. */
static void contents(struct printbuf *pb, json_object *spec, json_object *paths) {
        json_object *tags = NULL;

        (void) json_object_object_get_ex(spec, "tags", &tags);
        put(pb, "<nav><h2>Contents</h2>\n<ul>\n");
        for (size_t t = 0; t < json_object_array_length(tags); t++) {
                json_object *tg = json_object_array_get_idx(tags, t);
                const char *name = json_get_string(tg, "name");

                tag(pb, "<li><b>", name, "</b>");
                para(pb, " — ", json_get_string(tg, "description"), "");
                put(pb, "\n<ul>\n");
                json_object_object_foreach(paths, path, item) {
                        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                                json_object *op, *op_tags;
                                if (!json_object_object_get_ex(item, methods[i], &op) ||
                                    !json_object_object_get_ex(op, "tags", &op_tags) ||
                                    !streq_ptr(json_object_get_string(json_object_array_get_idx(op_tags, 0)), name))
                                        continue;
                                put(pb, "<li><a href=\"#op-");
                                printbuf_html_escaped(pb, strempty(json_get_string(op, "operationId")));
                                put(pb, "\"><code>");
                                put_upper(pb, methods[i]);
                                put(pb, " ");
                                printbuf_html_escaped(pb, path);
                                put(pb, "</code></a>");
                                tag(pb, " — ", json_get_string(op, "summary"), "");
                                put(pb, "</li>\n");
                        }
                }
                put(pb, "</ul></li>\n");
        }
        put(pb, "<li><a href=\"#schemas\"><b>Schemas</b></a></li>\n</ul></nav>\n");
}

static void schema_section(struct printbuf *pb, const char *name, json_object *schema) {
        json_object *props, *required = NULL, *v;

        put(pb, "<section class=\"schema\"><h3 id=\"schema-");
        printbuf_html_escaped(pb, name);
        put(pb, "\">");
        printbuf_html_escaped(pb, name);
        put(pb, "</h3>\n");
        para(pb, "<p>", json_get_string(schema, "description"), "</p>\n");
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
                prose(pb, json_get_string(fs, "description"));
                put(pb, "</td></tr>\n");
        }
        put(pb, "</table></section>\n");
}

static const char style[] =
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
        "code{font-family:ui-monospace,monospace}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}"
        ".op{border-top:1px solid #ddd;margin-top:1.5em}.m{padding:0 .4em;border-radius:3px;color:#fff;background:#555}"
        "pre{background:#f6f6f6;padding:.5em;overflow-x:auto}nav ul{margin:.2em 0}"
        ".get{background:#2a7}.post{background:#27c}.delete{background:#c33}</style>\n";

void docs_page(Request *q) {
        _cleanup_(json_object_putp) json_object *spec = NULL;
        json_object *info = NULL, *paths = NULL, *components = NULL, *schemas = NULL, *servers = NULL;
        const char *server = "http://127.0.0.1:8000";
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
        if (json_object_object_get_ex(spec, "servers", &servers) && json_get_string(json_object_array_get_idx(servers, 0), "url"))
                server = json_get_string(json_object_array_get_idx(servers, 0), "url");

        put(pb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                               "<meta name=\"viewport\" content=\"width=device-width\">");
        tag(pb, "<title>", json_get_string(info, "title"), "</title>\n");
        put(pb, style);
        put(pb, "</head><body>\n");
        tag(pb, "<h1>", json_get_string(info, "title"), "</h1>\n");
        tag(pb, "<p><b>", json_get_string(info, "summary"), "</b></p>\n");
        para(pb, "<p>", json_get_string(info, "description"), "</p>\n");
        put(pb, "<p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI 3.1). The examples "
                "take the token from <code>$TOKEN</code>.</p>\n");
        contents(pb, spec, paths);
        put(pb, "<h2>Operations</h2>\n");
        json_object_object_foreach(paths, path, item) {
                json_object *shared = NULL, *op;
                (void) json_object_object_get_ex(item, "parameters", &shared);
                for (size_t i = 0; i < ELEMENTSOF(methods); i++)
                        if (json_object_object_get_ex(item, methods[i], &op))
                                operation(pb, spec, server, path, methods[i], shared, op);
        }
        put(pb, "<h2 id=\"schemas\">Schemas</h2>\n");
        json_object_object_foreach(schemas, name, schema)
                schema_section(pb, name, schema);
        put(pb, "</body></html>\n");
        request_reply(q, 200, "text/html; charset=utf-8", pb->buf);
        printbuf_free(pb);
}

void docs_openapi(Request *q) {
        request_reply_json(q, 200, openapi_json);
}
