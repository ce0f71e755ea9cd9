/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "botd.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "tenant.h"

static const char help[] =
        "Usage: tgfleet-botd [OPTIONS] --shop | --sales | --master | --tenant=ID\n"
        "The bot engine: runs one bot's conversations from its update stream.\n\n"
        "  --shop                  run the Stars shop bot ([Shop] Bot=)\n"
        "  --sales                 run the booking platform's sales bot ([Sales] Bot=)\n"
        "  --master                run the operators' master bot ([Master] Bot=, credential api-token)\n"
        "  --tenant=ID             run tenant ID's bot (bot tenant-ID, credential bot-token)\n"
        CLI_HELP_COMMON
        "  --consumer=NAME         name in the bot's consumer groups (default: the host name)\n"
        "  --locale-dir=DIR        translations (default: the installed ones)\n"
        CLI_HELP_END;

typedef struct Options {
        BotdArgs args;
        bool shop;
} Options;

static int on_option(int c, const char *arg, void *userdata) {
        Options *o = userdata;

        switch (c) {
        case 's':
                o->shop = true;
                break;
        case 'm':
                o->args.master = true;
                break;
        case 'S':
                o->args.sales = true;
                break;
        case 't':
                if (tenant_id_parse(arg, &o->args.tenant) < 0) {
                        log_error("--tenant=%s: not a tenant id.", arg);
                        return -EINVAL;
                }
                break;
        case 'n':
                o->args.consumer = arg;
                break;
        case 'L':
                o->args.locale_dir = arg;
                break;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                TGFLEET_COMMON_OPTIONS,
                { "shop", no_argument, NULL, 's' },
                { "master", no_argument, NULL, 'm' },
                { "sales", no_argument, NULL, 'S' },
                { "tenant", required_argument, NULL, 't' },
                { "consumer", required_argument, NULL, 'n' },
                { "locale-dir", required_argument, NULL, 'L' },
                {},
        };
        Options o = { .args.config_path = CONFIG_DEFAULT_PATH };
        int r;

        log_setup("tgfleet-botd", getenv("TGFLEET_LOG_LEVEL"));
        r = cli_parse(argc, argv, options, help, &o.args.config_path, on_option, &o);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (o.shop + o.args.master + o.args.sales + (o.args.tenant > 0) != 1) {
                log_error("Which bot? Give one of --shop, --sales, --master or --tenant=ID.");
                return 2;
        }
        return botd_run(&o.args) < 0 ? 1 : 0;
}
