/* test-server-core.c: the server core in-process, without HTTP or the binary
 *
 * Each test opens a KhServer on a fresh database (SQLite in a temporary folder; PostgreSQL in a
 * new database of KH_TEST_PG_URL's cluster, skipped without it) and drives kh-server-core.h:
 * meta, accounts, a push, the change feed, integrity and tombstones.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>

#include "kh-server-core.h"
#include "kh-server-core-private.h"
#include "kh-test-dir.h"
#include "kh-test-server.h"
#include "kh-uuid.h"
#include "kh-wire.h"

typedef struct
{
  char     *dir;
  char     *url;
  char     *pg_db;
  KhServer *server;
  char     *province;  /* org unit ids, made by make_units */
  char     *commune;
  char     *other;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  backend)
{
  g_autoptr(GError) error = NULL;

  if (strcmp (backend, "postgresql") == 0 && g_getenv ("KH_TEST_PG_URL") == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  f->url = kh_test_db_create (backend, f->dir, &f->pg_db);
  f->server = kh_server_new (f->url, 2, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  backend)
{
  if (f->server != NULL)
    g_assert_finalize_object (f->server);
  kh_test_db_drop (f->pg_db);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->url);
  g_free (f->pg_db);
  g_free (f->province);
  g_free (f->commune);
  g_free (f->other);
}

/* TRUE (and the test skipped) when the backend is not available. */
static gboolean
skip_without (Fixture *f)
{
  if (f->server != NULL)
    return FALSE;
  g_test_skip ("KH_TEST_PG_URL is not set");
  return TRUE;
}

static KhMutation *
mutation_new (KhOp         op,
              const char  *entity,
              const char  *id,
              gint64       base_version,
              json_object *fields)
{
  KhMutation *m = kh_mutation_new ();

  m->mutation_id = kh_uuid_v7_new ();
  m->entity = g_strdup (entity);
  m->id = g_strdup (id);
  m->op = op;
  m->base_version = base_version;
  m->fields = fields != NULL ? fields : json_object_new_object ();
  return m;
}

static json_object *
unit_fields (const char *code,
             const char *name,
             const char *kind,
             const char *parent)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "code", json_object_new_string (code));
  json_object_object_add (o, "name", json_object_new_string (name));
  json_object_object_add (o, "kind", json_object_new_string (kind));
  if (parent != NULL)
    json_object_object_add (o, "parent_id", json_object_new_string (parent));
  return o;
}

static json_object *
person_fields (const char *name,
               const char *unit)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "full_name", json_object_new_string (name));
  json_object_object_add (o, "org_unit_id", json_object_new_string (unit));
  return o;
}

