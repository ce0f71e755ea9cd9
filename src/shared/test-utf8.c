/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "test-util.h"
#include "utf8.h"

int main(void) {
        assert(utf8_chars("") == 0 && utf8_chars("abc") == 3);
        assert(utf8_chars("Салон") == 5 && strlen("Салон") == 10);
        assert(utf8_chars("a😀b") == 3);
        assert(utf8_prefix("Салон", 2) == 4 && utf8_prefix("Салон", 5) == 10 && utf8_prefix("Салон", 99) == 10);
        assert(utf8_prefix("a😀b", 1) == 1 && utf8_prefix("a😀b", 2) == 5);
        assert(utf8_prefix("abc", 0) == 0);
        return 0;
}
