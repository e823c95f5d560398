/* kh-store-history.h: a record's history as the server keeps it, beside this replica's own
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-store.h"

G_BEGIN_DECLS

/* Keeps @history (the "history" array of GET /v1/history) as the history of @entity's record
 * @id, in place of the one kept before; kh_store_history() then gives it, with the replica's
 * own changes not yet accepted after it. */
gboolean     kh_store_keep_server_history (KhStore      *self,
                                           const char   *entity,
                                           const char   *id,
                                           json_object  *history,
                                           GError      **error);

/* For kh_store_history(): the server's history and the unsent changes after it, or NULL (and
 * no error) when none was kept. */
json_object *_kh_store_server_history     (KhStore      *self,
                                           const char   *entity,
                                           const char   *id,
                                           GError      **error);

G_END_DECLS
