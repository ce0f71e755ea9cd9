/* SPDX-License-Identifier: MIT */
/* The parts of redis.c that need no server: addresses and replies. */
#include "redis.h"
#include "test-util.h"

static int error_errno(const char *text) {
        redisReply r = { .type = REDIS_REPLY_ERROR, .str = (char *) text, .len = strlen(text) };
        return redis_reply_errno(&r);
}

static void test_reply_errno(void) {
        redisReply ok = { .type = REDIS_REPLY_STATUS, .str = (char *) "OK", .len = 2 };

        assert(redis_reply_errno(&ok) == 0 && redis_reply_message(&ok) == NULL);
        assert(redis_reply_errno(NULL) == -ENOTCONN && streq(redis_reply_message(NULL), "connection lost"));
        assert(error_errno("NOGROUP No such key 'x' or consumer group 'g'") == -ENOENT);
        assert(error_errno("BUSYGROUP Consumer Group name already exists") == -EEXIST);
        assert(error_errno("NOSCRIPT No matching script. Please use EVAL.") == -ENOEXEC);
        assert(error_errno("READONLY You can't write against a read only replica.") == -EROFS);
        assert(error_errno("OOM command not allowed when used memory > 'maxmemory'.") == -ENOMEM);
        assert(error_errno("WRONGPASS invalid username-password pair") == -EACCES);
        assert(error_errno("LOADING Redis is loading the dataset in memory") == -EAGAIN);
        assert(error_errno("BUSY Redis is busy running a script.") == -EAGAIN);
        /* A code is a whole word: BUSYGROUP is no BUSY, and an unknown one is an I/O error. */
        assert(error_errno("BUSYKEY Target key name already exists.") == -EIO);
        assert(error_errno("ERR wrong number of arguments") == -EIO);
        assert(error_errno("") == -EIO);
}

int main(void) {
        RedisAddress a;

        test_reply_errno();

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
