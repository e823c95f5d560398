/* kh-test-server.h: the real khuyenhoc-server started for a test, and HTTP with libcurl
 *
 * One helper for the server's, the sync engine's and the window's tests and the benchmarks: a
 * fresh database (SQLite in a temporary folder, or a new PostgreSQL database in KH_TEST_PG_URL's
 * cluster), the server's command line, `serve` on a free port read from --port-file, and a clean
 * stop that asserts the server exited with status 0.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "kh-codec.h"

G_BEGIN_DECLS

typedef struct
{
  char    *backend;   /* "sqlite" or "postgresql" */
  char    *dir;       /* a temporary folder for the database, port file and logs */
  char    *url;       /* the --db URL */
  char    *pg_db;     /* the PostgreSQL database made for it, dropped at the end */
  GPid     pid;
  int      port;
  char    *base;      /* http://127.0.0.1:PORT */
  char   **serve_args;
} KhTestServer;

char         *kh_test_db_create       (const char    *backend,
                                       const char    *dir,
                                       char         **pg_db);
void          kh_test_db_drop         (const char    *pg_db);

/* Makes a fresh database (for PostgreSQL: a new database in KH_TEST_PG_URL's cluster) and runs
 * init. NULL when @backend is postgresql and KH_TEST_PG_URL is not set. */
KhTestServer *kh_test_server_new      (const char    *backend);
void          kh_test_server_free     (KhTestServer  *s);
/* Runs khuyenhoc-server --db URL ARGS…; @input goes to its standard input. Asserts success. */
void          kh_test_server_cli      (KhTestServer  *s,
                                       const char    *input,
                                       ...) G_GNUC_NULL_TERMINATED;
/* `serve` on 127.0.0.1 with a free port, plus @args (NULL-terminated, may be NULL). */
void          kh_test_server_start    (KhTestServer  *s,
                                       const char * const *args);
void          kh_test_server_kill     (KhTestServer  *s,
                                       int            signal);
/* The one number @sql (a SELECT count(*) …, the same in both dialects) reads from the server's
 * database, beside the server: for what the API does not show, such as what was purged. */
gint64        kh_test_server_count    (KhTestServer  *s,
                                       const char    *sql);
/* SIGTERM, and asserts the server shut down cleanly (exit status 0). */
void          kh_test_server_stop     (KhTestServer  *s);
/* The standard tree: P (province) ⊃ A, B (communes), A ⊃ A1 (village); accounts admin (P),
 * officer_a (A), officer_b (B), viewer_a (A, viewer), all with password "password-" NAME. */
void          kh_test_server_populate (KhTestServer  *s);
/* kh_test_server_new(), populated, and serving with four threads; NULL as kh_test_server_new(). */
KhTestServer *kh_test_server_new_serving (const char *backend);

typedef struct
{
  long         status;
  char        *body;
  gsize        length;       /* bytes on the wire (before decompression) */
  char        *encoding;     /* Content-Encoding of the answer */
  char        *retry_after;
  json_object *json;
} KhReply;

void     kh_reply_free (KhReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhReply, kh_reply_free)

typedef struct
{
  const char *token;
  const char *content_encoding;  /* sent as Content-Encoding */
  const char *accept_encoding;   /* offered; the answer is decoded */
} KhRequestOptions;

KhReply *kh_http          (KhTestServer           *s,
                           const char             *method,
                           const char             *path,
                           const char             *body,
                           gsize                   length,
                           const KhRequestOptions *options);
KhReply *kh_http_json     (KhTestServer  *s,
                           const char    *method,
                           const char    *path,
                           const char    *token,
                           json_object   *body);
/* Logs in and returns the token; asserts success. Fills @unit_id when not NULL. */
char    *kh_test_login    (KhTestServer  *s,
                           const char    *user,
                           char         **unit_id);
/* A mutation as JSON; @fields is taken. */
json_object *kh_test_mutation (const char  *op,
                               const char  *entity,
                               const char  *id,
                               gint64       base_version,
                               json_object *fields);
/* Pushes @mutations (taken) and returns the decoded answer; asserts a 200. */
KhPushResponse *kh_test_push  (KhTestServer *s,
                               const char   *token,
                               json_object  *mutations);
/* Pulls every page from @cursor into @records (id → KhRecord, may be NULL); returns the last
 * cursor and whether a reset was seen. */
char    *kh_test_pull_all (KhTestServer *s,
                           const char   *token,
                           const char   *cursor,
                           int           limit,
                           GHashTable   *records,
                           gboolean     *reset,
                           GPtrArray    *removed);
json_object *kh_test_person (const char *name,
                             const char *unit);

G_END_DECLS
