/* test-store.c: the local store's write rules
 *
 * A write is one transaction with its outbox entry and audit rows: when any part fails
 * (validation, a reference, SQLite itself) nothing of it remains, also inside a batch. The
 * outbox is coalesced per record while unsent and never touched once sent. Deletes are
 * tombstones. References must point at live records; unit trees have no cycles. Search folds
 * Vietnamese and follows edits and deletes, also across a bulk load's deferred upkeep.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-store-sql.h"
#include "kh-schema.h"
#include "kh-search-build.h"
#include "kh-uuid.h"
#include "kh-test-store.h"

typedef struct
{
  char    *dir;
  KhStore *store;
  char    *unit;     /* a province */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *v = json_tokener_parse ("{\"code\": \"56\", \"name\": \"Tỉnh Khánh Hòa\", \"kind\": \"province\"}");

  f->dir = kh_test_tmpdir ();
  f->store = kh_test_open_store (f->dir, "s.db");
  f->unit = kh_store_create (f->store, "org_unit", v, &error);
  g_assert_no_error (error);
  json_object_put (v);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit);
}

static char *
add_person (Fixture    *f,
            const char *name,
            GError    **error)
{
  json_object *v = json_object_new_object ();
  char *id;

  json_object_object_add (v, "full_name", json_object_new_string (name));
  json_object_object_add (v, "org_unit_id", json_object_new_string (f->unit));
  id = kh_store_create (f->store, "person", v, error);
  json_object_put (v);
  return id;
}

static gboolean
set_field (Fixture     *f,
           const char  *entity,
           const char  *id,
           const char  *json,
           GError     **error)
{
  json_object *v = json_tokener_parse (json);
  gboolean ok;

  g_assert_nonnull (v);
  ok = kh_store_update (f->store, entity, id, v, error);
  json_object_put (v);
  return ok;
}

static void
exec_sql (Fixture    *f,
          const char *sql)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kh_sqlite_exec (kh_store_get_db (f->store), sql, &error));
  g_assert_no_error (error);
}

static json_object *
outbox_for (Fixture    *f,
            const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *all = kh_store_list_outbox (f->store, &error);
  json_object *mine = json_object_new_array ();

  g_assert_no_error (error);
  for (size_t i = 0; i < json_object_array_length (all); i++)
    {
      json_object *row = json_object_array_get_idx (all, i);

      if (strcmp (json_object_get_string (json_object_object_get (row, "record_id")), id) == 0)
        json_object_array_add (mine, json_object_get (row));
    }
  json_object_put (all);
  return mine;
}

static char *
fields_of (json_object *outbox_row)
{
  return g_strdup (json_object_to_json_string_ext (json_object_object_get (outbox_row, "fields"),
                                                   JSON_C_TO_STRING_PLAIN));
}

/* What the sync engine does when the server accepted a record's pending entries. */
static void
acknowledge (Fixture    *f,
             const char *entity,
             const char *id,
             int         version)
{
  g_autofree char *sql = g_strdup_printf ("DELETE FROM outbox WHERE record_id = '%s';"
                                          "UPDATE %s SET version = %d WHERE id = '%s';",
                                          id, entity, version, id);
  exec_sql (f, sql);
}

/* Transactions ------------------------------------------------------------------------------ */

