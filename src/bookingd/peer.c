/* SPDX-License-Identifier: MIT */
/* bookingd's own socket and the peers on it. Not the system bus: dbus-daemon refuses a connection
 * to a user it cannot name, and systemd keeps it from naming dynamic users (it would deadlock with
 * PID 1), which the tenant bots are. So each bot connects here, each connection is a D-Bus
 * connection of its own with bookingd the server, and the socket's peer credentials, which the
 * kernel vouches for, name the caller: its uid's user, tgfleet-bot-<tenant>, is the tenant it is
 * held to, found once when it connects. A connection of anyone else is served AccessDenied.
 *
 * Bus clients (busctl) say Hello to a bus driver first; the peer is given a name, as a driver
 * would, so that an operator can call bookingd with busctl --address=unix:path=… */

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "booking-bus.h"
#include "bookingd.h"
#include "log.h"
#include "macro.h"
#include "tenant.h"

#define PEERS_BACKLOG 128

/* The tenant whose bot runs as @uid, or -1. */
static int64_t tenant_of_uid(uid_t uid) {
        char buf[4096];
        struct passwd pw, *found = NULL;
        int64_t tenant;

        if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) != 0 || !found ||
            tenant_of_user(found->pw_name, &tenant) < 0)
                return -1;
        return tenant;
}

static Peer *peer_free(Peer *p) {
        if (!p)
                return NULL;
        if (p->prev)
                p->prev->next = p->next;
        else
                p->b->peers = p->next;
        if (p->next)
                p->next->prev = p->prev;
        /* Calls under way hold their message, and so the connection, until they are answered. */
        sd_bus_flush_close_unref(p->bus);
        free(p);
        return NULL;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        peer_free(userdata);
        return 0;
}

static int on_hello(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Peer *p = userdata;
        char name[32];

        snprintf(name, sizeof name, ":1.%" PRIu32, (uint32_t) p->uid);
        return sd_bus_reply_method_return(m, "s", name);
}

static const sd_bus_vtable driver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Hello", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", name), on_hello,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* Serves the connection @fd (taken) as a new peer. */
static int peer_new(Bookingd *b, int fd) {
        static sd_id128_t server_id;
        struct ucred cred;
        socklen_t len = sizeof cred;
        Peer *p;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (sd_id128_is_null(server_id) && (r = sd_id128_randomize(&server_id)) < 0) {
                close(fd);
                return r;
        }
        p = calloc(1, sizeof *p);
        if (!p) {
                close(fd);
                return -ENOMEM;
        }
        *p = (Peer) { .b = b, .uid = cred.uid, .tenant = tenant_of_uid(cred.uid), .next = b->peers };
        if (b->peers)
                b->peers->prev = p;
        b->peers = p;
        r = sd_bus_new(&p->bus);
        if (r < 0) {
                close(fd);
                peer_free(p);
                return r;
        }
        r = sd_bus_set_fd(p->bus, fd, fd);
        if (r < 0) {
                close(fd);
                peer_free(p);
                return r;
        }
        r = sd_bus_set_server(p->bus, true, server_id);
        if (r >= 0)
                r = sd_bus_add_object_vtable(p->bus, NULL, BOOKING_BUS_PATH, BOOKING_BUS_INTERFACE, booking_vtable, p);
        if (r >= 0)
                r = sd_bus_add_object_vtable(p->bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                             driver_vtable, p);
        if (r >= 0)
                r = sd_bus_match_signal(p->bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                        "Disconnected", on_disconnected, p);
        if (r >= 0)
                r = sd_bus_attach_event(p->bus, b->daemon.event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_start(p->bus);
        if (r < 0)
                peer_free(p);
        return r;
}

static int on_connection(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Bookingd *b = userdata;
        int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        int r;

        if (c < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(errno, "Cannot accept a connection: %m");
                return 0;
        }
        r = peer_new(b, c);
        if (r < 0)
                log_warning_errno(r, "Cannot serve a connection: %m");
        return 0;
}

/* bookingd's socket bound at @path, for a run by hand. */
static int bind_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);   /* a socket left behind by a bookingd that is gone */
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(path, 0666) < 0 ||
            listen(fd, PEERS_BACKLOG) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int peers_listen(Bookingd *b) {
        const char *path = b->daemon.config.booking_socket;
        int n = sd_listen_fds(true), r;

        if (n > 1)
                return log_error_errno(-EINVAL, "Expected one socket from systemd, got %d.", n);
        if (n == 1) {
                if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
                        return log_error_errno(-EINVAL, "The socket from systemd is no listening AF_UNIX stream socket.");
                b->listen_fd = SD_LISTEN_FDS_START;
        } else {
                b->listen_fd = bind_socket(path);
                if (b->listen_fd < 0)
                        return log_error_errno(b->listen_fd, "Cannot listen on %s: %m", path);
        }
        r = sd_event_add_io(b->daemon.event, &b->listen_source, b->listen_fd, EPOLLIN, on_connection, b);
        if (r < 0)
                return log_error_errno(r, "Cannot watch bookingd's socket: %m");
        return 0;
}

void peers_close(Bookingd *b) {
        while (b->peers)
                peer_free(b->peers);
        b->listen_source = sd_event_source_disable_unref(b->listen_source);
        if (b->listen_fd >= 0)
                close(b->listen_fd);
        b->listen_fd = -EBADF;
}
