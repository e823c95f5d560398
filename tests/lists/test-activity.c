/* test-activity.c: the supervisor's report of an area's changes, as CSV and XLSX
 *
 * What is proved: the report names people, lists, fields and what a reference points at, never
 * an id of a record this computer has; values read as the window shows them; XLSX holds the
 * same cells.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-activity.h"
#include "kh-csv.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"
#include "kh-xlsx-reader.h"


static void
test_names_not_ids (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *db = g_build_filename (dir, "kh.db", NULL);
  g_autofree char *csv = g_build_filename (dir, "activity.csv", NULL);
  g_autofree char *xlsx = g_build_filename (dir, "activity.xlsx", NULL);
  g_autoptr(GError) error = NULL;
  KhStore *store = kh_store_open (db, &error);
  g_autofree char *unit = NULL;
  g_autofree char *list = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  json_object *rows;
  g_autoptr(GPtrArray) table = NULL;

  g_assert_no_error (error);
  unit = kh_test_create (store, "org_unit", "{\"code\":\"X1\",\"name\":\"Xã Suối Hiệp\",\"kind\":\"commune\"}");
  json = g_strdup_printf ("{\"title\":\"Học bổng Tết 2026\",\"occasion\":\"tet\",\"school_year\":\"2025-2026\","
                          "\"org_unit_id\":\"%s\",\"status\":\"draft\"}", unit);
  list = kh_test_create (store, "award_list", json);
  g_free (json);
  /* Two rows as the server sends them: an entry made in the list, and the list approved. */
  json = g_strdup_printf ("[{\"version\":5,\"at\":\"2026-01-05T08:10:00Z\",\"user\":\"officer_a\",\"device\":\"3fa91c0e72d4\","
                          "\"op\":\"create\",\"entity\":\"award_entry\",\"id\":\"0190c9a2-0000-7000-8000-000000000001\","
                          "\"title\":\"Lê Văn Tám\",\"list_id\":\"%s\",\"changes\":{\"org_unit_id\":[null,\"%s\"],"
                          "\"amount\":[null,1500000]}},"
                          "{\"version\":6,\"at\":\"2026-01-06T09:00:00Z\",\"user\":\"chair_a\",\"device\":\"0b7de21a9c55\","
                          "\"op\":\"update\",\"entity\":\"award_list\",\"id\":\"%s\",\"title\":\"Học bổng Tết 2026\","
                          "\"list_id\":\"%s\",\"changes\":{\"status\":[\"submitted\",\"approved\"]}}]",
                          list, unit, list, list);
  rows = json_tokener_parse (json);
  g_assert_nonnull (rows);

  table = kh_activity_table (store, rows);
  g_assert_cmpuint (table->len, ==, 3);
  {
    char **entry = table->pdata[1];
    char **approval = table->pdata[2];

    g_assert_cmpstr (entry[1], ==, "officer_a");
    g_assert_cmpstr (entry[5], ==, "Lê Văn Tám");
    g_assert_cmpstr (entry[6], ==, "Học bổng Tết 2026");
    /* The unit by its name, the amount as money; no id anywhere. */
    g_assert_nonnull (strstr (entry[7], "Xã Suối Hiệp"));
    g_assert_nonnull (strstr (entry[7], "1.500.000"));
    /* A record made is said by its values alone, without an empty "before" for each. */
    g_assert_null (strstr (entry[7], "→"));
    for (guint c = 0; entry[c] != NULL; c++)
      {
        g_assert_null (strstr (entry[c], unit));
        g_assert_null (strstr (entry[c], list));
      }
    g_assert_cmpstr (approval[1], ==, "chair_a");
    g_assert_nonnull (strstr (approval[7], "Submitted"));
    g_assert_nonnull (strstr (approval[7], "Approved"));
  }

  g_assert_true (kh_activity_write (store, rows, csv, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF"));
  g_assert_nonnull (strstr (text, "chair_a"));
  g_assert_nonnull (strstr (text, "Học bổng Tết 2026"));
  g_assert_null (strstr (text, unit));

  g_assert_true (kh_activity_write (store, rows, xlsx, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (xlsx, G_FILE_TEST_IS_REGULAR));

  json_object_put (rows);
  g_assert_finalize_object (store);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lists/activity/names-not-ids", test_names_not_ids);
  return g_test_run ();
}
