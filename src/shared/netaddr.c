/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>

#include "macro.h"
#include "netaddr.h"

int netaddr_parse(const char *s, NetAddr *ret) {
        NetAddr a = {};

        if (inet_pton(AF_INET, s, a.bytes) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, s, a.bytes) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, NetAddr *ret) {
        NetAddr a = {};

        if (sa->sa_family == AF_INET) {
                a.family = AF_INET;
                memcpy(a.bytes, &((const struct sockaddr_in *) sa)->sin_addr, 4);
        } else if (sa->sa_family == AF_INET6) {
                const struct in6_addr *in6 = &((const struct sockaddr_in6 *) sa)->sin6_addr;
                if (IN6_IS_ADDR_V4MAPPED(in6)) {
                        a.family = AF_INET;
                        memcpy(a.bytes, in6->s6_addr + 12, 4);
                } else {
                        a.family = AF_INET6;
                        memcpy(a.bytes, in6->s6_addr, 16);
                }
        } else
                return -EAFNOSUPPORT;
        *ret = a;
        return 0;
}

const char *netaddr_to_string(const NetAddr *a, char *buf, size_t size) {
        if (!inet_ntop(a->family, a->bytes, buf, (socklen_t) size))
                snprintf(buf, size, "?");
        return buf;
}

static int range_parse(const char *s, NetRange *ret) {
        char tmp[INET6_ADDRSTRLEN + 8];
        NetRange r = {};
        char *slash, *end;
        unsigned max;

        if (strlen(s) >= sizeof tmp)
                return -EINVAL;
        strcpy(tmp, s);
        slash = strchr(tmp, '/');
        if (slash)
                *slash = 0;
        if (netaddr_parse(tmp, &r.addr) < 0)
                return -EINVAL;
        max = r.addr.family == AF_INET ? 32 : 128;
        r.prefixlen = max;
        if (slash) {
                unsigned long l;
                errno = 0;
                l = strtoul(slash + 1, &end, 10);
                if (errno || *end || end == slash + 1 || l > max)
                        return -EINVAL;
                r.prefixlen = (unsigned) l;
        }
        *ret = r;
        return 0;
}

int netlist_append(NetList *list, const char *s) {
        _cleanup_free_ char *copy = strdup(s);
        NetRange *parsed = NULL;
        size_t n = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t\n,", &save); w; w = strtok_r(NULL, " \t\n,", &save)) {
                NetRange r, *grown;
                if (range_parse(w, &r) < 0) {
                        free(parsed);
                        return -EINVAL;
                }
                grown = realloc(parsed, (n + 1) * sizeof *parsed);
                if (!grown) {
                        free(parsed);
                        return -ENOMEM;
                }
                parsed = grown;
                parsed[n++] = r;
        }
        if (n > 0) {
                NetRange *all = realloc(list->ranges, (list->n + n) * sizeof *all);
                if (!all) {
                        free(parsed);
                        return -ENOMEM;
                }
                memcpy(all + list->n, parsed, n * sizeof *all);
                list->ranges = all;
                list->n += n;
        }
        free(parsed);
        return 0;
}

static bool range_contains(const NetRange *r, const NetAddr *a) {
        unsigned full = r->prefixlen / 8, rest = r->prefixlen % 8;

        if (r->addr.family != a->family)
                return false;
        if (memcmp(r->addr.bytes, a->bytes, full) != 0)
                return false;
        if (rest == 0)
                return true;
        unsigned char mask = (unsigned char) (0xFFu << (8 - rest));
        return (r->addr.bytes[full] & mask) == (a->bytes[full] & mask);
}

bool netlist_contains(const NetList *list, const NetAddr *a) {
        for (size_t i = 0; i < list->n; i++)
                if (range_contains(&list->ranges[i], a))
                        return true;
        return false;
}

void netlist_clear(NetList *list) {
        list->ranges = mfree(list->ranges);
        list->n = 0;
}
