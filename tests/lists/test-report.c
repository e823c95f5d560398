/* test-report.c: the figures, on a hand-built province whose answers are known
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-error.h"
#include "kh-report.h"
#include "kh-store-sql.h"
#include "lists-util.h"

typedef struct
{
  TestStore t;
} Fixture;

#define MAKE(...) g_free (test_make (f->t.store, __VA_ARGS__, NULL))

/* An evaluation with its scores: the schema's CHECK (json_valid(scores)) refuses a NULL on
 * SQLite before 3.45, so scores are always given here. */
static void
evaluate (Fixture    *f,
          const char *registration,
          const char *unit,
          const char *result,
          const char *date)
{
  json_object *o = test_obj ("registration_id", registration, "org_unit_id", unit, "result", result,
                             "evaluated_on", date, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  json_object_object_add (o, "scores", json_object_new_object ());
  id = kh_store_create (f->t.store, "evaluation", o, &error);
  g_assert_no_error (error);
  json_object_put (o);
}
#define ID(var, ...) g_autofree char *var = test_make (f->t.store, __VA_ARGS__, NULL)

static void
register_and_evaluate (Fixture    *f,
                       const char *model,
                       const char *kind,
                       const char *subject,
                       const char *unit,
                       const char *year,
                       const char *result,
                       const char *status)
{
  g_autofree char *reg = test_make (f->t.store, "registration", "model", model, "year", year,
                                    "org_unit_id", unit, "subject_kind", kind, "subject_id", subject,
                                    "subject_name", "x", "status", status, NULL);

  if (result != NULL)
    evaluate (f, reg, unit, result, "2024-12-15");
}

/* The province after the 2025 reform, P (communes C1 and C2, a school S1 and a village V1
 * under C1), and the tree before it, OP → district D → communes O1 (village VO) and O2; O1
 * was merged into C1 and O2 into C2. */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_store_init (&f->t);
  {
    ID (p, "org_unit", "code", "P", "name", "Tỉnh P", "kind", "province", "valid_from", "2025-07-01");
    ID (c1, "org_unit", "code", "C1", "name", "Xã Một", "kind", "commune", "parent_id", p);
    ID (c2, "org_unit", "code", "C2", "name", "Xã Hai", "kind", "commune", "parent_id", p);
    ID (s1, "org_unit", "code", "S1", "name", "Trường THCS Một", "kind", "school", "parent_id", c1);
    ID (v1, "org_unit", "code", "V1", "name", "Thôn Một", "kind", "village", "parent_id", c1);
    ID (op, "org_unit", "code", "OP", "name", "Tỉnh P cũ", "kind", "province", "valid_to", "2025-06-30");
    ID (d, "org_unit", "code", "D", "name", "Huyện D", "kind", "district", "parent_id", op, "valid_to", "2025-06-30");
    ID (o1, "org_unit", "code", "O1", "name", "Xã Cũ Một", "kind", "commune", "parent_id", d);
    ID (o2, "org_unit", "code", "O2", "name", "Xã Cũ Hai", "kind", "commune", "parent_id", d);
    ID (vo, "org_unit", "code", "VO", "name", "Thôn Cũ", "kind", "village", "parent_id", o1);
    ID (h1, "household", "head_name", "Hộ 1", "org_unit_id", v1);
    ID (h2, "household", "head_name", "Hộ 2", "org_unit_id", v1);
    ID (h3, "household", "head_name", "Hộ 3", "org_unit_id", v1);
    ID (h4, "household", "head_name", "Hộ 4", "org_unit_id", o2);
    ID (a, "person", "full_name", "Người A", "org_unit_id", vo);
    ID (b, "person", "full_name", "Người B", "org_unit_id", vo);
    ID (c, "person", "full_name", "Người C", "org_unit_id", vo);
    ID (l1, "award_list", "title", "Tết 2025 xã Một", "occasion", "tet", "school_year", "2024-2025",
        "org_unit_id", c1, "status", "approved", "decision_date", "2025-01-20");
    ID (l2, "award_list", "title", "Năm học mới xã Hai", "occasion", "new_school_year",
        "school_year", "2025-2026", "org_unit_id", c2, "status", "approved");
    ID (l0, "award_list", "title", "Tết 2024 xã Cũ Một", "occasion", "tet", "school_year", "2023-2024",
        "org_unit_id", o1, "status", "paid");
    ID (f1, "fund", "name", "Quỹ khuyến học xã Một", "level", "commune", "org_unit_id", c1,
        "opening_balance", "#4000000");
    ID (f2, "fund", "name", "Quỹ khuyến học xã Hai", "level", "commune", "org_unit_id", c2);
    ID (fo, "fund", "name", "Quỹ khuyến học huyện D", "level", "other", "org_unit_id", d);

    MAKE ("unit_succession", "predecessor_id", o1, "successor_id", c1, "kind", "merge", "effective_date", "2025-07-01");
    MAKE ("unit_succession", "predecessor_id", o2, "successor_id", c2, "kind", "merge", "effective_date", "2025-07-01");

    /* 2024, in the old tree. */
    register_and_evaluate (f, "citizen", "person", a, vo, "#2024", "pass", "evaluated");
    register_and_evaluate (f, "citizen", "person", b, vo, "#2024", "pass", "evaluated");
    register_and_evaluate (f, "citizen", "person", c, vo, "#2024", "fail", "evaluated");
    register_and_evaluate (f, "family", "household", h4, o2, "#2024", "pass", "evaluated");
    MAKE ("population", "org_unit_id", o1, "year", "#2024", "model", "citizen", "eligible", "#10");
    MAKE ("population", "org_unit_id", o2, "year", "#2024", "model", "citizen", "eligible", "#5");
    MAKE ("population", "org_unit_id", d, "year", "#2024", "model", "citizen", "eligible", "#40");
    MAKE ("award_entry", "list_id", l0, "org_unit_id", o1, "recipient_name", "Em Cũ", "category", "hardship",
          "amount", "#800000", "status", "approved");
    MAKE ("donation", "fund_id", fo, "org_unit_id", o1, "donor_name", "Ông Cũ", "donated_on", "2024-05-01",
          "form", "cash", "amount", "#2000000");
    MAKE ("donation", "fund_id", f1, "org_unit_id", c1, "donor_name", "Bà Năm Cũ", "donated_on", "2024-12-31",
          "form", "cash", "amount", "#1000000");

    /* 2025, in today's tree. */
    register_and_evaluate (f, "family", "household", h1, v1, "#2025", "pass", "evaluated");
    register_and_evaluate (f, "family", "household", h2, v1, "#2025", "fail", "evaluated");
    register_and_evaluate (f, "family", "household", h3, v1, "#2025", NULL, "withdrawn");
    {
      g_autofree char *reg = test_make (f->t.store, "registration", "model", "unit", "year", "#2025",
                                        "org_unit_id", s1, "subject_kind", "org_unit", "subject_id", s1,
                                        "subject_name", "Trường THCS Một", "status", "evaluated", NULL);

      /* Evaluated twice: the later result counts. */
      evaluate (f, reg, s1, "level1", "2025-12-01");
      evaluate (f, reg, s1, "level2", "2025-12-20");
    }
    MAKE ("award_entry", "list_id", l1, "org_unit_id", c1, "recipient_name", "Em Một", "category", "hardship",
          "amount", "#1000000", "status", "approved");
    MAKE ("award_entry", "list_id", l1, "org_unit_id", c1, "recipient_name", "Em Hai", "category", "hardship",
          "amount", "#1500000", "status", "paid", "received_on", "2025-01-25");
    MAKE ("award_entry", "list_id", l1, "org_unit_id", c1, "recipient_name", "Em Ba", "category", "merit",
          "amount", "#3000000", "status", "approved");
    MAKE ("award_entry", "list_id", l1, "org_unit_id", c1, "recipient_name", "Bà Bốn", "category", "adult_learner",
          "amount", "#500000", "status", "approved");
    MAKE ("award_entry", "list_id", l1, "org_unit_id", c1, "recipient_name", "Em Năm", "category", "special",
          "amount", "#2000000", "status", "cancelled");
    MAKE ("award_entry", "list_id", l1, "org_unit_id", c1, "recipient_name", "Em Sáu", "category", "merit",
          "amount", "#700000", "status", "proposed");
    MAKE ("award_entry", "list_id", l2, "org_unit_id", c2, "recipient_name", "Em Bảy", "category", "merit",
          "amount", "#1000000", "status", "approved");
    MAKE ("donation", "fund_id", f1, "org_unit_id", c1, "donor_name", "Công ty A", "donated_on", "2025-03-01",
          "form", "cash", "amount", "#5000000");
    MAKE ("donation", "fund_id", f1, "org_unit_id", c1, "donor_name", "Nhà sách B", "donated_on", "2025-04-01",
          "form", "in_kind", "in_kind", "Sách vở", "in_kind_value", "#1200000");
    MAKE ("donation", "fund_id", f2, "org_unit_id", c2, "donor_name", "Ông C", "donated_on", "2025-02-02",
          "form", "transfer", "amount", "#300000");
    MAKE ("disbursement", "fund_id", f1, "org_unit_id", c1, "list_id", l1, "amount", "#4500000",
          "paid_on", "2025-01-25");
  }
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  test_store_clear (&f->t);
}