/* A province with a commune, and a second province: made as the server's own tools make them. */
static void
make_units (Fixture *f)
{
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  g_autoptr(KhPushResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (kh_server_init_schema (f->server, &error));
  g_assert_no_error (error);
  f->province = kh_uuid_v7_new ();
  f->commune = kh_uuid_v7_new ();
  f->other = kh_uuid_v7_new ();
  g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "org_unit", f->province, 0,
                                                     unit_fields ("01", "Hà Nội", "province", NULL)));
  g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "org_unit", f->commune, 0,
                                                     unit_fields ("00004", "Phúc Xá", "ward", f->province)));
  g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "org_unit", f->other, 0,
                                                     unit_fields ("79", "Hồ Chí Minh", "province", NULL)));
  response = kh_server_apply_as_system (f->server, "import", request, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (response->results->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (((KhMutationResult *) response->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
}

/* An officer of the commune, logged in. */
static KhServerUser *
officer (Fixture  *f,
         char    **token)
{
  g_autoptr(GError) error = NULL;
  KhServerUser *user;

  g_assert_true (kh_server_user_add (f->server, "can_bo", "officer", "00004", "mật khẩu dài", &error));
  g_assert_no_error (error);
  user = kh_server_login (f->server, "can_bo", "mật khẩu dài", token, &error);
  g_assert_no_error (error);
  g_assert_nonnull (user);
  return user;
}

/* A whole feed from @cursor, read back with the codec; the last page's cursor in *@next. */
static KhChangesPage *
pull (Fixture            *f,
      const KhServerUser *user,
      const char         *cursor,
      gint64              limit)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = kh_server_changes (f->server, user, cursor, limit, &error);
  g_autoptr(json_object) json = NULL;
  KhChangesPage *page;

  g_assert_no_error (error);
  json = kh_codec_parse (text->str, text->len, KH_CODEC_MAX_DEPTH, &error);
  g_assert_no_error (error);
  page = kh_changes_page_from_json (json, &error);
  g_assert_no_error (error);
  return page;
}

static void
test_meta (Fixture       *f,
           gconstpointer  backend)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *server_id = NULL;
  g_autofree char *again = NULL;
  gint64 epoch = 0;

  if (skip_without (f))
    return;
  /* A database nobody set up is refused with a reason, not read as empty. */
  g_assert_false (kh_server_check_ready (f->server, &error));
  g_assert_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);

  g_assert_true (kh_server_init_schema (f->server, &error));
  g_assert_true (kh_server_check_ready (f->server, &error));
  g_assert_true (kh_server_get_identity (f->server, &server_id, &epoch, &error));
  g_assert_no_error (error);
  g_assert_true (kh_uuid_is_valid (server_id));
  g_assert_cmpint (epoch, ==, 1);

  /* init again keeps the identity; a restore from backup bumps the epoch. */
  g_assert_true (kh_server_init_schema (f->server, &error));
  g_assert_true (kh_server_epoch_bump (f->server, &epoch, &error));
  g_assert_cmpint (epoch, ==, 2);
  g_assert_true (kh_server_get_identity (f->server, &again, &epoch, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, server_id);
  g_assert_cmpint (epoch, ==, 2);
}

static void
test_accounts (Fixture       *f,
               gconstpointer  backend)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServerUser) user = NULL;
  g_autoptr(KhServerUser) again = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autofree char *token = NULL;
  g_autofree char *unit = NULL;
  gint64 revoked = -1;

  if (skip_without (f))
    return;
  make_units (f);
  unit = kh_server_find_unit (f->server, "00004", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (unit, ==, f->commune);

  /* What an account must be. */
  g_assert_false (kh_server_user_add (f->server, "has space", "officer", "00004", "12345678", &error));
  g_assert_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kh_server_user_add (f->server, "x", "owner", "00004", "12345678", &error));
  g_assert_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kh_server_user_add (f->server, "x", "officer", "00004", "short", &error));
  g_assert_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (kh_server_user_add (f->server, "x", "officer", "99999", "12345678", &error));
  g_assert_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  user = officer (f, &token);
  g_assert_cmpstr (user->role, ==, "officer");
  g_assert_cmpstr (user->scope_unit_id, ==, f->commune);
  g_assert_false (kh_server_user_add (f->server, "can_bo", "viewer", "01", "12345678", &error));
  g_assert_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID);
  g_clear_error (&error);
  users = kh_server_user_list (f->server, &error);
  g_assert_cmpuint (users->len, ==, 1);
  g_assert_cmpstr (((KhServerUser *) users->pdata[0])->scope_code, ==, "00004");

  /* A wrong password and an unknown user say the same. */
  g_assert_null (kh_server_login (f->server, "can_bo", "wrong password", &token, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED);
  g_clear_error (&error);
  g_assert_null (kh_server_login (f->server, "nobody", "wrong password", &token, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  /* The token stands for the account, with its scope as it is now. */
  g_assert_true (kh_server_user_set_scope (f->server, "can_bo", "01", &error));
  again = kh_server_authenticate (f->server, token, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->scope_unit_id, ==, f->province);
  g_assert_cmpint (again->scope_gen, ==, user->scope_gen + 1);

  g_assert_true (kh_server_token_revoke (f->server, "can_bo", &revoked, &error));
  g_assert_cmpint (revoked, ==, 1);
  g_assert_null (kh_server_authenticate (f->server, token, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  g_assert_true (kh_server_user_disable (f->server, "can_bo", &error));
  g_assert_null (kh_server_login (f->server, "can_bo", "mật khẩu dài", &token, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED);
}

static KhMutationResult *
result_at (KhPushResponse *response,
           guint           i)
{
  return response->results->pdata[i];
}

static void
test_push_and_feed (Fixture       *f,
                    gconstpointer  backend)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServerUser) user = NULL;
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  g_autoptr(KhPushRequest) second = kh_push_request_new ();
  g_autoptr(KhPushResponse) response = NULL;
  g_autoptr(KhPushResponse) response2 = NULL;
  g_autoptr(KhChangesPage) first_page = NULL;
  g_autoptr(KhChangesPage) rest = NULL;
  g_autoptr(KhChangesPage) after = NULL;
  g_autoptr(json_object) stored = NULL;
  g_autofree char *token = NULL;
  g_autofree char *a = kh_uuid_v7_new ();
  g_autofree char *b = kh_uuid_v7_new ();
  g_autofree char *outside = kh_uuid_v7_new ();
  gint64 version = 0;
  KhMutation *again;

  if (skip_without (f))
    return;
  make_units (f);
  user = officer (f, &token);

  g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "person", a, 0,
                                                     person_fields ("Trần \"Văn\"\nA", f->commune)));
  g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "person", b, 0,
                                                     person_fields ("Lê Thị B", f->commune)));
  g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "person", outside, 0,
                                                     person_fields ("Ngoài vùng", f->other)));
  response = kh_server_push (f->server, user, request, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result_at (response, 0)->status, ==, KH_RESULT_APPLIED);
  g_assert_cmpint (result_at (response, 1)->status, ==, KH_RESULT_APPLIED);
  g_assert_cmpint (result_at (response, 2)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result_at (response, 2)->code, ==, "out_of_scope");

  /* The same mutation sent again is a duplicate with its first version; a stale edit of a
   * field changed since is a conflict; a delete is a new version. */
  again = mutation_new (KH_OP_CREATE, "person", a, 0, NULL);
  g_free (again->mutation_id);
  again->mutation_id = g_strdup (((KhMutation *) request->mutations->pdata[0])->mutation_id);
  g_ptr_array_add (second->mutations, again);
  g_ptr_array_add (second->mutations, mutation_new (KH_OP_UPDATE, "person", a, result_at (response, 0)->version,
                                                    person_fields ("Trần Văn A", f->commune)));
  g_ptr_array_add (second->mutations, mutation_new (KH_OP_UPDATE, "person", a, result_at (response, 0)->version,
                                                    person_fields ("Someone else", f->commune)));
  g_ptr_array_add (second->mutations, mutation_new (KH_OP_DELETE, "person", b, result_at (response, 1)->version,
                                                    NULL));
  response2 = kh_server_push (f->server, user, second, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result_at (response2, 0)->status, ==, KH_RESULT_DUPLICATE);
  g_assert_cmpint (result_at (response2, 0)->version, ==, result_at (response, 0)->version);
  g_assert_cmpint (result_at (response2, 1)->status, ==, KH_RESULT_APPLIED);
  g_assert_cmpint (result_at (response2, 2)->status, ==, KH_RESULT_CONFLICT);
  g_assert_cmpint (result_at (response2, 3)->status, ==, KH_RESULT_APPLIED);

  stored = kh_server_get_record (f->server, "person", a, &version, &error);
  g_assert_no_error (error);
  g_assert_cmpint (version, ==, result_at (response2, 1)->version);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (stored, "full_name")), ==, "Trần Văn A");

  /* The feed, one record a page at first: the commune and its two people (one deleted), not
   * the provinces above or beside it. */
  first_page = pull (f, user, NULL, 1);
  g_assert_true (first_page->has_more);
  g_assert_cmpuint (first_page->records->len, ==, 1);
  rest = pull (f, user, first_page->cursor, 100);
  g_assert_false (rest->has_more);
  g_assert_false (rest->reset);
  g_assert_cmpuint (first_page->records->len + rest->records->len, ==, 3);
  for (guint i = 0; i < rest->records->len; i++)
    {
      KhRecord *r = rest->records->pdata[i];

      g_assert_cmpstr (r->updated_by, ==, "can_bo");
      if (strcmp (r->id, b) == 0)
        g_assert_true (r->deleted);
      else if (strcmp (r->id, a) == 0)
        g_assert_cmpint (r->version, ==, version);
    }
  /* Nothing new since: an empty page with the same place. */
  after = pull (f, user, rest->cursor, 100);
  g_assert_cmpuint (after->records->len, ==, 0);
  g_assert_cmpstr (after->cursor, ==, rest->cursor);

  /* A cursor that is not the server's is refused. */
  {
    g_autoptr(GString) text = kh_server_changes (f->server, user, "1.2.x", 10, &error);

    g_assert_null (text);
    g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID);
  }
}

