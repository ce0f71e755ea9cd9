/* SPDX-License-Identifier: MIT */
#pragma once

/* org.tgfleet.Deploy1 (src/shared/deploy-bus.h) on the system bus. Who may call it is the D-Bus
 * policy's business (dbus/org.tgfleet.Deploy1.conf): tgfleet-apid and root. */

#include "deployd.h"

/* Connects to the system bus, publishes the object and takes the name. Returns 0 or -errno. */
int bus_setup(Deployd *d);
