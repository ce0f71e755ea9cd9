/* SPDX-License-Identifier: MIT */
/* The sandbox's parse_mode parsers: input is one byte choosing the mode, then the text. Whatever
 * they accept must hold together: every entity inside the text, and the text written back as
 * HTML must parse again to the same text and entities. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entities.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const modes[] = { "HTML", "MarkdownV2", "Markdown", NULL };
        char error[512], *in, *text, *html, *again;
        json_object *entities, *entities_again;

        if (size < 1)
                return 0;
        in = strndup((const char *) data + 1, size - 1);
        if (!in)
                return 0;
        if (tg_text_parse(modes[data[0] % 4], in, &text, &entities, error, sizeof error) == 0) {
                size_t units = tg_utf16_length(text);
                for (size_t i = 0; i < json_object_array_length(entities); i++) {
                        json_object *e = json_object_array_get_idx(entities, i), *v;
                        int64_t offset = json_object_object_get_ex(e, "offset", &v) ? json_object_get_int64(v) : -1;
                        int64_t length = json_object_object_get_ex(e, "length", &v) ? json_object_get_int64(v) : -1;
                        if (offset < 0 || length <= 0 || (uint64_t) (offset + length) > units)
                                abort();
                }
                html = tg_text_html(text, entities);
                if (!html)
                        abort();
                if (tg_text_parse("HTML", html, &again, &entities_again, error, sizeof error) < 0 ||
                    !streq(again, text))
                        abort();
                free(again);
                json_object_put(entities_again);
                free(html);
                free(text);
                json_object_put(entities);
        }
        free(in);
        return 0;
}