static void
test_integrity_and_tombstones (Fixture       *f,
                               gconstpointer  backend)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServerUser) user = NULL;
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  g_autoptr(KhPushRequest) deletes = kh_push_request_new ();
  g_autoptr(KhPushResponse) response = NULL;
  g_autoptr(KhPushResponse) deleted = NULL;
  g_autoptr(KhChangesPage) page = NULL;
  g_autoptr(KhChangesPage) reset = NULL;
  g_autoptr(KhIntegrity) integrity = NULL;
  g_autoptr(KhIntegrityIds) ids = NULL;
  g_autofree char *token = NULL;
  const KhIntegrityEntry *people;
  guint64 checksum = 0;
  gint64 purged = -1;

  if (skip_without (f))
    return;
  make_units (f);
  user = officer (f, &token);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *id = kh_uuid_v7_new ();
      g_autofree char *name = g_strdup_printf ("Người %d", i);

      g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "person", id, 0,
                                                         person_fields (name, f->commune)));
    }
  response = kh_server_push (f->server, user, request, &error);
  g_assert_no_error (error);

  /* The counts and checksums are those of what the feed gives this user. */
  page = pull (f, user, NULL, 100);
  for (guint i = 0; i < page->records->len; i++)
    {
      KhRecord *r = page->records->pdata[i];

      if (strcmp (r->entity, "person") == 0)
        checksum ^= kh_wire_record_checksum_json (r->entity, r->id, r->version, r->deleted, r->fields);
    }
  integrity = kh_server_integrity (f->server, user, &error);
  g_assert_no_error (error);
  people = kh_integrity_lookup (integrity, "person");
  g_assert_nonnull (people);
  g_assert_cmpint (people->count, ==, 5);
  g_assert_cmphex (people->checksum, ==, checksum);
  g_assert_cmpint (kh_integrity_lookup (integrity, "org_unit")->count, ==, 1);

  /* The ids behind a count, in pages. */
  ids = kh_server_integrity_ids (f->server, user, "person", NULL, NULL, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->ids->len, ==, 3);
  g_assert_true (ids->has_more);
  g_assert_null (kh_server_integrity_ids (f->server, user, "nothing", NULL, NULL, 3, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID);
  g_clear_error (&error);

  /* Two deleted records, then purged at once (a window of 0 days): a client whose cursor is
   * older than the purge must start again. */
  for (guint i = 0; i < 2; i++)
    {
      KhMutation *m = request->mutations->pdata[i];

      g_ptr_array_add (deletes->mutations, mutation_new (KH_OP_DELETE, "person", m->id,
                                                         result_at (response, i)->version, NULL));
    }
  deleted = kh_server_push (f->server, user, deletes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result_at (deleted, 1)->status, ==, KH_RESULT_APPLIED);
  kh_server_set_tombstone_days (f->server, 0);
  g_assert_true (kh_server_purge_tombstones (f->server, &purged, &error));
  g_assert_no_error (error);
  g_assert_cmpint (purged, ==, 2);
  reset = pull (f, user, page->cursor, 100);
  g_assert_true (reset->reset);
  g_clear_pointer (&integrity, kh_integrity_free);
  integrity = kh_server_integrity (f->server, user, &error);
  g_assert_cmpint (kh_integrity_lookup (integrity, "person")->count, ==, 3);
}

