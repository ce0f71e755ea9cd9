/* SPDX-License-Identifier: MIT */
#pragma once

/* org.tgfleet.Deploy1, published by tgfleet-deployd on the system bus at /org/tgfleet/Deploy1:
 *
 *   StoreToken(x tenant, s token)                   keeps the tenant bot's token (0600 file)
 *   Enqueue(x tenant, s action, s actor) → (s task, u position)
 *                                                   action: deploy suspend resume redeploy remove
 *   EnqueueOnce(x tenant, s action, s actor, s key) → (s task, u position)
 *                                                   the same, once per key: again, the same task
 *   AddClient(s token, x owner, s name, s time_zone, s actor) → (x tenant, s bot_username)
 *                                                   a pending client, its token checked and kept,
 *                                                   nothing deployed (the sales bot's, before the
 *                                                   payment; the same owner and bot again: the same
 *                                                   client)
 *   GetTask(s task) → task
 *   ListTasks() → a task                            not ended, then dead-lettered (newest first)
 *   Retry(s task) → u position                      a dead-lettered task back on the queue
 *
 * task is "(sxsssusxu)": id, tenant, action, actor, status (queued running retrying done dead),
 * attempts, last error, updated (ms since the epoch), position in the queue (0 once taken). */

#define DEPLOY_BUS_NAME "org.tgfleet.Deploy1"
#define DEPLOY_BUS_PATH "/org/tgfleet/Deploy1"
#define DEPLOY_BUS_INTERFACE "org.tgfleet.Deploy1"
#define DEPLOY_TASK_SIGNATURE "(sxsssusxu)"

/* The actor of the tasks a subscription payment queues: the sales bot tells their owners. */
#define DEPLOY_ACTOR_SUBSCRIPTION "subscription"

#define DEPLOY_ERROR_INVALID "org.tgfleet.Deploy1.Error.Invalid"
#define DEPLOY_ERROR_NO_SUCH_TASK "org.tgfleet.Deploy1.Error.NoSuchTask"
#define DEPLOY_ERROR_UNAVAILABLE "org.tgfleet.Deploy1.Error.Unavailable"
#define DEPLOY_ERROR_INVALID_TOKEN "org.tgfleet.Deploy1.Error.InvalidToken"
#define DEPLOY_ERROR_BOT_TAKEN "org.tgfleet.Deploy1.Error.BotTaken"
