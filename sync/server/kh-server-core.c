/* kh-server-core.c: the protocol's logic on the server (PROTOCOL.md), over any backend
 *
 * Everything that decides an answer lives here and runs the same SQL on SQLite and on
 * PostgreSQL, so both behave alike by construction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <sodium.h>
#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-server-core.h"
#include "kh-uuid.h"
#include "kh-validate.h"

struct _KhServer
{
  GObject      parent_instance;
  char        *url;
  GAsyncQueue *pool;        /* KhServerBackend, one per connection */
  guint        pool_size;
  int          tombstone_days;
};

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
  "  version BIGINT PRIMARY KEY, entity TEXT NOT NULL, id TEXT NOT NULL, old_unit TEXT NOT NULL);";

#define SUBTREE "(SELECT descendant FROM org_closure WHERE ancestor = ?)"

void
kh_server_user_free (KhServerUser *user)
{
  if (user == NULL)
    return;
  g_free (user->id);
  g_free (user->username);
  g_free (user->role);
  g_free (user->scope_unit_id);
  g_free (user->scope_code);
  g_free (user);
}

static char *
now_iso (void)
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

/* A backend for the length of a scope: g_autoptr(Lease) lease = lease_new (self). */
typedef struct
{
  KhServer        *server;
  KhServerBackend *b;
} Lease;

static Lease *
lease_new (KhServer *self)
{
  Lease *l = g_new0 (Lease, 1);

  l->server = self;
  l->b = kh_server_acquire (self);
  return l;
}

static void
lease_free (Lease *l)
{
  kh_server_release (l->server, l->b);
  g_free (l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Lease, lease_free)

gboolean
kh_server_init_schema (KhServer  *self,
                       GError   **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(GString) ddl = g_string_new (schema_sql);
  g_autofree char *server_id = kh_uuid_v7_new ();
  KhSqlParam p[1] = { KH_SQL_P_TEXT (server_id) };

  g_string_replace (ddl, "@BINARY@",
                    strcmp (kh_server_backend_get_name (l->b), "postgresql") == 0
                    ? "COLLATE \"C\"" : "", 0);
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || !kh_server_backend_exec_script (l->b, ddl->str, error)
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

/* Meta ---------------------------------------------------------------------------------------- */

typedef struct
{
  char   *server_id;
  gint64  epoch;
  gint64  purged_through;
  gint64  version;          /* the counter: the newest version committed */
} Meta;

static gboolean
meta_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  Meta *m = data;

  if (g_strcmp0 (v[0], "server_id") == 0)
    m->server_id = g_strdup (v[1]);
  else if (g_strcmp0 (v[0], "epoch") == 0)
    m->epoch = g_ascii_strtoll (v[1], NULL, 10);
  else if (g_strcmp0 (v[0], "purged_through") == 0)
    m->purged_through = g_ascii_strtoll (v[1], NULL, 10);
  else if (g_strcmp0 (v[0], "") == 0)
    m->version = g_ascii_strtoll (v[1], NULL, 10);
  return TRUE;
}

static gboolean
load_meta (KhServerBackend  *b,
           Meta             *m,
           GError          **error)
{
  GError *local = NULL;

  memset (m, 0, sizeof *m);
  /* One round trip for the meta values and the counter (under the key ""). */
  if (!kh_server_backend_exec (b, "SELECT key, value FROM meta UNION ALL "
                               "SELECT '', CAST(version AS TEXT) FROM counter WHERE id = 1",
                               NULL, 0, meta_row_cb, m, NULL, &local))
    {
      kh_server_backend_rollback (b);
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_INITIALIZED,
                   _("The server database is not set up (run “khuyenhoc-server init”): %s"),
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  if (m->server_id == NULL)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_INITIALIZED,
                           _("The server database is not set up: run “khuyenhoc-server init”."));
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_server_get_identity (KhServer  *self,
                        char     **server_id,
                        gint64    *epoch,
                        GError   **error)
{
  g_autoptr(Lease) l = lease_new (self);
  Meta m;

  if (!load_meta (l->b, &m, error))
    return FALSE;
  *server_id = m.server_id;
  *epoch = m.epoch;
  return TRUE;
}

gboolean
kh_server_check_ready (KhServer  *self,
                       GError   **error)
{
  g_autofree char *id = NULL;
  gint64 epoch;

  return kh_server_get_identity (self, &id, &epoch, error);
}

gboolean
kh_server_epoch_bump (KhServer  *self,
                      gint64    *epoch,
                      GError   **error)
{
  g_autoptr(Lease) l = lease_new (self);
  Meta m;
  g_autofree char *text = NULL;
  KhSqlParam p[1];

  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error) || !load_meta (l->b, &m, error))
    return FALSE;
  g_free (m.server_id);
  text = g_strdup_printf ("%" G_GINT64_FORMAT, m.epoch + 1);
  p[0] = KH_SQL_P_TEXT (text);
  if (!kh_server_backend_exec (l->b, "UPDATE meta SET value = ? WHERE key = 'epoch'", p, 1,
                               NULL, NULL, NULL, error)
      || !kh_server_backend_commit (l->b, error))
    return FALSE;
  *epoch = m.epoch + 1;
  return TRUE;
}

/* Org units and scope -------------------------------------------------------------------------- */

static gboolean
in_subtree (KhServerBackend  *b,
            const char       *root,
            const char       *unit,
            gboolean         *result,
            GError          **error)
{
  KhSqlParam p[2] = { KH_SQL_P_TEXT (root), KH_SQL_P_TEXT (unit) };
  gint64 one;

  *result = FALSE;
  if (unit == NULL || root == NULL)
    return TRUE;
  return kh_server_backend_query_int (b, "SELECT 1 FROM org_closure WHERE ancestor = ? AND descendant = ?",
                                      p, 2, &one, result, error);
}

static gboolean
user_in_scope (KhServerBackend     *b,
               const KhServerUser  *user,
               const char          *unit,
               gboolean            *result,
               GError             **error)
{
  if (user->scope_unit_id == NULL)
    {
      *result = TRUE;
      return TRUE;
    }
  return in_subtree (b, user->scope_unit_id, unit, result, error);
}

static gboolean
unit_has_parent (KhServerBackend  *b,
                 const char       *unit,
                 gboolean         *result,
                 GError          **error)
{
  KhSqlParam p[1] = { KH_SQL_P_TEXT (unit) };
  g_autofree char *parent = NULL;

  if (!kh_server_backend_query_text (b, "SELECT parent_id FROM org_units WHERE id = ?", p, 1,
                                     &parent, error))
    return FALSE;
  *result = parent != NULL;
  return TRUE;
}

char *
kh_server_find_unit (KhServer    *self,
                     const char  *code,
                     GError     **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  KhSqlParam p[2] = { KH_SQL_P_TEXT (code), KH_SQL_P_TEXT (today) };
  char *id = NULL;

  /* The unit valid today first, then the most recently ended one. */
  if (!kh_server_backend_query_text (l->b,
                                     "SELECT id FROM org_units WHERE code = ? "
                                     "ORDER BY CASE WHEN valid_to IS NULL OR valid_to >= ? THEN 0 ELSE 1 END, "
                                     "valid_to DESC, id LIMIT 1", p, 2, &id, error))
    return NULL;
  if (id == NULL)
    g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND,
                 _("There is no org unit with the code “%s”; import the unit list first (org import)."),
                 code);
  return id;
}

/* Accounts ------------------------------------------------------------------------------------- */

static gboolean
valid_role (const char *role)
{
  return g_strcmp0 (role, "admin") == 0 || g_strcmp0 (role, "officer") == 0
         || g_strcmp0 (role, "viewer") == 0;
}

static char *
hash_password (const char  *password,
               GError     **error)
{
  char out[crypto_pwhash_STRBYTES];

  if (crypto_pwhash_str (out, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE,
                           _("Out of memory while hashing the password."));
      return NULL;
    }
  return g_strdup (out);
}

