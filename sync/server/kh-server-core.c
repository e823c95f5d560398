/* kh-server-core.c: the server core object, its connection pool and its tables
 *
 * The protocol's logic on the server (PROTOCOL.md), over any backend. Everything that decides
 * an answer lives in the kh-server-*.c files around kh-server-core-private.h and runs the same
 * SQL on SQLite and on PostgreSQL, so both behave alike by construction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <sodium.h>
#include <string.h>

#include "kh-attach.h"
#include "kh-server-core-private.h"
#include "kh-server-files.h"
#include "kh-uuid.h"

G_DEFINE_FINAL_TYPE (KhServer, kh_server, G_TYPE_OBJECT)

/* The server's tables. @BINARY@ makes text compare byte by byte (PostgreSQL's "C"
 * collation; SQLite's default), so ids sort the same way on both. */
static const char schema_sql[] =
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS records ("
  "  entity TEXT NOT NULL,"
  "  id TEXT @BINARY@ NOT NULL,"
  "  version BIGINT NOT NULL,"
  "  deleted INTEGER NOT NULL DEFAULT 0,"
  "  scope_unit TEXT,"
  "  data TEXT NOT NULL,"
  "  field_versions TEXT NOT NULL,"
  "  updated_by TEXT,"
  "  updated_at TEXT NOT NULL,"
  "  created_at TEXT NOT NULL,"
  "  PRIMARY KEY (entity, id));"
  "CREATE UNIQUE INDEX IF NOT EXISTS records_by_version ON records (version);"
  /* Ids are UUIDs, unique across entities too: the index says so to the planner, which then
   * never trades the batch lookups by id for a table scan. */
  "CREATE UNIQUE INDEX IF NOT EXISTS records_id_unique ON records (id);"
  "CREATE INDEX IF NOT EXISTS records_by_scope ON records (scope_unit, version);"
  "CREATE TABLE IF NOT EXISTS org_units ("
  "  id TEXT PRIMARY KEY, code TEXT NOT NULL, parent_id TEXT, valid_to TEXT);"
  "CREATE INDEX IF NOT EXISTS org_units_by_code ON org_units (code);"
  "CREATE TABLE IF NOT EXISTS org_closure ("
  "  ancestor TEXT NOT NULL, descendant TEXT NOT NULL, PRIMARY KEY (ancestor, descendant));"
  "CREATE INDEX IF NOT EXISTS org_closure_by_descendant ON org_closure (descendant);"
  "CREATE TABLE IF NOT EXISTS users ("
  "  id TEXT PRIMARY KEY,"
  "  username TEXT NOT NULL UNIQUE,"
  "  password_hash TEXT NOT NULL,"
  "  role TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'viewer')),"
  "  scope_unit_id TEXT NOT NULL,"
  "  scope_gen BIGINT NOT NULL DEFAULT 1,"
  "  disabled INTEGER NOT NULL DEFAULT 0,"
  "  created_at TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS scope_history ("
  "  user_id TEXT NOT NULL, gen BIGINT NOT NULL, scope_unit_id TEXT NOT NULL,"
  "  PRIMARY KEY (user_id, gen));"
  "CREATE TABLE IF NOT EXISTS tokens ("
  "  hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at TEXT NOT NULL,"
  "  revoked INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (user_id);"
  "CREATE TABLE IF NOT EXISTS mutations ("
  "  mutation_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, entity TEXT NOT NULL,"
  "  record_id TEXT NOT NULL, version BIGINT NOT NULL, applied_at TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS moves ("
  "  version BIGINT PRIMARY KEY, entity TEXT NOT NULL, id TEXT NOT NULL, old_unit TEXT NOT NULL);"
  /* Failed logins by key (kh-server-logins.c); last_at in Unix seconds. */
  "CREATE TABLE IF NOT EXISTS login_failures ("
  "  key TEXT PRIMARY KEY, failures BIGINT NOT NULL, last_at BIGINT NOT NULL);"
  "CREATE INDEX IF NOT EXISTS login_failures_by_time ON login_failures (last_at);"
  /* When and from where a token was last used: its sliding lifetime and the devices an admin
   * lists. A table of its own, so a database made before it needs no ALTER. */
  "CREATE TABLE IF NOT EXISTS token_use ("
  "  hash TEXT PRIMARY KEY, used_at TEXT NOT NULL, address TEXT);"
  /* Erasures (kh-server-privacy.c): who, when and why, never what; and the records each
   * changed, by id, for replicas to take the old values out of what they keep. */
  "CREATE TABLE IF NOT EXISTS erasures ("
  "  version BIGINT PRIMARY KEY, entity TEXT NOT NULL, record_id TEXT NOT NULL,"
  "  erased_by TEXT NOT NULL, erased_at TEXT NOT NULL, reason TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS erased_records ("
  "  erasure BIGINT NOT NULL, entity TEXT NOT NULL, record_id TEXT NOT NULL,"
  "  PRIMARY KEY (erasure, entity, record_id));"
  /* The money of every donation and payment, for the push's overdraft check
   * (kh-server-ledger.c): kind 'i' received, 'o' paid; earmark folded, '' for none. */
  "CREATE TABLE IF NOT EXISTS ledger ("
  "  id TEXT PRIMARY KEY, fund_id TEXT NOT NULL, earmark TEXT NOT NULL, kind TEXT NOT NULL,"
  "  dated TEXT NOT NULL, amount BIGINT NOT NULL, live INTEGER NOT NULL);"
  "CREATE INDEX IF NOT EXISTS ledger_by_pool ON ledger (fund_id, earmark, kind, live, amount, dated);";

/* Object and pool ------------------------------------------------------------------------------ */

char *
_kh_server_now_iso (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

static void
kh_server_finalize (GObject *object)
{
  KhServer *self = KH_SERVER (object);
  gpointer b;

  if (self->pool != NULL)
    {
      while ((b = g_async_queue_try_pop (self->pool)) != NULL)
        g_object_unref (b);
      g_async_queue_unref (self->pool);
    }
  g_free (self->url);
  kh_file_store_free (self->files);
  G_OBJECT_CLASS (kh_server_parent_class)->finalize (object);
}

static void
kh_server_class_init (KhServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kh_server_finalize;
}

static void
kh_server_init (KhServer *self)
{
  self->tombstone_days = 180;
  self->token_days = 90;
  self->max_file_size = KH_ATTACH_DEFAULT_MAX_SIZE;
}

KhServer *
kh_server_new (const char  *url,
               guint        pool_size,
               GError     **error)
{
  g_autoptr(KhServer) self = g_object_new (KH_TYPE_SERVER, NULL);

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE,
                           _("The cryptography library could not start."));
      return NULL;
    }
  self->url = g_strdup (url);
  self->pool = g_async_queue_new ();
  self->pool_size = MAX (pool_size, 1);
  for (guint i = 0; i < self->pool_size; i++)
    {
      KhServerBackend *b = kh_server_backend_open (url, error);

      if (b == NULL)
        return NULL;
      g_async_queue_push (self->pool, b);
    }
  return g_steal_pointer (&self);
}

