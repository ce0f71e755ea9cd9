/* SPDX-License-Identifier: MIT */
#include "money.h"
#include "test-util.h"

int main(void) {
        char buf[32];
        int64_t v;

        assert(money_parse("15", 2, &v) == 0 && v == 1500);
        assert(money_parse("15.5", 2, &v) == 0 && v == 1550);
        assert(money_parse("15.05", 2, &v) == 0 && v == 1505);
        assert(money_parse("0.01", 2, &v) == 0 && v == 1);
        assert(money_parse("100", 0, &v) == 0 && v == 100);
        assert(money_parse("92233720368547758.07", 2, &v) == 0 && v == INT64_MAX);
        assert(money_parse("92233720368547758.08", 2, &v) == -ERANGE);
        assert(money_parse("15.005", 2, &v) == -EINVAL);
        assert(money_parse("1.5", 0, &v) == -EINVAL);
        assert(money_parse("-1", 2, &v) == -EINVAL);
        assert(money_parse("+1", 2, &v) == -EINVAL);
        assert(money_parse("1e3", 2, &v) == -EINVAL);
        assert(money_parse("", 2, &v) == -EINVAL);
        assert(money_parse(".5", 2, &v) == -EINVAL);
        assert(money_parse("5.", 2, &v) == -EINVAL);
        assert(money_parse("1.2.3", 2, &v) == -EINVAL);
        assert(money_parse(" 1", 2, &v) == -EINVAL);

        assert(money_format(1500, 2, buf, sizeof buf) == 0 && streq(buf, "15.00"));
        assert(money_format(1, 2, buf, sizeof buf) == 0 && streq(buf, "0.01"));
        assert(money_format(-250, 2, buf, sizeof buf) == 0 && streq(buf, "-2.50"));
        assert(money_format(100, 0, buf, sizeof buf) == 0 && streq(buf, "100"));
        assert(money_format(INT64_MIN, 2, buf, sizeof buf) == 0 && streq(buf, "-92233720368547758.08"));
        assert(money_format(1500, 2, buf, 5) == -ENOBUFS);
        return 0;
}