gboolean
kh_server_user_add (KhServer    *self,
                    const char  *username,
                    const char  *role,
                    const char  *scope_code,
                    const char  *password,
                    GError     **error)
{
  g_autofree char *unit = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *id = kh_uuid_v7_new ();
  g_autofree char *now = now_iso ();
  g_autoptr(Lease) l = NULL;
  gint64 exists;
  gboolean found;

  if (username == NULL || *username == '\0' || strlen (username) > 64
      || !g_utf8_validate (username, -1, NULL) || strpbrk (username, " \t\r\n:") != NULL)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("A user name is 1 to 64 characters without spaces or colons."));
      return FALSE;
    }
  if (!valid_role (role))
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("The role must be admin, officer or viewer."));
      return FALSE;
    }
  if (password == NULL || strlen (password) < 8)
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("The password must have at least 8 characters."));
      return FALSE;
    }
  unit = kh_server_find_unit (self, scope_code, error);
  if (unit == NULL)
    return FALSE;
  hash = hash_password (password, error);
  if (hash == NULL)
    return FALSE;

  l = lease_new (self);
  {
    KhSqlParam q[1] = { KH_SQL_P_TEXT (username) };
    KhSqlParam p[6] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (username), KH_SQL_P_TEXT (hash),
                        KH_SQL_P_TEXT (role), KH_SQL_P_TEXT (unit), KH_SQL_P_TEXT (now) };
    KhSqlParam h[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (unit) };

    if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
        || !kh_server_backend_query_int (l->b, "SELECT 1 FROM users WHERE username = ?", q, 1,
                                         &exists, &found, error))
      return FALSE;
    if (found)
      {
        g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                     _("There is already a user called “%s”."), username);
        return FALSE;
      }
    if (!kh_server_backend_exec (l->b, "INSERT INTO users (id, username, password_hash, role, scope_unit_id, created_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", p, 6, NULL, NULL, NULL, error)
        || !kh_server_backend_exec (l->b, "INSERT INTO scope_history (user_id, gen, scope_unit_id) VALUES (?, 1, ?)",
                                    h, 2, NULL, NULL, NULL, error)
        || !kh_server_backend_commit (l->b, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
user_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  GPtrArray *out = data;
  KhServerUser *u = g_new0 (KhServerUser, 1);

  u->id = g_strdup (v[0]);
  u->username = g_strdup (v[1]);
  u->role = g_strdup (v[2]);
  u->scope_unit_id = g_strdup (v[3]);
  u->scope_gen = g_ascii_strtoll (v[4], NULL, 10);
  u->disabled = g_ascii_strtoll (v[5], NULL, 10) != 0;
  u->scope_code = g_strdup (v[6] != NULL ? v[6] : "");
  g_ptr_array_add (out, u);
  return TRUE;
}

#define USER_COLUMNS "u.id, u.username, u.role, u.scope_unit_id, u.scope_gen, u.disabled, o.code"

GPtrArray *
kh_server_user_list (KhServer  *self,
                     GError   **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_server_user_free);

  if (!kh_server_backend_exec (l->b, "SELECT " USER_COLUMNS " FROM users u "
                               "LEFT JOIN org_units o ON o.id = u.scope_unit_id ORDER BY u.username",
                               NULL, 0, user_row_cb, out, NULL, error))
    return NULL;
  return g_steal_pointer (&out);
}

static KhServerUser *
get_user (KhServerBackend  *b,
          const char       *username,
          GError          **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_server_user_free);
  KhSqlParam p[1] = { KH_SQL_P_TEXT (username) };

  if (!kh_server_backend_exec (b, "SELECT " USER_COLUMNS " FROM users u "
                               "LEFT JOIN org_units o ON o.id = u.scope_unit_id WHERE u.username = ?",
                               p, 1, user_row_cb, out, NULL, error))
    return NULL;
  if (out->len == 0)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND,
                   _("There is no user called “%s”."), username);
      return NULL;
    }
  return g_ptr_array_steal_index (out, 0);
}

gboolean
kh_server_user_disable (KhServer    *self,
                        const char  *username,
                        GError     **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(KhServerUser) u = NULL;
  KhSqlParam p[1];

  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  p[0] = KH_SQL_P_TEXT (u->id);
  return kh_server_backend_exec (l->b, "UPDATE users SET disabled = 1 WHERE id = ?", p, 1, NULL, NULL, NULL, error)
         && kh_server_backend_exec (l->b, "UPDATE tokens SET revoked = 1 WHERE user_id = ?", p, 1, NULL, NULL, NULL, error)
         && kh_server_backend_commit (l->b, error);
}

gboolean
kh_server_user_set_scope (KhServer    *self,
                          const char  *username,
                          const char  *scope_code,
                          GError     **error)
{
  g_autofree char *unit = kh_server_find_unit (self, scope_code, error);
  g_autoptr(Lease) l = NULL;
  g_autoptr(KhServerUser) u = NULL;

  if (unit == NULL)
    return FALSE;
  l = lease_new (self);
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  {
    KhSqlParam p[3] = { KH_SQL_P_TEXT (unit), KH_SQL_P_INT (u->scope_gen + 1), KH_SQL_P_TEXT (u->id) };
    KhSqlParam h[3] = { KH_SQL_P_TEXT (u->id), KH_SQL_P_INT (u->scope_gen + 1), KH_SQL_P_TEXT (unit) };

    return kh_server_backend_exec (l->b, "UPDATE users SET scope_unit_id = ?, scope_gen = ? WHERE id = ?",
                                   p, 3, NULL, NULL, NULL, error)
           && kh_server_backend_exec (l->b, "INSERT INTO scope_history (user_id, gen, scope_unit_id) VALUES (?, ?, ?)",
                                      h, 3, NULL, NULL, NULL, error)
           && kh_server_backend_commit (l->b, error);
  }
}

gboolean
kh_server_token_revoke (KhServer    *self,
                        const char  *username,
                        gint64      *revoked,
                        GError     **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(KhServerUser) u = NULL;
  KhSqlParam p[1];

  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error)
      || (u = get_user (l->b, username, error)) == NULL)
    return FALSE;
  p[0] = KH_SQL_P_TEXT (u->id);
  return kh_server_backend_exec (l->b, "UPDATE tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0",
                                 p, 1, NULL, NULL, revoked, error)
         && kh_server_backend_commit (l->b, error);
}

static char *
token_hash (const char *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

KhServerUser *
kh_server_login (KhServer    *self,
                 const char  *username,
                 const char  *password,
                 char       **token,
                 GError     **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(KhServerUser) u = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *now = now_iso ();
  KhSqlParam p[1] = { KH_SQL_P_TEXT (username) };
  guchar raw[32];
  g_autofree char *b64 = NULL;
  g_autofree char *th = NULL;
  gboolean ok;

  u = get_user (l->b, username, NULL);
  if (u != NULL)
    {
      if (!kh_server_backend_query_text (l->b, "SELECT password_hash FROM users WHERE username = ?",
                                         p, 1, &hash, error))
        return NULL;
    }
  /* Hash even for an unknown user, so timing does not tell which names exist. */
  if (hash == NULL)
    {
      static char dummy[crypto_pwhash_STRBYTES];
      static gsize once = 0;

      if (g_once_init_enter (&once))
        {
          if (crypto_pwhash_str (dummy, "dummy password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            dummy[0] = '\0';
          g_once_init_leave (&once, 1);
        }
      if (crypto_pwhash_str_verify (dummy, password, strlen (password)) == 0)
        g_debug ("the dummy password matched");
      ok = FALSE;
    }
  else
    ok = crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
  if (!ok || u->disabled)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Wrong user name or password."));
      return NULL;
    }

  randombytes_buf (raw, sizeof raw);
  b64 = g_base64_encode (raw, sizeof raw);
  g_strdelimit (b64, "+", '-');
  g_strdelimit (b64, "/", '_');
  if (strchr (b64, '=') != NULL)
    *strchr (b64, '=') = '\0';
  th = token_hash (b64);
  {
    KhSqlParam t[3] = { KH_SQL_P_TEXT (th), KH_SQL_P_TEXT (u->id), KH_SQL_P_TEXT (now) };

    if (!kh_server_backend_exec (l->b, "INSERT INTO tokens (hash, user_id, created_at) VALUES (?, ?, ?)",
                                 t, 3, NULL, NULL, NULL, error))
      return NULL;
  }
  *token = g_steal_pointer (&b64);
  return g_steal_pointer (&u);
}

KhServerUser *
kh_server_authenticate (KhServer    *self,
                        const char  *token,
                        GError     **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_server_user_free);
  g_autofree char *th = NULL;
  KhSqlParam p[1];

  if (token == NULL || *token == '\0' || strlen (token) > 256)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("Log in first: this request needs a token."));
      return NULL;
    }
  th = token_hash (token);
  p[0] = KH_SQL_P_TEXT (th);
  if (!kh_server_backend_exec (l->b, "SELECT " USER_COLUMNS " FROM tokens t JOIN users u ON u.id = t.user_id "
                               "LEFT JOIN org_units o ON o.id = u.scope_unit_id "
                               "WHERE t.hash = ? AND t.revoked = 0 AND u.disabled = 0",
                               p, 1, user_row_cb, out, NULL, error))
    return NULL;
  if (out->len == 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED,
                           _("The token is not valid any more: log in again."));
      return NULL;
    }
  return g_ptr_array_steal_index (out, 0);
}

/* Stored records ------------------------------------------------------------------------------- */

typedef struct
{
  gint64       version;
  gboolean     deleted;
  char        *scope_unit;
  json_object *data;
  json_object *fv;
  char        *updated_by;
  char        *updated_at;
  char        *created_at;
} Stored;

static void
stored_free (Stored *s)
{
  if (s == NULL)
    return;
  g_free (s->scope_unit);
  json_object_put (s->data);
  json_object_put (s->fv);
  g_free (s->updated_by);
  g_free (s->updated_at);
  g_free (s->created_at);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Stored, stored_free)

/* Reads a string at *@p that holds no escape; FALSE (and nothing read) otherwise. */
static gboolean
read_plain_string (const char **p,
                   const char **start,
                   gsize       *len)
{
  const char *q = *p + 1;

  if (**p != '"')
    return FALSE;
  *start = q;
  while (*q != '"')
    {
      if (*q == '\\' || *q == '\0')
        return FALSE;
      q++;
    }
  *len = (gsize) (q - *start);
  *p = q + 1;
  return TRUE;
}

