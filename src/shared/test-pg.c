/* SPDX-License-Identifier: MIT */
/* pg.c against a real PostgreSQL (the one pg_virtualenv gives the test run, through PG*). */
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pg.h"
#include "test-util.h"

typedef struct Result {
        bool done;
        bool failed;              /* NULL result or an error */
        char value[64];
        unsigned calls;
        uint64_t at;
} Result;


static void on_result(Pg *pg, const PGresult *res, void *userdata) {
        Result *r = userdata;

        r->calls++;
        r->done = true;
        r->at = test_now_usec();
        r->failed = pg_result_to_errno(res) < 0;
        if (!r->failed && PQntuples(res) > 0)
                snprintf(r->value, sizeof r->value, "%s", PQgetvalue(res, 0, 0));
}


/* Connects; exits 77 when no server answers. */
static Pg *connect_or_skip(sd_event *e, uint64_t timeout_usec) {
        Pg *pg;
        Result r = {};

        assert(pg_new(e, "", timeout_usec, &pg) == 0);
        (void) TEST_RUN_UNTIL(e, pg_query(pg, "SELECT 1", 0, NULL, on_result, &r) == 0, 5 * USEC_PER_SEC);
        if (!TEST_RUN_UNTIL(e, r.done, 5 * USEC_PER_SEC) || r.failed) {
                fprintf(stderr, "No PostgreSQL to test against (run under pg_virtualenv), skipping.\n");
                exit(EXIT_TEST_SKIP);
        }
        return pg;
}

/* A query far larger than the socket buffer goes out whole, as the socket drains. */
static void test_large_query(sd_event *e) {
        Pg *pg = connect_or_skip(e, 0);
        size_t size = 8 * 1024 * 1024;
        char *big = malloc(size + 1);
        const char *params[] = { big };
        Result r = {};

        memset(big, 'x', size);
        big[size] = 0;
        assert(pg_query(pg, "SELECT length($1)", 1, params, on_result, &r) == 0);
        free(big);
        assert(TEST_RUN_UNTIL(e, r.done, 20 * USEC_PER_SEC));
        assert(!r.failed && streq(r.value, "8388608"));
        pg_free(pg);
}

/* A query not answered in time fails, with those queued behind it; the connection comes back. */
static void test_timeout(sd_event *e) {
        Pg *pg = connect_or_skip(e, 300 * USEC_PER_MSEC);
        Result slow = {}, behind = {}, after = {};
        uint64_t start = test_now_usec();

        assert(pg_query(pg, "SELECT pg_sleep(5)", 0, NULL, on_result, &slow) == 0);
        assert(pg_query(pg, "SELECT 2", 0, NULL, on_result, &behind) == 0);
        assert(TEST_RUN_UNTIL(e, slow.done && behind.done, 3 * USEC_PER_SEC));
        assert(slow.failed && behind.failed && slow.calls == 1 && behind.calls == 1);
        assert(slow.at - start >= 300 * USEC_PER_MSEC && slow.at - start < 2 * USEC_PER_SEC);
        assert(TEST_RUN_UNTIL(e, pg_query(pg, "SELECT 3", 0, NULL, on_result, &after) == 0, 5 * USEC_PER_SEC));
        assert(TEST_RUN_UNTIL(e, after.done, 5 * USEC_PER_SEC) && !after.failed && streq(after.value, "3"));
        pg_free(pg);
}

/* A callback may free the client: the queries still queued get their one call, nothing else runs. */
typedef struct Freeing {
        Pg *pg;
        Result first;
} Freeing;

static void on_result_free(Pg *pg, const PGresult *res, void *userdata) {
        Freeing *f = userdata;

        on_result(pg, res, &f->first);
        assert(pg == f->pg);
        f->pg = pg_free(pg);
        assert(pg_free(NULL) == NULL);
}

static void test_free_from_callback(sd_event *e) {
        Freeing f = { .pg = connect_or_skip(e, 0) };
        Result second = {}, third = {};

        assert(pg_query(f.pg, "SELECT 1", 0, NULL, on_result_free, &f) == 0);
        assert(pg_query(f.pg, "SELECT 2", 0, NULL, on_result, &second) == 0);
        assert(pg_query(f.pg, "SELECT 3", 0, NULL, on_result, &third) == 0);
        assert(TEST_RUN_UNTIL(e, f.first.done, 5 * USEC_PER_SEC));
        assert(!f.pg && !f.first.failed);
        assert(second.calls == 1 && second.failed && third.calls == 1 && third.failed);
        (void) TEST_RUN_UNTIL(e, false, 200 * USEC_PER_MSEC);
        assert(second.calls == 1 && third.calls == 1);
}

