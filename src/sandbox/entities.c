/* SPDX-License-Identifier: MIT */
/* Telegram's three text formats, parsed the way tdlib's parse_html(), parse_markdown_v2() and
 * parse_markdown() do (td/telegram/MessageEntity.cpp), with their error texts, so that a bot's
 * markup refused by Telegram is refused here. Each parser walks the input once, writing the plain
 * text into a buffer no longer than the input and pushing an entity whenever one closes. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entities.h"
#include "macro.h"

static bool utf8_valid(const unsigned char *s);

typedef struct Entity {
        const char *type;             /* the Bot API's MessageEntity.type */
        int32_t offset, length;
        char *arg;                    /* url, language or custom_emoji_id, or NULL */
        int64_t user;                 /* text_mention */
        size_t seq;                   /* the order found, for a stable sort */
} Entity;

/* An entity opened and not yet closed. */
typedef struct Open {
        char tag[16];                 /* HTML: the tag; Markdown: the entity's type name */
        const char *type;
        char *arg;
        int32_t offset;               /* UTF-16 offset of its text */
        size_t out_at;                /* byte offset of its text in the output */
        size_t in_at;                 /* byte offset of its opening in the input */
} Open;

typedef struct Parser {
        const char *in;
        char *out;
        size_t len;
        int32_t utf16;
        Entity *entities;
        size_t n, cap;
        Open *open;
        size_t depth, open_cap;
        char *error;
        size_t error_size;
} Parser;