/* The JSON the server stores is written by write_json: a flat object of plain strings,
 * integers, booleans and nulls, with no spaces, nearly always. This reads that form quickly
 * (json-c's tokener was a sixth of a push of edits) and returns NULL for anything else —
 * an escape, a nested value, a fraction, a long number, a space — which json-c then reads. */
static json_object *
parse_flat_object (const char *text)
{
  g_autoptr(json_object) o = json_object_new_object ();
  const char *p = text;

  if (*p++ != '{')
    return NULL;
  if (*p == '}')
    return p[1] == '\0' ? g_steal_pointer (&o) : NULL;
  while (TRUE)
    {
      const char *key, *str;
      gsize key_len, str_len;
      g_autofree char *name = NULL;
      json_object *value;

      if (!read_plain_string (&p, &key, &key_len) || *p++ != ':')
        return NULL;
      if (*p == '"')
        {
          if (!read_plain_string (&p, &str, &str_len))
            return NULL;
          value = json_object_new_string_len (str, (int) str_len);
        }
      else if (*p == '-' || g_ascii_isdigit (*p))
        {
          const char *digits = *p == '-' ? p + 1 : p;
          const char *end = digits;
          gint64 v = 0;

          while (g_ascii_isdigit (*end))
            v = v * 10 + (*end++ - '0');
          /* At most 18 digits cannot overflow; a leading zero is not JSON unless alone. */
          if (end == digits || end - digits > 18 || (*digits == '0' && end - digits > 1))
            return NULL;
          value = json_object_new_int64 (*p == '-' ? -v : v);
          p = end;
        }
      else if (strncmp (p, "true", 4) == 0 || strncmp (p, "false", 5) == 0)
        {
          value = json_object_new_boolean (*p == 't');
          p += *p == 't' ? 4 : 5;
        }
      else if (strncmp (p, "null", 4) == 0)
        {
          value = NULL;
          p += 4;
        }
      else
        return NULL;
      name = g_strndup (key, key_len);
      json_object_object_add (o, name, value);
      if (*p == ',')
        p++;
      else if (*p == '}' && p[1] == '\0')
        return g_steal_pointer (&o);
      else
        return NULL;
    }
}

static json_object *
parse_object (const char *text)
{
  json_object *o = text != NULL ? parse_flat_object (text) : NULL;

  if (o != NULL)
    return o;
  o = text != NULL ? json_tokener_parse (text) : NULL;

  if (o == NULL || !json_object_is_type (o, json_type_object))
    {
      json_object_put (o);
      return json_object_new_object ();
    }
  return o;
}

static gboolean
stored_row_cb (const char * const *v,
               int                 n,
               gpointer            data)
{
  Stored **out = data;
  Stored *s = g_new0 (Stored, 1);

  s->version = g_ascii_strtoll (v[0], NULL, 10);
  s->deleted = g_ascii_strtoll (v[1], NULL, 10) != 0;
  s->scope_unit = g_strdup (v[2]);
  s->data = parse_object (v[3]);
  s->fv = parse_object (v[4]);
  s->updated_by = g_strdup (v[5]);
  s->updated_at = g_strdup (v[6]);
  s->created_at = g_strdup (v[7]);
  *out = s;
  return FALSE;
}

static gboolean
load_stored (KhServerBackend  *b,
             const char       *entity,
             const char       *id,
             Stored          **out,
             GError          **error)
{
  KhSqlParam p[2] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (id) };

  *out = NULL;
  return kh_server_backend_exec (b, "SELECT version, deleted, scope_unit, data, field_versions, "
                                 "updated_by, updated_at, created_at FROM records WHERE entity = ? AND id = ?",
                                 p, 2, stored_row_cb, out, NULL, error);
}

static KhRecord *
stored_to_record (const char   *entity,
                  const char   *id,
                  const Stored *s)
{
  KhRecord *r = kh_record_new ();

  r->entity = g_strdup (entity);
  r->id = g_strdup (id);
  r->version = s->version;
  r->deleted = s->deleted;
  r->fields = json_object_get (s->data);
  r->updated_by = g_strdup (s->updated_by);
  r->updated_at = g_strdup (s->updated_at);
  return r;
}

json_object *
kh_server_get_record (KhServer    *self,
                      const char  *entity,
                      const char  *id,
                      gint64      *version,
                      GError     **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(Stored) s = NULL;

  if (!load_stored (l->b, entity, id, &s, error))
    return NULL;
  if (s == NULL)
    {
      *version = 0;
      return NULL;
    }
  *version = s->version;
  return json_object_get (s->data);
}

/* Push ----------------------------------------------------------------------------------------- */

typedef struct
{
  KhServerBackend    *b;
  const KhServerUser *user;
  const char         *actor;
  char               *now;
  gint64              version;   /* the counter, advanced in memory, written before commit */
  GHashTable         *seen;      /* mutation id → first version: those applied before */
  GHashTable         *in_scope;  /* org unit id → 1 (in the user's scope) or 2 (not) */
  GHashTable         *records;   /* "entity/id" → Stored (version -1: not on the server) */
  GPtrArray          *dirty;     /* "entity/id" written in this batch, once each, in order */
  GHashTable         *dirty_set;
  GPtrArray          *log;       /* LogRow: applied mutations to record */
  GHashTable         *owners;    /* record id → its entity, for the ids the batch names */
} Push;

typedef struct
{
  char   *mutation_id;
  char   *entity;
  char   *id;
  gint64  version;
} LogRow;

static void
log_row_free (LogRow *row)
{
  g_free (row->mutation_id);
  g_free (row->entity);
  g_free (row->id);
  g_free (row);
}

/* Rows a multi-row statement writes. A batch is cut into the largest of these that fit, so a
 * connection prepares nine statements per table at most, whatever the sizes of the batches
 * (each size is a statement of its own, kept prepared for the life of the connection), and a
 * batch takes few round trips under the write lock: a full batch of 500 is one statement, 5 is
 * one, and no batch under 1,000 takes more than nine. At 10 values a row the largest binds
 * 5,000 values, within SQLite's 32,766 and PostgreSQL's 65,535. */
static const guint chunk_sizes[] = { 500, 200, 100, 50, 20, 10, 5, 2, 1 };

static guint
chunk_rows (const guint *sizes,
            guint        remaining)
{
  guint k = 0;

  while (sizes[k] > remaining)
    k++;
  return sizes[k];
}

/* "INSERT INTO table (cols) VALUES (?, …), (?, …) …" for @rows rows of @cols values. */
static char *
multi_insert_sql (const char *head,
                  int         rows,
                  int         cols,
                  const char *tail)
{
  GString *q = g_string_new (head);

  for (int r = 0; r < rows; r++)
    {
      g_string_append (q, r ? ", (?" : " VALUES (?");
      for (int c = 1; c < cols; c++)
        g_string_append (q, ", ?");
      g_string_append_c (q, ')');
    }
  g_string_append (q, tail);
  return g_string_free (q, FALSE);
}

/* @s (@len bytes) as a JSON string, escaped as json-c escapes it with
 * JSON_C_TO_STRING_NOSLASHESCAPE; runs of plain bytes are copied at once. */
static void
write_json_string (GString    *out,
                   const char *s,
                   gsize       len)
{
  static const char hex[] = "0123456789abcdef";
  gsize run = 0;

  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) s[i];
      const char *esc = NULL;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, s + run, (gssize) (i - run));
      run = i + 1;
      switch (c)
        {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
      if (esc != NULL)
        g_string_append (out, esc);
      else
        {
          char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf], '\0' };

          g_string_append (out, u);
        }
    }
  g_string_append_len (out, s + run, (gssize) (len - run));
  g_string_append_c (out, '"');
}

/* @o as compact JSON text, the same text kh_codec_to_string gives (numbers other than
 * integers are left to json-c), without json-c's printbuf and a printf per integer: a push
 * writes two objects per record, and this was a seventh of its time. */
static void
write_json (GString     *out,
            json_object *o)
{
  switch (json_object_get_type (o))
    {
    case json_type_null:
      g_string_append (out, "null");
      break;
    case json_type_boolean:
      g_string_append (out, json_object_get_boolean (o) ? "true" : "false");
      break;
    case json_type_int:
      {
        gint64 v = json_object_get_int64 (o);
        char buf[24];
        char *p = buf + sizeof buf;
        guint64 u = v < 0 ? (guint64) -(v + 1) + 1 : (guint64) v;

        /* INT64_MAX may stand for a larger unsigned value: json-c knows which. */
        if (v == G_MAXINT64)
          {
            g_string_append (out, kh_codec_to_string (o, NULL));
            break;
          }
        do
          *--p = (char) ('0' + u % 10);
        while ((u /= 10) > 0);
        if (v < 0)
          *--p = '-';
        g_string_append_len (out, p, buf + sizeof buf - p);
      }
      break;
    case json_type_string:
      write_json_string (out, json_object_get_string (o), (gsize) json_object_get_string_len (o));
      break;
    case json_type_array:
      g_string_append_c (out, '[');
      for (size_t i = 0, n = json_object_array_length (o); i < n; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          write_json (out, json_object_array_get_idx (o, i));
        }
      g_string_append_c (out, ']');
      break;
    case json_type_object:
      {
        gboolean first = TRUE;

        g_string_append_c (out, '{');
        json_object_object_foreach (o, key, val)
          {
            if (!first)
              g_string_append_c (out, ',');
            first = FALSE;
            write_json_string (out, key, strlen (key));
            g_string_append_c (out, ':');
            write_json (out, val);
          }
        g_string_append_c (out, '}');
      }
      break;
    case json_type_double:
    default:
      g_string_append (out, kh_codec_to_string (o, NULL));
      break;
    }
}

