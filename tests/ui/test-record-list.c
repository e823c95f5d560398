/* test-record-list.c: the paged list model, conflicts and evaluation rules the window relies on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "kh-error.h"
#include "kh-evaluate.h"
#include "kh-format.h"
#include "kh-record-list.h"
#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"

typedef struct
{
  char    *dir;
  KhStore *store;
  char    *unit;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *unit;

  f->dir = kh_test_tmpdir ();
  f->store = kh_test_open_store (f->dir, "kh.db");
  unit = json_tokener_parse ("{\"code\": \"1\", \"name\": \"Xã Ninh Xuân\", \"kind\": \"commune\"}");
  f->unit = kh_store_create (f->store, "org_unit", unit, &error);
  g_assert_no_error (error);
  json_object_put (unit);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit);
}

static void
add_people (Fixture *f,
            int      n)
{
  static const char *names[] = { "Nguyễn Văn Đức", "Trần Thị Lan", "Đặng Minh Anh", "Lê Văn Bình", "Phạm Thu Hà" };
  g_autoptr(GError) error = NULL;

  g_assert_true (kh_store_begin (f->store, &error));
  for (int i = 0; i < n; i++)
    {
      json_object *p = json_object_new_object ();
      g_autofree char *name = g_strdup_printf ("%s %04d", names[i % 5], i);
      g_autofree char *id = NULL;

      json_object_object_add (p, "full_name", json_object_new_string (name));
      json_object_object_add (p, "org_unit_id", json_object_new_string (f->unit));
      json_object_object_add (p, "gender", json_object_new_string (i % 2 ? "male" : "female"));
      id = kh_store_create (f->store, "person", p, &error);
      g_assert_no_error (error);
      json_object_put (p);
    }
  g_assert_true (kh_store_commit (f->store, &error));
}

/* Every position, read in any order (jumps to the end, back to the middle), gives the row the
 * store's own ordered listing has there, while only a few pages are ever held. */
static void
test_paging_matches_store (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KhRecordList) list = NULL;
  g_autoptr(GError) error = NULL;
  static const guint order[] = { 0, 2549, 1300, 99, 100, 2400, 1301, 2548, 5, 1999 };
  KhQuery query = { 0 };
  json_object *all;

  add_people (f, 2550);
  list = kh_record_list_new (f->store, "person");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2550);

  for (int pass = 0; pass < 2; pass++)
    {
      if (pass == 1)
        kh_record_list_set_sort (list, "full_name", TRUE);
      query.order_by = pass == 1 ? "full_name" : NULL;
      query.descending = pass == 1;
      all = kh_store_list (f->store, "person", &query, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < G_N_ELEMENTS (order); i++)
        {
          g_autoptr(KhRecordItem) r = g_list_model_get_item (G_LIST_MODEL (list), order[i]);
          const char *expected = json_object_get_string (json_object_object_get (json_object_array_get_idx (all, order[i]), "id"));

          g_assert_nonnull (r);
          if (pass == 0)
            g_assert_cmpstr (kh_record_item_get_id (r), ==, expected);
        }
      /* Walking the whole list in order matches too. */
      for (guint i = 0; i < 2550; i++)
        {
          g_autoptr(KhRecordItem) r = g_list_model_get_item (G_LIST_MODEL (list), i);

          if (pass == 0)
            g_assert_cmpstr (kh_record_item_get_id (r), ==,
                             json_object_get_string (json_object_object_get (json_object_array_get_idx (all, i), "id")));
          g_assert_cmpuint (kh_record_list_get_n_cached (list), <=, KH_RECORD_LIST_PAGE_SIZE * KH_RECORD_LIST_MAX_PAGES);
        }
      json_object_put (all);
    }
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), 2550));
}