static void
test_store_failed_write_leaves_nothing (Fixture       *f,
                                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ok_id = NULL;
  g_autofree char *bad = NULL;
  json_object *before;
  json_object *after;
  gint64 outbox, audit;

  ok_id = add_person (f, "Trần Thị Lan", &error);
  g_assert_no_error (error);
  outbox = kh_test_count (f->store, "outbox");
  audit = kh_test_count (f->store, "audit");

  /* SQLite refuses the audit row (the last statement of the write): the record and its
   * outbox entry, already inserted, must go too. */
  exec_sql (f, "CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON main.audit "
               "WHEN new.new_value LIKE '%FAIL%' OR new.field = 'phone' "
               "BEGIN SELECT RAISE(ABORT, 'forced failure'); END;");
  bad = add_person (f, "FAIL Nguyễn", &error);
  g_assert_null (bad);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE);
  g_assert_nonnull (strstr (error->message, "forced failure"));
  g_clear_error (&error);
  kh_test_assert_counts (f->store, "person", 1, 1, 1);
  g_assert_cmpint (kh_test_count (f->store, "outbox"), ==, outbox);
  g_assert_cmpint (kh_test_count (f->store, "audit"), ==, audit);
  g_assert_cmpint (kh_test_count (f->store, "person_fts"), ==, 1);

  /* A failing edit leaves the record, its outbox entry and its history as they were. */
  before = kh_store_get (f->store, "person", ok_id, NULL);
  g_assert_false (set_field (f, "person", ok_id, "{\"phone\": \"0905123456\", \"address\": \"Thôn 1\"}", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE);
  g_clear_error (&error);
  after = kh_store_get (f->store, "person", ok_id, NULL);
  g_assert_cmpstr (json_object_to_json_string (before), ==, json_object_to_json_string (after));
  json_object_put (after);
  kh_test_assert_counts (f->store, "person", 1, 1, 1);
  {
    json_object *ob = outbox_for (f, ok_id);
    g_autofree char *fields = fields_of (json_object_array_get_idx (ob, 0));

    g_assert_cmpstr (fields, ==, "[\"full_name\",\"org_unit_id\"]");
    json_object_put (ob);
  }
  exec_sql (f, "DROP TRIGGER temp.fail_audit;");

  /* The same when the outbox refuses: a delete stays undone. */
  exec_sql (f, "CREATE TEMP TRIGGER fail_outbox BEFORE DELETE ON main.outbox "
               "BEGIN SELECT RAISE(ABORT, 'forced failure'); END;");
  g_assert_false (kh_store_delete (f->store, "person", ok_id, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE);
  g_clear_error (&error);
  after = kh_store_get (f->store, "person", ok_id, NULL);
  g_assert_cmpstr (json_object_to_json_string (before), ==, json_object_to_json_string (after));
  json_object_put (after);
  json_object_put (before);
  kh_test_assert_counts (f->store, "person", 1, 1, 1);
  exec_sql (f, "DROP TRIGGER temp.fail_outbox;");

  /* A bad reference leaves nothing either. */
  {
    json_object *v = json_tokener_parse ("{\"full_name\": \"Lê Văn Tám\", "
                                         "\"org_unit_id\": \"01900000-0000-7000-8000-000000000000\"}");
    g_autofree char *id = kh_store_create (f->store, "person", v, &error);

    g_assert_null (id);
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    g_assert_true (g_str_has_prefix (error->message, "Unit: "));
    g_clear_error (&error);
    json_object_put (v);
    kh_test_assert_counts (f->store, "person", 1, 1, 1);
  }

  /* And the store works normally afterwards. */
  g_assert_true (set_field (f, "person", ok_id, "{\"phone\": \"0905123456\"}", &error));
  g_assert_no_error (error);
  kh_test_assert_counts (f->store, "person", 1, 1, 2);
}

static void
count_changed_cb (KhStore    *store,
                  const char *entity,
                  const char *id,
                  int        *count)
{
  (*count)++;
}

static void
test_store_batch (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  int changed = 0;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autofree char *d = NULL;

  exec_sql (f, "CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON main.audit "
               "WHEN new.new_value LIKE '%FAIL%' BEGIN SELECT RAISE(ABORT, 'forced failure'); END;");

  g_signal_connect (f->store, "changed", G_CALLBACK (count_changed_cb), &changed);

  /* Inside a batch a failed write undoes itself and nothing else. */
  g_assert_true (kh_store_begin (f->store, &error));
  a = add_person (f, "Phạm Văn A", &error);
  g_assert_no_error (error);
  b = add_person (f, "FAIL B", &error);
  g_assert_null (b);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE);
  g_clear_error (&error);
  {
    json_object *v = json_tokener_parse ("{\"full_name\": \"Bad\", \"birth_date\": \"2021-02-31\"}");
    g_autofree char *x = NULL;

    json_object_object_add (v, "org_unit_id", json_object_new_string (f->unit));
    x = kh_store_create (f->store, "person", v, &error);
    g_assert_null (x);
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    g_clear_error (&error);
    json_object_put (v);
  }
  {
    json_object *v = json_tokener_parse ("{\"full_name\": \"Bad ref\", "
                                         "\"org_unit_id\": \"01900000-0000-7000-8000-000000000000\"}");
    g_autofree char *x = kh_store_create (f->store, "person", v, &error);

    g_assert_null (x);
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    g_clear_error (&error);
    json_object_put (v);
  }
  c = add_person (f, "Phạm Văn C", &error);
  g_assert_no_error (error);
  /* Nobody is told of a change before it is committed. */
  g_assert_cmpint (changed, ==, 0);
  g_assert_true (kh_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpint (changed, ==, 2);
  kh_test_assert_counts (f->store, "person", 2, 2, 2);

  /* A batch rolled back leaves nothing of its writes. */
  g_assert_true (kh_store_begin (f->store, &error));
  d = add_person (f, "Phạm Văn D", &error);
  g_assert_no_error (error);
  g_assert_true (set_field (f, "person", a, "{\"phone\": \"0912000000\"}", &error));
  g_assert_true (kh_store_delete (f->store, "person", c, &error));
  kh_store_rollback (f->store);
  /* …nor of changes that were rolled back. */
  g_assert_cmpint (changed, ==, 2);
  kh_test_assert_counts (f->store, "person", 2, 2, 2);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM person WHERE phone IS NOT NULL OR deleted = 1"), ==, 0);
  {
    json_object *r = kh_store_get (f->store, "person", d, &error);

    g_assert_null (r);
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
  }
}

/* The outbox --------------------------------------------------------------------------------- */

static void
test_store_outbox_coalesce (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *p = add_person (f, "Võ Thị Sáu", &error);
  g_autofree char *q = NULL;
  json_object *ob;
  g_autofree char *fields = NULL;
  g_autofree char *mutation = NULL;

  g_assert_no_error (error);

  /* create + edit: one create carrying the union of the fields. */
  g_assert_true (set_field (f, "person", p, "{\"phone\": \"0905000001\", \"full_name\": \"Võ Thị Sáu\"}", &error));
  g_assert_true (set_field (f, "person", p, "{\"address\": \"Thôn 2\"}", &error));
  g_assert_no_error (error);
  ob = outbox_for (f, p);
  g_assert_cmpuint (json_object_array_length (ob), ==, 1);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (ob, 0), "op")), ==, "create");
  fields = fields_of (json_object_array_get_idx (ob, 0));
  g_assert_cmpstr (fields, ==, "[\"full_name\",\"org_unit_id\",\"phone\",\"address\"]");
  json_object_put (ob);
  g_clear_pointer (&fields, g_free);

  /* edit + edit after the create was accepted: one update, base version of the first. */
  acknowledge (f, "person", p, 7);
  g_assert_true (set_field (f, "person", p, "{\"phone\": \"0905000002\"}", &error));
  g_assert_true (set_field (f, "person", p, "{\"gender\": \"female\", \"phone\": \"0905000003\"}", &error));
  g_assert_no_error (error);
  ob = outbox_for (f, p);
  g_assert_cmpuint (json_object_array_length (ob), ==, 1);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (ob, 0), "op")), ==, "update");
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (json_object_array_get_idx (ob, 0), "base_version")), ==, 7);
  fields = fields_of (json_object_array_get_idx (ob, 0));
  g_assert_cmpstr (fields, ==, "[\"phone\",\"gender\"]");
  mutation = g_strdup (json_object_get_string (json_object_object_get (json_object_array_get_idx (ob, 0), "mutation_id")));
  json_object_put (ob);
  g_clear_pointer (&fields, g_free);

  /* Once an entry was sent (attempts > 0) it is never modified: a retry must send exactly
   * what the server may already have applied. The next edit gets its own entry. */
  exec_sql (f, "UPDATE outbox SET attempts = 1");
  {
    g_autofree char *snapshot_sql = g_strdup_printf ("SELECT count(*) FROM outbox WHERE mutation_id = '%s' "
                                                     "AND op = 'update' AND fields = '[\"phone\",\"gender\"]' "
                                                     "AND attempts = 1", mutation);

    g_assert_true (set_field (f, "person", p, "{\"address\": \"Thôn 3\"}", &error));
    g_assert_true (kh_store_delete (f->store, "person", p, &error));
    g_assert_no_error (error);
    g_assert_cmpint (kh_test_query_int (f->store, snapshot_sql), ==, 1);
  }
  ob = outbox_for (f, p);
  g_assert_cmpuint (json_object_array_length (ob), ==, 2);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (ob, 1), "op")), ==, "delete");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (ob, 1), "mutation_id")), !=, mutation);
  json_object_put (ob);

  /* create + delete before sending: the server never needs to hear of it. */
  q = add_person (f, "Bùi Văn Tạm", &error);
  g_assert_no_error (error);
  g_assert_true (set_field (f, "person", q, "{\"phone\": \"0905000009\"}", &error));
  g_assert_true (kh_store_delete (f->store, "person", q, &error));
  g_assert_no_error (error);
  ob = outbox_for (f, q);
  g_assert_cmpuint (json_object_array_length (ob), ==, 0);
  json_object_put (ob);
  /* …and restoring it makes it a create again, with all its fields. */
  g_assert_true (kh_store_restore (f->store, "person", q, &error));
  g_assert_no_error (error);
  ob = outbox_for (f, q);
  g_assert_cmpuint (json_object_array_length (ob), ==, 1);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (ob, 0), "op")), ==, "create");
  fields = fields_of (json_object_array_get_idx (ob, 0));
  g_assert_cmpstr (fields, ==, "[\"full_name\",\"org_unit_id\",\"phone\"]");
  json_object_put (ob);

  /* An edit that changes nothing is no change: no outbox entry, no audit row. */
  {
    gint64 o = kh_test_count (f->store, "outbox");
    gint64 a = kh_test_count (f->store, "audit");

    g_assert_true (set_field (f, "person", q, "{\"phone\": \"0905000009\"}", &error));
    g_assert_no_error (error);
    g_assert_cmpint (kh_test_count (f->store, "outbox"), ==, o);
    g_assert_cmpint (kh_test_count (f->store, "audit"), ==, a);
  }
  g_assert_cmpint (kh_store_count_pending (f->store), ==, kh_test_count (f->store, "outbox"));
}

