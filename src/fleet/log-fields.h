/* SPDX-License-Identifier: MIT */
#pragma once

/* tgfleet's structured journal fields and fixed MESSAGE_IDs, for log.h's log_struct():
 *
 *   log_struct(LOG_WARNING, 0, LOG_FIELDS(LOG_MESSAGE_ID(MSGID_FLOOD_WAIT), LOG_BOT(bot)), "…");
 *
 * so that `journalctl BOT=shop` or `journalctl MESSAGE_ID=…` finds every record about one thing.
 * Never a secret or a whole payload as a value. */

#include "log.h"

/* Fixed MESSAGE_IDs for money and security events, so `journalctl MESSAGE_ID=…` finds them. */
#define MSGID_WEBHOOK_AUTH_FAILED  "657af4a830d144409ee19e0d5b6b61ec"
#define MSGID_WEBHOOK_SOURCE_DENIED "266a5c1fb2474fbdae840bda51acb567"
#define MSGID_WEBHOOK_ACCEPTED     "78268f5c4eff45e2a0843355485ea811"
#define MSGID_REDIS_DOWN           "0c8099bb4da2455b8f11e614a47cb534"
#define MSGID_REDIS_UP             "f78c13aa1fce4bc386d9c2339c840444"
#define MSGID_DATABASE_DOWN        "58c731c4d17d4288b0a70ad1432baf81"
#define MSGID_DATABASE_UP          "a141cd3478e243b2814806090cdea45d"
#define MSGID_CONFIG_RELOADED      "9d083acc93ed44f190d7e2d70fbdd3f2"
#define MSGID_MIGRATION_APPLIED    "848c0ec2b07c44be82d7c68c5b4de0df"
#define MSGID_ORDER_STATUS         "fe917f72293e4051b5d4fe096a60fe30"
#define MSGID_INVOICE_CREATED      "839e063d88db4cd0bac67f18a18c6ef9"
#define MSGID_PROVIDER_DOWN        "ce9c21ca298e444bb3c28156941113f8"
#define MSGID_PROVIDER_UP          "d7fe1e73745e44f2bf7a61d4a6b09269"
#define MSGID_USER_RATE_LIMITED    "99099cf70c714eae87751f938fbf5e8f"
#define MSGID_FLOOD_WAIT           "a48e1a38c9a34005b56b8deab820138a"
#define MSGID_DEPLOY_DEAD          "eed9ce3c2eef41cab6af044000d38774"
#define MSGID_PAYMENT_REFUSED      "a6372caf767e45e7b14c4863523a8c87"
#define MSGID_SUBSCRIPTION_PAYMENT "e996a71468a7488f90bfbffa47e22e44"

#define LOG_MESSAGE_ID(v) { "MESSAGE_ID", (v) }
#define LOG_BOT(v)        { "BOT", (v) }
#define LOG_TENANT(v)     { "TENANT", (v) }
#define LOG_ORDER(v)      { "ORDER", (v) }
#define LOG_PAYMENT(v)    { "PAYMENT", (v) }
#define LOG_UPDATE_ID(v)  { "UPDATE_ID", (v) }
#define LOG_ROUTE(v)      { "ROUTE", (v) }
#define LOG_REASON(v)     { "REASON", (v) }
#define LOG_REMOTE(v)     { "REMOTE_ADDR", (v) }
