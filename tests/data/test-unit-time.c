/* test-unit-time.c: records in time, in the store
 *
 * A record dated in a year or on a day when its unit did not exist is refused, naming the unit
 * of that time found through the successions; the same record in the unit of that time is
 * taken (data/kh-unit-time.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-error.h"
#include "kh-test-store.h"

static KhStore *store;
static char *former, *former2, *merged, *person;

static char *
unit (const char *code,
      const char *name,
      const char *from,
      const char *to)
{
  g_autoptr(GError) error = NULL;
  json_object *r = json_object_new_object ();
  char *id;

  json_object_object_add (r, "code", json_object_new_string (code));
  json_object_object_add (r, "name", json_object_new_string (name));
  json_object_object_add (r, "kind", json_object_new_string ("commune"));
  if (from != NULL)
    json_object_object_add (r, "valid_from", json_object_new_string (from));
  if (to != NULL)
    json_object_object_add (r, "valid_to", json_object_new_string (to));
  id = kh_store_create (store, "org_unit", r, &error);
  g_assert_no_error (error);
  json_object_put (r);
  return id;
}

static void
link_units (const char *pred,
            const char *succ)
{
  g_autoptr(GError) error = NULL;
  json_object *r = json_object_new_object ();
  g_autofree char *id = NULL;

  json_object_object_add (r, "predecessor_id", json_object_new_string (pred));
  json_object_object_add (r, "successor_id", json_object_new_string (succ));
  json_object_object_add (r, "kind", json_object_new_string ("merge"));
  json_object_object_add (r, "effective_date", json_object_new_string ("2025-07-01"));
  id = kh_store_create (store, "unit_succession", r, &error);
  g_assert_no_error (error);
  json_object_put (r);
}

static json_object *
registration (const char *in,
              int         year)
{
  json_object *f = json_object_new_object ();

  json_object_object_add (f, "model", json_object_new_string ("citizen"));
  json_object_object_add (f, "year", json_object_new_int (year));
  json_object_object_add (f, "org_unit_id", json_object_new_string (in));
  json_object_object_add (f, "subject_kind", json_object_new_string ("person"));
  json_object_object_add (f, "subject_id", json_object_new_string (person));
  json_object_object_add (f, "subject_name", json_object_new_string ("Lê Thị Hoa"));
  json_object_object_add (f, "status", json_object_new_string ("registered"));
  return f;
}

/* Creates @r (taken); NULL and *@error when refused. */
static char *
create (const char  *entity,
        json_object *r,
        GError     **error)
{
  char *id = kh_store_create (store, entity, r, error);

  json_object_put (r);
  return id;
}

static void
test_year_before_the_unit (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create ("registration", registration (merged, 2023), &error);

  g_assert_null (id);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "year");
  g_test_message ("%s", error->message);
  /* It names both units that were there in 2023, through the successions. */
  g_assert_nonnull (strstr (error->message, "Xã Cũ Một"));
  g_assert_nonnull (strstr (error->message, "Xã Cũ Hai"));
  g_assert_nonnull (strstr (error->message, "2023"));
  g_clear_error (&error);

  /* In the former unit, it is taken; and in the year of the reform both were there. */
  g_free (create ("registration", registration (former, 2023), &error));
  g_assert_no_error (error);
  {
    g_autofree char *in_2025 = create ("registration", registration (merged, 2025), &error);
    json_object *change = json_object_new_object ();

    g_assert_no_error (error);
    /* (Withdrawn, so that the same person may be registered again that year.) */
    json_object_object_add (change, "status", json_object_new_string ("withdrawn"));
    g_assert_true (kh_store_update (store, "registration", in_2025, change, &error));
    json_object_put (change);
  }
  g_free (create ("registration", registration (former2, 2025), &error));
  g_assert_no_error (error);
}

static void
test_date_after_the_unit (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reg = create ("registration", registration (former, 2024), &error);
  json_object *f = json_object_new_object ();
  g_autofree char *id = NULL;

  g_assert_no_error (error);
  json_object_object_add (f, "registration_id", json_object_new_string (reg));
  json_object_object_add (f, "org_unit_id", json_object_new_string (former));
  json_object_object_add (f, "result", json_object_new_string ("pass"));
  json_object_object_add (f, "evaluated_on", json_object_new_string ("2025-08-15"));
  id = create ("evaluation", json_object_get (f), &error);
  g_assert_null (id);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "evaluated_on");
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Xã Mới"));
  g_assert_nonnull (strstr (error->message, "15/08/2025"));
  g_clear_error (&error);

  /* On its last day it was still there. */
  json_object_object_add (f, "evaluated_on", json_object_new_string ("2025-06-30"));
  g_free (create ("evaluation", f, &error));
  g_assert_no_error (error);
}

/* A change of the year of a record already there is judged too. */
static void
test_update_into_the_past (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = create ("registration", registration (merged, 2026), &error);
  json_object *change = json_object_new_object ();

  g_assert_no_error (error);
  json_object_object_add (change, "year", json_object_new_int (2024));
  g_assert_false (kh_store_update (store, "registration", id, change, &error));
  json_object_put (change);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "year");
}

/* The same subject registered twice for one model and year is refused, naming the first;
 * another year or a withdrawn first registration is not. */
static void
test_registered_twice (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *first = create ("registration", registration (merged, 2027), &error);
  g_autofree char *again = NULL;
  json_object *change = json_object_new_object ();

  g_assert_no_error (error);
  again = create ("registration", registration (merged, 2027), &error);
  g_assert_null (again);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "subject_id");
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Lê Thị Hoa"));
  g_assert_nonnull (strstr (error->message, "2027"));
  g_clear_error (&error);

  /* Moving another registration into the same model and year is refused too. */
  again = create ("registration", registration (merged, 2028), &error);
  g_assert_no_error (error);
  json_object_object_add (change, "year", json_object_new_int (2027));
  g_assert_false (kh_store_update (store, "registration", again, change, &error));
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "subject_id");
  g_clear_error (&error);
  json_object_put (change);

  change = json_object_new_object ();
  json_object_object_add (change, "status", json_object_new_string ("withdrawn"));
  g_assert_true (kh_store_update (store, "registration", first, change, &error));
  g_assert_no_error (error);
  json_object_put (change);
  g_free (create ("registration", registration (merged, 2027), &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  json_object *p;
  int status;

  g_test_init (&argc, &argv, NULL);
  dir = kh_test_tmpdir ();
  store = kh_test_open_store (dir, "time.db");
  former = unit ("W1", "Xã Cũ Một", NULL, "2025-06-30");
  former2 = unit ("W2", "Xã Cũ Hai", "2020-01-01", "2025-06-30");
  merged = unit ("C1", "Xã Mới", "2025-07-01", NULL);
  link_units (former, merged);
  link_units (former2, merged);
  p = json_object_new_object ();
  json_object_object_add (p, "full_name", json_object_new_string ("Lê Thị Hoa"));
  json_object_object_add (p, "org_unit_id", json_object_new_string (merged));
  person = create ("person", p, &error);
  g_assert_no_error (error);

  g_test_add_func ("/data/unit-time/year-before-the-unit", test_year_before_the_unit);
  g_test_add_func ("/data/unit-time/date-after-the-unit", test_date_after_the_unit);
  g_test_add_func ("/data/unit-time/update-into-the-past", test_update_into_the_past);
  g_test_add_func ("/data/registration/once", test_registered_twice);
  status = g_test_run ();
  g_object_unref (store);
  return status;
}