/* Writes the batch's records and its mutation log with multi-row statements: the write lock
 * is held for a few round trips instead of two per mutation. Every read in the batch goes
 * through push->records and push->seen, so deferring the writes to here changes nothing. */
static gboolean
flush_writes (Push    *push,
              GError **error)
{
  for (guint i = 0, step; i < push->dirty->len; i += step)
    {
      int n = (int) (step = chunk_rows (chunk_sizes, push->dirty->len - i));
      g_autofree char *sql = multi_insert_sql (
        "INSERT INTO records (entity, id, version, deleted, scope_unit, data, field_versions, "
        "updated_by, updated_at, created_at)", n, 10,
        " ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, "
        "scope_unit = excluded.scope_unit, data = excluded.data, field_versions = excluded.field_versions, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at");
      g_autofree KhSqlParam *p = g_new (KhSqlParam, n * 10);
      g_auto(GStrv) parts = g_new0 (char *, n * 2 + 1);
      g_autoptr(GString) text = g_string_sized_new (512 * (gsize) n);
      g_autofree gsize *offsets = g_new (gsize, n * 2);

      for (int r = 0; r < n; r++)
        {
          const char *key = push->dirty->pdata[i + r];
          const Stored *st = g_hash_table_lookup (push->records, key);
          const char *slash = strchr (key, '/');
          KhSqlParam *q = &p[r * 10];

          parts[r * 2] = g_strndup (key, (gsize) (slash - key));
          parts[r * 2 + 1] = g_strdup (slash + 1);
          q[0] = KH_SQL_P_TEXT (parts[r * 2]);
          q[1] = KH_SQL_P_TEXT (parts[r * 2 + 1]);
          q[2] = KH_SQL_P_INT (st->version);
          q[3] = KH_SQL_P_INT (st->deleted ? 1 : 0);
          q[4] = KH_SQL_P_TEXT (st->scope_unit);
          /* The texts go into one buffer, NUL-separated, that may move while it grows:
           * their places are kept as offsets and made pointers once it is complete. */
          offsets[r * 2] = text->len;
          write_json (text, st->data);
          g_string_append_c (text, '\0');
          offsets[r * 2 + 1] = text->len;
          write_json (text, st->fv);
          g_string_append_c (text, '\0');
          q[7] = KH_SQL_P_TEXT (st->updated_by);
          q[8] = KH_SQL_P_TEXT (st->updated_at);
          q[9] = KH_SQL_P_TEXT (st->created_at);
        }
      for (int r = 0; r < n; r++)
        {
          p[r * 10 + 5] = KH_SQL_P_TEXT (text->str + offsets[r * 2]);
          p[r * 10 + 6] = KH_SQL_P_TEXT (text->str + offsets[r * 2 + 1]);
        }
      if (!kh_server_backend_exec (push->b, sql, p, (guint) n * 10, NULL, NULL, NULL, error))
        return FALSE;
    }
  for (guint i = 0, step; i < push->log->len; i += step)
    {
      int n = (int) (step = chunk_rows (chunk_sizes, push->log->len - i));
      g_autofree char *sql = multi_insert_sql ("INSERT INTO mutations (mutation_id, user_id, entity, "
                                               "record_id, version, applied_at)", n, 6, "");
      g_autofree KhSqlParam *p = g_new (KhSqlParam, n * 6);

      for (int r = 0; r < n; r++)
        {
          LogRow *row = push->log->pdata[i + r];
          KhSqlParam *q = &p[r * 6];

          q[0] = KH_SQL_P_TEXT (row->mutation_id);
          q[1] = KH_SQL_P_TEXT (push->user->id ? push->user->id : push->actor);
          q[2] = KH_SQL_P_TEXT (row->entity);
          q[3] = KH_SQL_P_TEXT (row->id);
          q[4] = KH_SQL_P_INT (row->version);
          q[5] = KH_SQL_P_TEXT (push->now);
        }
      if (!kh_server_backend_exec (push->b, sql, p, (guint) n * 6, NULL, NULL, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static Stored *
stored_copy (const Stored *s)
{
  Stored *c = g_new0 (Stored, 1);

  /* The JSON is shared: a Stored's objects are never changed once made. */
  c->version = s->version;
  c->deleted = s->deleted;
  c->scope_unit = g_strdup (s->scope_unit);
  c->data = json_object_get (s->data);
  c->fv = json_object_get (s->fv);
  c->updated_by = g_strdup (s->updated_by);
  c->updated_at = g_strdup (s->updated_at);
  c->created_at = g_strdup (s->created_at);
  return c;
}

static gboolean
preload_row_cb (const char * const *v,
                int                 n,
                gpointer            data)
{
  Push *push = data;
  Stored *s = NULL;

  stored_row_cb (v + 2, n - 2, &s);
  g_hash_table_insert (push->records, g_strconcat (v[0], "/", v[1], NULL), s);
  g_hash_table_insert (push->owners, g_strdup (v[1]), g_strdup (v[0]));
  return TRUE;
}

/* "HEAD (?, ?, …)" with @n placeholders, for the batch lookups by key below. The few sizes in
 * IN_SIZES keep the number of prepared statements small: a push of 5 mutations binds 16 values,
 * one of 500 binds 500 in one round trip (the write lock is held for fewer of them). */
static const guint in_sizes[] = { 16, 128, 512 };

typedef enum
{
  IN_RECORDS,
  IN_SEEN,
  IN_N_HEADS,
} InHead;

static const char *
in_list_sql (InHead  head,
             guint   remaining,
             guint  *size)
{
  static const char *heads[IN_N_HEADS] = {
    "SELECT entity, id, version, deleted, scope_unit, data, field_versions, "
    "updated_by, updated_at, created_at FROM records WHERE id IN (?",
    "SELECT mutation_id, version FROM mutations WHERE mutation_id IN (?",
  };
  static char *sql[IN_N_HEADS][G_N_ELEMENTS (in_sizes)];
  static gsize once = 0;
  guint k = 0;

  if (g_once_init_enter (&once))
    {
      for (guint h = 0; h < IN_N_HEADS; h++)
        for (guint z = 0; z < G_N_ELEMENTS (in_sizes); z++)
          {
            GString *q = g_string_new (heads[h]);

            for (guint i = 1; i < in_sizes[z]; i++)
              g_string_append (q, ", ?");
            g_string_append_c (q, ')');
            sql[h][z] = g_string_free (q, FALSE);
          }
      g_once_init_leave (&once, 1);
    }
  while (k + 1 < G_N_ELEMENTS (in_sizes) && in_sizes[k] < remaining)
    k++;
  *size = in_sizes[k];
  return sql[head][k];
}

/* Runs the lookup @head for one key of each mutation (the record id, or the mutation id), a
 * few hundred keys a query; the keys left over are bound as NULL, which matches nothing. */
static gboolean
lookup_by_keys (Push                *push,
                const KhPushRequest *request,
                InHead               head,
                KhSqlRowFunc         row_func,
                gpointer             user_data,
                GError             **error)
{
  guint len = request->mutations->len;

  for (guint i = 0; i < len;)
    {
      guint size;
      const char *sql = in_list_sql (head, len - i, &size);
      g_autofree KhSqlParam *p = g_new (KhSqlParam, size);

      for (guint k = 0; k < size; k++)
        {
          KhMutation *m = i + k < len ? request->mutations->pdata[i + k] : NULL;

          p[k] = KH_SQL_P_TEXT (m == NULL ? NULL : head == IN_SEEN ? m->mutation_id : m->id);
        }
      if (!kh_server_backend_exec (push->b, sql, p, size, row_func, user_data, NULL, error))
        return FALSE;
      i += size;
    }
  return TRUE;
}

/* Loads every record the request names, so the write lock is held for few round trips. */
static gboolean
preload_records (Push                *push,
                 const KhPushRequest *request,
                 GError             **error)
{
  for (guint i = 0; i < request->mutations->len; i++)
    {
      KhMutation *m = request->mutations->pdata[i];
      Stored *missing = g_new0 (Stored, 1);

      missing->version = -1;
      g_hash_table_insert (push->records, g_strconcat (m->entity, "/", m->id, NULL), missing);
    }
  return lookup_by_keys (push, request, IN_RECORDS, preload_row_cb, push, error);
}

static gboolean
push_load (Push        *push,
           const char  *entity,
           const char  *id,
           Stored     **out,
           GError     **error)
{
  g_autofree char *key = g_strconcat (entity, "/", id, NULL);
  Stored *s = g_hash_table_lookup (push->records, key);

  *out = NULL;
  if (s == NULL)
    return load_stored (push->b, entity, id, out, error);
  if (s->version >= 0)
    *out = stored_copy (s);
  return TRUE;
}

/* user_in_scope, remembered for the batch (forgotten whenever the org tree changes). */
static gboolean
push_in_scope (Push        *push,
               const char  *unit,
               gboolean    *result,
               GError     **error)
{
  gpointer known;

  if (unit == NULL)
    {
      *result = FALSE;
      return TRUE;
    }
  known = g_hash_table_lookup (push->in_scope, unit);
  if (known != NULL)
    {
      *result = GPOINTER_TO_INT (known) == 1;
      return TRUE;
    }
  if (!user_in_scope (push->b, push->user, unit, result, error))
    return FALSE;
  g_hash_table_insert (push->in_scope, g_strdup (unit), GINT_TO_POINTER (*result ? 1 : 2));
  return TRUE;
}

static gboolean
seen_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  gint64 *version = g_new (gint64, 1);

  *version = g_ascii_strtoll (v[1], NULL, 10);
  g_hash_table_insert (data, g_strdup (v[0]), version);
  return TRUE;
}

/* Which of the request's mutation ids were applied before. */
static gboolean
load_seen (Push                *push,
           const KhPushRequest *request,
           GError             **error)
{
  return lookup_by_keys (push, request, IN_SEEN, seen_row_cb, push->seen, error);
}

static KhMutationResult *
result_new (const KhMutation *m,
            KhResultStatus    status)
{
  KhMutationResult *r = kh_mutation_result_new ();

  r->mutation_id = g_strdup (m->mutation_id);
  r->status = status;
  return r;
}

static KhMutationResult *
rejected (const KhMutation *m,
          KhSyncError       code,
          const char       *message)
{
  KhMutationResult *r = result_new (m, KH_RESULT_REJECTED);

  r->code = g_strdup (kh_sync_error_to_code (code));
  r->message = g_strdup (message);
  return r;
}

static KhMutationResult *
conflict (const KhMutation *m,
          const Stored     *s,
          GPtrArray        *fields)
{
  KhMutationResult *r = result_new (m, KH_RESULT_CONFLICT);

  r->version = s->version;
  r->record = stored_to_record (m->entity, m->id, s);
  r->conflicting_fields = fields != NULL ? g_ptr_array_ref (fields)
                                         : g_ptr_array_new_with_free_func (g_free);
  return r;
}

static gint64
field_version (json_object *fv,
               const char  *name)
{
  json_object *v;

  if (json_object_object_get_ex (fv, name, &v) && json_object_is_type (v, json_type_int))
    return json_object_get_int64 (v);
  return 0;
}

static const char *
string_member (json_object *obj,
               const char  *name)
{
  json_object *v;

  if (obj != NULL && json_object_object_get_ex (obj, name, &v) && json_object_is_type (v, json_type_string))
    return json_object_get_string (v);
  return NULL;
}

/* The org unit that decides who sees a record with @data: NULL for shared entities. */
static const char *
place_of (const KhEntity *entity,
          const char     *id,
          json_object    *data)
{
  if (entity->scope_field == NULL)
    return NULL;
  if (strcmp (entity->scope_field, "id") == 0)
    return id;
  return string_member (data, entity->scope_field);
}

static gboolean
log_mutation (Push              *push,
              const KhMutation  *m,
              gint64             version,
              GError           **error)
{
  gint64 *first = g_new (gint64, 1);
  LogRow *row = g_new0 (LogRow, 1);

  *first = version;
  g_hash_table_insert (push->seen, g_strdup (m->mutation_id), first);
  row->mutation_id = g_strdup (m->mutation_id);
  row->entity = g_strdup (m->entity);
  row->id = g_strdup (m->id);
  row->version = version;
  g_ptr_array_add (push->log, row);
  return TRUE;
}

static KhMutationResult *
applied (Push              *push,
         const KhMutation  *m,
         gint64             version,
         GError           **error)
{
  KhMutationResult *r;

  if (!log_mutation (push, m, version, error))
    return NULL;
  r = result_new (m, KH_RESULT_APPLIED);
  r->version = version;
  return r;
}

/* Keeps the org tree (org_units and the closure table) in step with an org unit's write. */
static gboolean
update_org_tree (Push           *push,
                 const char     *id,
                 const Stored   *old,
                 const Stored   *now,
                 GError        **error)
{
  KhServerBackend *b = push->b;
  const char *old_parent = old != NULL ? string_member (old->data, "parent_id") : NULL;

  /* The tree changes: what was (not) in scope may not be any more. */
  g_hash_table_remove_all (push->in_scope);
  const char *new_parent = string_member (now->data, "parent_id");
  KhSqlParam u[4] = {
    KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (string_member (now->data, "code") ? string_member (now->data, "code") : ""),
    KH_SQL_P_TEXT (new_parent), KH_SQL_P_TEXT (string_member (now->data, "valid_to")),
  };

  if (!kh_server_backend_exec (b, "INSERT INTO org_units (id, code, parent_id, valid_to) VALUES (?, ?, ?, ?) "
                               "ON CONFLICT (id) DO UPDATE SET code = excluded.code, "
                               "parent_id = excluded.parent_id, valid_to = excluded.valid_to",
                               u, 4, NULL, NULL, NULL, error))
    return FALSE;

  if (old == NULL)
    {
      KhSqlParam p[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (new_parent) };
      KhSqlParam s[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (id) };

      return kh_server_backend_exec (b, "INSERT INTO org_closure (ancestor, descendant) "
                                     "SELECT ancestor, CAST(? AS TEXT) FROM org_closure WHERE descendant = ?",
                                     p, 2, NULL, NULL, NULL, error)
             && kh_server_backend_exec (b, "INSERT INTO org_closure (ancestor, descendant) VALUES (?, ?) "
                                        "ON CONFLICT DO NOTHING", s, 2, NULL, NULL, NULL, error);
    }

  if (g_strcmp0 (old_parent, new_parent) != 0)
    {
      KhSqlParam g[2] = { KH_SQL_P_TEXT (old_parent ? old_parent : ""), KH_SQL_P_TEXT (new_parent ? new_parent : "") };
      KhSqlParam d[2] = { KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (id) };
      KhSqlParam a[2] = { KH_SQL_P_TEXT (new_parent), KH_SQL_P_TEXT (id) };

      /* Everyone whose scope held the unit before or holds it now re-pulls (reset). */
      return kh_server_backend_exec (b, "UPDATE users SET scope_gen = scope_gen + 1 WHERE scope_unit_id IN "
                                     "(SELECT ancestor FROM org_closure WHERE descendant IN (?, ?))",
                                     g, 2, NULL, NULL, NULL, error)
             && kh_server_backend_exec (b, "INSERT INTO scope_history (user_id, gen, scope_unit_id) "
                                        "SELECT id, scope_gen, scope_unit_id FROM users u WHERE NOT EXISTS "
                                        "(SELECT 1 FROM scope_history h WHERE h.user_id = u.id AND h.gen = u.scope_gen)",
                                        NULL, 0, NULL, NULL, NULL, error)
             && kh_server_backend_exec (b, "DELETE FROM org_closure WHERE descendant IN "
                                        "(SELECT descendant FROM org_closure WHERE ancestor = ?) "
                                        "AND ancestor NOT IN (SELECT descendant FROM org_closure WHERE ancestor = ?)",
                                        d, 2, NULL, NULL, NULL, error)
             && (new_parent == NULL
                 || kh_server_backend_exec (b, "INSERT INTO org_closure (ancestor, descendant) "
                                            "SELECT a.ancestor, d.descendant FROM org_closure a, org_closure d "
                                            "WHERE a.descendant = ? AND d.ancestor = ?",
                                            a, 2, NULL, NULL, NULL, error));
    }
  return TRUE;
}

/* Checks that @user may put a record of @entity with @data at its place. For org units the
 * place of a unit is decided by its parent: it must be in scope, must not be the unit itself or
 * below it, and a root (no parent) may only be made by a user whose scope is a root. */
static gboolean
check_new_place (Push              *push,
                 const KhEntity    *entity,
                 const KhMutation  *m,
                 const Stored      *old,
                 json_object       *data,
                 KhMutationResult **result,
                 GError           **error)
{
  gboolean ok = TRUE;

  if (strcmp (entity->name, "org_unit") == 0)
    {
      const char *parent = string_member (data, "parent_id");
      const char *old_parent = old != NULL ? string_member (old->data, "parent_id") : NULL;

      if (old != NULL && g_strcmp0 (parent, old_parent) == 0)
        return TRUE;
      if (parent != NULL)
        {
          gboolean cycle = FALSE;

          if (old != NULL && !in_subtree (push->b, m->id, parent, &cycle, error))
            return FALSE;
          if (cycle || strcmp (parent, m->id) == 0)
            {
              *result = rejected (m, KH_SYNC_ERROR_INVALID,
                                  _("A unit cannot be placed under itself or one of its own units."));
              return TRUE;
            }
          if (!push_in_scope (push, parent, &ok, error))
            return FALSE;
        }
      else if (push->user->scope_unit_id != NULL)
        {
          gboolean has_parent;

          if (!unit_has_parent (push->b, push->user->scope_unit_id, &has_parent, error))
            return FALSE;
          ok = !has_parent;
        }
    }
  else
    {
      const char *place = place_of (entity, m->id, data);

      if (place != NULL && !push_in_scope (push, place, &ok, error))
        return FALSE;
    }
  if (!ok)
    *result = rejected (m, KH_SYNC_ERROR_OUT_OF_SCOPE,
                        _("The record would belong to a unit outside your area."));
  return TRUE;
}

static gboolean
check_fields_known (const KhEntity    *entity,
                    const KhMutation  *m,
                    KhMutationResult **result)
{
  json_object_object_foreach (m->fields, key, val)
    {
      const KhField *f = kh_entity_get_field (entity, key);
      g_autoptr(GError) local = NULL;

      if (f == NULL)
        {
          g_autofree char *msg = g_strdup_printf (_("“%s” is not a field of %s."), key, _(entity->label));

          *result = rejected (m, KH_SYNC_ERROR_INVALID, msg);
          return FALSE;
        }
      if (val != NULL && !kh_field_validate (f, val, &local))
        {
          *result = rejected (m, KH_SYNC_ERROR_INVALID, local->message);
          return FALSE;
        }
    }
  return TRUE;
}

/* Writes @s (the record after the mutation) with a new version, and what goes with it. */
static KhMutationResult *
write_record (Push              *push,
              const KhEntity    *entity,
              const KhMutation  *m,
              const Stored      *old,
              Stored            *s,
              GError           **error)
{
  gint64 version = ++push->version;
  const char *place = place_of (entity, m->id, s->data);

  s->version = version;
  g_free (s->scope_unit);
  s->scope_unit = g_strdup (place);
  g_free (s->updated_by);
  s->updated_by = g_strdup (push->actor);
  g_free (s->updated_at);
  s->updated_at = g_strdup (push->now);
  if (s->created_at == NULL)
    s->created_at = g_strdup (push->now);

  {
    g_autofree char *key = g_strconcat (m->entity, "/", m->id, NULL);

    g_hash_table_replace (push->records, g_strdup (key), stored_copy (s));
    g_hash_table_replace (push->owners, g_strdup (m->id), g_strdup (m->entity));
    if (!g_hash_table_contains (push->dirty_set, key))
      {
        char *copy = g_strdup (key);

        g_hash_table_add (push->dirty_set, copy);
        g_ptr_array_add (push->dirty, copy);
      }
  }
  if (strcmp (entity->name, "org_unit") == 0 && !update_org_tree (push, m->id, old, s, error))
    return NULL;
  if (old != NULL && old->scope_unit != NULL && g_strcmp0 (old->scope_unit, s->scope_unit) != 0
      && strcmp (entity->name, "org_unit") != 0)
    {
      KhSqlParam p[4] = { KH_SQL_P_INT (version), KH_SQL_P_TEXT (m->entity), KH_SQL_P_TEXT (m->id),
                          KH_SQL_P_TEXT (old->scope_unit) };

      if (!kh_server_backend_exec (push->b, "INSERT INTO moves (version, entity, id, old_unit) VALUES (?, ?, ?, ?)",
                                   p, 4, NULL, NULL, NULL, error))
        return NULL;
    }
  return applied (push, m, version, error);
}

static KhMutationResult *
apply_create (Push              *push,
              const KhEntity    *entity,
              const KhMutation  *m,
              Stored            *old,
              GError           **error)
{
  g_autoptr(Stored) s = NULL;
  g_autoptr(GError) local = NULL;
  KhMutationResult *result = NULL;

  if (old != NULL)
    {
      g_autoptr(GPtrArray) differ = g_ptr_array_new_with_free_func (g_free);
      gboolean same = !old->deleted;

      json_object_object_foreach (m->fields, key, val)
        {
          json_object *cur = NULL;

          json_object_object_get_ex (old->data, key, &cur);
          if (!json_object_equal (cur, val))
            g_ptr_array_add (differ, g_strdup (key));
        }
      json_object_object_foreach (old->data, okey, oval)
        {
          (void) oval;
          if (!json_object_object_get_ex (m->fields, okey, NULL))
            g_ptr_array_add (differ, g_strdup (okey));
        }
      if (same && differ->len == 0)
        {
          if (!log_mutation (push, m, old->version, error))
            return NULL;
          result = result_new (m, KH_RESULT_DUPLICATE);
          result->version = old->version;
          return result;
        }
      return conflict (m, old, differ);
    }

  if (!kh_entity_validate (entity, m->fields, TRUE, &local))
    return rejected (m, KH_SYNC_ERROR_INVALID, local->message);
  if (!check_new_place (push, entity, m, NULL, m->fields, &result, error))
    return NULL;
  if (result != NULL)
    return result;

  s = g_new0 (Stored, 1);
  s->data = json_object_get (m->fields);
  s->fv = json_object_new_object ();
  json_object_object_foreach (m->fields, key, val)
    {
      (void) val;
      json_object_object_add (s->fv, key, json_object_new_int64 (push->version + 1));
    }
  return write_record (push, entity, m, NULL, s, error);
}

/* update, and restore (@restoring: the record is deleted and comes back). */
static KhMutationResult *
apply_update (Push              *push,
              const KhEntity    *entity,
              const KhMutation  *m,
              Stored            *old,
              gboolean           restoring,
              GError           **error)
{
  g_autoptr(GPtrArray) conflicting = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(json_object) changes = json_object_new_object ();
  g_autoptr(Stored) s = NULL;
  g_autoptr(GError) local = NULL;
  KhMutationResult *result = NULL;

  if (old->deleted && !restoring)
    return conflict (m, old, NULL);
  if (m->base_version > old->version)
    return conflict (m, old, NULL);

  json_object_object_foreach (m->fields, key, val)
    {
      json_object *cur = NULL;

      json_object_object_get_ex (old->data, key, &cur);
      if (json_object_equal (cur, val))
        continue;
      if (field_version (old->fv, key) > m->base_version)
        g_ptr_array_add (conflicting, g_strdup (key));
      else
        json_object_object_add (changes, key, val != NULL ? json_object_get (val) : NULL);
    }
  if (conflicting->len > 0)
    return conflict (m, old, conflicting);
  if (json_object_object_length (changes) == 0 && !restoring)
    return applied (push, m, old->version, error);

  s = g_new0 (Stored, 1);
  s->data = json_object_new_object ();
  json_object_object_foreach (old->data, okey, oval)
    json_object_object_add (s->data, okey, json_object_get (oval));
  json_object_deep_copy (old->fv, &s->fv, NULL);
  json_object_object_foreach (changes, ckey, cval)
    {
      if (cval == NULL)
        json_object_object_del (s->data, ckey);
      else
        json_object_object_add (s->data, ckey, json_object_get (cval));
      json_object_object_add (s->fv, ckey, json_object_new_int64 (push->version + 1));
    }
  s->created_at = g_strdup (old->created_at);
  s->deleted = FALSE;

  if (!kh_entity_validate (entity, s->data, TRUE, &local))
    return rejected (m, KH_SYNC_ERROR_INVALID, local->message);
  if (!check_new_place (push, entity, m, old, s->data, &result, error))
    return NULL;
  if (result != NULL)
    return result;
  return write_record (push, entity, m, old, s, error);
}

static KhMutationResult *
apply_one (Push              *push,
           const KhMutation  *m,
           GError           **error)
{
  const KhEntity *entity = kh_entity_lookup (m->entity);
  g_autoptr(Stored) old = NULL;
  KhMutationResult *result = NULL;
  gint64 *first_version = g_hash_table_lookup (push->seen, m->mutation_id);

  if (first_version != NULL)
    {
      result = result_new (m, KH_RESULT_DUPLICATE);
      result->version = *first_version;
      return result;
    }

  if (entity == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("“%s” is not a kind of record this server keeps."), m->entity);

      return rejected (m, KH_SYNC_ERROR_INVALID, msg);
    }
  if (g_strcmp0 (push->user->role, "viewer") == 0)
    return rejected (m, KH_SYNC_ERROR_FORBIDDEN, _("A viewer account cannot change records."));
  if (entity->scope_field == NULL && g_strcmp0 (push->user->role, "admin") != 0)
    return rejected (m, KH_SYNC_ERROR_FORBIDDEN,
                     _("Only an administrator can change shared reference data."));
  if (!check_fields_known (entity, m, &result))
    return result;

  if (!push_load (push, m->entity, m->id, &old, error))
    return NULL;
  if (old == NULL)
    {
      const char *owner = g_hash_table_lookup (push->owners, m->id);

      if (owner != NULL && strcmp (owner, m->entity) != 0)
        return rejected (m, KH_SYNC_ERROR_INVALID,
                         _("This id already belongs to a record of another kind."));
    }
  if (old != NULL && old->scope_unit != NULL)
    {
      gboolean ok;

      if (!push_in_scope (push, old->scope_unit, &ok, error))
        return NULL;
      if (!ok)
        return rejected (m, KH_SYNC_ERROR_OUT_OF_SCOPE,
                         _("The record belongs to a unit outside your area."));
    }

  switch (m->op)
    {
    case KH_OP_CREATE:
      return apply_create (push, entity, m, old, error);

    case KH_OP_UPDATE:
      if (old == NULL)
        return rejected (m, KH_SYNC_ERROR_NOT_FOUND, _("There is no such record on the server."));
      return apply_update (push, entity, m, old, FALSE, error);

    case KH_OP_DELETE:
      if (old == NULL)
        return rejected (m, KH_SYNC_ERROR_NOT_FOUND, _("There is no such record on the server."));
      if (old->deleted)
        return applied (push, m, old->version, error);
      if (m->base_version > old->version)
        return conflict (m, old, NULL);
      if (old->version > m->base_version)
        {
          g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);

          json_object_object_foreach (old->fv, key, val)
            if (json_object_get_int64 (val) > m->base_version)
              g_ptr_array_add (changed, g_strdup (key));
          return conflict (m, old, changed);
        }
      {
        g_autoptr(Stored) s = g_new0 (Stored, 1);

        s->data = json_object_get (old->data);
        s->fv = json_object_get (old->fv);
        s->deleted = TRUE;
        s->created_at = g_strdup (old->created_at);
        return write_record (push, entity, m, old, s, error);
      }

    case KH_OP_RESTORE:
      if (old == NULL)
        return rejected (m, KH_SYNC_ERROR_NOT_FOUND, _("There is no such record on the server."));
      if (!old->deleted)
        return apply_update (push, entity, m, old, FALSE, error);
      if (old->version != m->base_version)
        return conflict (m, old, NULL);
      return apply_update (push, entity, m, old, TRUE, error);

    default:
      g_assert_not_reached ();
    }
}

static KhPushResponse *
push_run (KhServer            *self,
          const KhServerUser  *user,
          const char          *actor,
          const KhPushRequest *request,
          GError             **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(KhPushResponse) response = kh_push_response_new ();
  g_autofree char *now = now_iso ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) in_scope = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) stored_free);
  g_autoptr(GPtrArray) dirty = g_ptr_array_new ();
  g_autoptr(GHashTable) dirty_set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func ((GDestroyNotify) log_row_free);
  g_autoptr(GHashTable) owners = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  Push push = { l->b, user, actor, now, 0, seen, in_scope, records, dirty, dirty_set, log, owners };
  Meta meta;

  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error))
    return NULL;
  if (!load_meta (l->b, &meta, error))
    return NULL;
  response->server_id = meta.server_id;
  response->epoch = meta.epoch;
  if (request->has_epoch && request->epoch != meta.epoch)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_EPOCH_CHANGED,
                   _("The server was restored from a backup (epoch %lld, not %lld): "
                     "pull everything again before pushing."), (long long) meta.epoch, (long long) request->epoch);
      return NULL;
    }
  push.version = meta.version;
  if (!load_seen (&push, request, error) || !preload_records (&push, request, error))
    return NULL;

  for (guint i = 0; i < request->mutations->len; i++)
    {
      KhMutationResult *r = apply_one (&push, request->mutations->pdata[i], error);

      if (r == NULL)
        return NULL;
      g_ptr_array_add (response->results, r);
    }

  {
    KhSqlParam p[1] = { KH_SQL_P_INT (push.version) };

    if (!flush_writes (&push, error)
        || !kh_server_backend_exec (l->b, "UPDATE counter SET version = ? WHERE id = 1", p, 1,
                                 NULL, NULL, NULL, error)
        || !kh_server_backend_commit (l->b, error))
      return NULL;
  }
  return g_steal_pointer (&response);
}

