/* SPDX-License-Identifier: MIT */
#pragma once

/* Lists of IPv4/IPv6 networks ("185.71.76.0/27", "2a02:5180::/32", "77.75.156.11") and
 * matching of peer addresses against them. IPv4-mapped IPv6 peers match IPv4 entries. */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct NetAddr {
        int family;                 /* AF_INET or AF_INET6 */
        unsigned char bytes[16];    /* network byte order; 4 used for AF_INET */
} NetAddr;

typedef struct NetRange {
        NetAddr addr;
        unsigned prefixlen;
} NetRange;

typedef struct NetList {
        NetRange *ranges;
        size_t n;
} NetList;

/* Parses one address literal (no prefix). Returns 0, or -EINVAL. */
int netaddr_parse(const char *s, NetAddr *ret);

/* Converts a socket address to a NetAddr, unwrapping IPv4-mapped IPv6. Returns 0, or -EAFNOSUPPORT
 * for families other than AF_INET/AF_INET6. */
int netaddr_from_sockaddr(const struct sockaddr *sa, NetAddr *ret);

/* Formats @a into @buf (at least INET6_ADDRSTRLEN bytes). Returns @buf. */
const char *netaddr_to_string(const NetAddr *a, char *buf, size_t size);

/* Appends the whitespace- or comma-separated ranges in @s to @list. On a bad entry returns
 * -EINVAL and leaves @list unchanged. */
int netlist_append(NetList *list, const char *s);

/* True if @a lies in any range of @list. */
bool netlist_contains(const NetList *list, const NetAddr *a);

void netlist_clear(NetList *list);
