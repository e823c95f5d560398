/* kh-sync-test-util.h: replicas signed in to the real khuyenhoc-server, for the sync engine's tests
 *
 * The server itself is tests/common's KhTestServer (kh_test_server_new_serving()).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "kh-store.h"
#include "kh-sync-engine.h"
#include "kh-test-dir.h"
#include "kh-test-server.h"

G_BEGIN_DECLS

typedef struct
{
  char         *path;
  KhStore      *store;
  KhSyncEngine *engine;
} KhTReplica;

/* A fresh replica signed in as @user at @url (the server's base, or a proxy's). */
KhTReplica *kh_treplica_new    (KhTestServer *s,
                                const char   *dir,
                                const char   *name,
                                const char   *url,
                                const char   *user);
KhTReplica *kh_treplica_new_full (const char *dir,
                                  const char *name,
                                  const char *url,
                                  const char *user,
                                  const char *password);
void        kh_treplica_free   (KhTReplica  *r);
/* Syncs and asserts success; returns the report. */
KhSyncReport kh_treplica_sync  (KhTReplica  *r);
gboolean    kh_treplica_try_sync (KhTReplica   *r,
                                  KhSyncReport *report,
                                  GError      **error);
/* Every record of every entity, tombstones included, as text sorted by entity and id. */
char       *kh_treplica_dump   (KhTReplica  *r);
char       *kh_treplica_add    (KhTReplica  *r,
                                const char  *entity,
                                const char  *json);
void        kh_treplica_set    (KhTReplica  *r,
                                const char  *entity,
                                const char  *id,
                                const char  *json);
json_object *kh_treplica_get   (KhTReplica  *r,
                                const char  *entity,
                                const char  *id);
const char *kh_treplica_unit   (KhTReplica  *r,
                                const char  *code);
/* People called @full_name, tombstones included: each record a test made exists once. */
gint64      kh_treplica_count_named (KhTReplica *r,
                                     const char *full_name);

const char *kh_tstr            (json_object *obj,
                                const char  *name);

G_END_DECLS
