/* SPDX-License-Identifier: MIT */
#pragma once

/* org.tgfleet.Payments1 on the system bus (payments-bus.h has the interface). Every method
 * answers asynchronously: nothing blocks the loop while PostgreSQL or Heleket work. */

#include "paymentd.h"

/* Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS when set), publishes the object and
 * requests the name. Returns 0 or -errno (e.g. -EEXIST or -EACCES when the name is refused). */
int bus_setup(Paymentd *p);

/* OpenSubscriptionPayment, CheckSubscriptionPayment, ListSubscriptionClients, StopAutoRenewal,
 * StartTrial and SetReceiptContact (subscription-bus.c), sd-bus method handlers of the Payments1 vtable. */
int method_open_subscription_payment(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_check_subscription_payment(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_list_subscription_clients(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_stop_auto_renewal(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_start_trial(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_set_receipt_contact(sd_bus_message *m, void *userdata, sd_bus_error *error);
