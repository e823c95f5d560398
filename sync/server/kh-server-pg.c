/* kh-server-pg.c: the server's storage on PostgreSQL through libpq
 *
 * Statements are prepared once per connection. Every writing transaction starts by taking one
 * transaction-scoped advisory lock, so writers run one at a time and a version allocated
 * inside the lock always commits before any higher one: a puller can never skip a change that
 * commits later with a lower version. Readers take a REPEATABLE READ snapshot, so one page of
 * the change feed and the cursor it returns describe the same state.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <libpq-fe.h>
#include <string.h>

#include "kh-server-pg.h"

/* Custom plans: the server's tables start empty and grow, and a generic plan made while they
 * were small (a table scan) would otherwise be kept for the life of the connection. No JIT:
 * every statement here reads a page or a few rows by an index, but on a big table the
 * planner's estimates pass jit_above_cost and compiling costs more than the whole read (a
 * second and more for the feed at 10 million records). */
#define PG_SESSION_SETTINGS \
  "SET statement_timeout = '30s'; SET client_min_messages = warning; " \
  "SET synchronous_commit = on; SET plan_cache_mode = force_custom_plan; SET jit = off;"

/* The advisory lock every writer takes first ("KH" in the high bytes). */
#define KH_PG_WRITE_LOCK "7236001"

struct _KhServerPg
{
  GObject     parent_instance;
  PGconn     *conn;
  GHashTable *statements;  /* SQL text → prepared statement name */
  guint       next_statement;
  gboolean    in_transaction;
};

static void kh_server_pg_backend_init (KhServerBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KhServerPg, kh_server_pg, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KH_TYPE_SERVER_BACKEND,
                                                      kh_server_pg_backend_init))

static void
set_result_error (GError     **error,
                  KhServerPg  *self,
                  PGresult    *res,
                  const char  *what)
{
  const char *state = res != NULL ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  int code = KH_SERVER_ERROR_DATABASE;
  g_autofree char *message = g_strdup (res != NULL ? PQresultErrorMessage (res)
                                                   : PQerrorMessage (self->conn));

  /* Statement timeout, serialization failure, deadlock, lock not available. */
  if (state != NULL && (strcmp (state, "57014") == 0 || strcmp (state, "40001") == 0
                        || strcmp (state, "40P01") == 0 || strcmp (state, "55P03") == 0))
    code = KH_SERVER_ERROR_BUSY;
  g_strstrip (message);
  g_set_error (error, KH_SERVER_ERROR, code, _("Database error (%s): %s"), what, message);
}

static void
kh_server_pg_finalize (GObject *object)
{
  KhServerPg *self = KH_SERVER_PG (object);

  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->conn, PQfinish);
  G_OBJECT_CLASS (kh_server_pg_parent_class)->finalize (object);
}

static void
kh_server_pg_class_init (KhServerPgClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kh_server_pg_finalize;
}