/* Lists of people sort as Vietnamese lists do, by given name, then family and middle names,
 * in the alphabet's order (Đ after D): in the same order as the printed list
 * (kh_name_compare(), one piece of code), down to the last row. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return kh_name_compare (*(const char * const *) a, *(const char * const *) b, KH_NAME_ORDER_GIVEN_FIRST);
}

static void
test_sort_folded (Fixture       *f,
                  gconstpointer  data)
{
  static const char *names[] = {
    "Phạm Thu Hà", "Trần Văn Dũng", "Nguyễn Văn An", "Lê Đức", "Đặng Minh Anh", "Lê An", "Trần Thị Bình",
  };
  static const char *expected[] = {
    "Lê An", "Nguyễn Văn An", "Đặng Minh Anh", "Trần Thị Bình", "Trần Văn Dũng", "Lê Đức", "Phạm Thu Hà",
  };
  const char *printed[G_N_ELEMENTS (names)];
  g_autoptr(KhRecordList) list = NULL;
  g_autoptr(GError) error = NULL;
  guint n = G_N_ELEMENTS (names);

  g_assert_true (kh_store_begin (f->store, &error));
  for (guint i = 0; i < n; i++)
    {
      json_object *p = json_object_new_object ();
      g_autofree char *id = NULL;

      json_object_object_add (p, "full_name", json_object_new_string (names[i]));
      json_object_object_add (p, "org_unit_id", json_object_new_string (f->unit));
      id = kh_store_create (f->store, "person", p, &error);
      g_assert_no_error (error);
      json_object_put (p);
    }
  g_assert_true (kh_store_commit (f->store, &error));

  memcpy (printed, names, sizeof printed);
  qsort (printed, n, sizeof printed[0], compare_names);
  list = kh_record_list_new (f->store, "person");
  kh_record_list_set_sort (list, "full_name", FALSE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KhRecordItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_cmpstr (kh_record_item_get_string (item, "full_name"), ==, expected[i]);
      g_assert_cmpstr (printed[i], ==, expected[i]);
      g_assert_cmpuint (kh_record_list_find (list, kh_record_item_get_id (item)), ==, i);
    }
  /* And backwards. */
  kh_record_list_set_sort (list, "full_name", TRUE);
  {
    g_autoptr(KhRecordItem) item = g_list_model_get_item (G_LIST_MODEL (list), 0);

    g_assert_cmpstr (kh_record_item_get_string (item, "full_name"), ==, expected[n - 1]);
  }
}

typedef struct
{
  guint signals;
  gboolean consistent;
} Emissions;

/* Every change is announced so that, inside the signal, the count is what the signal implies
 * (GTK checks it), and never as "removed and added at once" (GTK 4.8 then reads every row). */
static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Emissions  *e)
{
  e->signals++;
  if (removed > 0 && added > 0)
    e->consistent = FALSE;
  if (added == 0 && g_list_model_get_n_items (model) != position)
    e->consistent = FALSE;
}

/* Search with and without accents, filters, and the list follows the store's writes. */
static void
test_search_filter_refresh (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KhRecordList) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhRecordItem) r = NULL;
  json_object *male = json_object_new_string ("male");
  guint n;

  Emissions e = { 0, TRUE };

  add_people (f, 50);
  list = kh_record_list_new (f->store, "person");
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &e);
  kh_record_list_set_search (list, "nguyen van duc");
  g_assert_cmpuint (e.signals, ==, 2);
  g_assert_true (e.consistent);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_cmpuint (n, ==, 10);
  kh_record_list_set_search (list, "Nguyễn Văn Đức");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n);
  g_assert_true (kh_record_list_set_filter (list, "gender", male, &error));
  json_object_put (male);
  /* Names 0, 5, 10, 15…: every other one (the odd ones) is male. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 5);
  kh_record_list_clear_filters (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 10);

  r = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_true (kh_store_delete (f->store, "person", kh_record_item_get_id (r), &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 9);
  g_assert_true (kh_store_restore (f->store, "person", kh_record_item_get_id (r), &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 10);
  /* An edit that keeps the count shows the new value in place. */
  {
    g_autoptr(KhRecordItem) first = g_list_model_get_item (G_LIST_MODEL (list), 0);
    g_autoptr(KhRecordItem) again = NULL;
    json_object *change = json_tokener_parse ("{\"phone\": \"0905123456\"}");

    g_assert_true (kh_store_update (f->store, "person", kh_record_item_get_id (first), change, &error));
    json_object_put (change);
    again = g_list_model_get_item (G_LIST_MODEL (list), 0);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 10);
    g_assert_cmpstr (kh_record_item_get_id (again), ==, kh_record_item_get_id (first));
    g_assert_cmpstr (kh_record_item_get_string (again, "phone"), ==, "0905123456");
  }
  g_assert_false (kh_record_list_set_filter (list, "no_such_field", NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD);
}

/* A reference to a unit reads as the unit's name, and a village's with its commune's, since
 * every commune has its "Thôn 1"; renaming the commune renames what the list shows. */
