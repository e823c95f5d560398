/* kh-server-backend.c: the storage interface and the choice of backend by URL
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-server-backend.h"
#include "kh-server-pg.h"
#include "kh-server-sqlite.h"

G_DEFINE_QUARK (kh-server-error-quark, kh_server_error)

G_DEFINE_INTERFACE (KhServerBackend, kh_server_backend, G_TYPE_OBJECT)

static void
kh_server_backend_default_init (KhServerBackendInterface *iface)
{
}

KhServerBackend *
kh_server_backend_open (const char  *url,
                        GError     **error)
{
  g_return_val_if_fail (url != NULL, NULL);

  if (g_str_has_prefix (url, "sqlite:"))
    {
      const char *path = url + strlen ("sqlite:");

      /* sqlite:///abs/path and sqlite:/abs/path and sqlite:relative are all accepted. */
      if (g_str_has_prefix (path, "//"))
        path += 2;
      if (*path == '\0')
        {
          g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_URL,
                               _("The database URL names no file: write sqlite:/path/to/server.db."));
          return NULL;
        }
      return KH_SERVER_BACKEND (kh_server_sqlite_open (path, error));
    }
  if (g_str_has_prefix (url, "postgresql:") || g_str_has_prefix (url, "postgres:"))
    return KH_SERVER_BACKEND (kh_server_pg_open (url, error));

  g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_URL,
               _("“%s” is not a database URL: use sqlite:/path/to/server.db or postgresql://…"), url);
  return NULL;
}

gboolean
kh_server_backend_exec (KhServerBackend   *self,
                        const char        *sql,
                        const KhSqlParam  *params,
                        guint              n_params,
                        KhSqlRowFunc       row_func,
                        gpointer           user_data,
                        gint64            *changes,
                        GError           **error)
{
  g_return_val_if_fail (KH_IS_SERVER_BACKEND (self), FALSE);
  return KH_SERVER_BACKEND_GET_IFACE (self)->exec (self, sql, params, n_params, row_func,
                                                   user_data, changes, error);
}

gboolean
kh_server_backend_exec_script (KhServerBackend  *self,
                               const char       *sql,
                               GError          **error)
{
  g_return_val_if_fail (KH_IS_SERVER_BACKEND (self), FALSE);
  return KH_SERVER_BACKEND_GET_IFACE (self)->exec_script (self, sql, error);
}

gboolean
kh_server_backend_begin (KhServerBackend  *self,
                         KhTxKind          kind,
                         GError          **error)
{
  g_return_val_if_fail (KH_IS_SERVER_BACKEND (self), FALSE);
  return KH_SERVER_BACKEND_GET_IFACE (self)->begin (self, kind, error);
}

gboolean
kh_server_backend_commit (KhServerBackend  *self,
                          GError          **error)
{
  g_return_val_if_fail (KH_IS_SERVER_BACKEND (self), FALSE);
  return KH_SERVER_BACKEND_GET_IFACE (self)->commit (self, error);
}

void
kh_server_backend_rollback (KhServerBackend *self)
{
  g_return_if_fail (KH_IS_SERVER_BACKEND (self));
  KH_SERVER_BACKEND_GET_IFACE (self)->rollback (self);
}

const char *
kh_server_backend_get_name (KhServerBackend *self)
{
  g_return_val_if_fail (KH_IS_SERVER_BACKEND (self), NULL);
  return KH_SERVER_BACKEND_GET_IFACE (self)->get_name (self);
}

typedef struct
{
  char     *text;
  gboolean  found;
} FirstRow;

static gboolean
first_row_cb (const char * const *values,
              int                 n_values,
              gpointer            user_data)
{
  FirstRow *row = user_data;

  row->found = TRUE;
  row->text = n_values > 0 ? g_strdup (values[0]) : NULL;
  return FALSE;
}

/* The first column of the first row, or NULL when there is no row or it is NULL. */
gboolean
kh_server_backend_query_text (KhServerBackend   *self,
                              const char        *sql,
                              const KhSqlParam  *params,
                              guint              n_params,
                              char             **value,
                              GError           **error)
{
  FirstRow row = { NULL, FALSE };

  if (!kh_server_backend_exec (self, sql, params, n_params, first_row_cb, &row, NULL, error))
    {
      g_free (row.text);
      return FALSE;
    }
  *value = row.text;
  return TRUE;
}

gboolean
kh_server_backend_query_int (KhServerBackend   *self,
                             const char        *sql,
                             const KhSqlParam  *params,
                             guint              n_params,
                             gint64            *value,
                             gboolean          *found,
                             GError           **error)
{
  FirstRow row = { NULL, FALSE };

  if (!kh_server_backend_exec (self, sql, params, n_params, first_row_cb, &row, NULL, error))
    {
      g_free (row.text);
      return FALSE;
    }
  if (found != NULL)
    *found = row.found && row.text != NULL;
  *value = row.text != NULL ? g_ascii_strtoll (row.text, NULL, 10) : 0;
  g_free (row.text);
  return TRUE;
}