void
kh_server_set_tombstone_days (KhServer *self,
                              int       days)
{
  /* 0 purges every tombstone at the next purge (on start, then hourly). */
  self->tombstone_days = MAX (days, 0);
}

void
kh_server_set_token_days (KhServer *self,
                          int       days)
{
  self->token_days = MAX (days, 1);
}

KhServerBackend *
kh_server_acquire (KhServer *self)
{
  return g_async_queue_pop (self->pool);
}

void
kh_server_release (KhServer        *self,
                   KhServerBackend *backend)
{
  /* Never hand on a connection in the middle of a transaction. The pool is a stack: the
   * connection used last is handed out first, so its page cache (SQLite keeps it when no
   * other connection wrote since) and its prepared statements are warm. */
  kh_server_backend_rollback (backend);
  g_async_queue_push_front (self->pool, backend);
}

KhServerLease *
_kh_server_lease_new (KhServer *self)
{
  KhServerLease *l = g_new0 (KhServerLease, 1);

  l->server = self;
  l->b = kh_server_acquire (self);
  return l;
}

void
_kh_server_lease_free (KhServerLease *l)
{
  kh_server_release (l->server, l->b);
  g_free (l);
}

gboolean
kh_server_init_schema (KhServer  *self,
                       GError   **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GString) ddl = g_string_new (schema_sql);
  g_autofree char *server_id = kh_uuid_v7_new ();
  KhSqlParam p[1] = { KH_SQL_P_TEXT (server_id) };

  g_string_replace (ddl, "@BINARY@",
                    strcmp (kh_server_backend_get_name (l->b), "postgresql") == 0
                    ? "COLLATE \"C\"" : "", 0);
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || !kh_server_backend_exec_script (l->b, ddl->str, error)
      || !_kh_server_migrate (l->b, error)
      || !kh_server_backend_exec (l->b, "INSERT INTO meta (key, value) VALUES ('server_id', ?) "
                                  "ON CONFLICT (key) DO NOTHING", p, 1, NULL, NULL, NULL, error)
      || !kh_server_backend_exec (l->b, "INSERT INTO meta (key, value) VALUES ('epoch', '1') "
                                  "ON CONFLICT (key) DO NOTHING", NULL, 0, NULL, NULL, NULL, error)
      || !kh_server_backend_exec (l->b, "INSERT INTO meta (key, value) VALUES ('purged_through', '0') "
                                  "ON CONFLICT (key) DO NOTHING", NULL, 0, NULL, NULL, NULL, error)
      || !kh_server_backend_exec (l->b, "INSERT INTO counter (id, version) VALUES (1, 0) "
                                  "ON CONFLICT (id) DO NOTHING", NULL, 0, NULL, NULL, NULL, error)
      || !kh_server_backend_commit (l->b, error))
    return FALSE;
  return TRUE;
}