static void
test_unit_titles (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KhRecordList) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhRecordItem) item = NULL;
  g_autofree char *village = NULL;
  g_autofree char *person = NULL;
  g_autofree char *text = NULL;
  g_autofree char *title = NULL;
  json_object *v = json_object_new_object ();

  json_object_object_add (v, "code", json_object_new_string ("1-06"));
  json_object_object_add (v, "name", json_object_new_string ("Thôn 6"));
  json_object_object_add (v, "kind", json_object_new_string ("village"));
  json_object_object_add (v, "parent_id", json_object_new_string (f->unit));
  village = kh_store_create (f->store, "org_unit", v, &error);
  g_assert_no_error (error);
  json_object_put (v);
  v = json_tokener_parse ("{\"full_name\": \"Lê Văn Tám\"}");
  json_object_object_add (v, "org_unit_id", json_object_new_string (village));
  person = kh_store_create (f->store, "person", v, &error);
  g_assert_no_error (error);
  json_object_put (v);

  title = kh_store_dup_title (f->store, "org_unit", f->unit);
  g_assert_cmpstr (title, ==, "Xã Ninh Xuân");
  list = kh_record_list_new (f->store, "person");
  item = g_list_model_get_item (G_LIST_MODEL (list), 0);
  text = kh_record_list_format (list, item, "org_unit_id");
  g_assert_cmpstr (text, ==, "Thôn 6, Xã Ninh Xuân");
  g_clear_pointer (&text, g_free);

  v = json_tokener_parse ("{\"name\": \"Phường Ninh Xuân\", \"kind\": \"ward\"}");
  g_assert_true (kh_store_update (f->store, "org_unit", f->unit, v, &error));
  g_assert_no_error (error);
  json_object_put (v);
  text = kh_record_list_format (list, item, "org_unit_id");
  g_assert_cmpstr (text, ==, "Thôn 6, Phường Ninh Xuân");
}

static int
temp_tables (Fixture *f)
{
  sqlite3_stmt *stmt = NULL;
  int n = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (f->store),
                                       "SELECT count(*) FROM sqlite_temp_master WHERE type = 'table'",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* Two lists searching at once each keep their own matches; sorted by name, a search's rows come
 * in the people's order and are found where they show; a list gone takes its matches with it. */
static void
test_search_matches (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KhRecordList) a = NULL;
  g_autoptr(KhRecordList) b = NULL;
  g_autofree char *previous = NULL;
  gboolean seen_nguyen = FALSE;
  guint n;

  add_people (f, 50);
  a = kh_record_list_new (f->store, "person");
  b = kh_record_list_new (f->store, "person");
  kh_record_list_set_search (a, "nguyen");
  kh_record_list_set_search (b, "tran thi");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (a)), ==, 10);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (b)), ==, 10);
  g_assert_cmpint (temp_tables (f), ==, 2);

  kh_record_list_set_search (a, "van");  /* Nguyễn Văn Đức and Lê Văn Bình */
  kh_record_list_set_sort (a, "full_name", FALSE);
  n = g_list_model_get_n_items (G_LIST_MODEL (a));
  g_assert_cmpuint (n, ==, 20);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KhRecordItem) r = g_list_model_get_item (G_LIST_MODEL (a), i);
      const char *name = kh_record_item_get_string (r, "full_name");

      /* Names are "Lê Văn Bình 0003"…: in the people's order (the last word first). */
      g_assert_true (g_str_has_prefix (name, "Lê Văn Bình ") || g_str_has_prefix (name, "Nguyễn Văn Đức "));
      seen_nguyen |= g_str_has_prefix (name, "Nguyễn");
      if (previous != NULL)
        g_assert_cmpint (kh_name_compare (previous, name, KH_NAME_ORDER_GIVEN_FIRST), <, 0);
      g_assert_cmpuint (kh_record_list_find (a, kh_record_item_get_id (r)), ==, i);
      g_free (previous);
      previous = g_strdup (name);
    }
  g_assert_true (seen_nguyen);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (b)), ==, 10);
  kh_record_list_set_search (a, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (a)), ==, 50);
  g_clear_object (&a);
  g_clear_object (&b);
  g_assert_cmpint (temp_tables (f), ==, 0);
}

/* A conflict resolved with "take theirs" writes the server's value as an edit that is queued to
 * send, and leaves no open conflict; a value that fails validation resolves nothing. */