/* The purge's statements (kh-server-tombstones.c), as the server runs them. */
static const char *const purge_sql[] = {
  "DELETE FROM mutations WHERE applied_at <= ?",
  "SELECT MAX(version) FROM records WHERE deleted = 1 AND updated_at <= ?",
  "DELETE FROM records WHERE deleted = 1 AND version <= ? AND updated_at <= ?",
};

/* The hourly purge runs inside the write lock: it must not read the mutation log or the
 * records whole, which took 26 s at 10,000,000 records (docs/SCALE.md). Each of its statements
 * has an index to go by: SQLite's plan searches, and PostgreSQL's, with sequential scans made
 * as dear as it can, still finds another way. */
static void
test_purge_plans (Fixture       *f,
                  gconstpointer  backend)
{
  g_autoptr(GError) error = NULL;

  if (skip_without (f))
    return;
  g_assert_true (kh_server_init_schema (f->server, &error));
  for (guint i = 0; i < G_N_ELEMENTS (purge_sql); i++)
    {
      g_autoptr(GString) plan = g_string_new (NULL);

      if (strcmp (backend, "sqlite") == 0)
        {
          sqlite3 *db = NULL;
          sqlite3_stmt *st = NULL;
          g_autofree char *sql = g_strconcat ("EXPLAIN QUERY PLAN ", purge_sql[i], NULL);

          g_assert_cmpint (sqlite3_open_v2 (f->url + strlen ("sqlite:"), &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
          g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
          while (sqlite3_step (st) == SQLITE_ROW)
            g_string_append_printf (plan, "%s\n", (const char *) sqlite3_column_text (st, 3));
          sqlite3_finalize (st);
          sqlite3_close (db);
          g_assert_null (strstr (plan->str, "SCAN "));
          g_assert_nonnull (strstr (plan->str, "USING"));
        }
      else
        {
          PGconn *c = PQconnectdb (f->url);
          g_autoptr(GString) sql = g_string_new ("EXPLAIN ");
          const char *values[2] = { "2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z" };
          PGresult *r;
          int n = 0;

          g_assert_cmpint (PQstatus (c), ==, CONNECTION_OK);
          PQclear (PQexec (c, "SET enable_seqscan = off"));
          for (const char *p = purge_sql[i]; *p; p++)
            if (*p == '?')
              g_string_append_printf (sql, "$%d", ++n);
            else
              g_string_append_c (sql, *p);
          /* The version is bound as text too; PostgreSQL casts it to the column's type. */
          r = PQexecParams (c, sql->str, n, NULL, n == 2 ? (const char *[]) { "1", values[0] } : values,
                            NULL, NULL, 0);
          g_assert_cmpint (PQresultStatus (r), ==, PGRES_TUPLES_OK);
          for (int row = 0; row < PQntuples (r); row++)
            g_string_append_printf (plan, "%s\n", PQgetvalue (r, row, 0));
          PQclear (r);
          PQfinish (c);
          g_assert_null (strstr (plan->str, "Seq Scan"));
        }
    }
}

/* The plan of a small area's feed: each part an index range on records_by_scope, never a
 * walk of records_by_version nor a scan of the table. */
static void
check_feed_by_scope_plan (Fixture    *f,
                          const char *backend)
{
  gboolean pg = strcmp (backend, "postgresql") == 0;
  g_autofree char *feed_sql = _kh_server_feed_by_scope_sql (2, pg);
  g_autoptr(GString) plan = g_string_new (NULL);
  guint uses = 0;

  if (!pg)
    {
      sqlite3 *db = NULL;
      sqlite3_stmt *st = NULL;
      g_autofree char *sql = g_strconcat ("EXPLAIN QUERY PLAN ", feed_sql, NULL);

      g_assert_cmpint (sqlite3_open_v2 (f->url + strlen ("sqlite:"), &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
      while (sqlite3_step (st) == SQLITE_ROW)
        g_string_append_printf (plan, "%s\n", (const char *) sqlite3_column_text (st, 3));
      sqlite3_finalize (st);
      sqlite3_close (db);
      g_assert_null (strstr (plan->str, "SCAN records"));
      g_assert_nonnull (strstr (plan->str, "MERGE (UNION ALL)"));
    }
  else
    {
      PGconn *c = PQconnectdb (f->url);
      g_autoptr(GString) sql = g_string_new ("EXPLAIN ");
      const char *values[9] = { "0", "2", "a", "0", "2", "b", "0", "2", "2" };
      PGresult *r;
      int n = 0;

      g_assert_cmpint (PQstatus (c), ==, CONNECTION_OK);
      PQclear (PQexec (c, "SET enable_seqscan = off"));
      for (const char *p = feed_sql; *p; p++)
        if (*p == '?')
          g_string_append_printf (sql, "$%d", ++n);
        else
          g_string_append_c (sql, *p);
      g_assert_cmpint (n, ==, G_N_ELEMENTS (values));
      r = PQexecParams (c, sql->str, n, NULL, values, NULL, NULL, 0);
      g_assert_cmpint (PQresultStatus (r), ==, PGRES_TUPLES_OK);
      for (int row = 0; row < PQntuples (r); row++)
        g_string_append_printf (plan, "%s\n", PQgetvalue (r, row, 0));
      PQclear (r);
      PQfinish (c);
      g_test_message ("%s", plan->str);
      g_assert_null (strstr (plan->str, "Seq Scan"));
      g_assert_nonnull (strstr (plan->str, "Merge Append"));
    }
  g_test_message ("%s", plan->str);
  g_assert_null (strstr (plan->str, "records_by_version"));
  /* One range for the shared records and one for each of the two units, merged in order. */
  g_assert_null (strstr (plan->str, "TEMP B-TREE"));
  for (const char *p = plan->str; (p = strstr (p, "records_by_scope")) != NULL; p++)
    uses++;
  g_assert_cmpuint (uses, ==, 3);
}

static guint
count_lines (const char *text,
             const char *prefix)
{
  guint n = 0;

  for (const char *p = text; p != NULL && *p; p = strchr (p, '\n'), p = p != NULL ? p + 1 : NULL)
    if (g_str_has_prefix (p, prefix))
      n++;
  return n;
}

/* The whole feed of @user, @limit records a page: each page's records and cursor. */
static GString *
feed_pages (Fixture            *f,
            const KhServerUser *user,
            gint64              limit,
            guint              *n_pages)
{
  GString *out = g_string_new (NULL);
  g_autofree char *cursor = NULL;
  gboolean more = TRUE;

  *n_pages = 0;
  while (more)
    {
      g_autoptr(KhChangesPage) page = pull (f, user, cursor, limit);

      for (guint i = 0; i < page->records->len; i++)
        {
          KhRecord *r = page->records->pdata[i];

          g_string_append_printf (out, "%s %s %" G_GINT64_FORMAT " %d\n", r->entity, r->id, r->version, r->deleted);
        }
      g_string_append_printf (out, "page %s %d\n", page->cursor, page->has_more);
      more = page->has_more;
      g_free (cursor);
      cursor = g_strdup (page->cursor);
      g_assert_cmpuint (++*n_pages, <, 100);
    }
  return out;
}

/* A commune's feed walks its units on records_by_scope; its pages are the version walk's, with
 * the shared records (no unit), its own and its village's, and not another province's. */
static void
test_feed_small_area (Fixture       *f,
                      gconstpointer  backend)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServerUser) user = NULL;
  g_autoptr(KhPushRequest) units = kh_push_request_new ();
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  g_autoptr(KhPushResponse) response = NULL;
  g_autoptr(GString) by_scope = NULL;
  g_autoptr(GString) by_version = NULL;
  g_autofree char *token = NULL;
  g_autofree char *village = kh_uuid_v7_new ();
  g_autofree char *far = kh_uuid_v7_new ();
  guint pages_scope = 0, pages_version = 0, walks;

  if (skip_without (f))
    return;
  make_units (f);
  g_ptr_array_add (units->mutations, mutation_new (KH_OP_CREATE, "org_unit", village, 0,
                                                   unit_fields ("0000401", "Thôn 1", "village", f->commune)));
  g_ptr_array_add (units->mutations, mutation_new (KH_OP_CREATE, "org_unit", far, 0,
                                                   unit_fields ("26734", "Bến Nghé", "ward", f->other)));
  g_clear_pointer (&response, kh_push_response_free);
  response = kh_server_apply_as_system (f->server, "import", units, &error);
  g_assert_no_error (error);
  user = officer (f, &token);

  /* Shared, own, the village's and foreign records, interleaved in version order. */
  for (guint i = 0; i < 7; i++)
    {
      g_autofree char *name = g_strdup_printf ("Người %u", i);
      g_auto(GStrv) ids = g_new0 (char *, 6);
      json_object *set = json_object_new_object ();

      for (guint k = 0; k < 5; k++)
        ids[k] = kh_uuid_v7_new ();
      json_object_object_add (set, "name", json_object_new_string (name));
      json_object_object_add (set, "model", json_object_new_string ("clan"));
      json_object_object_add (set, "method", json_object_new_string ("checklist"));
      if (i % 3 != 2)
        g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "criteria_set", ids[0], 0, set));
      else
        json_object_put (set);
      g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "person", ids[1], 0,
                                                         person_fields (name, i % 2 ? village : f->commune)));
      for (guint k = 0; k < 3; k++)
        g_ptr_array_add (request->mutations, mutation_new (KH_OP_CREATE, "person", ids[2 + k], 0,
                                                           person_fields (name, k % 2 ? far : f->other)));
    }
  g_clear_pointer (&response, kh_push_response_free);
  response = kh_server_apply_as_system (f->server, "import", request, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < response->results->len; i++)
    g_assert_cmpint (((KhMutationResult *) response->results->pdata[i])->status, ==, KH_RESULT_APPLIED);

  check_feed_by_scope_plan (f, backend);

  g_assert_cmpuint (_kh_server_feed_scope_walk_units, >=, 2);
  walks = _kh_server_feed_scope_walks;
  by_scope = feed_pages (f, user, 2, &pages_scope);
  g_assert_cmpuint (_kh_server_feed_scope_walks - walks, ==, pages_scope);
  _kh_server_feed_scope_walk_units = 0;
  walks = _kh_server_feed_scope_walks;
  by_version = feed_pages (f, user, 2, &pages_version);
  g_assert_cmpuint (_kh_server_feed_scope_walks, ==, walks);
  _kh_server_feed_scope_walk_units = KH_FEED_SCOPE_WALK_UNITS;
  g_test_message ("%s", by_scope->str);
  g_assert_cmpstr (by_scope->str, ==, by_version->str);
  g_assert_cmpuint (pages_scope, >=, 5);
  /* The five shared sets and the seven people of the commune and its village, none of the
   * 21 of the other province. */
  g_assert_cmpuint (count_lines (by_scope->str, "criteria_set "), ==, 5);
  g_assert_cmpuint (count_lines (by_scope->str, "person "), ==, 7);
  g_assert_null (strstr (by_scope->str, far));
}

int
main (int argc, char **argv)
{
  static const char *const backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      struct
      {
        const char *name;
        void (*func) (Fixture *, gconstpointer);
      } tests[] = {
        { "meta", test_meta },
        { "accounts", test_accounts },
        { "push-and-feed", test_push_and_feed },
        { "integrity-and-tombstones", test_integrity_and_tombstones },
        { "purge-plans", test_purge_plans },
        { "feed-small-area", test_feed_small_area },
      };

      for (guint t = 0; t < G_N_ELEMENTS (tests); t++)
        {
          g_autofree char *path = g_strdup_printf ("/server/core/%s/%s", backends[i], tests[t].name);

          g_test_add (path, Fixture, backends[i], fixture_set_up, tests[t].func, fixture_tear_down);
        }
    }
  return g_test_run ();
}