/* tdlib's is_space(): NUL counts, so a scan for the end of a name stops at the end of the text. */
static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 || c == '\v' || c == '\f';
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static int hex_value(char c) {
        if (is_digit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

_printf_(2, 3) static int fail(Parser *p, const char *format, ...) {
        char what[256];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(what, sizeof what, format, ap);
        va_end(ap);
        (void) snprintf(p->error, p->error_size, "Bad Request: can't parse entities: %s", what);
        return -EINVAL;
}

/* Copies one input byte to the text, counting a character at its first byte. */
static void copy_byte(Parser *p, char c) {
        unsigned char u = (unsigned char) c;

        if ((u & 0xC0) != 0x80)
                p->utf16 += 1 + (u >= 0xF0);
        p->out[p->len++] = c;
}

static void put_code_point(char *out, size_t *len, uint32_t c) {
        if (c < 0x80)
                out[(*len)++] = (char) c;
        else if (c < 0x800) {
                out[(*len)++] = (char) (0xC0 | c >> 6);
                out[(*len)++] = (char) (0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
                out[(*len)++] = (char) (0xE0 | c >> 12);
                out[(*len)++] = (char) (0x80 | ((c >> 6) & 0x3F));
                out[(*len)++] = (char) (0x80 | (c & 0x3F));
        } else {
                out[(*len)++] = (char) (0xF0 | c >> 18);
                out[(*len)++] = (char) (0x80 | ((c >> 12) & 0x3F));
                out[(*len)++] = (char) (0x80 | ((c >> 6) & 0x3F));
                out[(*len)++] = (char) (0x80 | (c & 0x3F));
        }
}

/* An HTML character reference at @in[*pos] ('&'): &lt; &gt; &amp; &quot; and numeric ones, the ';'
 * optional. Returns the code point and moves *pos past it, or 0 when it is none (a literal '&'). */
static uint32_t html_entity(const char *in, size_t *pos) {
        size_t end = *pos + 1;
        uint32_t c = 0;

        if (in[end] == '#') {
                end++;
                if (in[end] == 'x') {
                        end++;
                        for (; hex_value(in[end]) >= 0 && end - *pos < 10; end++)
                                c = c * 16 + (uint32_t) hex_value(in[end]);
                } else
                        for (; is_digit(in[end]) && end - *pos < 10; end++)
                                c = c * 10 + (uint32_t) (in[end] - '0');
                if (c == 0 || c >= 0x10FFFF || end - *pos >= 10)
                        return 0;
        } else {
                static const struct { const char *name; char c; } names[] = {
                        { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' },
                };
                size_t n;

                while (is_alpha(in[end]))
                        end++;
                n = end - *pos - 1;
                for (size_t i = 0; i < ELEMENTSOF(names) && !c; i++)
                        if (n == strlen(names[i].name) && strncmp(in + *pos + 1, names[i].name, n) == 0)
                                c = (uint32_t) names[i].c;
                if (!c)
                        return 0;
        }
        *pos = in[end] == ';' ? end + 1 : end;
        return c;
}

static int push_entity(Parser *p, const char *type, int32_t offset, int32_t length, const char *arg, int64_t user) {
        char *copy = NULL;

        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 8;
                Entity *e = realloc(p->entities, cap * sizeof *e);
                if (!e)
                        return -ENOMEM;
                p->entities = e;
                p->cap = cap;
        }
        if (arg && !(copy = strdup(arg)))
                return -ENOMEM;
        p->entities[p->n] = (Entity) { type, offset, length, copy, user, p->n };
        p->n++;
        return 0;
}

/* Opens an entity; @arg is taken. */
static int push_open(Parser *p, const char *tag, const char *type, char *arg, size_t in_at) {
        if (p->depth == p->open_cap) {
                size_t cap = p->open_cap ? p->open_cap * 2 : 8;
                Open *o = realloc(p->open, cap * sizeof *o);
                if (!o) {
                        free(arg);
                        return -ENOMEM;
                }
                p->open = o;
                p->open_cap = cap;
        }
        Open *o = &p->open[p->depth++];
        *o = (Open) { .type = type, .arg = arg, .offset = p->utf16, .out_at = p->len, .in_at = in_at };
        (void) snprintf(o->tag, sizeof o->tag, "%s", tag);
        return 0;
}

static void pop_open(Parser *p) {
        p->depth--;
        free(p->open[p->depth].arg);
}

/* A link as Telegram keeps it: http(s)://, tg:// or ton://, or a host name (http:// is put in
 * front); NULL when it is none, and the entity is then dropped, not refused. @buf holds the
 * result. */
static const char *checked_link(const char *url, char *buf, size_t size) {
        static const char *const schemes[] = { "http://", "https://", "tg://", "ton://" };
        const char *host = url;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(schemes); i++)
                if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0) {
                        host = url + strlen(schemes[i]);
                        break;
                }
        if (host == url && strstr(url, "://"))
                return NULL;
        n = strcspn(host, "/?#");
        if (n == 0 || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:@") < n)
                return NULL;
        if (host == url && !memchr(host, '.', n))
                return NULL;
        (void) snprintf(buf, size, "%s%s", host == url ? "http://" : "", url);
        return buf;
}

/* tg://user?id=<id>: a mention of that user. Returns the id, or 0. */
static int64_t link_user(const char *url) {
        static const char prefix[] = "tg://user?id=";
        char *end;
        long long id;

        if (strncasecmp(url, prefix, sizeof prefix - 1) != 0 || !is_digit(url[sizeof prefix - 1]))
                return 0;
        errno = 0;
        id = strtoll(url + sizeof prefix - 1, &end, 10);
        return errno || *end || id <= 0 ? 0 : id;
}

/* Closes the link entity @o around the text since it opened; @url NULL: the text is the URL. */
static int push_link(Parser *p, const Open *o, const char *url) {
        char buf[2048], *text = NULL;
        const char *link;
        int64_t user;
        int r;

        if (!url) {
                text = strndup(p->out + o->out_at, p->len - o->out_at);
                if (!text)
                        return -ENOMEM;
                url = text;
        }
        if ((user = link_user(url)) > 0)
                r = push_entity(p, "text_mention", o->offset, p->utf16 - o->offset, NULL, user);
        else if ((link = checked_link(url, buf, sizeof buf)))
                r = push_entity(p, "text_link", o->offset, p->utf16 - o->offset, link, 0);
        else
                r = 0;
        free(text);
        return r;
}

/* --- HTML ------------------------------------------------------------------------------------- */

static const struct { const char *tag, *type; } html_tags[] = {
        { "b", "bold" }, { "strong", "bold" }, { "i", "italic" }, { "em", "italic" },
        { "u", "underline" }, { "ins", "underline" },
        { "s", "strikethrough" }, { "strike", "strikethrough" }, { "del", "strikethrough" },
        { "tg-spoiler", "spoiler" }, { "span", "spoiler" }, { "tg-emoji", "custom_emoji" },
        { "a", "text_link" }, { "pre", "pre" }, { "code", "code" }, { "blockquote", "blockquote" },
};

static const char *html_type(const char *tag) {
        for (size_t i = 0; i < ELEMENTSOF(html_tags); i++)
                if (streq(tag, html_tags[i].tag))
                        return html_tags[i].type;
        return NULL;
}

static void lower(char *s) {
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char) (*s - 'A' + 'a');
}

/* Reads the attributes of the start tag @tag at @in[*pos] up to its '>', keeping in *@arg what
 * the tag takes (a's href, code's language-…, span's tg-…, tg-emoji's emoji-id, blockquote's
 * expandable). */
static int html_attributes(Parser *p, const char *tag, size_t begin, size_t *pos, char **arg) {
        const char *in = p->in;
        size_t i = *pos;

        while (in[i] != '>') {
                size_t name_at, name_len;
                char *value;

                while (in[i] && is_space(in[i]))
                        i++;
                if (in[i] == '>')
                        break;
                name_at = i;
                while (!is_space(in[i]) && !strchr("=>/\"'", in[i]))
                        i++;
                name_len = i - name_at;
                if (name_len == 0)
                        return fail(p, "Empty attribute name in the tag \"%s\" at byte offset %zu", tag, begin);
                while (in[i] && is_space(in[i]))
                        i++;
                bool expandable = streq(tag, "blockquote") && name_len == 10 && strncmp(in + name_at, "expandable", 10) == 0;
                if (in[i] != '=') {
                        if (!in[i])
                                return fail(p, "Unclosed start tag \"%s\" at byte offset %zu", tag, begin);
                        if (expandable) {
                                free(*arg);
                                if (!(*arg = strdup("1")))
                                        return -ENOMEM;
                        }
                        continue;
                }
                i++;
                while (in[i] && is_space(in[i]))
                        i++;
                if (!in[i])
                        return fail(p, "Unclosed start tag \"%s\" at byte offset %zu", tag, begin);
                value = malloc(strlen(in + i) + 1);
                if (!value)
                        return -ENOMEM;
                size_t vlen = 0;
                if (in[i] != '\'' && in[i] != '"') {
                        size_t token_at = i;
                        while (is_alpha(in[i]) || is_digit(in[i]) || in[i] == '.' || in[i] == '-')
                                value[vlen++] = in[i++];
                        value[vlen] = 0;
                        lower(value);
                        if (!is_space(in[i]) && in[i] != '>') {
                                free(value);
                                return fail(p, "Unexpected end of name token at byte offset %zu", token_at);
                        }
                } else {
                        char end = in[i++];
                        while (in[i] != end && in[i]) {
                                uint32_t c = in[i] == '&' ? html_entity(in, &i) : 0;
                                if (c)
                                        put_code_point(value, &vlen, c);
                                else
                                        value[vlen++] = in[i++];
                        }
                        if (in[i] == end)
                                i++;
                        value[vlen] = 0;
                }
                if (!in[i]) {
                        free(value);
                        return fail(p, "Unclosed start tag at byte offset %zu", begin);
                }
                /* A value that decodes to no valid UTF-8 (a lone surrogate) is no value. */
                if (!utf8_valid((const unsigned char *) value))
                        value[0] = 0;
#define NAME_IS(s) (name_len == strlen(s) && strncmp(in + name_at, s, name_len) == 0)
                const char *keep = NULL;
                if (streq(tag, "a") && NAME_IS("href"))
                        keep = value;
                else if (streq(tag, "code") && NAME_IS("class") && strncmp(value, "language-", 9) == 0)
                        keep = value + 9;
                else if (streq(tag, "span") && NAME_IS("class") && strncmp(value, "tg-", 3) == 0)
                        keep = value + 3;
                else if (streq(tag, "tg-emoji") && NAME_IS("emoji-id"))
                        keep = value;
                else if (expandable)
                        keep = "1";
#undef NAME_IS
                if (keep) {
                        free(*arg);
                        *arg = strdup(keep);
                        if (!*arg) {
                                free(value);
                                return -ENOMEM;
                        }
                }
                free(value);
        }
        *pos = i;
        return 0;
}

static int html_start_tag(Parser *p, size_t begin, size_t *pos) {
        const char *in = p->in;
        size_t i = begin + 1, n;
        char tag[16];
        const char *type;
        char *arg = NULL;
        int r;

        while (!is_space(in[i]) && in[i] != '>')
                i++;
        if (!in[i])
                return fail(p, "Unclosed start tag at byte offset %zu", begin);
        n = i - begin - 1;
        (void) snprintf(tag, sizeof tag, "%.*s", (int) MIN(n, sizeof tag - 1), in + begin + 1);
        lower(tag);
        type = n < sizeof tag ? html_type(tag) : NULL;
        if (!type) {
                char *name = strndup(in + begin + 1, MIN(n, (size_t) 64));
                if (!name)
                        return -ENOMEM;
                lower(name);
                r = fail(p, "Unsupported start tag \"%s\" at byte offset %zu", name, begin);
                free(name);
                return r;
        }
        r = html_attributes(p, tag, begin, &i, &arg);
        if (r < 0) {
                free(arg);
                return r;
        }
        if (streq(tag, "span") && (!arg || !streq(arg, "spoiler"))) {
                free(arg);
                return fail(p, "Tag \"span\" must have class \"tg-spoiler\" at byte offset %zu", begin);
        }
        *pos = i;   /* at the '>' */
        return push_open(p, tag, type, arg, begin);
}

static int html_close(Parser *p, Open *o) {
        int32_t length = p->utf16 - o->offset;
        Entity *last = p->n > 0 ? &p->entities[p->n - 1] : NULL;
        char *end;

        if (length <= 0)
                return 0;
        if (streq(o->type, "custom_emoji")) {
                errno = 0;
                long long id = o->arg ? strtoll(o->arg, &end, 10) : 0;
                if (!o->arg || errno || *end || id == 0)
                        return fail(p, "Invalid custom emoji identifier specified");
                return push_entity(p, "custom_emoji", o->offset, length, o->arg, 0);
        }
        if (streq(o->type, "text_link"))
                return push_link(p, o, o->arg);
        /* <pre><code class="language-x">…</code></pre>: one pre entity with its language. */
        if (streq(o->type, "pre") && last && streq(last->type, "code") && last->offset == o->offset &&
            last->length == length && last->arg) {
                last->type = "pre";
                return 0;
        }
        if (streq(o->type, "code") && last && streq(last->type, "pre") && last->offset == o->offset &&
            last->length == length && o->arg) {
                free(last->arg);
                last->arg = TAKE_PTR(o->arg);
                return 0;
        }
        if (streq(o->type, "blockquote"))
                return push_entity(p, o->arg ? "expandable_blockquote" : "blockquote", o->offset, length, NULL, 0);
        return push_entity(p, o->type, o->offset, length, streq(o->type, "code") ? o->arg : NULL, 0);
}

static int html_end_tag(Parser *p, size_t begin, size_t *pos) {
        const char *in = p->in;
        size_t i = begin + 1, n;
        char *name;
        int r;

        if (p->depth == 0)
                return fail(p, "Unexpected end tag at byte offset %zu", begin);
        while (!is_space(in[i]) && in[i] != '>')
                i++;
        n = i - begin - 2;
        while (in[i] && is_space(in[i]))
                i++;
        if (in[i] != '>')
                return fail(p, "Unclosed end tag at byte offset %zu", begin);
        Open *o = &p->open[p->depth - 1];
        name = strndup(in + begin + 2, MIN(n, (size_t) 64));
        if (!name)
                return -ENOMEM;
        lower(name);
        if (n > 0 && (n >= 64 || !streq(name, o->tag))) {
                r = fail(p, "Unmatched end tag at byte offset %zu, expected \"</%s>\", found \"</%s>\"", begin, o->tag, name);
                free(name);
                return r;
        }
        free(name);
        r = html_close(p, o);
        pop_open(p);
        *pos = i;
        return r;
}

static int parse_html(Parser *p) {
        const char *in = p->in;
        bool surrogate = false;
        int r;

        for (size_t i = 0; in[i]; i++) {
                if (in[i] == '&') {
                        size_t at = i;
                        uint32_t c = html_entity(in, &at);
                        if (c) {
                                surrogate = surrogate || (c >= 0xD800 && c <= 0xDFFF);
                                p->utf16 += 1 + (c > 0xFFFF);
                                put_code_point(p->out, &p->len, c);
                                i = at - 1;
                                continue;
                        }
                }
                if (in[i] != '<') {
                        copy_byte(p, in[i]);
                        continue;
                }
                r = in[i + 1] == '/' ? html_end_tag(p, i, &i) : html_start_tag(p, i, &i);
                if (r < 0)
                        return r;
        }
        if (p->depth > 0)
                return fail(p, "Can't find end tag corresponding to start tag \"%s\"", p->open[p->depth - 1].tag);
        if (surrogate) {
                (void) snprintf(p->error, p->error_size, "Bad Request: can't parse entities: Text contains invalid "
                                "Unicode characters after decoding HTML entities, check for unmatched surrogate code units");
                return -EINVAL;
        }
        /* Only pre keeps a language. */
        for (size_t k = 0; k < p->n; k++)
                if (streq(p->entities[k].type, "code"))
                        p->entities[k].arg = mfree(p->entities[k].arg);
        return 0;
}

/* --- MarkdownV2 ------------------------------------------------------------------------------- */

/* tdlib's names of the entity types, for "Can't find end of … entity". */
static const char *md_name(const char *type) {
        static const struct { const char *type, *name; } names[] = {
                { "bold", "Bold" }, { "italic", "Italic" }, { "underline", "Underline" },
                { "strikethrough", "Strikethrough" }, { "spoiler", "Spoiler" }, { "code", "Code" },
                { "pre", "Pre" }, { "text_link", "TextUrl" }, { "custom_emoji", "CustomEmoji" },
                { "blockquote", "BlockQuote" },
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(type, names[i].type))
                        return names[i].name;
        return type;
}

/* Does @c at @in[i] close the innermost open entity? */
static bool md_closes(const Parser *p, const char *in, size_t i, bool quote) {
        const Open *o = p->depth ? &p->open[p->depth - 1] : NULL;
        char c = in[i];

        if (!o)
                return false;
        if (quote && c == '\n' && in[i + 1] != '>')
                return true;
        if (streq(o->type, "bold"))
                return c == '*';
        if (streq(o->type, "italic"))
                return c == '_' && in[i + 1] != '_';
        if (streq(o->type, "underline"))
                return c == '_' && in[i + 1] == '_';
        if (streq(o->type, "code"))
                return c == '`';
        if (streq(o->type, "pre"))
                return c == '`' && in[i + 1] == '`' && in[i + 2] == '`';
        if (streq(o->type, "text_link") || streq(o->type, "custom_emoji"))
                return c == ']';
        if (streq(o->type, "strikethrough"))
                return c == '~';
        if (streq(o->type, "spoiler"))
                return c == '|' && in[i + 1] == '|';
        return false;   /* blockquote ends at a line without '>' */
}

/* The (...) after a link's or custom emoji's ']' at @in[*pos]: its text without escapes. */
static int md_url(Parser *p, size_t *pos, char **ret) {
        const char *in = p->in;
        size_t i = *pos + 2, at = i, n = 0;
        char *url = malloc(strlen(in + i) + 1);

        if (!url)
                return -ENOMEM;
        while (in[i] && in[i] != ')') {
                if (in[i] == '\\' && in[i + 1] > 0 && in[i + 1] <= 126)
                        i++;
                url[n++] = in[i++];
        }
        url[n] = 0;
        if (in[i] != ')') {
                free(url);
                return fail(p, "Can't find end of a URL at byte offset %zu", at);
        }
        *pos = i;
        *ret = url;
        return 0;
}

static int md_close(Parser *p, size_t *pos) {
        const char *in = p->in;
        Open *o = &p->open[p->depth - 1];
        size_t i = *pos;
        bool empty = p->utf16 == o->offset;
        char *url = NULL;
        int r = 0;

        if (streq(o->type, "blockquote")) {
                /* The line break that ends it belongs to the text, inside the quote. */
                p->out[p->len++] = '\n';
                p->utf16++;
                r = push_entity(p, "blockquote", o->offset, p->utf16 - o->offset, NULL, 0);
                pop_open(p);
                return r;
        }
        if (in[i] == '\n')
                return fail(p, "Can't find end of %s entity at byte offset %zu", md_name(o->type), o->in_at);
        if (streq(o->type, "underline") || streq(o->type, "spoiler"))
                i++;
        else if (streq(o->type, "pre"))
                i += 2;
        else if (streq(o->type, "text_link")) {
                if (in[i + 1] == '(' && (r = md_url(p, &i, &url)) < 0)
                        return r;
                if (!empty)
                        r = push_link(p, o, url);
                free(url);
                pop_open(p);
                *pos = i;
                return r;
        } else if (streq(o->type, "custom_emoji")) {
                static const char prefix[] = "tg://emoji?id=";
                char *end;
                if (in[i + 1] != '(')
                        return fail(p, "The entity must contain a tg://emoji or tg://time URL");
                if ((r = md_url(p, &i, &url)) < 0)
                        return r;
                errno = 0;
                long long id = strncmp(url, prefix, sizeof prefix - 1) == 0 ? strtoll(url + sizeof prefix - 1, &end, 10) : 0;
                if (id <= 0 || errno || *end) {
                        free(url);
                        return fail(p, "Invalid tg://emoji or tg://time URL specified");
                }
                if (!empty)
                        r = push_entity(p, "custom_emoji", o->offset, p->utf16 - o->offset, url + sizeof prefix - 1, 0);
                free(url);
                pop_open(p);
                *pos = i;
                return r;
        }
        if (!empty)
                r = push_entity(p, o->type, o->offset, p->utf16 - o->offset, o->arg, 0);
        pop_open(p);
        *pos = i;
        return r;
}

static int md_reserved(Parser *p, char c) {
        return fail(p, "Character '%c' is reserved and must be escaped with the preceding '\\'", c);
}

static int md_open(Parser *p, size_t *pos, bool *quote, bool line_start) {
        const char *in = p->in;
        size_t i = *pos, at = i;
        const char *type;
        char *arg = NULL;

        switch (in[i]) {
        case '_':
                type = in[i + 1] == '_' ? (i++, "underline") : "italic";
                break;
        case '*':
                type = "bold";
                break;
        case '~':
                type = "strikethrough";
                break;
        case '|':
                if (in[i + 1] != '|')
                        return md_reserved(p, in[i]);
                i++;
                type = "spoiler";
                break;
        case '[':
                type = "text_link";
                break;
        case '!':
                if (in[i + 1] != '[')
                        return md_reserved(p, in[i]);
                i++;
                type = "custom_emoji";
                break;
        case '`':
                if (in[i + 1] != '`' || in[i + 2] != '`') {
                        type = "code";
                        break;
                }
                type = "pre";
                i += 3;
                size_t lang_end = i;
                while (!is_space(in[lang_end]) && in[lang_end] != '`')
                        lang_end++;
                if (lang_end != i && in[lang_end] && in[lang_end] != '`') {
                        if (!(arg = strndup(in + i, lang_end - i)))
                                return -ENOMEM;
                        i = lang_end;
                }
                /* One line break after the opening is not part of the text. */
                if (in[i] == '\n' || in[i] == '\r')
                        i += (in[i + 1] == '\n' || in[i + 1] == '\r') && in[i] != in[i + 1] ? 2 : 1;
                i--;
                break;
        case '>':
                if (!line_start)
                        return md_reserved(p, in[i]);
                if (*quote)
                        return 0;   /* the '>' of a quote's next line */
                *quote = true;
                type = "blockquote";
                break;
        default:
                return md_reserved(p, in[i]);
        }
        *pos = i;
        return push_open(p, md_name(type), type, arg, at);
}

static int parse_markdown_v2(Parser *p) {
        const char *in = p->in;
        bool quote = false, line_start = true;
        int r;

        for (size_t i = 0; in[i]; i++) {
                char c = in[i];
                if (c == '\\' && in[i + 1] > 0 && in[i + 1] <= 126) {
                        i++;
                        p->utf16++;
                        p->out[p->len++] = in[i];
                        if (in[i] != '\r')
                                line_start = in[i] == '\n';
                        continue;
                }
                const Open *top = p->depth ? &p->open[p->depth - 1] : NULL;
                const char *reserved = top && (streq(top->type, "code") || streq(top->type, "pre")) ? "`" :
                                                                                                    "_*[]()~`>#+-=|{}.!\n";
                if (!strchr(reserved, c)) {
                        if (((unsigned char) c & 0xC0) != 0x80 && c != '\r')
                                line_start = false;
                        copy_byte(p, c);
                        continue;
                }
                if (md_closes(p, in, i, quote)) {
                        bool was_quote = streq(p->open[p->depth - 1].type, "blockquote");
                        if ((r = md_close(p, &i)) < 0)
                                return r;
                        if (was_quote) {
                                quote = false;
                                line_start = true;
                        }
                        continue;
                }
                if (c == '\n') {
                        p->utf16++;
                        p->out[p->len++] = '\n';
                        line_start = true;
                        continue;
                }
                if ((r = md_open(p, &i, &quote, line_start)) < 0)
                        return r;
        }
        if (quote && p->depth == 1) {
                Open *o = &p->open[0];
                if (p->utf16 > o->offset && (r = push_entity(p, "blockquote", o->offset, p->utf16 - o->offset, NULL, 0)) < 0)
                        return r;
                pop_open(p);
        }
        if (p->depth > 0) {
                const Open *o = &p->open[p->depth - 1];
                return fail(p, "Can't find end of %s entity at byte offset %zu", md_name(o->type), o->in_at);
        }
        return 0;
}

/* --- Markdown (legacy) ------------------------------------------------------------------------ */

static int parse_markdown(Parser *p) {
        const char *in = p->in;
        int r;

        for (size_t i = 0; in[i]; i++) {
                char c = in[i];
                if (c == '\\' && in[i + 1] && strchr("_*`[", in[i + 1])) {
                        p->out[p->len++] = in[++i];
                        p->utf16++;
                        continue;
                }
                if (!strchr("_*`[", c)) {
                        copy_byte(p, c);
                        continue;
                }
                size_t begin = i++;
                char end = c == '[' ? ']' : c;
                bool pre = false;
                char *lang = NULL;
                if (c == '`' && in[i] == '`' && in[i + 1] == '`') {
                        i += 2;
                        pre = true;
                        size_t lang_end = i;
                        while (!is_space(in[lang_end]) && in[lang_end] != '`')
                                lang_end++;
                        if (lang_end != i && in[lang_end] && in[lang_end] != '`') {
                                if (!(lang = strndup(in + i, lang_end - i)))
                                        return -ENOMEM;
                                i = lang_end;
                        }
                        if (in[i] == '\n' || in[i] == '\r')
                                i += (in[i + 1] == '\n' || in[i + 1] == '\r') && in[i] != in[i + 1] ? 2 : 1;
                }
                Open o = { .offset = p->utf16, .out_at = p->len };
                while (in[i] && (in[i] != end || (pre && !(in[i + 1] == '`' && in[i + 2] == '`'))))
                        copy_byte(p, in[i++]);
                if (!in[i]) {
                        free(lang);
                        return fail(p, "Can't find end of the entity starting at byte offset %zu", begin);
                }
                r = 0;
                if (p->utf16 > o.offset) {
                        int32_t length = p->utf16 - o.offset;
                        if (c == '_' || c == '*')
                                r = push_entity(p, c == '_' ? "italic" : "bold", o.offset, length, NULL, 0);
                        else if (c == '`')
                                r = push_entity(p, pre ? "pre" : "code", o.offset, length, lang, 0);
                        else {
                                char *url = NULL;
                                if (in[i + 1] == '(') {
                                        size_t at = i += 2;
                                        while (in[i] && in[i] != ')')
                                                i++;
                                        url = strndup(in + at, i - at);
                                        if (!url)
                                                r = -ENOMEM;
                                }
                                if (r == 0)
                                        r = push_link(p, &o, url);
                                free(url);
                        }
                }
                free(lang);
                if (r < 0)
                        return r;
                if (pre)
                        i += 2;
                if (!in[i])
                        break;
        }
        return 0;
}

/* --- the whole ------------------------------------------------------------------------------- */

static bool utf8_valid(const unsigned char *s) {
        while (*s) {
                unsigned n;
                uint32_t c;
                if (*s < 0x80) {
                        s++;
                        continue;
                }
                if (*s >= 0xC2 && *s <= 0xDF)
                        n = 1, c = *s & 0x1F;
                else if (*s >= 0xE0 && *s <= 0xEF)
                        n = 2, c = *s & 0x0F;
                else if (*s >= 0xF0 && *s <= 0xF4)
                        n = 3, c = *s & 0x07;
                else
                        return false;
                for (unsigned k = 1; k <= n; k++) {
                        if ((s[k] & 0xC0) != 0x80)
                                return false;
                        c = c << 6 | (s[k] & 0x3F);
                }
                if ((n == 2 && c < 0x800) || (n == 3 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF))
                        return false;
                s += n + 1;
        }
        return true;
}

size_t tg_utf16_length(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n += 1 + ((unsigned char) *s >= 0xF0);
        return n;
}

static int entity_order(const void *a, const void *b) {
        const Entity *x = a, *y = b;

        if (x->offset != y->offset)
                return x->offset < y->offset ? -1 : 1;
        if (x->length != y->length)
                return x->length > y->length ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Strips the white space around the text, cutting the entities to what is left of them. */
static void strip(Parser *p) {
        size_t lead = 0, end = p->len;
        int32_t total = p->utf16, cut;

        while (lead < end && is_blank(p->out[lead]))
                lead++;
        while (end > lead && is_blank(p->out[end - 1]))
                end--;
        cut = (int32_t) lead;
        int32_t last = total - (int32_t) (p->len - end);
        memmove(p->out, p->out + lead, end - lead);
        p->len = end - lead;
        p->utf16 = last - cut;
        size_t kept = 0;
        for (size_t k = 0; k < p->n; k++) {
                Entity *e = &p->entities[k];
                int32_t from = MAX(e->offset, cut), to = MIN(e->offset + e->length, last);
                if (to <= from) {
                        free(e->arg);
                        continue;
                }
                e->offset = from - cut;
                e->length = to - from;
                p->entities[kept++] = *e;
        }
        p->n = kept;
}

static json_object *entity_json(const Entity *e) {
        json_object *o = json_object_new_object(), *user;

        json_object_object_add(o, "offset", json_object_new_int(e->offset));
        json_object_object_add(o, "length", json_object_new_int(e->length));
        json_object_object_add(o, "type", json_object_new_string(e->type));
        if (streq(e->type, "text_link") && e->arg)
                json_object_object_add(o, "url", json_object_new_string(e->arg));
        else if (streq(e->type, "pre") && e->arg)
                json_object_object_add(o, "language", json_object_new_string(e->arg));
        else if (streq(e->type, "custom_emoji") && e->arg)
                json_object_object_add(o, "custom_emoji_id", json_object_new_string(e->arg));
        else if (streq(e->type, "text_mention")) {
                user = json_object_new_object();
                json_object_object_add(user, "id", json_object_new_int64(e->user));
                json_object_object_add(user, "is_bot", json_object_new_boolean(false));
                json_object_object_add(user, "first_name", json_object_new_string(""));
                json_object_object_add(o, "user", user);
        }
        return o;
}

int tg_text_parse(const char *parse_mode, const char *in, char **ret_text, json_object **ret_entities,
                  char *error, size_t error_size) {
        static const struct { const char *name; int (*parse)(Parser *p); } modes[] = {
                { "html", parse_html }, { "markdownv2", parse_markdown_v2 }, { "markdown", parse_markdown },
        };
        Parser p = { .in = in, .error = error, .error_size = error_size };
        int (*parse)(Parser *p) = NULL;
        json_object *list = NULL;
        int r = 0;

        if (!isempty(parse_mode)) {
                for (size_t i = 0; i < ELEMENTSOF(modes) && !parse; i++)
                        if (strcasecmp(parse_mode, modes[i].name) == 0)
                                parse = modes[i].parse;
                if (!parse) {
                        (void) snprintf(error, error_size, "Bad Request: unsupported parse_mode");
                        return -EINVAL;
                }
        }
        if (!utf8_valid((const unsigned char *) in)) {
                (void) snprintf(error, error_size, "Bad Request: text must be encoded in UTF-8");
                return -EINVAL;
        }
        p.out = malloc(strlen(in) + 1);
        if (!p.out)
                return -ENOMEM;
        if (parse)
                r = parse(&p);
        else
                for (size_t i = 0; in[i]; i++)
                        copy_byte(&p, in[i]);
        while (p.depth > 0)
                pop_open(&p);
        free(p.open);
        if (r >= 0) {
                strip(&p);
                p.out[p.len] = 0;
                if (p.n > 0)
                        qsort(p.entities, p.n, sizeof *p.entities, entity_order);
                list = json_object_new_array();
                for (size_t k = 0; list && k < p.n; k++)
                        json_object_array_add(list, entity_json(&p.entities[k]));
                r = list ? 0 : -ENOMEM;
        }
        for (size_t k = 0; k < p.n; k++)
                free(p.entities[k].arg);
        free(p.entities);
        if (r < 0) {
                free(p.out);
                return r;
        }
        *ret_text = p.out;
        *ret_entities = list;
        return 0;
}

/* --- back to HTML ----------------------------------------------------------------------------- */

typedef struct Out {
        char *buf;
        size_t len, cap;
        bool failed;
} Out;

static void out_add(Out *o, const char *s, size_t n) {
        if (o->failed)
                return;
        if (o->len + n + 1 > o->cap) {
                size_t cap = MAX(o->cap * 2, o->len + n + 64);
                char *b = realloc(o->buf, cap);
                if (!b) {
                        o->failed = true;
                        return;
                }
                o->buf = b;
                o->cap = cap;
        }
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        o->buf[o->len] = 0;
}

static void out_str(Out *o, const char *s) {
        out_add(o, s, strlen(s));
}

static void out_escaped(Out *o, const char *s) {
        for (; *s; s++)
                out_str(o, *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" : *s == '"' ? "&quot;" :
                           (char[]) { *s, 0 });
}

/* The tag of an entity, opening (@open) or closing; false when it has none. */
static bool entity_tag(Out *o, json_object *e, bool open) {
        static const struct { const char *type, *tag; } tags[] = {
                { "bold", "b" }, { "italic", "i" }, { "underline", "u" }, { "strikethrough", "s" },
                { "spoiler", "tg-spoiler" }, { "code", "code" }, { "pre", "pre" }, { "text_link", "a" },
                { "text_mention", "a" }, { "custom_emoji", "tg-emoji" }, { "blockquote", "blockquote" },
                { "expandable_blockquote", "blockquote" },
        };
        json_object *v;
        const char *type = json_object_object_get_ex(e, "type", &v) ? json_object_get_string(v) : "";
        const char *arg = NULL;
        char id[32];

        for (size_t i = 0; i < ELEMENTSOF(tags); i++) {
                if (!streq(type, tags[i].type))
                        continue;
                if (!open) {
                        if (streq(type, "pre") && json_object_object_get_ex(e, "language", &v))
                                out_str(o, "</code>");
                        out_str(o, "</");
                        out_str(o, tags[i].tag);
                        out_str(o, ">");
                        return true;
                }
                out_str(o, "<");
                out_str(o, tags[i].tag);
                if (streq(type, "text_link") && json_object_object_get_ex(e, "url", &v))
                        out_str(o, " href=\""), arg = json_object_get_string(v);
                else if (streq(type, "text_mention") && json_object_object_get_ex(e, "user", &v) &&
                         json_object_object_get_ex(v, "id", &v)) {
                        snprintf(id, sizeof id, "tg://user?id=%" PRId64, json_object_get_int64(v));
                        out_str(o, " href=\""), arg = id;
                } else if (streq(type, "custom_emoji") && json_object_object_get_ex(e, "custom_emoji_id", &v))
                        out_str(o, " emoji-id=\""), arg = json_object_get_string(v);
                else if (streq(type, "expandable_blockquote"))
                        out_str(o, " expandable");
                if (arg) {
                        out_escaped(o, arg);
                        out_str(o, "\"");
                }
                out_str(o, ">");
                if (streq(type, "pre") && json_object_object_get_ex(e, "language", &v)) {
                        out_str(o, "<code class=\"language-");
                        out_escaped(o, json_object_get_string(v));
                        out_str(o, "\">");
                }
                return true;
        }
        return false;
}

static int64_t entity_int(json_object *e, const char *key) {
        json_object *v;
        return json_object_object_get_ex(e, key, &v) ? json_object_get_int64(v) : 0;
}

char *tg_text_html(const char *text, json_object *entities) {
        size_t n = json_object_is_type(entities, json_type_array) ? json_object_array_length(entities) : 0;
        json_object **open = calloc(n + 1, sizeof *open);
        size_t depth = 0, next = 0;
        int64_t at = 0;
        Out o = {};

        if (!open)
                return NULL;
        out_str(&o, "");
        for (const char *s = text;; ) {
                /* Close what ends here, innermost first; then open what starts here, outermost first. */
                while (depth > 0 && entity_int(open[depth - 1], "offset") + entity_int(open[depth - 1], "length") <= at)
                        (void) entity_tag(&o, open[--depth], false);
                for (; next < n && entity_int(json_object_array_get_idx(entities, next), "offset") <= at; next++) {
                        json_object *e = json_object_array_get_idx(entities, next);
                        if (entity_int(e, "length") > 0 && entity_tag(&o, e, true))
                                open[depth++] = e;
                }
                if (!*s)
                        break;
                size_t len = 1;
                while ((((unsigned char) s[len]) & 0xC0) == 0x80)
                        len++;
                if (*s == '<' || *s == '>' || *s == '&')
                        out_escaped(&o, (char[]) { *s, 0 });
                else
                        out_add(&o, s, len);
                at += 1 + ((unsigned char) *s >= 0xF0);
                s += len;
        }
        while (depth > 0)
                (void) entity_tag(&o, open[--depth], false);
        free(open);
        if (o.failed) {
                free(o.buf);
                return NULL;
        }
        return o.buf;
}