static json_object *
compute (Fixture    *f,
         const char *unit,
         int         year,
         gboolean    by_successor)
{
  g_autoptr(GError) error = NULL;
  json_object *r = kh_report_compute (f->t.store, unit, year, by_successor, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static json_object *
model (json_object *r,
       int          index)
{
  return json_object_array_get_idx (json_object_object_get (r, "models"), index);
}

static gint64
num (json_object *o,
     const char  *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    o = json_object_object_get (o, parts[i]);
  return json_object_get_int64 (o);
}

static json_object *
child (json_object *r,
       const char  *code)
{
  json_object *children = json_object_object_get (r, "children");

  for (size_t i = 0; i < json_object_array_length (children); i++)
    {
      json_object *c = json_object_array_get_idx (children, i);

      if (g_strcmp0 (json_object_get_string (json_object_object_get (c, "code")), code) == 0)
        return c;
    }
  g_error ("no child %s", code);
  return NULL;
}

enum { CITIZEN, FAMILY, CLAN, COMMUNITY, UNIT };
enum { HARDSHIP, MERIT, SPECIAL, ADULT };

static json_object *
award (json_object *r,
       int          index)
{
  return json_object_array_get_idx (json_object_object_get (r, "awards"), index);
}

static void
test_report_today (Fixture       *f,
                   gconstpointer  data)
{
  json_object *r = compute (f, "P", 2025, TRUE);
  json_object *funds = json_object_object_get (r, "funds");

  /* Withdrawn registrations do not count; a redone evaluation counts once, at its latest. */
  g_assert_cmpint (num (model (r, FAMILY), "registered"), ==, 2);
  g_assert_cmpint (num (model (r, FAMILY), "evaluated"), ==, 2);
  g_assert_cmpint (num (model (r, FAMILY), "achieved"), ==, 1);
  g_assert_cmpint (num (model (r, UNIT), "registered"), ==, 1);
  g_assert_cmpint (num (model (r, UNIT), "achieved"), ==, 1);
  g_assert_cmpint (num (r, "learning_units.level2"), ==, 1);
  g_assert_cmpint (num (r, "learning_units.level1"), ==, 0);
  g_assert_cmpint (num (model (r, CITIZEN), "registered"), ==, 0);
  g_assert_null (json_object_object_get (model (r, FAMILY), "eligible"));

  /* Proposed and cancelled entries are not awards; L2 (no decision date) falls in the new
   * school year's first calendar year. */
  g_assert_cmpint (num (award (r, HARDSHIP), "count"), ==, 2);
  g_assert_cmpint (num (award (r, HARDSHIP), "amount"), ==, 2500000);
  g_assert_cmpint (num (award (r, MERIT), "count"), ==, 2);
  g_assert_cmpint (num (award (r, MERIT), "amount"), ==, 4000000);
  g_assert_cmpint (num (award (r, SPECIAL), "count"), ==, 0);
  g_assert_cmpint (num (award (r, ADULT), "count"), ==, 1);
  g_assert_cmpint (num (award (r, ADULT), "amount"), ==, 500000);
  g_assert_cmpint (num (r, "awards_total.count"), ==, 5);
  g_assert_cmpint (num (r, "awards_total.amount"), ==, 7000000);

  g_assert_cmpint (num (r, "funds_total.mobilized"), ==, 5300000);
  g_assert_cmpint (num (r, "funds_total.in_kind"), ==, 1200000);
  g_assert_cmpint (num (r, "funds_total.donations"), ==, 3);
  g_assert_cmpint (num (r, "funds_total.disbursed"), ==, 4500000);
  g_assert_cmpuint (json_object_array_length (funds), ==, 2);
  /* Sorted by name: xã Hai before xã Một. */
  g_assert_cmpint (num (json_object_array_get_idx (funds, 0), "mobilized"), ==, 300000);
  g_assert_cmpint (num (json_object_array_get_idx (funds, 1), "mobilized"), ==, 5000000);
  g_assert_cmpint (num (json_object_array_get_idx (funds, 1), "disbursed"), ==, 4500000);

  /* The breakdown by commune adds up to the whole. */
  g_assert_cmpint (num (child (r, "C1"), "awards_count"), ==, 4);
  g_assert_cmpint (num (child (r, "C1"), "awards_amount"), ==, 6000000);
  g_assert_cmpint (num (child (r, "C2"), "awards_amount"), ==, 1000000);
  g_assert_cmpint (num (child (r, "C1"), "mobilized"), ==, 5000000);
  g_assert_cmpint (num (model (child (r, "C1"), FAMILY), "registered"), ==, 2);
  json_object_put (r);
}

static void
test_report_past_by_successor (Fixture       *f,
                               gconstpointer  data)
{
  json_object *r = compute (f, "P", 2024, TRUE);
  json_object *shared;

  /* 2024's records of abolished communes count under today's communes that succeeded them. */
  g_assert_cmpint (num (model (r, CITIZEN), "registered"), ==, 3);
  g_assert_cmpint (num (model (r, CITIZEN), "achieved"), ==, 2);
  g_assert_cmpint (num (model (r, FAMILY), "achieved"), ==, 1);
  /* The eligible population sums what was entered for O1 and O2 (today's tree has no figure
   * of its own): 2 of 15. */
  g_assert_cmpint (num (model (r, CITIZEN), "eligible"), ==, 15);
  shared = json_object_object_get (model (r, CITIZEN), "achieved_share");
  g_assert_cmpfloat_with_epsilon (json_object_get_double (shared), 200.0 / 15.0, 1e-9);
  g_assert_cmpint (num (r, "awards_total.amount"), ==, 800000);
  g_assert_cmpint (num (r, "funds_total.mobilized"), ==, 3000000);
  g_assert_cmpint (num (model (child (r, "C1"), CITIZEN), "registered"), ==, 3);
  g_assert_cmpint (num (model (child (r, "C2"), FAMILY), "registered"), ==, 1);
  g_assert_cmpint (num (model (child (r, "C1"), CITIZEN), "eligible"), ==, 10);
  json_object_put (r);

  /* By today's tree alone, the old records are not there. */
  r = compute (f, "P", 2024, FALSE);
  g_assert_cmpint (num (model (r, CITIZEN), "registered"), ==, 0);
  g_assert_cmpint (num (r, "awards_total.count"), ==, 0);
  g_assert_cmpint (num (r, "funds_total.mobilized"), ==, 1000000);
  json_object_put (r);
}

static void
test_report_past_tree (Fixture       *f,
                       gconstpointer  data)
{
  json_object *r = compute (f, "D", 2024, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *xlsx = g_build_filename (f->t.dir, "figures.xlsx", NULL);

  /* Reporting 2024 by that year's tree: the district and its communes. */
  g_assert_cmpint (num (model (r, CITIZEN), "registered"), ==, 3);
  g_assert_cmpint (num (model (r, FAMILY), "registered"), ==, 1);
  /* The district's own figure holds over the sum of its communes'. */
  g_assert_cmpint (num (model (r, CITIZEN), "eligible"), ==, 40);
  g_assert_cmpint (num (model (child (r, "O1"), CITIZEN), "eligible"), ==, 10);
  g_assert_cmpint (num (model (child (r, "O2"), CITIZEN), "eligible"), ==, 5);
  g_assert_cmpint (num (r, "funds_total.mobilized"), ==, 2000000);

  text = kh_report_to_text (r, KH_FORMAT_VIETNAMESE);
  g_assert_nonnull (strstr (text, "Huyện D"));
  g_assert_nonnull (strstr (text, "2.000.000\u00a0₫"));
  g_assert_true (kh_report_export_xlsx (r, xlsx, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (xlsx, G_FILE_TEST_IS_REGULAR));
  json_object_put (r);

  g_assert_null (kh_report_compute (f->t.store, "NOPE", 2024, FALSE, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
}

/* The report counts the minors of its units whose record lacks a consent that counts. */
static void
test_report_minors_without_consent (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_years (now, -10);
  g_autofree char *birth = g_date_time_format (then, "%Y-%m-%d");
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  json_object *units = kh_store_list (f->t.store, "org_unit", NULL, NULL);
  const char *v1 = NULL, *v2 = NULL;
  g_autofree char *child = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *other = NULL;
  g_autofree char *text = NULL;
  json_object *r;

  for (size_t i = 0; i < json_object_array_length (units); i++)
    {
      json_object *u = json_object_array_get_idx (units, i);
      const char *code = json_object_get_string (json_object_object_get (u, "code"));

      if (g_strcmp0 (code, "V1") == 0)
        v1 = json_object_get_string (json_object_object_get (u, "id"));
      if (g_strcmp0 (code, "C2") == 0)
        v2 = json_object_get_string (json_object_object_get (u, "id"));
    }
  child = test_make (f->t.store, "person", "full_name", "Trẻ Một", "org_unit_id", v1, "birth_date", birth, NULL);
  parent = test_make (f->t.store, "person", "full_name", "Cha Một", "org_unit_id", v1, "birth_date", "1980-01-01", NULL);
  other = test_make (f->t.store, "person", "full_name", "Trẻ Hai", "org_unit_id", v2, "birth_date", birth, NULL);

  r = kh_report_compute (f->t.store, "C1", 2025, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (r, "minors_without_consent")), ==, 1);
  text = kh_report_to_text (r, KH_FORMAT_VIETNAMESE);
  g_assert_nonnull (strstr (text, "1"));
  json_object_put (r);
  r = kh_report_compute (f->t.store, "P", 2025, FALSE, &error);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (r, "minors_without_consent")), ==, 2);
  json_object_put (r);

  g_free (test_make (f->t.store, "consent", "person_id", child, "org_unit_id", v1, "person_name", "Trẻ Một",
                     "given_by", "both", "guardian_id", parent, "purpose", "Học bổng", "given_on", today, NULL));
  r = kh_report_compute (f->t.store, "C1", 2025, FALSE, &error);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (r, "minors_without_consent")), ==, 0);
  json_object_put (r);
  json_object_put (units);
}

/* The registrations are counted in one pass with one sort, whatever their number: each one's
 * latest evaluation (a review first) is read from the covering index in the order it is
 * picked in, not sorted registration by registration. */
static void
test_report_sorts_once (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *r;
  sqlite3_stmt *stmt = NULL;
  guint found = 0;

  r = kh_report_compute (f->t.store, "P", 2025, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (json_object_array_get_idx (
                     json_object_object_get (r, "models"), 1), "registered")), ==, 2);
  json_object_put (r);
  while ((stmt = sqlite3_next_stmt (kh_store_get_db (f->t.store), stmt)) != NULL)
    if (strstr (sqlite3_sql (stmt), "kh_report_unit u CROSS JOIN registration") != NULL)
      {
        found++;
        g_assert_cmpint (sqlite3_stmt_status (stmt, SQLITE_STMTSTATUS_SORT, FALSE), <=, 1);
      }
  g_assert_cmpuint (found, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lists/report/today", Fixture, NULL, fixture_setup, test_report_today, fixture_teardown);
  g_test_add ("/lists/report/minors-without-consent", Fixture, NULL, fixture_setup,
              test_report_minors_without_consent, fixture_teardown);
  g_test_add ("/lists/report/past-by-successor", Fixture, NULL, fixture_setup, test_report_past_by_successor, fixture_teardown);
  g_test_add ("/lists/report/past-tree", Fixture, NULL, fixture_setup, test_report_past_tree, fixture_teardown);
  g_test_add ("/lists/report/sorts-once", Fixture, NULL, fixture_setup, test_report_sorts_once, fixture_teardown);
  return g_test_run ();
}
