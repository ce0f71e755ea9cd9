/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>

#include "netaddr.h"
#include "test-util.h"

static bool in(const NetList *l, const char *s) {
        NetAddr a;
        assert(netaddr_parse(s, &a) == 0);
        return netlist_contains(l, &a);
}

int main(void) {
        NetList l = {};
        struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
        NetAddr a;

        /* YooKassa's documented networks. */
        assert(netlist_append(&l, "185.71.76.0/27, 185.71.77.0/27 77.75.153.0/25 77.75.156.11 "
                                  "77.75.156.35 77.75.154.128/25 2a02:5180::/32") == 0);
        assert(l.n == 7);
        assert(in(&l, "185.71.76.0") && in(&l, "185.71.76.31") && !in(&l, "185.71.76.32"));
        assert(in(&l, "77.75.156.11") && !in(&l, "77.75.156.12"));
        assert(in(&l, "77.75.154.200") && !in(&l, "77.75.154.127"));
        assert(in(&l, "2a02:5180:0:1509::1") && !in(&l, "2a02:5181::1"));
        assert(!in(&l, "127.0.0.1"));

        /* An IPv4-mapped IPv6 peer matches IPv4 ranges. */
        assert(inet_pton(AF_INET6, "::ffff:77.75.156.35", &mapped.sin6_addr) == 1);
        assert(netaddr_from_sockaddr((struct sockaddr *) &mapped, &a) == 0 && a.family == AF_INET);
        assert(netlist_contains(&l, &a));

        /* A bad entry changes nothing. */
        assert(netlist_append(&l, "10.0.0.0/8 10.0.0.0/40") == -EINVAL);
        assert(netlist_append(&l, "example.com") == -EINVAL);
        assert(netlist_append(&l, "1.2.3.4/") == -EINVAL);
        assert(l.n == 7);

        assert(netlist_append(&l, "0.0.0.0/0") == 0 && in(&l, "8.8.8.8"));
        netlist_clear(&l);
        assert(l.n == 0 && !in(&l, "8.8.8.8"));
        return 0;
}
