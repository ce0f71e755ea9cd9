/* SPDX-License-Identifier: MIT */
#pragma once

/* org.tgfleet.Payments1, tgfleet-paymentd's D-Bus interface, as both sides see it: names,
 * errors, and the order structure "(ssxxxsssxxx)" that its methods return:
 *
 *   CreateInvoice(s bot, x user, x stars) → order     opens an order (or returns the open one)
 *                                                        with its Heleket invoice
 *   GetOrder(s order, x user) → order                  only @user's own order: another's is
 *                                                        NoSuchOrder, as is one that does not exist
 *   CheckOrder(s order, x user) → order                asks Heleket now and applies the answer
 *   CancelOrder(s order, x user) → order               ends a pending order (status cancelled);
 *                                                        any other comes back as it is
 *   ListOrders(s bot, x user, u offset, u limit) → (a order, u total)   newest first
 *   GetBalance(x user) → x stars
 *   OpenSubscriptionPayment(x client, x owner, u days, b auto_renew) → subscription
 *                                                      a payment of the plan of @days for @owner's
 *                                                        client, priced by [Sales] Plans=, with
 *                                                        YooKassa's page (the open one again on a
 *                                                        second tap)
 *   CheckSubscriptionPayment(s payment, x owner) → subscription   asks YooKassa now
 *   ListSubscriptionClients(x owner) → a client        @owner's clients (not removed), oldest
 *                                                        first, at most SUBSCRIPTION_CLIENTS_MAX
 *   StopAutoRenewal(x client, x owner) → b             forgets the method @owner's client renews
 *                                                        with; whether there was one
 *   StartTrial(x client, x owner) → subscription       the free trial ([Sales] TrialDays=) of
 *                                                        @owner's new client: a payment of nothing,
 *                                                        succeeded (the same one on a second tap);
 *                                                        TrialUsed when the user or the bot had one,
 *                                                        NoSuchClient when the client is not new
 *   SetReceiptContact(x owner, s contact) → ()         the e-mail or phone 54-FZ receipts of
 *                                                        @owner's payments go to; InvalidContact
 *                                                        for anything else. With [YooKassa]
 *                                                        Receipt=, OpenSubscriptionPayment is
 *                                                        ContactNeeded until there is one
 *   property HeleketState s: "closed", "open", "half-open" (the circuit breaker)
 *
 * A subscription payment is "(sxxuxsss)": id, client, owner, days, amount (minor units),
 * currency, status (new, pending, succeeded, canceled, refunded), the payer's URL.
 *
 * A client is "(xsssxb)": id, name, bot username, status (pending deploying active suspended
 * failed), paid until (Unix seconds, 0 for never), whether it renews itself (a saved method).
 */

#include <stdint.h>
#include <systemd/sd-bus.h>

#define PAYMENTS_BUS_NAME "org.tgfleet.Payments1"
#define PAYMENTS_BUS_PATH "/org/tgfleet/Payments1"
#define PAYMENTS_BUS_INTERFACE "org.tgfleet.Payments1"

#define PAYMENTS_ERROR_INVALID_AMOUNT "org.tgfleet.Payments1.Error.InvalidAmount"
#define PAYMENTS_ERROR_NO_SUCH_ORDER "org.tgfleet.Payments1.Error.NoSuchOrder"
#define PAYMENTS_ERROR_UNAVAILABLE "org.tgfleet.Payments1.Error.Unavailable"
#define PAYMENTS_ERROR_FAILED "org.tgfleet.Payments1.Error.Failed"
#define PAYMENTS_ERROR_NO_SUCH_CLIENT "org.tgfleet.Payments1.Error.NoSuchClient"
#define PAYMENTS_ERROR_NO_SUCH_PLAN "org.tgfleet.Payments1.Error.NoSuchPlan"
#define PAYMENTS_ERROR_TRIAL_USED "org.tgfleet.Payments1.Error.TrialUsed"
#define PAYMENTS_ERROR_CONTACT_NEEDED "org.tgfleet.Payments1.Error.ContactNeeded"
#define PAYMENTS_ERROR_INVALID_CONTACT "org.tgfleet.Payments1.Error.InvalidContact"

#define SUBSCRIPTION_SIGNATURE "(sxxuxsss)"
#define SUBSCRIPTION_CLIENT_SIGNATURE "(xsssxb)"
#define SUBSCRIPTION_CLIENTS_MAX 20

#define ORDER_SIGNATURE "(ssxxxsssxxx)"
#define ORDER_SIGNATURE_INNER "ssxxxsssxxx"

typedef struct Order {
        char public_id[129];
        char bot[65];
        int64_t user;
        int64_t stars;
        int64_t price_minor;
        char currency[8];
        char status[16];         /* pending, paid, paid_over, wrong_amount, underpaid, expired, failed,
                                  * cancelled, refunded */
        char pay_url[512];
        int64_t paid_minor;      /* -1 when nothing was paid */
        int64_t created_at;      /* Unix seconds */
        int64_t expires_at;
} Order;

/* Appends @o as one ORDER_SIGNATURE value. Returns 0 or a negative errno from sd-bus. */
int payments_order_append(sd_bus_message *m, const Order *o);

/* Reads one ORDER_SIGNATURE value into @ret. Returns 1, 0 at the end of an array, or -errno
 * (-EBADMSG when a string does not fit). */
int payments_order_read(sd_bus_message *m, Order *ret);