/* Audit -------------------------------------------------------------------------------------- */

static void
test_store_audit (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *p = add_person (f, "Đặng Thùy Trâm", &error);
  json_object *h;
  json_object *row;
  g_autofree char *now = kh_store_now ();

  g_assert_no_error (error);
  kh_store_set_actor (f->store, "can-bo-xa");
  g_assert_true (set_field (f, "person", p, "{\"phone\": \"0905111222\", \"full_name\": \"Đặng Thuỳ Trâm\"}", &error));
  g_assert_true (set_field (f, "person", p, "{\"phone\": null}", &error));
  g_assert_true (kh_store_delete (f->store, "person", p, &error));
  g_assert_true (kh_store_restore (f->store, "person", p, &error));
  g_assert_no_error (error);

  h = kh_store_history (f->store, "person", p, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (h), ==, 6);

  row = json_object_array_get_idx (h, 0);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "action")), ==, "create");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "actor")), ==, "tester");
  g_assert_nonnull (strstr (json_object_get_string (json_object_object_get (row, "new_value")), "Đặng Thùy Trâm"));
  /* When: an ISO timestamp in UTC, not after now. */
  g_assert_true (g_str_has_suffix (json_object_get_string (json_object_object_get (row, "at")), "Z"));
  g_assert_cmpint (strcmp (json_object_get_string (json_object_object_get (row, "at")), now), <=, 0);

  row = json_object_array_get_idx (h, 1);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "actor")), ==, "can-bo-xa");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "action")), ==, "update");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "field")), ==, "phone");
  g_assert_null (json_object_object_get (row, "old_value"));
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "new_value")), ==, "0905111222");

  row = json_object_array_get_idx (h, 2);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "field")), ==, "full_name");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "old_value")), ==, "Đặng Thùy Trâm");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "new_value")), ==, "Đặng Thuỳ Trâm");

  row = json_object_array_get_idx (h, 3);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "field")), ==, "phone");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (row, "old_value")), ==, "0905111222");
  g_assert_null (json_object_object_get (row, "new_value"));

  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (h, 4), "action")), ==, "delete");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (h, 5), "action")), ==, "restore");
  json_object_put (h);

  /* The record shows who changed it last. */
  h = kh_store_get (f->store, "person", p, &error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (h, "updated_by")), ==, "can-bo-xa");
  g_assert_null (json_object_object_get (h, "phone"));
  json_object_put (h);

  h = kh_store_history (f->store, "person", "01900000-0000-7000-8000-000000000000", &error);
  g_assert_null (h);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
}

/* Tombstones --------------------------------------------------------------------------------- */

/* Whether searching @text finds @id (any record, when @id is NULL). */
static gboolean
search_finds (Fixture    *f,
              const char *text,
              const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *hits = kh_store_search (f->store, text, NULL, 50, &error);
  gboolean found = FALSE;

  g_assert_no_error (error);
  for (size_t i = 0; i < json_object_array_length (hits); i++)
    if (id == NULL || strcmp (json_object_get_string (json_object_object_get (json_object_array_get_idx (hits, i), "id")), id) == 0)
      found = TRUE;
  json_object_put (hits);
  return found;
}

static gint64
list_length (Fixture  *f,
             KhQuery  *query)
{
  g_autoptr(GError) error = NULL;
  json_object *rows = kh_store_list (f->store, "person", query, &error);
  gint64 n;

  g_assert_no_error (error);
  n = (gint64) json_object_array_length (rows);
  json_object_put (rows);
  g_assert_cmpint (kh_store_count (f->store, "person", query, NULL), ==, n);
  return n;
}

