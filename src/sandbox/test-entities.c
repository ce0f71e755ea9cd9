/* SPDX-License-Identifier: MIT */
/* entities.c against what Telegram answers for the same text: the plain text, the entities in
 * UTF-16 units, or the 400 description. */

#include <string.h>

#include "entities.h"
#include "test-util.h"

typedef struct Case {
        const char *mode;
        const char *in;
        const char *text;       /* NULL: refused */
        const char *entities;   /* the JSON array, or the description when refused */
} Case;

#define E "Bad Request: can't parse entities: "

static const Case cases[] = {
        /* No parse mode: the text as it is, trimmed. */
        { NULL, "  <b>as is</b> &amp;\n", "<b>as is</b> &amp;", "[]" },
        { "", "plain", "plain", "[]" },
        { "Plain", "x", NULL, "Bad Request: unsupported parse_mode" },
        { "HTML", "\xff\xfe", NULL, "Bad Request: text must be encoded in UTF-8" },
        { NULL, "\xc0\xaf", NULL, "Bad Request: text must be encoded in UTF-8" },

        /* HTML, what botd sends. */
        { "HTML", "<b>Order</b> <code>st-1</code>: 100 Stars", "Order st-1: 100 Stars",
          "[{\"offset\":0,\"length\":5,\"type\":\"bold\"},{\"offset\":6,\"length\":4,\"type\":\"code\"}]" },
        { "html", "Tom &amp; Jerry &lt;3 &gt; &quot;x&quot; &#65;&#x42;", "Tom & Jerry <3 > \"x\" AB", "[]" },
        { "HTML", "&copy; & &unknown; &#0; &amp", "&copy; & &unknown; &#0; &", "[]" },
        { "HTML", "<B>loud</B>", "loud", "[{\"offset\":0,\"length\":4,\"type\":\"bold\"}]" },
        /* UTF-16: an emoji outside the BMP is two units, Cyrillic one. */
        { "HTML", "😀 <i>Привет</i>", "😀 Привет", "[{\"offset\":3,\"length\":6,\"type\":\"italic\"}]" },
        { "HTML", "<b>a<i>b</i></b><u>c</u><s>d</s><tg-spoiler>e</tg-spoiler><span class=\"tg-spoiler\">f</span>",
          "abcdef",
          "[{\"offset\":0,\"length\":2,\"type\":\"bold\"},{\"offset\":1,\"length\":1,\"type\":\"italic\"},"
          "{\"offset\":2,\"length\":1,\"type\":\"underline\"},{\"offset\":3,\"length\":1,\"type\":\"strikethrough\"},"
          "{\"offset\":4,\"length\":1,\"type\":\"spoiler\"},{\"offset\":5,\"length\":1,\"type\":\"spoiler\"}]" },
        { "HTML", "<a href=\"https://example.com/?a=1&amp;b=2\">site</a> <a href='tg://user?id=42'>Ann</a>",
          "site Ann",
          "[{\"offset\":0,\"length\":4,\"type\":\"text_link\",\"url\":\"https://example.com/?a=1&b=2\"},"
          "{\"offset\":5,\"length\":3,\"type\":\"text_mention\",\"user\":{\"id\":42,\"is_bot\":false,\"first_name\":\"\"}}]" },
        { "HTML", "<a href=\"javascript:alert(1)\">x</a>", "x", "[]" },
        { "HTML", "<pre><code class=\"language-c\">int x;</code></pre><code class=\"language-c\">y</code>", "int x;y",
          "[{\"offset\":0,\"length\":6,\"type\":\"pre\",\"language\":\"c\"},{\"offset\":6,\"length\":1,\"type\":\"code\"}]" },
        { "HTML", "<blockquote expandable>q</blockquote><blockquote>r</blockquote>", "qr",
          "[{\"offset\":0,\"length\":1,\"type\":\"expandable_blockquote\"},{\"offset\":1,\"length\":1,\"type\":\"blockquote\"}]" },
        { "HTML", "<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>", "👍",
          "[{\"offset\":0,\"length\":2,\"type\":\"custom_emoji\",\"custom_emoji_id\":\"5368324170671202286\"}]" },
        { "HTML", "<b></b>x<b> </b>", "x", "[]" },
        { "HTML", "<b>a</>", "a", "[{\"offset\":0,\"length\":1,\"type\":\"bold\"}]" },
        /* Refused as Telegram refuses them. */
        { "HTML", "1 < 2", NULL, E "Unsupported start tag \"\" at byte offset 2" },
        { "HTML", "<p>para</p>", NULL, E "Unsupported start tag \"p\" at byte offset 0" },
        { "HTML", "/thresholds <value>", NULL, E "Unsupported start tag \"value\" at byte offset 12" },
        { "HTML", "<b>bold", NULL, E "Can't find end tag corresponding to start tag \"b\"" },
        { "HTML", "<b>x</i>", NULL, E "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\"" },
        { "HTML", "x</b>", NULL, E "Unexpected end tag at byte offset 1" },
        { "HTML", "<b", NULL, E "Unclosed start tag at byte offset 0" },
        { "HTML", "<b>x</b", NULL, E "Unclosed end tag at byte offset 4" },
        { "HTML", "<span>x</span>", NULL, E "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0" },
        { "HTML", "<a href=x/y>z</a>", NULL, E "Unexpected end of name token at byte offset 8" },
        { "HTML", "<a =\"x\">z</a>", NULL, E "Empty attribute name in the tag \"a\" at byte offset 0" },
        { "HTML", "<tg-emoji emoji-id=\"abc\">x</tg-emoji>", NULL, E "Invalid custom emoji identifier specified" },
        { "HTML", "&#xD83D;", NULL, E "Text contains invalid Unicode characters after decoding HTML entities, check for "
                                      "unmatched surrogate code units" },

        /* MarkdownV2. */
        { "MarkdownV2", "*bold* _it_ __under__ ~strike~ ||spoil|| `code`", "bold it under strike spoil code",
          "[{\"offset\":0,\"length\":4,\"type\":\"bold\"},{\"offset\":5,\"length\":2,\"type\":\"italic\"},"
          "{\"offset\":8,\"length\":5,\"type\":\"underline\"},{\"offset\":14,\"length\":6,\"type\":\"strikethrough\"},"
          "{\"offset\":21,\"length\":5,\"type\":\"spoiler\"},{\"offset\":27,\"length\":4,\"type\":\"code\"}]" },
        { "MarkdownV2", "Price: 1\\.50 \\(USD\\)\\!", "Price: 1.50 (USD)!", "[]" },
        { "MarkdownV2", "[site](https://example.com/a\\)b) *a _b_*", "site a b",
          "[{\"offset\":0,\"length\":4,\"type\":\"text_link\",\"url\":\"https://example.com/a)b\"},"
          "{\"offset\":5,\"length\":3,\"type\":\"bold\"},{\"offset\":7,\"length\":1,\"type\":\"italic\"}]" },
        { "MarkdownV2", "```python\nprint(1)\n```", "print(1)",
          "[{\"offset\":0,\"length\":8,\"type\":\"pre\",\"language\":\"python\"}]" },
        { "MarkdownV2", ">quoted\n>more\nafter", "quoted\nmore\nafter",
          "[{\"offset\":0,\"length\":12,\"type\":\"blockquote\"}]" },
        { "MarkdownV2", "Price: 1.50", NULL, E "Character '.' is reserved and must be escaped with the preceding '\\'" },
        { "MarkdownV2", "a - b", NULL, E "Character '-' is reserved and must be escaped with the preceding '\\'" },
        { "MarkdownV2", "*bold", NULL, E "Can't find end of Bold entity at byte offset 0" },
        { "MarkdownV2", "x _it\ny_", "x it\ny", "[{\"offset\":2,\"length\":4,\"type\":\"italic\"}]" },
        { "MarkdownV2", ">a *b\nc*", NULL, E "Can't find end of Bold entity at byte offset 3" },
        { "MarkdownV2", "[a](http://x.y", NULL, E "Can't find end of a URL at byte offset 4" },

        /* Markdown, the legacy one. */
        { "Markdown", "*b* _i_ `c` [l](https://t.me) 1.5-2 \\*", "b i c l 1.5-2 *",
          "[{\"offset\":0,\"length\":1,\"type\":\"bold\"},{\"offset\":2,\"length\":1,\"type\":\"italic\"},"
          "{\"offset\":4,\"length\":1,\"type\":\"code\"},{\"offset\":6,\"length\":1,\"type\":\"text_link\",\"url\":\"https://t.me\"}]" },
        { "Markdown", "snake_case", NULL, E "Can't find end of the entity starting at byte offset 5" },
};