KhPushResponse *
kh_server_push (KhServer            *self,
                const KhServerUser  *user,
                const KhPushRequest *request,
                GError             **error)
{
  g_return_val_if_fail (user != NULL && user->scope_unit_id != NULL, NULL);
  return push_run (self, user, user->username, request, error);
}

KhPushResponse *
kh_server_apply_as_system (KhServer            *self,
                           const char          *actor,
                           const KhPushRequest *request,
                           GError             **error)
{
  KhServerUser system = { NULL, (char *) actor, (char *) "admin", NULL, NULL, 0, FALSE };

  return push_run (self, &system, actor, request, error);
}

/* The change feed ------------------------------------------------------------------------------ */

typedef struct
{
  GString *text;   /* the records, as JSON array elements */
  guint    count;
  gint64   last;
} Feed;

/* @s as a JSON string. */
static void
append_json_string (GString    *out,
                    const char *s)
{
  const char *run = s;
  const char *p;

  g_string_append_c (out, '"');
  /* The characters that need no escape go in runs, most strings in one. */
  for (p = s; *p; p++)
    {
      guchar c = (guchar) *p;

      if (c != '"' && c != '\\' && c >= 0x20)
        continue;
      g_string_append_len (out, run, p - run);
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else
        g_string_append_printf (out, "\\u%04x", c);
      run = p + 1;
    }
  g_string_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

/* A RECORD written straight from the row: the stored data is already compact JSON made by the
 * server, so it goes out as it is, without being parsed and written again. */
static gboolean
feed_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  Feed *f = data;

  if (f->count++ > 0)
    g_string_append_c (f->text, ',');
  g_string_append (f->text, "{\"entity\":");
  append_json_string (f->text, v[0]);
  g_string_append (f->text, ",\"id\":");
  append_json_string (f->text, v[1]);
  /* Appended piece by piece: a printf would copy the fields through a buffer of its own. */
  g_string_append (f->text, ",\"version\":");
  g_string_append (f->text, v[2]);
  g_string_append (f->text, g_ascii_strtoll (v[3], NULL, 10) != 0 ? ",\"deleted\":true" : ",\"deleted\":false");
  g_string_append (f->text, ",\"fields\":");
  g_string_append (f->text, v[4] != NULL ? v[4] : "{}");
  if (v[5] != NULL)
    {
      g_string_append (f->text, ",\"updated_by\":");
      append_json_string (f->text, v[5]);
    }
  if (v[6] != NULL)
    {
      g_string_append (f->text, ",\"updated_at\":");
      append_json_string (f->text, v[6]);
    }
  g_string_append_c (f->text, '}');
  f->last = g_ascii_strtoll (v[2], NULL, 10);
  return TRUE;
}