/* Many queries at once, more than go out ahead of their answers: each gets its own answer, in
 * order; one that fails fails alone; an explicit transaction still spans the queries sent in it. */
static void test_pipelined(sd_event *e) {
        Pg *pg = connect_or_skip(e, 0);
        enum { N = 200 };
        Result r[N] = {}, begin = {}, insert = {}, commit = {}, count = {};
        char sql[64];

        for (int i = 0; i < N; i++) {
                snprintf(sql, sizeof sql, i == 57 ? "SELECT 1/0" : "SELECT %d", i);
                assert(pg_query(pg, sql, 0, NULL, on_result, &r[i]) == 0);
        }
        assert(pg_query(pg, "BEGIN", 0, NULL, on_result, &begin) == 0);
        assert(pg_query(pg, "CREATE TEMPORARY TABLE t AS SELECT 1 AS x", 0, NULL, on_result, &insert) == 0);
        assert(pg_query(pg, "COMMIT", 0, NULL, on_result, &commit) == 0);
        assert(pg_query(pg, "SELECT count(*) FROM t", 0, NULL, on_result, &count) == 0);
        assert(TEST_RUN_UNTIL(e, count.done, 10 * USEC_PER_SEC));
        for (int i = 0; i < N; i++) {
                assert(r[i].calls == 1);
                if (i == 57)
                        assert(r[i].failed);
                else {
                        snprintf(sql, sizeof sql, "%d", i);
                        assert(!r[i].failed && streq(r[i].value, sql));
                        assert(i == 0 || r[i].at >= r[i - 1].at);
                }
        }
        assert(!begin.failed && !insert.failed && !commit.failed && !count.failed && streq(count.value, "1"));
        pg_free(pg);
}

typedef struct States {
        unsigned up, down;
        char error[256];
} States;

static void on_state(Pg *pg, bool up, void *userdata) {
        States *st = userdata;

        if (up)
                st->up++;
        else {
                st->down++;
                snprintf(st->error, sizeof st->error, "%s", pg_error(pg));
        }
}

/* A listening socket on 127.0.0.1 that never answers; returns its port, the descriptor in *fd. */
static unsigned silent_listener(int *fd) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;

        *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert(*fd >= 0);
        assert(bind(*fd, (struct sockaddr *) &a, sizeof a) == 0 && listen(*fd, 16) == 0);
        assert(getsockname(*fd, (struct sockaddr *) &a, &len) == 0);
        return ntohs(a.sin_port);
}

/* A server that is not there is told once, at the first failed attempt, however many follow;
 * one that accepts and never answers fails after the timeout, like a hung query. */
static void test_first_failure(sd_event *e) {
        States st = {};
        char conninfo[128];
        unsigned port;
        uint64_t start;
        Pg *pg;
        int fd;

        port = silent_listener(&fd);
        assert(close(fd) == 0);   /* now nothing listens there */
        snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%u connect_timeout=5", port);
        assert(pg_new(e, conninfo, 0, &pg) == 0);
        pg_set_state_callback(pg, on_state, &st);
        assert(TEST_RUN_UNTIL(e, st.down == 1, 2 * USEC_PER_SEC));
        assert(strstr(st.error, "refused"));
        (void) TEST_RUN_UNTIL(e, false, 1500 * USEC_PER_MSEC);   /* three more attempts */
        assert(st.down == 1 && st.up == 0 && !pg_is_up(pg));
        pg_free(pg);

        st = (States) {};
        port = silent_listener(&fd);
        snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%u", port);
        start = test_now_usec();
        assert(pg_new(e, conninfo, 300 * USEC_PER_MSEC, &pg) == 0);
        pg_set_state_callback(pg, on_state, &st);
        assert(TEST_RUN_UNTIL(e, st.down == 1, 3 * USEC_PER_SEC));
        assert(test_now_usec() - start >= 300 * USEC_PER_MSEC);
        assert(strstr(st.error, "no answer to the connection within 300 ms"));
        pg_free(pg);
        assert(close(fd) == 0);
}

static int check_answer(const PGresult *res, char *why, size_t size, void *userdata) {
        const bool *accept = userdata;

        assert(res && PQresultStatus(res) == PGRES_TUPLES_OK && streq(PQgetvalue(res, 0, 0), "41"));
        if (*accept)
                return 0;
        snprintf(why, size, "the check refused it");
        return -EAGAIN;
}