static void test_cases(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                char error[512] = "", *text = NULL;
                json_object *entities = NULL;
                int r = tg_text_parse(c->mode, c->in, &text, &entities, error, sizeof error);

                if (!c->text) {
                        if (r != -EINVAL || !streq(error, c->entities)) {
                                fprintf(stderr, "case %zu %s: got %d \"%s\", expected \"%s\"\n", i, c->in, r, error, c->entities);
                                assert(false);
                        }
                        assert(!text && !entities);
                        continue;
                }
                const char *got = r == 0 ? json_object_to_json_string_ext(entities, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : error;
                if (r != 0 || !streq(text, c->text) || !streq(got, c->entities)) {
                        fprintf(stderr, "case %zu %s: got %d \"%s\" %s\n  expected \"%s\" %s\n", i, c->in, r,
                                text ? text : "", got, c->text, c->entities);
                        assert(false);
                }
                free(text);
                json_object_put(entities);
        }
}

/* What botd writes comes back the same from the text and its entities. */
static void test_html_round_trip(void) {
        static const char *const html[] = {
                "<b>100 Stars</b> for <b>$1.99</b>",
                "👋 Welcome to <b>Nails &amp; &lt;Co&gt;</b>!\nOnline booking opens here soon.",
                "Order <code>st-1</code> 😀 <i>x<b>y</b></i>",
                "<a href=\"https://example.com/?a=1&amp;b=2\">site</a> <tg-spoiler>s</tg-spoiler> <s>z</s>",
                "<pre><code class=\"language-c\">int x;</code></pre><blockquote expandable>q</blockquote>",
        };
        for (size_t i = 0; i < ELEMENTSOF(html); i++) {
                char error[256], *text, *back;
                json_object *entities;
                assert(tg_text_parse("HTML", html[i], &text, &entities, error, sizeof error) == 0);
                back = tg_text_html(text, entities);
                if (!back || !streq(back, html[i])) {
                        fprintf(stderr, "round trip %zu: %s\n  became %s\n", i, html[i], back);
                        assert(false);
                }
                free(back);
                free(text);
                json_object_put(entities);
        }
}

static void test_utf16(void) {
        assert(tg_utf16_length("") == 0);
        assert(tg_utf16_length("abc") == 3);
        assert(tg_utf16_length("Привет") == 6);
        assert(tg_utf16_length("😀x") == 3);
}

int main(void) {
        test_cases();
        test_html_round_trip();
        test_utf16();
        return 0;
}