static gboolean
removed_row_cb (const char * const *v,
                int                 n,
                gpointer            data)
{
  kh_changes_page_add_removed (data, v[0], v[1]);
  return TRUE;
}

static gboolean
parse_cursor (const char  *cursor,
              gint64      *epoch,
              gint64      *gen,
              gint64      *version,
              char       **sid,
              GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (cursor, ".", 5);
  char *end;

  if (g_strv_length (parts) != 4)
    goto bad;
  for (int i = 0; i < 3; i++)
    {
      gint64 v;

      if (*parts[i] == '\0' || !g_ascii_isdigit (*parts[i]))
        goto bad;
      v = g_ascii_strtoll (parts[i], &end, 10);
      if (*end != '\0' || v < 0)
        goto bad;
      *(i == 0 ? epoch : i == 1 ? gen : version) = v;
    }
  if (strlen (parts[3]) != 8)
    goto bad;
  *sid = g_strdup (parts[3]);
  return TRUE;

bad:
  g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                       _("The cursor is not one this server gave out; start again with an empty cursor."));
  return FALSE;
}

GString *
kh_server_changes (KhServer            *self,
                   const KhServerUser  *user,
                   const char          *cursor,
                   gint64               limit,
                   GError             **error)
{
  g_autoptr(Lease) l = NULL;
  g_autoptr(KhChangesPage) page = kh_changes_page_new ();
  g_autofree char *sid = NULL;
  gint64 c_epoch = 0, c_gen = 0, c_version = 0, max_version = 0;
  gint64 start;
  gboolean given = cursor != NULL && *cursor != '\0';
  Meta meta;
  g_autoptr(GString) records = g_string_sized_new (4096);
  Feed feed = { records, 0, 0 };

  g_return_val_if_fail (user->scope_unit_id != NULL, NULL);

  if (limit <= 0)
    limit = KH_PAGE_DEFAULT;
  limit = MIN (limit, KH_PAGE_MAX);
  if (given && !parse_cursor (cursor, &c_epoch, &c_gen, &c_version, &sid, error))
    return NULL;

  l = lease_new (self);
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error) || !load_meta (l->b, &meta, error))
    return NULL;
  page->server_id = meta.server_id;
  page->epoch = meta.epoch;
  max_version = meta.version;

  start = c_version;
  if (given && (c_epoch != meta.epoch || strncmp (sid, meta.server_id, 8) != 0
                || c_version < meta.purged_through || c_version > max_version
                || c_gen != user->scope_gen))
    {
      page->reset = TRUE;
      start = 0;
      /* After a change of scope, name what the old scope held and the new one does not. */
      if (c_epoch == meta.epoch && strncmp (sid, meta.server_id, 8) == 0 && c_gen != user->scope_gen)
        {
          KhSqlParam h[2] = { KH_SQL_P_TEXT (user->id), KH_SQL_P_INT (c_gen) };
          g_autofree char *old_root = NULL;

          if (!kh_server_backend_query_text (l->b, "SELECT scope_unit_id FROM scope_history WHERE user_id = ? AND gen = ?",
                                             h, 2, &old_root, error))
            return NULL;
          if (old_root != NULL && strcmp (old_root, user->scope_unit_id) != 0)
            {
              KhSqlParam p[3] = { KH_SQL_P_INT (c_version), KH_SQL_P_TEXT (old_root), KH_SQL_P_TEXT (user->scope_unit_id) };

              if (!kh_server_backend_exec (l->b, "SELECT entity, id FROM records WHERE version <= ? "
                                           "AND scope_unit IN " SUBTREE " AND scope_unit NOT IN " SUBTREE,
                                           p, 3, removed_row_cb, page, NULL, error))
                return NULL;
            }
        }
    }

  {
    KhSqlParam p[3] = { KH_SQL_P_INT (start), KH_SQL_P_TEXT (user->scope_unit_id), KH_SQL_P_INT (limit) };

    /* "scope_unit || ''" keeps SQLite from answering the OR with two index lookups and a sort
     * of every match (for each page!): it walks the version index from the cursor instead,
     * and stops after @limit rows in scope. PostgreSQL plans it the same way. */
    if (!kh_server_backend_exec (l->b, "SELECT entity, id, version, deleted, data, updated_by, updated_at "
                                 "FROM records WHERE version > ? AND (scope_unit IS NULL OR (scope_unit || '') IN " SUBTREE ") "
                                 "ORDER BY version LIMIT ?", p, 3, feed_row_cb, &feed, NULL, error))
      return NULL;
  }
  page->has_more = feed.count >= (guint) limit;
  {
    gint64 next = page->has_more ? feed.last : max_version;
    KhSqlParam p[4] = { KH_SQL_P_INT (start), KH_SQL_P_INT (next), KH_SQL_P_TEXT (user->scope_unit_id),
                        KH_SQL_P_TEXT (user->scope_unit_id) };

    /* Records moved out of the scope by someone else, in the span this page covers. */
    if (start > 0
        && !kh_server_backend_exec (l->b, "SELECT m.entity, m.id FROM moves m JOIN records r "
                                    "ON r.entity = m.entity AND r.id = m.id "
                                    "WHERE m.version > ? AND m.version <= ? AND m.old_unit IN " SUBTREE " "
                                    "AND (r.scope_unit IS NULL OR r.scope_unit NOT IN " SUBTREE ")",
                                    p, 4, removed_row_cb, page, NULL, error))
      return NULL;
    page->cursor = g_strdup_printf ("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%.8s",
                                    meta.epoch, user->scope_gen, next, meta.server_id);
  }
  kh_server_backend_commit (l->b, NULL);

  {
    GString *out = g_string_sized_new (records->len + 256);

    g_string_append (out, "{\"server_id\":");
    append_json_string (out, page->server_id);
    g_string_append_printf (out, ",\"epoch\":%" G_GINT64_FORMAT ",\"cursor\":", page->epoch);
    append_json_string (out, page->cursor);
    g_string_append_printf (out, ",\"has_more\":%s,\"records\":[", page->has_more ? "true" : "false");
    g_string_append_len (out, records->str, (gssize) records->len);
    g_string_append (out, "],\"removed\":[");
    for (guint i = 0; i < page->removed->len; i++)
      {
        KhRemoved *r = page->removed->pdata[i];

        g_string_append (out, i > 0 ? ",{\"entity\":" : "{\"entity\":");
        append_json_string (out, r->entity);
        g_string_append (out, ",\"id\":");
        append_json_string (out, r->id);
        g_string_append_c (out, '}');
      }
    g_string_append_printf (out, "],\"reset\":%s}", page->reset ? "true" : "false");
    return out;
  }
}