/* A connection counts as up only once its check accepts it: until then no query goes, the
 * outage is told once with the check's reason, and the client keeps trying. */
static void test_check(sd_event *e) {
        States st = {};
        bool accept = false;
        Result r = {};
        Pg *pg = connect_or_skip(e, 0);

        pg_free(pg);
        assert(pg_new(e, "", 0, &pg) == 0);
        assert(pg_set_check(pg, "SELECT 41", check_answer, &accept) == 0);
        pg_set_state_callback(pg, on_state, &st);
        assert(TEST_RUN_UNTIL(e, st.down == 1, 3 * USEC_PER_SEC));
        assert(streq(st.error, "the check refused it") && streq(pg_error(pg), "the check refused it"));
        assert(pg_query(pg, "SELECT 1", 0, NULL, on_result, &r) == -ENOTCONN);
        (void) TEST_RUN_UNTIL(e, false, 800 * USEC_PER_MSEC);
        assert(st.down == 1 && st.up == 0);
        accept = true;
        assert(TEST_RUN_UNTIL(e, st.up == 1, 10 * USEC_PER_SEC) && pg_is_up(pg));
        assert(pg_query(pg, "SELECT 7", 0, NULL, on_result, &r) == 0);
        assert(TEST_RUN_UNTIL(e, r.done, 5 * USEC_PER_SEC) && !r.failed && streq(r.value, "7"));
        pg_free(pg);
}

typedef struct Heard {
        unsigned count;
        char last[64];
} Heard;

static void on_notify(Pg *pg, const char *payload, void *userdata) {
        Heard *h = userdata;

        h->count++;
        snprintf(h->last, sizeof h->last, "%s", payload);
}

/* Another session's notifications arrive, this connection's own do not, and the LISTEN is made
 * again on a new connection. */
static void test_listen(sd_event *e) {
        Pg *other = connect_or_skip(e, 0), *pg;
        Heard heard = {};
        States st = {};
        Result r = {}, pid = {}, self = {}, kill = {};

        assert(pg_new(e, "", 0, &pg) == 0);
        assert(pg_listen(pg, "No-Such", on_notify, &heard) == -EINVAL);
        assert(pg_listen(pg, "", on_notify, &heard) == -EINVAL);
        assert(pg_listen(pg, "tgfleet_test", on_notify, &heard) == 0);
        pg_set_state_callback(pg, on_state, &st);
        assert(TEST_RUN_UNTIL(e, st.up == 1, 5 * USEC_PER_SEC));
        assert(pg_query(pg, "SELECT pg_backend_pid()", 0, NULL, on_result, &pid) == 0);
        assert(TEST_RUN_UNTIL(e, pid.done, 5 * USEC_PER_SEC) && !pid.failed);

        assert(pg_query(pg, "NOTIFY tgfleet_test, 'mine'", 0, NULL, on_result, &self) == 0);
        assert(TEST_RUN_UNTIL(e, self.done, 5 * USEC_PER_SEC) && !self.failed);
        assert(pg_query(other, "SELECT pg_notify('tgfleet_test', 'theirs')", 0, NULL, on_result, &r) == 0);
        assert(TEST_RUN_UNTIL(e, heard.count > 0, 5 * USEC_PER_SEC));
        assert(heard.count == 1 && streq(heard.last, "theirs"));

        /* The server drops the connection: the next one listens again. */
        const char *param[] = { pid.value };
        assert(pg_query(other, "SELECT pg_terminate_backend($1::int)", 1, param, on_result, &kill) == 0);
        assert(TEST_RUN_UNTIL(e, st.up == 2, 10 * USEC_PER_SEC) && st.down == 1);
        r = (Result) {};
        assert(pg_query(pg, "SELECT 1", 0, NULL, on_result, &r) == 0);   /* behind the LISTEN */
        assert(TEST_RUN_UNTIL(e, r.done, 5 * USEC_PER_SEC) && !r.failed);
        r = (Result) {};
        assert(pg_query(other, "SELECT pg_notify('tgfleet_test', 'again')", 0, NULL, on_result, &r) == 0);
        assert(TEST_RUN_UNTIL(e, heard.count == 2, 5 * USEC_PER_SEC) && streq(heard.last, "again"));
        pg_free(pg);
        pg_free(other);
}

int main(void) {
        sd_event *e;

        assert(sd_event_new(&e) >= 0);
        test_large_query(e);
        test_timeout(e);
        test_free_from_callback(e);
        test_pipelined(e);
        test_first_failure(e);
        test_check(e);
        test_listen(e);
        sd_event_unref(e);
        return 0;
}
