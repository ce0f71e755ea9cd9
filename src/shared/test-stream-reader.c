/* SPDX-License-Identifier: MIT */
/* The stream reader against a private redis-server: what each consumer group member must get
 * right, one scenario each. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "stream-reader.h"
#include "test-util.h"

static char dir[] = "/tmp/test-stream-reader-XXXXXX";
static char socket_path[256], url[300];
static pid_t server;
static redisContext *sync_c;

/* --- a private redis-server and a blocking client for the test's own commands ---------------- */

static void start_server(void) {
        char conf[512];

        assert(mkdtemp(dir));
        snprintf(socket_path, sizeof socket_path, "%s/redis.sock", dir);
        snprintf(url, sizeof url, "unix://%s", socket_path);
        snprintf(conf, sizeof conf, "port 0\nunixsocket %s\nsave \"\"\nappendonly no\ndir %s\n", socket_path, dir);
        test_write_file(dir, "redis.conf", conf);
        server = fork();
        assert(server >= 0);
        if (server == 0) {
                char path[300];
                int null = open("/dev/null", O_WRONLY);
                /* It dies with the test, crashed or not, and holds none of its output pipes. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                snprintf(path, sizeof path, "%s/redis.conf", dir);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execlp("redis-server", "redis-server", path, (char *) NULL);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                int status;
                if (waitpid(server, &status, WNOHANG) == server) {
                        fprintf(stderr, "redis-server is not available, skipping.\n");
                        exit(EXIT_TEST_SKIP);
                }
                sync_c = redisConnectUnix(socket_path);
                if (sync_c && !sync_c->err)
                        return;
                redisFree(sync_c);
                sync_c = NULL;
                usleep(20000);
        }
        assert(!"redis-server did not start");
}

static void stop_server(void) {
        char rm[300];

        redisFree(sync_c);
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        assert(system(rm) == 0);
}

/* Runs a command (printf-style, as hiredis's redisCommand) and returns its reply. */
static redisReply *cmd(const char *fmt, ...) {
        va_list ap;
        redisReply *r;

        va_start(ap, fmt);
        r = redisvCommand(sync_c, fmt, ap);
        va_end(ap);
        assert(r);
        return r;
}

static long long cmd_int(const char *fmt, ...) {
        va_list ap;
        redisReply *r;
        long long v;

        va_start(ap, fmt);
        r = redisvCommand(sync_c, fmt, ap);
        va_end(ap);
        assert(r && r->type == REDIS_REPLY_INTEGER);
        v = r->integer;
        freeReplyObject(r);
        return v;
}

/* Adds an entry {n: @n, key: @key} to @stream and returns nothing; ids come from Redis. */
static void add(const char *stream, int n, int key) {
        freeReplyObject(cmd("XADD %s * n %d key %d", stream, n, key));
}

static long long pending(const char *stream, const char *group) {
        redisReply *r = cmd("XPENDING %s %s", stream, group);
        long long v;

        assert(r->type == REDIS_REPLY_ARRAY && r->element[0]->type == REDIS_REPLY_INTEGER);
        v = r->element[0]->integer;
        freeReplyObject(r);
        return v;
}

/* --- a reader under test ------------------------------------------------------------------------- */

#define LOG_MAX 4096

typedef struct Item {
        StreamEntry entry;
        int n;
} Item;

typedef struct Test {
        sd_event *event;
        Redis *redis, *redis_block;
        StreamReader *reader;
        /* What the handler saw, in order, and what it does. */
        int handled[LOG_MAX];
        uint64_t handled_at[LOG_MAX];
        unsigned n_handled;
        unsigned times[LOG_MAX];        /* per n: how often handled */
        Item *holding[LOG_MAX];         /* handled and not finished */
        unsigned n_holding;
        int fail_once;                  /* n to fail (STREAM_RETRY) the first time it is handled */
        int dead_below;                 /* take(): n below this is dead-lettered */
        bool hold;                      /* keep entries instead of finishing them */
        unsigned taken;
        unsigned freed;
} Test;


static int take(StreamReader *sr, unsigned stream, const char *id, const redisReply *fields, void *userdata,
                StreamEntry **ret) {
        Test *t = userdata;
        const char *n = redis_stream_field(fields, "n"), *key = redis_stream_field(fields, "key");
        Item *it;

        if (!n)
                return STREAM_ACK;
        if (atoi(n) < t->dead_below)
                return STREAM_DEAD;
        it = calloc(1, sizeof *it);
        assert(it);
        it->n = atoi(n);
        it->entry.key = key ? atoi(key) : 0;
        t->taken++;
        *ret = &it->entry;
        return 0;
}

static void handle(StreamReader *sr, StreamEntry *e, void *userdata) {
        Test *t = userdata;
        Item *it = container_of(e, Item, entry);

        assert(t->n_handled < LOG_MAX && it->n >= 0 && it->n < LOG_MAX);
        t->handled_at[t->n_handled] = test_now_usec();
        t->handled[t->n_handled++] = it->n;
        if (t->times[it->n]++ == 0 && it->n == t->fail_once)
                return stream_reader_done(sr, e, STREAM_RETRY);
        if (t->hold) {
                t->holding[t->n_holding++] = it;
                return;
        }
        stream_reader_done(sr, e, STREAM_ACK);
}

static Test *test_freeing;
static void free_entry(StreamEntry *e) {
        test_freeing->freed++;
        free(container_of(e, Item, entry));
}

static void test_start(Test *t, const StreamReaderOptions *base) {
        StreamReaderOptions o = *base;

        *t = (Test) { .fail_once = -1, .dead_below = -1 };
        test_freeing = t;
        assert(sd_event_new(&t->event) >= 0);
        /* A 10 s command timeout: the blocking read lasts 2 s, longer than the retry pause. */
        assert(redis_new(t->event, url, NULL, 10 * USEC_PER_SEC, &t->redis) == 0);
        assert(redis_new(t->event, url, NULL, 10 * USEC_PER_SEC, &t->redis_block) == 0);
        o.take = take;
        o.handle = handle;
        o.free_entry = free_entry;
        o.userdata = t;
        o.command_timeout_usec = 10 * USEC_PER_SEC;
        assert(stream_reader_new(t->event, t->redis, t->redis_block, &o, &t->reader) == 0);
}

static void test_stop(Test *t) {
        t->redis = redis_free(t->redis);
        t->redis_block = redis_free(t->redis_block);
        t->reader = stream_reader_free(t->reader);
        assert(t->freed == t->taken);
        t->event = sd_event_unref(t->event);
        freeReplyObject(cmd("FLUSHALL"));
}


static void finish_held(Test *t, StreamOutcome outcome) {
        unsigned n = t->n_holding;

        t->n_holding = 0;
        for (unsigned i = 0; i < n; i++)
                stream_reader_done(t->reader, &t->holding[i]->entry, outcome);
}

static const StreamSpec one_stream[] = { { .name = "s" } };

/* --- the scenarios ------------------------------------------------------------------------------- */

/* Entries added before the group existed are read, each handled once and acknowledged. */
static void test_backlog_and_new(void) {
        Test t;

        for (int i = 0; i < 100; i++)
                add("s", i, 0);
        test_start(&t, &(StreamReaderOptions) { .streams = one_stream, .n_streams = 1, .group = "g", .consumer = "c" });
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 100, 5 * USEC_PER_SEC));
        for (int i = 100; i < 150; i++)
                add("s", i, 0);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 150, 5 * USEC_PER_SEC));
        assert(TEST_RUN_UNTIL(t.event, pending("s", "g") == 0, USEC_PER_SEC));
        for (int i = 0; i < 150; i++)
                assert(t.times[i] == 1);
        test_stop(&t);
}