/* Integrity ------------------------------------------------------------------------------------ */

typedef struct
{
  GHashTable *by_entity;  /* name → KhIntegrityEntry (borrowed) */
  KhIntegrity *integrity;
} Sums;

static gboolean
sum_row_cb (const char * const *v,
            int                 n,
            gpointer            data)
{
  Sums *s = data;
  KhIntegrityEntry *e = g_hash_table_lookup (s->by_entity, v[0]);

  if (e == NULL)
    return TRUE;
  e->count++;
  e->checksum ^= kh_codec_record_hash (v[1], g_ascii_strtoll (v[2], NULL, 10));
  return TRUE;
}

KhIntegrity *
kh_server_integrity (KhServer            *self,
                     const KhServerUser  *user,
                     GError             **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(KhIntegrity) all = kh_integrity_new ();
  g_autoptr(KhIntegrity) out = kh_integrity_new ();
  g_autoptr(GHashTable) by_entity = g_hash_table_new (g_str_hash, g_str_equal);
  Sums sums = { by_entity, all };
  KhSqlParam p[1] = { KH_SQL_P_TEXT (user->scope_unit_id) };
  const KhEntity * const *entities;
  guint n;
  Meta meta;

  entities = kh_entities (&n);
  for (guint i = 0; i < n; i++)
    g_hash_table_insert (by_entity, (gpointer) entities[i]->name,
                         kh_integrity_add (all, entities[i]->name));
  if (!kh_server_backend_begin (l->b, KH_TX_READ, error) || !load_meta (l->b, &meta, error))
    return NULL;
  if (!kh_server_backend_exec (l->b, "SELECT entity, id, version FROM records "
                               "WHERE scope_unit IS NULL OR scope_unit IN " SUBTREE,
                               p, 1, sum_row_cb, &sums, NULL, error))
    {
      g_free (meta.server_id);
      return NULL;
    }
  kh_server_backend_commit (l->b, NULL);
  for (guint i = 0; i < all->entities->len; i++)
    {
      KhIntegrityEntry *e = all->entities->pdata[i];

      if (e->count > 0)
        {
          KhIntegrityEntry *o = kh_integrity_add (out, e->entity);

          o->count = e->count;
          o->checksum = e->checksum;
        }
    }
  out->server_id = meta.server_id;
  out->epoch = meta.epoch;
  return g_steal_pointer (&out);
}

