/* SPDX-License-Identifier: MIT */
#include "tenant.h"
#include "test-util.h"

int main(void) {
        int64_t id = 0;

        assert(tenant_id_parse("42", &id) == 0 && id == 42);
        assert(tenant_id_parse("042", &id) == -EINVAL);
        assert(tenant_id_parse("9007199254740993", &id) == -EINVAL);

        /* Only the exact name of a tenant bot's user gives its tenant. */
        assert(tenant_of_user("tgfleet-bot-7", &id) == 0 && id == 7);
        assert(tenant_of_user("tgfleet-bot-9007199254740992", &id) == 0 && id == 9007199254740992LL);
        id = 0;
        assert(tenant_of_user("tgfleet-bot", &id) == -EINVAL);
        assert(tenant_of_user("tgfleet-bot-", &id) == -EINVAL);
        assert(tenant_of_user("tgfleet-bot-0", &id) == -EINVAL);
        assert(tenant_of_user("tgfleet-bot-07", &id) == -EINVAL);
        assert(tenant_of_user("tgfleet-bot--7", &id) == -EINVAL);
        assert(tenant_of_user("tgfleet-bot-7x", &id) == -EINVAL);
        assert(tenant_of_user("tgfleet-bot-7 ", &id) == -EINVAL);
        assert(tenant_of_user("tgfleet-botd", &id) == -EINVAL);
        assert(tenant_of_user("xtgfleet-bot-7", &id) == -EINVAL);
        assert(tenant_of_user("root", &id) == -EINVAL);
        assert(tenant_of_user(NULL, &id) == -EINVAL);
        assert(id == 0);
        return 0;
}
