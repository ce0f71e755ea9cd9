/* SPDX-License-Identifier: MIT */
#pragma once

/* org.tgfleet.Deploy1 (src/shared/deploy-bus.h) on the system bus. Who may call it is the D-Bus
 * policy's business (dbus/org.tgfleet.Deploy1.conf): tgfleet-apid and root; the sales bot
 * AddClient only, paymentd EnqueueOnce only. */

#include "deployd.h"

/* Connects to the system bus, publishes the object and takes the name. Returns 0 or -errno. */
int bus_setup(Deployd *d);

/* Deploy1.AddClient (clients.c), an sd-bus method handler. */
int bus_method_add_client(sd_bus_message *m, void *userdata, sd_bus_error *error);