static gboolean
id_row_cb (const char * const *v,
           int                 n,
           gpointer            data)
{
  kh_integrity_ids_add (data, v[0], g_ascii_strtoll (v[1], NULL, 10));
  return TRUE;
}

KhIntegrityIds *
kh_server_integrity_ids (KhServer            *self,
                         const KhServerUser  *user,
                         const char          *entity,
                         const char          *after,
                         gint64               limit,
                         GError             **error)
{
  g_autoptr(Lease) l = NULL;
  g_autoptr(KhIntegrityIds) ids = kh_integrity_ids_new ();

  if (entity == NULL || kh_entity_lookup (entity) == NULL)
    {
      g_set_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID,
                   _("“%s” is not a kind of record this server keeps."), entity ? entity : "");
      return NULL;
    }
  if (limit <= 0)
    limit = KH_PAGE_DEFAULT;
  limit = MIN (limit, KH_PAGE_MAX);
  l = lease_new (self);
  {
    KhSqlParam p[4] = { KH_SQL_P_TEXT (entity), KH_SQL_P_TEXT (after ? after : ""),
                        KH_SQL_P_TEXT (user->scope_unit_id), KH_SQL_P_INT (limit + 1) };

    if (!kh_server_backend_exec (l->b, "SELECT id, version FROM records WHERE entity = ? AND id > ? "
                                 "AND (scope_unit IS NULL OR (scope_unit || '') IN " SUBTREE ") ORDER BY id LIMIT ?",
                                 p, 4, id_row_cb, ids, NULL, error))
      return NULL;
  }
  if (ids->ids->len > (guint) limit)
    {
      ids->has_more = TRUE;
      g_array_set_size (ids->ids, (guint) limit);
    }
  return g_steal_pointer (&ids);
}

/* Tombstones ----------------------------------------------------------------------------------- */

gboolean
kh_server_purge_tombstones (KhServer  *self,
                            gint64    *purged,
                            GError   **error)
{
  g_autoptr(Lease) l = lease_new (self);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_days (now, -self->tombstone_days);
  g_autofree char *cutoff = g_date_time_format (then, "%Y-%m-%dT%H:%M:%SZ");
  KhSqlParam c[1] = { KH_SQL_P_TEXT (cutoff) };
  gint64 max = 0;
  gboolean found;
  Meta meta;

  *purged = 0;
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error) || !load_meta (l->b, &meta, error))
    return FALSE;
  g_free (meta.server_id);
  /* The answers kept for pushes sent again go with the same window: a client resends within
   * its sync, or after days offline, not after months. One away longer re-pulls anyway, and a
   * change sent again finds its values already there, which counts as done. */
  if (!kh_server_backend_exec (l->b, "DELETE FROM mutations WHERE applied_at <= ?", c, 1, NULL, NULL, NULL, error))
    return FALSE;
  if (!kh_server_backend_query_int (l->b, "SELECT MAX(version) FROM records WHERE deleted = 1 AND updated_at <= ?",
                                    c, 1, &max, &found, error))
    return FALSE;
  if (!found)
    return kh_server_backend_commit (l->b, error);
  {
    KhSqlParam d[2] = { KH_SQL_P_INT (max), KH_SQL_P_TEXT (cutoff) };
    KhSqlParam m[1] = { KH_SQL_P_INT (max) };
    g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (max, meta.purged_through));
    KhSqlParam t[1] = { KH_SQL_P_TEXT (text) };

    return kh_server_backend_exec (l->b, "DELETE FROM records WHERE deleted = 1 AND version <= ? AND updated_at <= ?",
                                   d, 2, NULL, NULL, purged, error)
           && kh_server_backend_exec (l->b, "DELETE FROM moves WHERE version <= ?", m, 1, NULL, NULL, NULL, error)
           && kh_server_backend_exec (l->b, "UPDATE meta SET value = ? WHERE key = 'purged_through'",
                                      t, 1, NULL, NULL, NULL, error)
           && kh_server_backend_commit (l->b, error);
  }
}