/* A failed entry comes again after the retry pause, even while the blocking read is out (it lasts
 * 2 s here, the pause 200 ms). */
static void test_retry_during_blocking_read(void) {
        Test t;
        uint64_t first;

        test_start(&t, &(StreamReaderOptions) { .streams = one_stream, .n_streams = 1, .group = "g", .consumer = "c",
                                                .retry_usec = 200 * USEC_PER_MSEC });
        /* Let the pass end and the blocking read start. */
        (void) TEST_RUN_UNTIL(t.event, false, 300 * USEC_PER_MSEC);
        t.fail_once = 7;
        add("s", 7, 0);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 1, 3 * USEC_PER_SEC));
        first = t.handled_at[0];
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 2, 5 * USEC_PER_SEC));
        assert(t.handled[1] == 7);
        /* The pause, not the next blocking read's end, nor a claim. */
        assert(t.handled_at[1] - first >= 200 * USEC_PER_MSEC);
        assert(t.handled_at[1] - first < 1000 * USEC_PER_MSEC);
        assert(TEST_RUN_UNTIL(t.event, pending("s", "g") == 0, USEC_PER_SEC));
        /* New entries are read again afterwards. */
        add("s", 8, 0);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 3 && t.handled[2] == 8, 3 * USEC_PER_SEC));
        test_stop(&t);
}

