/* kh-sync-test-util.h: the real khuyenhoc-server and replicas, for the sync engine's tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "kh-store.h"
#include "kh-sync-engine.h"

G_BEGIN_DECLS

typedef struct
{
  char    *backend;   /* "sqlite" or "postgresql" */
  char    *dir;
  char    *url;       /* --db URL */
  char    *pg_admin;
  char    *pg_db;
  GPid     pid;
  int      port;
  char    *base;      /* http://127.0.0.1:PORT */
} KhTServer;

/* NULL when @backend is postgresql and KH_TEST_PG_URL is not set. The server is initialized,
 * populated (units P ⊃ A, B; A ⊃ A1; accounts admin (P), officer_a (A), officer_b (B), all with
 * password "password-NAME") and serving. */
KhTServer *kh_tserver_new      (const char  *backend);
/* Without @populate: initialized only, not serving. */
KhTServer *kh_tserver_new_full (const char  *backend,
                                gboolean     populate);
void       kh_tserver_free     (KhTServer   *s);
void       kh_tserver_stop     (KhTServer   *s);
void       kh_tserver_start    (KhTServer   *s);
void       kh_tserver_cli      (KhTServer   *s,
                                const char  *input,
                                ...) G_GNUC_NULL_TERMINATED;

typedef struct
{
  char         *path;
  KhStore      *store;
  KhSyncEngine *engine;
} KhTReplica;

/* A fresh replica signed in as @user at @url (the server's base, or a proxy's). */
KhTReplica *kh_treplica_new    (KhTServer   *s,
                                const char  *dir,
                                const char  *name,
                                const char  *url,
                                const char  *user);
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

const char *kh_tstr            (json_object *obj,
                                const char  *name);

G_END_DECLS
