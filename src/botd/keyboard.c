/* SPDX-License-Identifier: MIT */
#include "keyboard.h"
#include "macro.h"

json_object *button(const char *text, const char *data) {
        json_object *b = json_object_new_object();
        json_object_object_add(b, "text", json_object_new_string(text));
        json_object_object_add(b, "callback_data", json_object_new_string(data));
        return b;
}

json_object *url_button(const char *text, const char *url) {
        json_object *b = json_object_new_object();
        json_object_object_add(b, "text", json_object_new_string(text));
        json_object_object_add(b, "url", json_object_new_string(url));
        return b;
}

json_object *row(json_object *a, json_object *b) {
        json_object *r = json_object_new_array();
        json_object_array_add(r, a);
        if (b)
                json_object_array_add(r, b);
        return r;
}

json_object *inline_keyboard(json_object *rows) {
        json_object *k = json_object_new_object();
        json_object_object_add(k, "inline_keyboard", rows);
        return k;
}

json_object *menu_keyboard(Lang l, const char *const *labels, size_t n) {
        json_object *rows = json_object_new_array(), *k = json_object_new_object();

        for (size_t i = 0; i < n; i += 2) {
                json_object *r = json_object_new_array();
                for (size_t j = i; j < MIN(i + 2, n); j++) {
                        json_object *b = json_object_new_object();
                        json_object_object_add(b, "text", json_object_new_string(T(l, labels[j])));
                        json_object_array_add(r, b);
                }
                json_object_array_add(rows, r);
        }
        json_object_object_add(k, "keyboard", rows);
        json_object_object_add(k, "resize_keyboard", json_object_new_boolean(true));
        json_object_object_add(k, "is_persistent", json_object_new_boolean(true));
        return k;
}

int menu_pick(const char *text, const char *const *labels, size_t n) {
        for (size_t i = 0; i < n; i++)
                for (Lang l = 0; l < _LANG_MAX; l++)
                        if (streq(text, T(l, labels[i])))
                                return (int) i;
        return -1;
}