static void
test_store_tombstone (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *p = add_person (f, "Hồ Xuân Hương", &error);
  g_autofree char *other = add_person (f, "Hồ Văn Khác", &error);
  KhQuery all = { .include_deleted = TRUE };
  json_object *r;

  g_assert_no_error (error);
  g_assert_true (search_finds (f, "ho xuan", p));
  g_assert_cmpint (list_length (f, NULL), ==, 2);

  g_assert_true (kh_store_delete (f->store, "person", p, &error));
  g_assert_no_error (error);
  /* The row stays, marked deleted, hidden from lists and search. */
  g_assert_cmpint (kh_test_count (f->store, "person"), ==, 2);
  r = kh_store_get (f->store, "person", p, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_get_boolean (json_object_object_get (r, "deleted")));
  g_assert_cmpstr (json_object_get_string (json_object_object_get (r, "full_name")), ==, "Hồ Xuân Hương");
  json_object_put (r);
  g_assert_cmpint (list_length (f, NULL), ==, 1);
  g_assert_cmpint (list_length (f, &all), ==, 2);
  g_assert_false (search_finds (f, "ho xuan", p));
  g_assert_true (search_finds (f, "ho", other));

  /* A deleted record cannot be edited or deleted again. */
  g_assert_false (set_field (f, "person", p, "{\"phone\": \"0905000000\"}", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED);
  g_clear_error (&error);
  g_assert_false (kh_store_delete (f->store, "person", p, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED);
  g_clear_error (&error);

  g_assert_true (kh_store_restore (f->store, "person", p, &error));
  g_assert_no_error (error);
  g_assert_cmpint (list_length (f, NULL), ==, 2);
  g_assert_true (search_finds (f, "ho xuan", p));
  g_assert_false (kh_store_restore (f->store, "person", p, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  /* Unknown ids and kinds are errors, not crashes. */
  g_assert_false (kh_store_delete (f->store, "person", "01900000-0000-7000-8000-000000000000", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (kh_store_delete (f->store, "no_such_thing", p, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
}

/* References ------------------------------------------------------------------------------- */

static char *
add_unit (Fixture    *f,
          const char *code,
          const char *parent)
{
  g_autoptr(GError) error = NULL;
  json_object *v = json_object_new_object ();
  char *id;

  json_object_object_add (v, "code", json_object_new_string (code));
  json_object_object_add (v, "name", json_object_new_string (code));
  json_object_object_add (v, "kind", json_object_new_string (parent != NULL ? "school" : "commune"));
  if (parent != NULL)
    json_object_object_add (v, "parent_id", json_object_new_string (parent));
  id = kh_store_create (f->store, "org_unit", v, &error);
  g_assert_no_error (error);
  json_object_put (v);
  return id;
}

static void
test_store_references (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = add_unit (f, "A", f->unit);
  g_autofree char *b = add_unit (f, "B", a);
  g_autofree char *c = add_unit (f, "C", b);
  g_autofree char *gone = add_unit (f, "GONE", NULL);
  g_autofree char *p = add_person (f, "Lý Thường Kiệt", &error);
  g_autofree char *sql = NULL;
  json_object *v;
  char *id;

  g_assert_no_error (error);
  kh_test_assert_counts (f->store, "org_unit", 5, 5, 5);

  /* Cycles in the unit tree are refused, however long. */
  sql = g_strdup_printf ("{\"parent_id\": \"%s\"}", c);
  g_assert_false (set_field (f, "org_unit", a, sql, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Parent unit: "));
  g_clear_error (&error);
  g_free (sql);
  sql = g_strdup_printf ("{\"parent_id\": \"%s\"}", a);
  g_assert_false (set_field (f, "org_unit", a, sql, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);
  /* Moving a unit elsewhere in the tree is fine. */
  g_free (sql);
  sql = g_strdup_printf ("{\"parent_id\": \"%s\"}", f->unit);
  g_assert_true (set_field (f, "org_unit", c, sql, &error));
  g_assert_no_error (error);
  kh_test_assert_counts (f->store, "org_unit", 5, 5, 6);

  /* A deleted target is refused, on create and on edit. */
  g_assert_true (kh_store_delete (f->store, "org_unit", gone, &error));
  v = json_object_new_object ();
  json_object_object_add (v, "full_name", json_object_new_string ("Ngô Quyền"));
  json_object_object_add (v, "org_unit_id", json_object_new_string (gone));
  id = kh_store_create (f->store, "person", v, &error);
  g_assert_null (id);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Unit: "));
  g_clear_error (&error);
  json_object_put (v);
  g_free (sql);
  sql = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", gone);
  g_assert_false (set_field (f, "person", p, sql, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  /* A reference to the wrong kind of record is refused: an id of a person is no unit. */
  g_free (sql);
  sql = g_strdup_printf ("{\"org_unit_id\": \"%s\"}", p);
  g_assert_false (set_field (f, "person", p, sql, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  /* A registration's subject is checked against its kind, also when only the kind changes. */
  v = json_object_new_object ();
  json_object_object_add (v, "model", json_object_new_string ("citizen"));
  json_object_object_add (v, "year", json_object_new_int (2024));
  json_object_object_add (v, "org_unit_id", json_object_new_string (f->unit));
  json_object_object_add (v, "subject_kind", json_object_new_string ("person"));
  json_object_object_add (v, "subject_id", json_object_new_string (a));
  json_object_object_add (v, "subject_name", json_object_new_string ("Lý Thường Kiệt"));
  json_object_object_add (v, "status", json_object_new_string ("registered"));
  id = kh_store_create (f->store, "registration", v, &error);
  g_assert_null (id);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Subject: "));
  g_clear_error (&error);
  json_object_object_add (v, "subject_id", json_object_new_string (p));
  id = kh_store_create (f->store, "registration", v, &error);
  g_assert_no_error (error);
  g_assert_true (set_field (f, "registration", id, "{\"model\": \"community\", \"subject_kind\": \"org_unit\"}", &error) == FALSE);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Subject: "));
  g_clear_error (&error);
  json_object_put (v);
  g_free (id);
}

/* Search ------------------------------------------------------------------------------------- */

static void
test_store_search (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *duc = add_person (f, "Nguyễn Văn Đức", &error);
  g_autofree char *dung = add_person (f, "Nguyễn Thị Dung", &error);
  g_autofree char *tran = add_person (f, "Trần Đức Thắng", &error);
  static const char *finds_duc[] = {
    "nguyen van duc", "Nguyen Van Duc", "nguyễn văn đức", "NGUYỄN VĂN ĐỨC", "Nguyễn Văn Đức",
    "ng", "nguy", "nguyen v", "nguyen van d", "ng va du", "duc nguyen", "  nguyễn,  văn  ",
    "Nguye\xcc\x82\xcc\x83n", /* decomposed input */
  };
  json_object *hits;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (finds_duc); i++)
    if (!search_finds (f, finds_duc[i], duc))
      g_error ("“%s” did not find Nguyễn Văn Đức", finds_duc[i]);

  /* Every word must match: "nguyen van duc" is not Nguyễn Thị Dung. */
  g_assert_false (search_finds (f, "nguyen van duc", dung));
  g_assert_true (search_finds (f, "nguyen d", dung));
  g_assert_true (search_finds (f, "duc", tran));
  g_assert_false (search_finds (f, "duc", dung));
  g_assert_false (search_finds (f, "van duc tran", duc));

  /* FTS5 syntax typed by a person is only text. */
  hits = kh_store_search (f->store, "\"nguyen OR* NEAR(", NULL, 10, &error);
  g_assert_no_error (error);
  json_object_put (hits);
  hits = kh_store_search (f->store, "*** ", NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 0);
  json_object_put (hits);

  /* The hit says what it is. */
  hits = kh_store_search (f->store, "nguyen van duc", "person", 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 1);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (hits, 0), "title")), ==, "Nguyễn Văn Đức");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (hits, 0), "entity")), ==, "person");
  json_object_put (hits);
  hits = kh_store_search (f->store, "nguyen", "org_unit", 10, &error);
  g_assert_cmpuint (json_object_array_length (hits), ==, 0);
  json_object_put (hits);

  /* Edits are re-indexed: the old name no longer finds it, the new one does. */
  g_assert_true (set_field (f, "person", duc, "{\"full_name\": \"Lê Minh Khôi\"}", &error));
  g_assert_no_error (error);
  g_assert_false (search_finds (f, "nguyen van duc", duc));
  g_assert_true (search_finds (f, "le minh khoi", duc));
  g_assert_true (search_finds (f, "Lê Mi", duc));
  /* An edit of a field outside the index keeps the record findable. */
  g_assert_true (set_field (f, "person", duc, "{\"phone\": \"0905123123\"}", &error));
  g_assert_true (search_finds (f, "khoi", duc));

  /* Deleted records are not found; restored ones are. */
  g_assert_true (kh_store_delete (f->store, "person", duc, &error));
  g_assert_false (search_finds (f, "le minh khoi", duc));
  g_assert_true (kh_store_restore (f->store, "person", duc, &error));
  g_assert_true (search_finds (f, "le minh khoi", duc));

  /* Other entities' search fields: units by name and code, award lists by title. */
  g_assert_true (search_finds (f, "khanh hoa", f->unit));
  g_assert_true (search_finds (f, "tinh kh", f->unit));
}

static char *
add_named_unit (Fixture    *f,
                const char *name,
                const char *kind,
                const char *parent)
{
  g_autoptr(GError) error = NULL;
  json_object *v = json_object_new_object ();
  g_autofree char *code = g_strdup_printf ("%u", g_random_int_range (10000, 99999));
  char *id;

  json_object_object_add (v, "code", json_object_new_string (code));
  json_object_object_add (v, "name", json_object_new_string (name));
  json_object_object_add (v, "kind", json_object_new_string (kind));
  json_object_object_add (v, "parent_id", json_object_new_string (parent));
  id = kh_store_create (f->store, "org_unit", v, &error);
  g_assert_no_error (error);
  json_object_put (v);
  return id;
}

/* Raw rows, as a pulled page writes them: no reference is checked, any order. */
static void
insert_unit_row (Fixture    *f,
                 const char *id,
                 const char *name,
                 const char *kind,
                 const char *parent)
{
  g_autofree char *sql = g_strdup_printf (
    "INSERT INTO org_unit (id, version, created_at, updated_at, code, name, kind, parent_id) "
    "VALUES ('%s', 1, '2025-07-01T00:00:00Z', '2025-07-01T00:00:00Z', '%s', '%s', '%s', '%s')",
    id, id + 30, name, kind, parent);

  exec_sql (f, sql);
}

/* A unit is found by its path: "thon 1 suoi hiep" is the "Thôn 1" of Xã Suối Hiệp, whichever
 * order the words come in and whichever unit each names, and the index follows a commune
 * renamed, a village moved, a commune that arrives after its villages (a pull's order), and a
 * bulk load, which indexes every record at its end. */
static void
test_store_search_path (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *hiep = add_named_unit (f, "Xã Suối Hiệp", "commune", f->unit);
  g_autofree char *cat = add_named_unit (f, "Xã Suối Cát", "commune", f->unit);
  g_autofree char *hiep_1 = add_named_unit (f, "Thôn 1", "village", hiep);
  g_autofree char *cat_1 = add_named_unit (f, "Thôn 1", "village", cat);
  g_autofree char *move = NULL;
  const char *late_commune = "8a6f0c2e-0000-4000-8000-000000000001";
  const char *early_village = "8a6f0c2e-0000-4000-8000-000000000002";
  const char *bulk_commune = "8a6f0c2e-0000-4000-8000-000000000003";
  const char *bulk_village = "8a6f0c2e-0000-4000-8000-000000000004";

  g_assert_true (search_finds (f, "thon 1 suoi hiep", hiep_1));
  g_assert_false (search_finds (f, "thon 1 suoi hiep", cat_1));
  g_assert_true (search_finds (f, "suoi hiep thon 1", hiep_1));
  g_assert_true (search_finds (f, "Thôn 1 Suối Hiệp", hiep_1));
  g_assert_true (search_finds (f, "th 1 su hi", hiep_1));
  g_assert_true (search_finds (f, "thon 1 khanh hoa", hiep_1));
  g_assert_true (search_finds (f, "thon 1 khanh hoa", cat_1));
  g_assert_true (search_finds (f, "suoi cat thon", cat_1));
  g_assert_false (search_finds (f, "suoi cat thon", hiep_1));
  /* The commune itself is found by its own name as before. */
  g_assert_true (search_finds (f, "xa suoi hiep", hiep));

  /* A commune named again: its villages follow at once. */
  g_assert_true (set_field (f, "org_unit", hiep, "{\"name\": \"Xã Suối Tiên\"}", &error));
  g_assert_no_error (error);
  g_assert_true (search_finds (f, "thon 1 suoi tien", hiep_1));
  g_assert_false (search_finds (f, "thon 1 suoi hiep", hiep_1));
  /* The province above both, named again: its villages two levels down follow too. */
  g_assert_true (set_field (f, "org_unit", f->unit, "{\"name\": \"Tỉnh Phú Khánh\"}", &error));
  g_assert_true (search_finds (f, "thon 1 phu khanh suoi tien", hiep_1));
  g_assert_false (search_finds (f, "thon 1 khanh hoa", cat_1));

  /* A village moved to another commune is found there, and no longer under the first. */
  move = g_strdup_printf ("{\"parent_id\": \"%s\"}", cat);
  g_assert_true (set_field (f, "org_unit", hiep_1, move, &error));
  g_assert_no_error (error);
  g_assert_true (search_finds (f, "thon 1 suoi cat", hiep_1));
  g_assert_false (search_finds (f, "thon 1 suoi tien", hiep_1));

  /* A pulled page may bring a village before its commune: in one transaction, or two. */
  g_assert_true (kh_store_begin (f->store, &error));
  insert_unit_row (f, early_village, "Thôn Bến Khế", "village", late_commune);
  g_assert_true (kh_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (search_finds (f, "ben khe", early_village));
  g_assert_true (kh_store_begin (f->store, &error));
  insert_unit_row (f, late_commune, "Xã Cam Hiệp Bắc", "commune", f->unit);
  g_assert_true (kh_store_commit (f->store, &error));
  g_assert_true (search_finds (f, "ben khe cam hiep bac", early_village));

  /* A bulk load (a first pull) indexes the paths at its end. */
  g_assert_true (kh_store_defer_upkeep (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (kh_store_begin (f->store, &error));
  insert_unit_row (f, bulk_village, "Tổ dân phố 4", "village", bulk_commune);
  insert_unit_row (f, bulk_commune, "Phường Bắc Nha Trang", "ward", f->unit);
  g_assert_true (kh_store_commit (f->store, &error));
  g_assert_true (kh_store_restore_upkeep (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (search_finds (f, "to dan pho 4 bac nha trang", bulk_village));
  g_assert_true (search_finds (f, "to dan pho 4 phu khanh", bulk_village));
}

/* The search index is fed from a queue at COMMIT (schema 5): inside a transaction the queue
 * holds the records, after COMMIT the index does and the queue is empty; a rolled back batch
 * leaves neither. A queue left behind by a writer that is not the store (plain SQL) is indexed
 * when the store next opens the database, so a committed record is always found. */
static void
test_store_search_queue (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "s.db", NULL);
  g_autofree char *lan = NULL;
  g_autofree char *minh = NULL;
  g_autofree char *huong = NULL;
  g_autofree char *kiet = kh_uuid_v7_new ();
  g_autofree char *sql = NULL;
  sqlite3 *plain = NULL;

  g_assert_true (kh_store_begin (f->store, &error));
  lan = add_person (f, "Trần Thị Lan", &error);
  g_assert_no_error (error);
  g_assert_cmpint (kh_test_count (f->store, "person_fts_queue"), ==, 1);
  g_assert_cmpint (kh_test_count (f->store, "person_fts"), ==, 0);
  g_assert_true (kh_store_commit (f->store, &error));
  g_assert_cmpint (kh_test_count (f->store, "person_fts_queue"), ==, 0);
  g_assert_cmpint (kh_test_count (f->store, "person_fts"), ==, 1);
  g_assert_true (search_finds (f, "tran thi lan", lan));

  /* A record written twice in a transaction is indexed once, as it is at COMMIT. */
  g_assert_true (kh_store_begin (f->store, &error));
  minh = add_person (f, "Võ Văn Minh", &error);
  g_assert_true (set_field (f, "person", minh, "{\"full_name\": \"Võ Văn Mạnh\"}", &error));
  g_assert_no_error (error);
  g_assert_true (kh_store_commit (f->store, &error));
  g_assert_cmpint (kh_test_count (f->store, "person_fts"), ==, 2);
  g_assert_true (search_finds (f, "vo van manh", minh));
  g_assert_false (search_finds (f, "vo van minh", minh));

  /* An edit outside the search fields queues nothing. */
  g_assert_true (kh_store_begin (f->store, &error));
  g_assert_true (set_field (f, "person", minh, "{\"phone\": \"0905123123\"}", &error));
  g_assert_cmpint (kh_test_count (f->store, "person_fts_queue"), ==, 0);
  g_assert_true (kh_store_commit (f->store, &error));

  /* A batch that rolls back leaves nothing queued and nothing indexed. */
  g_assert_true (kh_store_begin (f->store, &error));
  g_free (add_person (f, "Đặng Văn Hùng", &error));
  g_assert_no_error (error);
  kh_store_rollback (f->store);
  g_assert_cmpint (kh_test_count (f->store, "person_fts_queue"), ==, 0);
  g_assert_cmpint (kh_test_count (f->store, "person_fts"), ==, 2);
  g_assert_false (search_finds (f, "dang van hung", NULL));

  /* Plain SQL (another program, no flush) commits a rename, a delete, and a record removed
   * whose rowid another one takes, with only the queue. */
  huong = add_person (f, "Hồ Xuân Hương", &error);
  g_assert_no_error (error);
  g_clear_object (&f->store);
  /* Through the sealing VFS (the replica's key is this process's), as another program with the
   * key would. */
  g_assert_cmpint (kh_sqlite_open (path, &plain, FALSE), ==, SQLITE_OK);
  /* The schema's own functions (the folded-name indexes call kh_fold()), as any program writing
   * these tables must register them; the store's COMMIT-time flush is what it lacks. */
  g_assert_true (kh_sqlite_register_functions (plain, NULL));
  sql = g_strdup_printf ("UPDATE person SET full_name = 'Phạm Quốc Việt' WHERE id = '%s';"
                         "UPDATE person SET deleted = 1 WHERE id = '%s';"
                         "BEGIN; CREATE TEMP TABLE t AS SELECT * FROM person WHERE id = '%s';"
                         "DELETE FROM person WHERE id = '%s';"
                         "UPDATE t SET id = '%s', full_name = 'Lý Thường Kiệt';"
                         "INSERT INTO person SELECT * FROM t; COMMIT;",
                         lan, minh, huong, huong, kiet);
  g_assert_cmpint (sqlite3_exec (plain, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (plain);
  f->store = kh_test_open_store (f->dir, "s.db");
  g_assert_cmpint (kh_test_count (f->store, "person_fts_queue"), ==, 0);
  g_assert_true (search_finds (f, "pham quoc viet", lan));
  g_assert_false (search_finds (f, "tran thi lan", lan));
  g_assert_false (search_finds (f, "vo van manh", minh));
  g_assert_true (search_finds (f, "ly thuong kiet", kiet));
  g_assert_false (search_finds (f, "ho xuan huong", NULL));
  g_assert_cmpint (kh_test_count (f->store, "person_fts"), ==, 2);
}

static int
schema_objects (Fixture    *f,
                const char *type,
                const char *table)
{
  sqlite3_stmt *stmt = kh_store_prepare (f->store, "SELECT count(*) FROM sqlite_schema "
                                         "WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL", NULL);
  int n;

  g_assert_nonnull (stmt);
  sqlite3_bind_text (stmt, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, table, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int (stmt, 0);
  sqlite3_reset (stmt);
  return n;
}

/* A bulk load (a first pull) sets the secondary indexes and search triggers aside and makes
 * them again at its end. Killed in between, the database opens as it was left (everything
 * reads, only slower) and comes back whole when the upkeep is restored: the same indexes and
 * triggers, and a search index that holds what was written before and during the load, both
 * through the store and by plain SQL, and nothing deleted or renamed away. The search index is
 * built beside the database (its scratch file is gone after) or, with @data set, where that
 * file cannot be made (a folder is in its place), by the writer itself: the same index. */
static void
test_store_bulk_upkeep (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *scratch = g_build_filename (f->dir, "s.db-search", NULL);
  g_autofree char *before = NULL;
  g_autofree char *during = NULL;
  g_autofree char *renamed = NULL;
  g_autofree char *gone = NULL;
  g_autofree char *after = NULL;
  g_autofree char *sql = NULL;
  int indexes = schema_objects (f, "index", "person");
  int triggers = schema_objects (f, "trigger", "person");
  json_object *hits;

  g_assert_cmpint (indexes, >, 0);
  g_assert_cmpint (triggers, >=, 3);
  before = add_person (f, "Trần Thị Lan", &error);
  renamed = add_person (f, "Võ Văn Minh", &error);
  gone = add_person (f, "Hồ Xuân Hương", &error);
  g_assert_no_error (error);

  g_assert_true (kh_store_defer_upkeep (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (kh_schema_upkeep_deferred (kh_store_get_db (f->store)));
  g_assert_cmpint (schema_objects (f, "index", "person"), ==, 0);
  g_assert_cmpint (schema_objects (f, "trigger", "person"), ==, triggers - 3);
  /* Twice is once. */
  g_assert_true (kh_store_defer_upkeep (f->store, &error));
  g_assert_no_error (error);

  during = add_person (f, "Lý Thường Kiệt", &error);
  g_assert_true (set_field (f, "person", renamed, "{\"full_name\": \"Võ Văn Mạnh\"}", &error));
  g_assert_true (kh_store_delete (f->store, "person", gone, &error));
  g_assert_no_error (error);
  sql = g_strdup_printf ("INSERT INTO person (id, created_at, updated_at, full_name, org_unit_id) "
                         "VALUES ('%s', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 'Phạm Quốc Việt', '%s')",
                         (after = kh_uuid_v7_new ()), f->unit);
  exec_sql (f, sql);

  /* Killed here: it opens deferred, and reads. A scratch file (of a restoring under way on
   * another connection, as far as this one knows) is left alone. */
  g_clear_object (&f->store);
  if (data == NULL)
    g_assert_true (g_file_set_contents (scratch, "left behind", -1, NULL));
  f->store = kh_test_open_store (f->dir, "s.db");
  g_assert_cmpint (g_file_test (scratch, G_FILE_TEST_EXISTS), ==, data == NULL);
  g_assert_true (kh_schema_upkeep_deferred (kh_store_get_db (f->store)));
  g_assert_cmpint (schema_objects (f, "index", "person"), ==, 0);
  hits = kh_store_get (f->store, "person", during, &error);
  g_assert_no_error (error);
  g_assert_nonnull (hits);
  json_object_put (hits);

  if (data != NULL)
    g_assert_cmpint (g_mkdir (scratch, 0700), ==, 0);
  g_assert_true (kh_store_restore_upkeep (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_file_test (scratch, G_FILE_TEST_EXISTS), ==, data != NULL);
  g_assert_null (sqlite3_db_filename (kh_store_get_db (f->store), "kh_search_build"));
  exec_sql (f, "INSERT INTO person_fts (person_fts) VALUES ('integrity-check')");
  g_assert_false (kh_schema_upkeep_deferred (kh_store_get_db (f->store)));
  g_assert_cmpint (schema_objects (f, "index", "person"), ==, indexes);
  g_assert_cmpint (schema_objects (f, "trigger", "person"), ==, triggers);
  g_assert_cmpint (kh_test_count (f->store, "person_fts_queue"), ==, 0);
  g_assert_true (search_finds (f, "tran thi lan", before));
  g_assert_true (search_finds (f, "ly thuong kiet", during));
  g_assert_true (search_finds (f, "pham quoc viet", after));
  g_assert_true (search_finds (f, "vo van manh", renamed));
  g_assert_false (search_finds (f, "vo van minh", renamed));
  g_assert_false (search_finds (f, "ho xuan huong", NULL));
  g_assert_cmpint (kh_test_count (f->store, "person_fts"), ==, 4);
  /* Restoring twice is once; what is written next is indexed by the triggers again. */
  g_assert_true (kh_store_restore_upkeep (f->store, &error));
  g_assert_no_error (error);
  g_assert_true (set_field (f, "person", before, "{\"full_name\": \"Trần Thị Lanh\"}", &error));
  g_assert_no_error (error);
  g_assert_true (search_finds (f, "tran thi lanh", before));

  /* One killed between its COMMIT and removing the scratch file: the next open removes it. */
  if (data == NULL)
    {
      g_clear_object (&f->store);
      g_assert_true (g_file_set_contents (scratch, "left behind", -1, NULL));
      f->store = kh_test_open_store (f->dir, "s.db");
      g_assert_false (g_file_test (scratch, G_FILE_TEST_EXISTS));
    }
}

static gint64
file_size (Fixture    *f,
           const char *name)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

/* While checkpoints are aside, the writer's COMMITs leave the log to another connection, which
 * copies it back into the database; everything written is there, and afterwards the writer
 * checkpoints as before. */
static void
test_store_checkpoint_aside (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 before = file_size (f, "s.db");
  gint64 deadline;

  g_assert_cmpint (before, >, 0);
  kh_store_checkpoint_aside (f->store, TRUE);
  kh_store_checkpoint_aside (f->store, TRUE); /* twice is once */
  /* A few COMMITs, far from the 1,000 pages of log at which SQLite's own checkpoint would copy
   * them back: the other connection does, soon after. */
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("Nguyễn Văn %d", i);

      g_free (add_person (f, name, &error));
      g_assert_no_error (error);
    }
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (file_size (f, "s.db") == before && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  g_assert_cmpint (file_size (f, "s.db"), >, before);

  kh_store_checkpoint_aside (f->store, FALSE);
  kh_store_checkpoint_aside (f->store, FALSE);
  g_free (add_person (f, "Trần Thị Cuối", &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_test_count (f->store, "person"), ==, 6);
  g_assert_true (search_finds (f, "tran thi cuoi", NULL));
  exec_sql (f, "PRAGMA integrity_check");
  /* Still aside when the store closes: it stops on its own. */
  kh_store_checkpoint_aside (f->store, TRUE);
}

static int
synchronous_of (KhStore *store)
{
  sqlite3_stmt *stmt = NULL;
  int value;

  g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (store), "PRAGMA synchronous", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

/* A store's commits wait for the disk (synchronous FULL) unless it is told its writes can be
 * made again; another connection to the same file keeps waiting. */
static void
test_store_durable (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "s.db", NULL);
  g_autoptr(KhStore) other = kh_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (synchronous_of (f->store), ==, 2);
  g_assert_true (kh_store_set_durable (f->store, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (synchronous_of (f->store), ==, 1);
  g_assert_cmpint (synchronous_of (other), ==, 2);
  g_free (add_person (f, "Lê Thị Tạm", &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_test_count (other, "person"), ==, 1);
  g_assert_true (kh_store_set_durable (f->store, TRUE, &error));
  g_assert_cmpint (synchronous_of (f->store), ==, 2);
}

/* The tables' CHECK constraints hold unless the store is told its writes were checked before
 * (a first pull), and hold again once it is told otherwise. */
static void
test_store_checked (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *bad = "INSERT INTO audit (entity, record_id, at, action) VALUES ('person', 'x', 'now', 'no such')";
  sqlite3 *db = kh_store_get_db (f->store);

  g_assert_false (kh_sqlite_exec (db, bad, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE);
  g_clear_error (&error);

  g_assert_true (kh_store_set_checked (f->store, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (kh_sqlite_exec (db, bad, &error));
  g_assert_no_error (error);

  g_assert_true (kh_store_set_checked (f->store, TRUE, &error));
  g_assert_false (kh_sqlite_exec (db, bad, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE);
}

/* An optional JSON field (an evaluation's scores) can be left out and cleared: SQLite 3.40's
 * json_valid(NULL) is 0, which a plain CHECK would turn into a refused write. */
static void
test_store_optional_json (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reg = NULL;
  g_autofree char *set = NULL;
  g_autofree char *eval = NULL;
  g_autofree char *json = g_strdup_printf ("{\"model\": \"community\", \"year\": 2024, "
                                           "\"org_unit_id\": \"%s\", \"subject_kind\": \"org_unit\", "
                                           "\"subject_id\": \"%s\", \"subject_name\": \"Thôn 1\", "
                                           "\"status\": \"registered\"}", f->unit, f->unit);
  json_object *v = json_tokener_parse (json);
  json_object *record;

  reg = kh_store_create (f->store, "registration", v, &error);
  g_assert_no_error (error);
  json_object_put (v);

  /* Points are judged by a set, whose criterion "1" they name. */
  v = json_tokener_parse ("{\"name\": \"Cộng đồng\", \"model\": \"community\", \"method\": \"points\", "
                          "\"pass_min_total\": 0}");
  set = kh_store_create (f->store, "criteria_set", v, &error);
  g_assert_no_error (error);
  json_object_put (v);
  v = json_object_new_object ();
  json_object_object_add (v, "criteria_set_id", json_object_new_string (set));
  json_object_object_add (v, "code", json_object_new_string ("1"));
  json_object_object_add (v, "title", json_object_new_string ("Học tập"));
  json_object_object_add (v, "max_points", json_object_new_int (40));
  g_free (kh_store_create (f->store, "criterion", v, &error));
  g_assert_no_error (error);
  json_object_put (v);

  v = json_object_new_object ();
  json_object_object_add (v, "registration_id", json_object_new_string (reg));
  json_object_object_add (v, "org_unit_id", json_object_new_string (f->unit));
  json_object_object_add (v, "criteria_set_id", json_object_new_string (set));
  json_object_object_add (v, "result", json_object_new_string ("pass"));
  eval = kh_store_create (f->store, "evaluation", v, &error);
  g_assert_no_error (error);
  g_assert_nonnull (eval);
  json_object_put (v);

  g_assert_true (set_field (f, "evaluation", eval, "{\"scores\": {\"1\": 40}}", &error));
  g_assert_no_error (error);
  g_assert_true (set_field (f, "evaluation", eval, "{\"scores\": null}", &error));
  g_assert_no_error (error);
  record = kh_store_get (f->store, "evaluation", eval, &error);
  g_assert_no_error (error);
  g_assert_false (json_object_object_get_ex (record, "scores", NULL));
  json_object_put (record);
}


static char *
make_unit (Fixture     *f,
           const char  *code,
           const char  *kind,
           const char  *parent,
           GError     **error)
{
  json_object *v = json_object_new_object ();
  char *id;

  json_object_object_add (v, "code", json_object_new_string (code));
  json_object_object_add (v, "name", json_object_new_string (code));
  json_object_object_add (v, "kind", json_object_new_string (kind));
  if (parent != NULL)
    json_object_object_add (v, "parent_id", json_object_new_string (parent));
  id = kh_store_create (f->store, "org_unit", v, error);
  json_object_put (v);
  return id;
}

/* The store refuses a unit whose kind does not fit its parent's, on a create, on a move and on
 * a change of kind, also when the change would leave a child under a parent it cannot have. */
static void
test_store_unit_kinds (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *commune = make_unit (f, "C1", "commune", f->unit, &error);
  g_autofree char *village = NULL;
  g_autofree char *province = NULL;
  g_autofree char *other = NULL;
  json_object *changes;

  g_assert_no_error (error);
  village = make_unit (f, "V1", "village", commune, &error);
  g_assert_no_error (error);
  /* A province under a commune, a village under a province: refused, naming the parent. */
  province = make_unit (f, "P2", "province", commune, &error);
  g_assert_null (province);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "parent_id");
  g_clear_error (&error);
  other = make_unit (f, "V2", "village", f->unit, &error);
  g_assert_null (other);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "parent_id");
  g_clear_error (&error);

  /* The village moved under the province. */
  changes = json_tokener_parse ("{}");
  json_object_object_add (changes, "parent_id", json_object_new_string (f->unit));
  g_assert_false (kh_store_update (f->store, "org_unit", village, changes, &error));
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "parent_id");
  g_clear_error (&error);
  json_object_put (changes);

  /* The commune made a school would leave its village under a school. */
  changes = json_tokener_parse ("{\"kind\": \"school\"}");
  g_assert_false (kh_store_update (f->store, "org_unit", commune, changes, &error));
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "kind");
  g_clear_error (&error);
  json_object_put (changes);

  /* A ward is fine there. */
  changes = json_tokener_parse ("{\"kind\": \"ward\"}");
  g_assert_true (kh_store_update (f->store, "org_unit", commune, changes, &error));
  g_assert_no_error (error);
  json_object_put (changes);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* Tables of a few rows take the way of large ones too. */
  kh_search_build_set_min_rows (1);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/data/store/transaction/failed-write", test_store_failed_write_leaves_nothing);
  ADD ("/data/store/transaction/batch", test_store_batch);
  ADD ("/data/store/outbox/coalesce", test_store_outbox_coalesce);
  ADD ("/data/store/audit", test_store_audit);
  ADD ("/data/store/tombstone", test_store_tombstone);
  ADD ("/data/store/references", test_store_references);
  ADD ("/data/store/unit-kinds", test_store_unit_kinds);
  ADD ("/data/store/search", test_store_search);
  ADD ("/data/store/search-queue", test_store_search_queue);
  ADD ("/data/store/search-path", test_store_search_path);
  ADD ("/data/store/bulk-upkeep", test_store_bulk_upkeep);
  g_test_add ("/data/store/bulk-upkeep/search-here", Fixture, "blocked", fixture_setup,
              test_store_bulk_upkeep, fixture_teardown);
  ADD ("/data/store/optional-json", test_store_optional_json);
  ADD ("/data/store/checkpoint-aside", test_store_checkpoint_aside);
  ADD ("/data/store/durable", test_store_durable);
  ADD ("/data/store/checked", test_store_checked);
#undef ADD
  return g_test_run ();
}
