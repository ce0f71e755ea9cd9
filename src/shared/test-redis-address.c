/* SPDX-License-Identifier: MIT */
#include "redis.h"
#include "test-util.h"

int main(void) {
        RedisAddress a;

        assert(redis_address_parse("redis://127.0.0.1:6380/2", &a) == 0);
        assert(streq(a.host, "127.0.0.1") && a.port == 6380 && a.db == 2 && !a.path);
        redis_address_done(&a);
        assert(redis_address_parse("redis://cache.local", &a) == 0);
        assert(streq(a.host, "cache.local") && a.port == 6379 && a.db == 0);
        redis_address_done(&a);
        assert(redis_address_parse("redis://[::1]:7000/1", &a) == 0);
        assert(streq(a.host, "::1") && a.port == 7000 && a.db == 1);
        redis_address_done(&a);
        assert(redis_address_parse("unix:///run/redis/redis.sock", &a) == 0);
        assert(streq(a.path, "/run/redis/redis.sock") && a.db == 0 && !a.host);
        redis_address_done(&a);
        assert(redis_address_parse("unix:///tmp/r.sock?db=3", &a) == 0 && a.db == 3);
        redis_address_done(&a);

        assert(redis_address_parse("redis://:secret@host:6379/0", &a) == -EINVAL);
        assert(redis_address_parse("http://host", &a) == -EINVAL);
        assert(redis_address_parse("redis://host:0", &a) == -EINVAL);
        assert(redis_address_parse("redis://host:99999", &a) == -EINVAL);
        assert(redis_address_parse("redis://host/x", &a) == -EINVAL);
        assert(redis_address_parse("redis://", &a) == -EINVAL);
        assert(redis_address_parse("unix://relative", &a) == -EINVAL);
        assert(redis_address_parse("unix:///x?db=q", &a) == -EINVAL);
        return 0;
}
