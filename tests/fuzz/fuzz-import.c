/* fuzz-import.c: the whole import (header matching, parsing, validation, duplicates) on any
 * bytes, as CSV or XLSX, into a store it must leave as it found it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>

#include "kh-import.h"
#include "kh-store.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static KhStore *store;
static char *list_id;

static void
setup (void)
{
  GError *error = NULL;
  json_object *unit, *list;
  char *unit_id;

  store = kh_store_open (":memory:", &error);
  g_assert_no_error (error);
  unit = json_object_new_object ();
  json_object_object_add (unit, "code", json_object_new_string ("N001"));
  json_object_object_add (unit, "name", json_object_new_string ("Xã Một"));
  json_object_object_add (unit, "kind", json_object_new_string ("commune"));
  unit_id = kh_store_create (store, "org_unit", unit, &error);
  g_assert_no_error (error);
  list = json_object_new_object ();
  json_object_object_add (list, "title", json_object_new_string ("Tết"));
  json_object_object_add (list, "occasion", json_object_new_string ("tet"));
  json_object_object_add (list, "school_year", json_object_new_string ("2024-2025"));
  json_object_object_add (list, "org_unit_id", json_object_new_string (unit_id));
  json_object_object_add (list, "status", json_object_new_string ("draft"));
  list_id = kh_store_create (store, "award_list", list, &error);
  g_assert_no_error (error);
  json_object_put (unit);
  json_object_put (list);
  g_free (unit_id);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  KhImportOptions options = { .entity = "award_entry", .dry_run = TRUE };
  KhImportReport *report;
  GError *error = NULL;

  if (store == NULL)
    setup ();
  options.list_id = list_id;
  options.limits.max_bytes = 4 << 20;
  options.limits.max_rows = 5000;
  options.limits.max_columns = 64;
  options.limits.max_cell = 4096;
  options.duplicates = size % 2 ? KH_IMPORT_DUPLICATES_IMPORT : KH_IMPORT_DUPLICATES_ASK;
  report = kh_import_data (store, (const char *) data, size, &options, &error);
  if (report == NULL)
    {
      g_assert (error != NULL && error->message != NULL);
      g_error_free (error);
    }
  else
    {
      g_assert_false (report->committed);
      kh_import_report_free (report);
    }
  /* A dry run writes nothing, whatever the input. */
  g_assert_cmpint (kh_store_count (store, "award_entry", NULL, NULL), ==, 0);
  return 0;
}
