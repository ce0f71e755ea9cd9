/* SPDX-License-Identifier: MIT */
#pragma once

/* The deploy worker: reads the "deploy" stream (group "deployd") one task at a time and runs it.
 * deploy, resume: the token file → setWebhook (PublicURL/tg/tenant-ID, the derived secret,
 * AllowedUpdates) → the bot's profile in Redis ("tenant:ID") → StartUnit → wait for the job
 * (READY, or failure) → status active, operators and owner told. redeploy: the same with
 * RestartUnit. suspend: StopUnit → deleteWebhook → status suspended. remove: StopUnit →
 * deleteWebhook → token and profile deleted → status removed. Every step can be repeated, so a
 * task cut short by a crash is simply run again. A failure is retried after RetrySec, doubling
 * up to RetryMaxSec; after MaxAttempts (at once when retrying cannot help) the task is
 * dead-lettered, a failed deploy marks the tenant failed, and the operators are told. */

#include "deployd.h"

int worker_new(Deployd *d, Worker **ret);

/* Call after the Redis connections are freed. Accepts NULL; returns NULL. */
Worker *worker_free(Worker *w);
