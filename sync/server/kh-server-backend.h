/* kh-server-backend.h: the server's storage, behind one interface
 *
 * The server keeps the same tables on SQLite and on PostgreSQL and runs the same SQL on both
 * (written with `?` placeholders; the PostgreSQL backend numbers them). A backend is one
 * database connection; the core (kh-server-core.c and the kh-server-*.c files around it) holds
 * all of the protocol's logic, so the two backends cannot drift apart in behaviour: they differ
 * only in how they connect, run a statement, and take the write lock that orders versions by
 * commit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KH_SERVER_ERROR (kh_server_error_quark ())

typedef enum
{
  KH_SERVER_ERROR_DATABASE,   /* the database failed */
  KH_SERVER_ERROR_BUSY,       /* the database is busy or a statement took too long */
  KH_SERVER_ERROR_URL,        /* the --db URL is not one we understand */
  KH_SERVER_ERROR_NOT_INITIALIZED,
  KH_SERVER_ERROR_NOT_FOUND,
  KH_SERVER_ERROR_INVALID,
} KhServerError;

GQuark kh_server_error_quark (void);

typedef enum
{
  KH_SQL_NULL,
  KH_SQL_TEXT,
  KH_SQL_INT,
} KhSqlType;

typedef struct
{
  KhSqlType   type;
  const char *text;
  gint64      value;
} KhSqlParam;

#define KH_SQL_P_TEXT(s) ((KhSqlParam) { (s) != NULL ? KH_SQL_TEXT : KH_SQL_NULL, (s), 0 })
#define KH_SQL_P_INT(v)  ((KhSqlParam) { KH_SQL_INT, NULL, (v) })

/* One row: @values[i] is NULL for SQL NULL, else the column's text form. Return FALSE to stop. */
typedef gboolean (*KhSqlRowFunc) (const char * const *values,
                                  int                 n_values,
                                  gpointer            user_data);

typedef enum
{
  KH_TX_READ,   /* a consistent snapshot for reading */
  KH_TX_WRITE,  /* serialized with every other writer, so versions follow commit order */
} KhTxKind;

#define KH_TYPE_SERVER_BACKEND (kh_server_backend_get_type ())

G_DECLARE_INTERFACE (KhServerBackend, kh_server_backend, KH, SERVER_BACKEND, GObject)

struct _KhServerBackendInterface
{
  GTypeInterface parent_iface;

  gboolean (*exec)     (KhServerBackend   *self,
                        const char        *sql,
                        const KhSqlParam  *params,
                        guint              n_params,
                        KhSqlRowFunc       row_func,
                        gpointer           user_data,
                        gint64            *changes,
                        GError           **error);
  gboolean (*exec_script) (KhServerBackend *self,
                           const char      *sql,
                           GError         **error);
  gboolean (*begin)    (KhServerBackend   *self,
                        KhTxKind           kind,
                        GError           **error);
  gboolean (*commit)   (KhServerBackend   *self,
                        GError           **error);
  void     (*rollback) (KhServerBackend   *self);
  const char *(*get_name) (KhServerBackend *self);
};

/* "sqlite:/path/to/server.db" or "postgresql://…" (also "postgres://…"). */
KhServerBackend *kh_server_backend_open        (const char        *url,
                                                GError           **error);
gboolean         kh_server_backend_exec        (KhServerBackend   *self,
                                                const char        *sql,
                                                const KhSqlParam  *params,
                                                guint              n_params,
                                                KhSqlRowFunc       row_func,
                                                gpointer           user_data,
                                                gint64            *changes,
                                                GError           **error);
gboolean         kh_server_backend_exec_script (KhServerBackend   *self,
                                                const char        *sql,
                                                GError           **error);
gboolean         kh_server_backend_begin       (KhServerBackend   *self,
                                                KhTxKind           kind,
                                                GError           **error);
gboolean         kh_server_backend_commit      (KhServerBackend   *self,
                                                GError           **error);
void             kh_server_backend_rollback    (KhServerBackend   *self);
const char      *kh_server_backend_get_name    (KhServerBackend   *self);

/* Helpers over exec. */
gboolean         kh_server_backend_query_text  (KhServerBackend   *self,
                                                const char        *sql,
                                                const KhSqlParam  *params,
                                                guint              n_params,
                                                char             **value,
                                                GError           **error);
gboolean         kh_server_backend_query_int   (KhServerBackend   *self,
                                                const char        *sql,
                                                const KhSqlParam  *params,
                                                guint              n_params,
                                                gint64            *value,
                                                gboolean          *found,
                                                GError           **error);

G_END_DECLS