static void
kh_server_pg_init (KhServerPg *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
quiet_notice (void       *arg,
              const char *message)
{
  /* "relation already exists, skipping" and the like are not for the log. */
}

static gboolean
pg_exec_script (KhServerBackend  *backend,
                const char       *sql,
                GError          **error)
{
  KhServerPg *self = KH_SERVER_PG (backend);
  PGresult *res = PQexec (self->conn, sql);
  ExecStatusType st = PQresultStatus (res);

  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    {
      set_result_error (error, self, res, "script");
      PQclear (res);
      return FALSE;
    }
  PQclear (res);
  return TRUE;
}

/* "… WHERE a = ? AND b = ?" → "… WHERE a = $1 AND b = $2". Our SQL has no '?' elsewhere. */
static char *
number_placeholders (const char *sql)
{
  GString *s = g_string_sized_new (strlen (sql) + 16);
  int n = 0;

  for (const char *p = sql; *p; p++)
    if (*p == '?')
      g_string_append_printf (s, "$%d", ++n);
    else
      g_string_append_c (s, *p);
  return g_string_free (s, FALSE);
}

static gboolean
pg_exec_once (KhServerBackend   *backend,
              const char        *sql,
         const KhSqlParam  *params,
         guint              n_params,
         KhSqlRowFunc       row_func,
         gpointer           user_data,
         gint64            *changes,
         GError           **error)
{
  KhServerPg *self = KH_SERVER_PG (backend);
  const char *name = g_hash_table_lookup (self->statements, sql);
  const char **values = g_newa (const char *, n_params + 1);
  char *ints = g_alloca (24 * (n_params + 1));
  PGresult *res;
  ExecStatusType st;

  /* A connection lost (PostgreSQL restarted, a network cut) is made again, outside of a
   * transaction only: inside one, the failure must reach the caller, who retries it all. */
  if (PQstatus (self->conn) != CONNECTION_OK)
    {
      if (self->in_transaction)
        {
          set_result_error (error, self, NULL, "connection lost");
          return FALSE;
        }
      PQreset (self->conn);
      g_hash_table_remove_all (self->statements);
      if (PQstatus (self->conn) != CONNECTION_OK)
        {
          set_result_error (error, self, NULL, "connect");
          return FALSE;
        }
      pg_exec_script (backend, PG_SESSION_SETTINGS, NULL);
      name = NULL;
    }

  if (name == NULL)
    {
      g_autofree char *numbered = number_placeholders (sql);
      char *new_name = g_strdup_printf ("kh%u", self->next_statement++);

      res = PQprepare (self->conn, new_name, numbered, 0, NULL);
      if (PQresultStatus (res) != PGRES_COMMAND_OK)
        {
          set_result_error (error, self, res, "prepare");
          PQclear (res);
          g_free (new_name);
          return FALSE;
        }
      PQclear (res);
      g_hash_table_insert (self->statements, g_strdup (sql), new_name);
      name = new_name;
    }

  for (guint i = 0; i < n_params; i++)
    switch (params[i].type)
      {
      case KH_SQL_TEXT:
        values[i] = params[i].text;
        break;
      case KH_SQL_INT:
        g_snprintf (ints + 24 * i, 24, "%" G_GINT64_FORMAT, params[i].value);
        values[i] = ints + 24 * i;
        break;
      case KH_SQL_NULL:
      default:
        values[i] = NULL;
        break;
      }

  res = PQexecPrepared (self->conn, name, (int) n_params, values, NULL, NULL, 0);
  st = PQresultStatus (res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    {
      set_result_error (error, self, res, "exec");
      PQclear (res);
      return FALSE;
    }
  if (st == PGRES_TUPLES_OK && row_func != NULL)
    {
      int n_rows = PQntuples (res);
      int n_cols = PQnfields (res);
      const char **row = g_newa (const char *, n_cols + 1);

      for (int r = 0; r < n_rows; r++)
        {
          for (int c = 0; c < n_cols; c++)
            row[c] = PQgetisnull (res, r, c) ? NULL : PQgetvalue (res, r, c);
          if (!row_func (row, n_cols, user_data))
            break;
        }
    }
  if (changes != NULL)
    {
      const char *t = PQcmdTuples (res);

      *changes = t != NULL && *t != '\0' ? g_ascii_strtoll (t, NULL, 10) : 0;
    }
  PQclear (res);
  return TRUE;
}

static gboolean
pg_exec (KhServerBackend   *backend,
         const char        *sql,
         const KhSqlParam  *params,
         guint              n_params,
         KhSqlRowFunc       row_func,
         gpointer           user_data,
         gint64            *changes,
         GError           **error)
{
  KhServerPg *self = KH_SERVER_PG (backend);
  GError *local = NULL;

  if (pg_exec_once (backend, sql, params, n_params, row_func, user_data, changes, &local))
    return TRUE;
  /* The connection broke outside of a transaction: make it again and try once more. */
  if (PQstatus (self->conn) != CONNECTION_OK && !self->in_transaction)
    {
      g_clear_error (&local);
      return pg_exec_once (backend, sql, params, n_params, row_func, user_data, changes, error);
    }
  g_propagate_error (error, local);
  return FALSE;
}


static void
pg_rollback (KhServerBackend *backend)
{
  KhServerPg *self = KH_SERVER_PG (backend);

  if (PQstatus (self->conn) == CONNECTION_OK && PQtransactionStatus (self->conn) != PQTRANS_IDLE)
    pg_exec_script (backend, "ROLLBACK", NULL);
  self->in_transaction = FALSE;
}

static gboolean
pg_commit (KhServerBackend  *backend,
           GError          **error)
{
  KhServerPg *self = KH_SERVER_PG (backend);
  gboolean ok = pg_exec (backend, "COMMIT", NULL, 0, NULL, NULL, NULL, error);

  if (!ok)
    pg_rollback (backend);
  self->in_transaction = FALSE;
  return ok;
}

static gboolean
pg_begin (KhServerBackend  *backend,
          KhTxKind          kind,
          GError          **error)
{
  KhServerPg *self = KH_SERVER_PG (backend);

  if (kind == KH_TX_READ)
    {
      if (!pg_exec (backend, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                    NULL, 0, NULL, NULL, NULL, error))
        return FALSE;
      self->in_transaction = TRUE;
      return TRUE;
    }
  if (!pg_exec (backend, "BEGIN", NULL, 0, NULL, NULL, NULL, error))
    return FALSE;
  self->in_transaction = TRUE;
  if (!pg_exec (backend, "SELECT pg_advisory_xact_lock(" KH_PG_WRITE_LOCK ")",
                NULL, 0, NULL, NULL, NULL, error))
    {
      pg_rollback (backend);
      return FALSE;
    }
  return TRUE;
}

static const char *
pg_get_name (KhServerBackend *backend)
{
  return "postgresql";
}

static void
kh_server_pg_backend_init (KhServerBackendInterface *iface)
{
  iface->exec = pg_exec;
  iface->exec_script = pg_exec_script;
  iface->begin = pg_begin;
  iface->commit = pg_commit;
  iface->rollback = pg_rollback;
  iface->get_name = pg_get_name;
}

KhServerPg *
kh_server_pg_open (const char  *url,
                   GError     **error)
{
  g_autoptr(KhServerPg) self = g_object_new (KH_TYPE_SERVER_PG, NULL);

  self->conn = PQconnectdb (url);
  if (PQstatus (self->conn) != CONNECTION_OK)
    {
      g_auto(GStrv) lines = g_strsplit_set (PQerrorMessage (self->conn), "\n\t", -1);
      g_autoptr(GString) message = g_string_new (NULL);

      /* libpq's message runs over several lines with a hint; an error is one line. */
      for (guint i = 0; lines[i] != NULL; i++)
        if (*g_strstrip (lines[i]) != '\0')
          g_string_append_printf (message, "%s%s", message->len > 0 ? " " : "", lines[i]);
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE,
                   _("Cannot connect to PostgreSQL: %s"), message->str);
      return NULL;
    }
  PQsetNoticeProcessor (self->conn, quiet_notice, NULL);
  if (!pg_exec_script (KH_SERVER_BACKEND (self),
                       PG_SESSION_SETTINGS, error))
    return NULL;
  return g_steal_pointer (&self);
}