/* A pass over the pending entries (after a failure) does not hand out again those being handled. */
static void test_pass_skips_held(void) {
        Test t;

        test_start(&t, &(StreamReaderOptions) { .streams = one_stream, .n_streams = 1, .group = "g", .consumer = "c",
                                                .retry_usec = 100 * USEC_PER_MSEC });
        t.hold = true;
        for (int i = 0; i < 10; i++)
                add("s", i, 0);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 10, 3 * USEC_PER_SEC));
        /* One fails: a pass reads all ten pending entries again. */
        t.hold = false;
        t.fail_once = 11;
        add("s", 11, 0);
        assert(TEST_RUN_UNTIL(t.event, t.times[11] == 2, 3 * USEC_PER_SEC));
        (void) TEST_RUN_UNTIL(t.event, false, 300 * USEC_PER_MSEC);
        for (int i = 0; i < 10; i++)
                assert(t.times[i] == 1);
        assert(stream_reader_held(t.reader) == 10);
        finish_held(&t, STREAM_ACK);
        assert(TEST_RUN_UNTIL(t.event, pending("s", "g") == 0, USEC_PER_SEC));
        test_stop(&t);
}

/* More idle entries of a dead consumer than one XAUTOCLAIM returns: every one is taken over, also
 * while the first ones are still held. */
static void test_claim_walks_everything(void) {
        Test t;
        redisReply *r;

        freeReplyObject(cmd("XGROUP CREATE s g 0 MKSTREAM"));
        for (int i = 0; i < 300; i++)
                add("s", i, 0);
        r = cmd("XREADGROUP GROUP g dead COUNT 300 STREAMS s >");
        freeReplyObject(r);
        usleep(150000);
        test_start(&t, &(StreamReaderOptions) { .streams = one_stream, .n_streams = 1, .group = "g", .consumer = "c",
                                                .max_held = 1000, .claim_idle_usec = 100 * USEC_PER_MSEC });
        t.hold = true;
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 300, 5 * USEC_PER_SEC));
        (void) TEST_RUN_UNTIL(t.event, false, 1500 * USEC_PER_MSEC);
        for (int i = 0; i < 300; i++)
                assert(t.times[i] == 1);
        finish_held(&t, STREAM_ACK);
        assert(TEST_RUN_UNTIL(t.event, pending("s", "g") == 0, USEC_PER_SEC));
        test_stop(&t);
}

/* Entries of one key one at a time in stream order; a failure keeps the later ones behind it. */
static void test_ordered(void) {
        Test t;
        int last[3] = { -1, -1, -1 };

        test_start(&t, &(StreamReaderOptions) { .streams = one_stream, .n_streams = 1, .group = "g", .consumer = "c",
                                                .ordered = true, .retry_usec = 100 * USEC_PER_MSEC });
        t.hold = true;
        for (int i = 0; i < 30; i++)
                add("s", i, i % 3);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 3, 3 * USEC_PER_SEC));
        (void) TEST_RUN_UNTIL(t.event, false, 100 * USEC_PER_MSEC);
        assert(t.n_handled == 3);   /* one per key */
        assert(stream_reader_held(t.reader) == 30);
        t.hold = false;
        t.fail_once = 4;
        finish_held(&t, STREAM_ACK);
        assert(TEST_RUN_UNTIL(t.event, pending("s", "g") == 0, 5 * USEC_PER_SEC));
        for (unsigned i = 0; i < t.n_handled; i++) {
                int n = t.handled[i], k = n % 3;
                /* Within a key strictly in order, the failed one again before those after it. */
                assert(n > last[k] || (n == 4 && last[k] == 4));
                last[k] = n;
        }
        assert(t.times[4] == 2);
        for (int i = 0; i < 30; i++)
                assert(t.times[i] == (i == 4 ? 2u : 1u));
        test_stop(&t);
}

/* A reader freed with entries waiting behind others of their key frees each of them once. */
static void test_free_with_lines(void) {
        Test t;

        test_start(&t, &(StreamReaderOptions) { .streams = one_stream, .n_streams = 1, .group = "g", .consumer = "c",
                                                .ordered = true });
        t.hold = true;
        for (int i = 0; i < 5; i++)
                add("s", i, 1);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 1 && stream_reader_held(t.reader) == 5, 3 * USEC_PER_SEC));
        t.n_holding = 0;   /* the reader frees them */
        test_stop(&t);
}

/* Several streams in one reader; an erasing stream loses its entries once acknowledged; an entry
 * nobody can handle goes to the dead-letter stream, acknowledged. */