static void
test_conflict_resolve (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhConflict conflict = { 0 };
  json_object *list;
  json_object *record;
  const char *id;

  add_people (f, 1);
  list = kh_store_list (f->store, "person", NULL, &error);
  record = json_object_array_get_idx (list, 0);
  id = json_object_get_string (json_object_object_get (record, "id"));
  conflict.entity = (char *) "person";
  conflict.record_id = (char *) id;
  conflict.field = (char *) "birth_date";
  conflict.local = json_object_new_string ("2010-06-03");
  conflict.remote = json_object_new_string ("2010-03-06");
  conflict.remote_by = (char *) "cb.ninhxuan";
  g_assert_cmpint (kh_replica_add_conflict (f->store, &conflict, &error), >=, 0);
  g_assert_no_error (error);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 1);

  g_assert_false (kh_replica_resolve (f->store, id, "birth_date", KH_RESOLVE_VALUE, "31/02/2010", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 1);

  g_assert_true (kh_replica_resolve (f->store, id, "birth_date", KH_RESOLVE_VALUE, "2010-03-06", &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 0);
  {
    json_object *now = kh_store_get (f->store, "person", id, &error);

    g_assert_cmpstr (json_object_get_string (json_object_object_get (now, "birth_date")), ==, "2010-03-06");
    json_object_put (now);
  }
  g_assert_false (kh_replica_resolve (f->store, id, "birth_date", KH_RESOLVE_VALUE, "2010-03-06", &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
  json_object_put (conflict.local);
  json_object_put (conflict.remote);
  json_object_put (list);
}

/* The result comes from the set's pass rule: points with a per-item minimum, and levels. */
static void
test_evaluate_rules (void)
{
  json_object *points = json_tokener_parse ("{\"method\": \"points\", \"pass_min_total\": 80, \"pass_min_item\": 5}");
  json_object *levels = json_tokener_parse ("{\"method\": \"levels\", \"level1_min\": 70, \"level2_min\": 85, \"level3_min\": 95}");
  json_object *checklist = json_tokener_parse ("{\"method\": \"checklist\"}");
  json_object *criteria = json_tokener_parse ("[{\"code\": \"1\", \"max_points\": 40}, {\"code\": \"2\", \"max_points\": 30}, {\"code\": \"3\", \"max_points\": 30}]");
  json_object *good = json_tokener_parse ("{\"1\": 40, \"2\": 30, \"3\": 15}");
  json_object *low_item = json_tokener_parse ("{\"1\": 40, \"2\": 30, \"3\": 4}");
  json_object *one_missing = json_tokener_parse ("{\"1\": 1, \"2\": 1, \"3\": 0}");
  int total = 0;

  g_assert_cmpstr (kh_evaluate_result (points, criteria, good, &total), ==, "pass");
  g_assert_cmpint (total, ==, 85);
  g_assert_cmpstr (kh_evaluate_result (points, criteria, low_item, &total), ==, "fail");
  g_assert_cmpint (total, ==, 74);
  g_assert_cmpstr (kh_evaluate_result (levels, criteria, good, NULL), ==, "level2");
  g_assert_cmpstr (kh_evaluate_result (levels, criteria, low_item, NULL), ==, "level1");
  g_assert_cmpstr (kh_evaluate_result (levels, criteria, one_missing, NULL), ==, "not_achieved");
  g_assert_cmpstr (kh_evaluate_result (checklist, criteria, one_missing, NULL), ==, "fail");
  g_assert_cmpstr (kh_evaluate_result (checklist, criteria, good, NULL), ==, "pass");
  json_object_put (points);
  json_object_put (levels);
  json_object_put (checklist);
  json_object_put (criteria);
  json_object_put (good);
  json_object_put (low_item);
  json_object_put (one_missing);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/data/record-list/paging", Fixture, NULL, fixture_set_up, test_paging_matches_store, fixture_tear_down);
  g_test_add ("/data/record-list/sort-folded", Fixture, NULL, fixture_set_up, test_sort_folded, fixture_tear_down);
  g_test_add ("/data/record-list/search-filter-refresh", Fixture, NULL, fixture_set_up, test_search_filter_refresh, fixture_tear_down);
  g_test_add ("/data/record-list/search-matches", Fixture, NULL, fixture_set_up, test_search_matches, fixture_tear_down);
  g_test_add ("/data/record-list/unit-titles", Fixture, NULL, fixture_set_up, test_unit_titles, fixture_tear_down);
  g_test_add ("/data/conflicts/resolve", Fixture, NULL, fixture_set_up, test_conflict_resolve, fixture_tear_down);
  g_test_add_func ("/data/evaluate/rules", test_evaluate_rules);
  return g_test_run ();
}
