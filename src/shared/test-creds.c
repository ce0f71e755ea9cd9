/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "creds.h"
#include "test-util.h"

int main(void) {
        char dir[] = "/tmp/test-creds-XXXXXX", other[] = "/tmp/test-creds-XXXXXX";
        Secret *s = NULL;

        assert(mkdtemp(dir) && mkdtemp(other));
        test_write_file(dir, "webhook-key", "k3y\n");
        test_write_file(dir, "crlf", "abc\r\n");
        test_write_file(dir, "big", "0123456789");
        test_write_file(other, "webhook-key", "other");

        /* Nothing configured: no directory. */
        unsetenv("CREDENTIALS_DIRECTORY");
        assert(creds_read("webhook-key", 64, &s) == -ENXIO);

        /* $CREDENTIALS_DIRECTORY, as systemd sets it; a trailing newline is not part of it. */
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        assert(creds_read("webhook-key", 64, &s) == 0);
        assert(s->size == 3 && streq(s->data, "k3y"));
        s = secret_free(s);
        assert(creds_read("crlf", 64, &s) == 0 && streq(s->data, "abc"));
        s = secret_free(s);

        /* --credentials-dir wins over the environment. */
        assert(creds_set_directory(other) == 0);
        assert(creds_read("webhook-key", 64, &s) == 0 && streq(s->data, "other"));
        s = secret_free(s);
        assert(creds_set_directory(NULL) == 0);

        assert(creds_read("missing", 64, &s) == -ENOENT);
        assert(creds_read("big", 5, &s) == -EFBIG);
        assert(creds_read("../etc/passwd", 64, &s) == -EINVAL);
        assert(creds_read("a/b", 64, &s) == -EINVAL);
        assert(creds_read("", 64, &s) == -EINVAL);
        assert(!s);

        assert(secret_equal("abc", 3, "abc", 3));
        assert(!secret_equal("abc", 3, "abd", 3));
        assert(!secret_equal("abc", 3, "abcd", 4));
        assert(!secret_equal("", 0, "a", 1));
        return 0;
}
