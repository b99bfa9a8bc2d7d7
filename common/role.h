/* role — a role of the cluster (CREATE ROLE), as the catalog keeps it.
 *
 * Stored in the meta group (common/meta/meta_keys.h, index 7); the
 * router reads it to authenticate clients (router/core/roles.h). The
 * password itself is never kept: only its SCRAM-SHA-256 verifier
 * (common/scram.h). */
#ifndef TL_ROLE_H
#define TL_ROLE_H

#include <stdbool.h>
#include <stdint.h>

struct tl_role {
    char name[64];
    uint32_t oid;       /* from the table id counter, unique */
    char verifier[256]; /* SCRAM-SHA-256 verifier, "" when no password */
    bool superuser;
    bool login;
    int32_t conn_limit; /* -1: no limit */
};

#endif
