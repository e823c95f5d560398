/* test-replica-area.c: a replica's area follows the units' succession
 *
 * The replica refuses a page with records outside its account's area (kh-replica-tree.c). The
 * area of a new commune holds its predecessors, whose own parents (a former province) are not
 * its: their records are taken, also when the link comes in a later page than they do (the
 * feed is in version order, and a link is made after the records of the units it joins). A
 * pull that ends without the link that would bring them in is still refused.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-test-store.h"

static const char *C = "0190c9a2-7b1e-7c3a-9d7e-00000000000c";
static const char *FP = "0190c9a2-7b1e-7c3a-9d7e-0000000000f0";
static const char *W = "0190c9a2-7b1e-7c3a-9d7e-0000000000a1";
static const char *PERSON = "0190c9a2-7b1e-7c3a-9d7e-0000000000b1";
static const char *LINK = "0190c9a2-7b1e-7c3a-9d7e-0000000000d1";

static json_object *
remote (const char  *entity,
        const char  *id,
        gint64       version,
        json_object *fields)
{
  json_object *rec = json_object_new_object ();

  json_object_object_add (rec, "entity", json_object_new_string (entity));
  json_object_object_add (rec, "id", json_object_new_string (id));
  json_object_object_add (rec, "version", json_object_new_int64 (version));
  json_object_object_add (rec, "deleted", json_object_new_boolean (FALSE));
  json_object_object_add (rec, "fields", fields);
  json_object_object_add (rec, "updated_by", json_object_new_string ("admin"));
  json_object_object_add (rec, "updated_at", json_object_new_string ("2025-07-01T08:30:00Z"));
  return rec;
}

static json_object *
unit (const char *id,
      gint64      version,
      const char *kind,
      const char *parent)
{
  json_object *f = json_object_new_object ();

  json_object_object_add (f, "code", json_object_new_string (id + 30));
  json_object_object_add (f, "name", json_object_new_string (kind));
  json_object_object_add (f, "kind", json_object_new_string (kind));
  if (parent != NULL)
    json_object_object_add (f, "parent_id", json_object_new_string (parent));
  return remote ("org_unit", id, version, f);
}

/* The first page: a former commune and a person there, and its former province when
 * @with_province (the area of the new province holds it; a new commune's does not, and the
 * server does not send it there). */
static json_object *
former_page (gboolean with_province)
{
  json_object *records = json_object_new_array ();
  json_object *p = json_object_new_object ();

  if (with_province)
    json_object_array_add (records, unit (FP, 1, "province", NULL));
  json_object_array_add (records, unit (W, 2, "commune", FP));
  json_object_object_add (p, "full_name", json_object_new_string ("Đỗ Thị Hằng"));
  json_object_object_add (p, "org_unit_id", json_object_new_string (W));
  json_object_array_add (records, remote ("person", PERSON, 3, p));
  return records;
}

/* The last page: the new unit C (a commune, or a province when @province) and, when @linked,
 * the link from the former commune (or province) to it. */
static json_object *
new_page (gboolean linked,
          gboolean province)
{
  json_object *records = json_object_new_array ();

  json_object_array_add (records, unit (C, 4, province ? "province" : "commune", NULL));
  if (linked)
    {
      json_object *l = json_object_new_object ();

      json_object_object_add (l, "predecessor_id", json_object_new_string (province ? FP : W));
      json_object_object_add (l, "successor_id", json_object_new_string (C));
      json_object_object_add (l, "kind", json_object_new_string ("merge"));
      json_object_object_add (l, "effective_date", json_object_new_string ("2025-07-01"));
      json_object_array_add (records, remote ("unit_succession", LINK, 5, l));
    }
  return records;
}

static KhStore *
replica (const char *dir)
{
  g_autoptr(GError) error = NULL;
  KhStore *store = kh_test_open_store (dir, "replica.db");

  g_assert_true (kh_store_begin (store, &error));
  g_assert_true (kh_replica_set_state (store, "scope_unit_id", C, &error));
  g_assert_true (kh_store_commit (store, &error));
  g_assert_no_error (error);
  return store;
}

/* @province: the account is the new province's, the former province (whose way up ends at
 * itself, a top that is not the scope unit) arrives with its commune before the link; else
 * the new commune's, whose predecessor's parent never comes. */
static void
link_in_a_later_page (gboolean province,
                      gboolean linked)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = replica (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(json_object) first = former_page (province);
  g_autoptr(json_object) last = new_page (linked, province);
  g_autoptr(json_object) person = NULL;

  g_assert_true (kh_replica_apply_page (store, first, NULL, "1.1.3.abcdefgh", TRUE, TRUE, NULL, &error));
  g_assert_no_error (error);
  if (!linked)
    {
      /* The pull ends without the link: a record outside the area, refused. */
      g_assert_false (kh_replica_apply_page (store, last, NULL, "1.1.5.abcdefgh", FALSE, FALSE, NULL, &error));
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      kh_test_rmdir (dir);
      return;
    }
  kh_replica_apply_page (store, last, NULL, "1.1.5.abcdefgh", FALSE, FALSE, NULL, &error);
  g_assert_no_error (error);
  person = kh_store_get (store, "person", PERSON, &error);
  g_assert_no_error (error);
  g_assert_nonnull (person);
  kh_test_rmdir (dir);
}

static void
test_commune_link_later (void)
{
  link_in_a_later_page (FALSE, TRUE);
}

static void
test_province_link_later (void)
{
  link_in_a_later_page (TRUE, TRUE);
}

static void
test_commune_no_link (void)
{
  link_in_a_later_page (FALSE, FALSE);
}

static void
test_province_no_link (void)
{
  link_in_a_later_page (TRUE, FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/replica-area/commune-link-later", test_commune_link_later);
  g_test_add_func ("/sync/replica-area/province-link-later", test_province_link_later);
  g_test_add_func ("/sync/replica-area/commune-no-link", test_commune_no_link);
  g_test_add_func ("/sync/replica-area/province-no-link", test_province_no_link);
  return g_test_run ();
}