static void test_streams_erase_dead(void) {
        static const StreamSpec two[] = { { .name = "a" }, { .name = "b", .erase = true } };
        Test t;
        redisReply *r;

        test_start(&t, &(StreamReaderOptions) { .streams = two, .n_streams = 2, .group = "g", .consumer = "c" });
        t.dead_below = 1;
        add("a", 0, 0);      /* dead */
        add("a", 1, 0);
        add("b", 2, 0);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 2, 3 * USEC_PER_SEC));
        assert(TEST_RUN_UNTIL(t.event, pending("a", "g") == 0 && pending("b", "g") == 0 && cmd_int("XLEN b") == 0,
                         USEC_PER_SEC));
        assert(cmd_int("XLEN a") == 2);
        r = cmd("XRANGE a:dead - +");
        assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1);
        assert(streq(redis_stream_field(r->element[0]->element[1], "from_stream"), "a"));
        assert(streq(redis_stream_field(r->element[0]->element[1], "n"), "0"));
        freeReplyObject(r);
        test_stop(&t);
}

/* Acknowledged entries are trimmed (retention 0 here); unacknowledged and unread ones stay. */
static void test_trim(void) {
        Test t;
        redisReply *r;
        char *kept;

        freeReplyObject(cmd("XGROUP CREATE s other 0 MKSTREAM"));
        test_start(&t, &(StreamReaderOptions) { .streams = one_stream, .n_streams = 1, .group = "g", .consumer = "c",
                                                .max_held = 2000 });
        t.fail_once = -1;
        t.hold = true;
        for (int i = 0; i < 1000; i++)
                add("s", i, 0);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 1000, 5 * USEC_PER_SEC));
        /* The group "other" has read none: nothing may go. */
        finish_held(&t, STREAM_ACK);
        (void) TEST_RUN_UNTIL(t.event, false, USEC_PER_SEC);
        assert(cmd_int("XLEN s") == 1000);
        /* "other" reads them all and acknowledges all but entry 600: from there on they stay. */
        r = cmd("XREADGROUP GROUP other o COUNT 1000 STREAMS s >");
        assert(r->type == REDIS_REPLY_ARRAY);
        kept = strdup(r->element[0]->element[1]->element[600]->element[0]->str);
        for (size_t i = 0; i < 1000; i++)
                if (i != 600)
                        freeReplyObject(cmd("XACK s other %s", r->element[0]->element[1]->element[i]->element[0]->str));
        freeReplyObject(r);
        add("s", 1000, 0);
        assert(TEST_RUN_UNTIL(t.event, t.n_handled == 1001, 3 * USEC_PER_SEC));
        finish_held(&t, STREAM_ACK);
        assert(TEST_RUN_UNTIL(t.event, cmd_int("XLEN s") < 1000, 3 * USEC_PER_SEC));
        assert(cmd_int("XLEN s") >= 401);
        r = cmd("XRANGE s %s %s", kept, kept);
        assert(r->type == REDIS_REPLY_ARRAY && r->elements == 1);
        freeReplyObject(r);
        free(kept);
        test_stop(&t);
}

/* The Redis glue under its readers: a client freed from one of its own reply callbacks gives the
 * commands still pending their NULL reply, and nothing touches it afterwards. */
typedef struct Replies {
        Redis *redis;
        unsigned n, null;
} Replies;

static void on_reply_freeing(Redis *r, redisReply *reply, void *userdata) {
        Replies *rs = userdata;

        rs->n++;
        rs->null += !reply;
        if (rs->n == 1) {
                assert(reply && r == rs->redis);
                rs->redis = redis_free(r);
        }
}

static void test_redis_free_from_callback(void) {
        sd_event *e;
        Replies rs = {};
        const char *ping[] = { "PING" };

        assert(sd_event_new(&e) >= 0);
        assert(redis_new(e, url, NULL, 10 * USEC_PER_SEC, &rs.redis) == 0);
        assert(TEST_RUN_UNTIL(e, redis_is_up(rs.redis), 3 * USEC_PER_SEC));
        for (int i = 0; i < 3; i++)
                assert(redis_command_argv(rs.redis, on_reply_freeing, &rs, 1, ping, NULL) == 0);
        assert(TEST_RUN_UNTIL(e, rs.n == 3, 3 * USEC_PER_SEC));
        assert(!rs.redis && rs.null == 2);
        (void) TEST_RUN_UNTIL(e, false, 100 * USEC_PER_MSEC);
        assert(rs.n == 3);
        sd_event_unref(e);
}

int main(void) {
        signal(SIGPIPE, SIG_IGN);
        start_server();
        test_backlog_and_new();
        test_retry_during_blocking_read();
        test_pass_skips_held();
        test_claim_walks_everything();
        test_ordered();
        test_free_with_lines();
        test_streams_erase_dead();
        test_trim();
        test_redis_free_from_callback();
        stop_server();
        return 0;
}
