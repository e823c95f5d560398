/* kh-test-figures.c: a hand-made province across the 2025 reform, and its figures worked out
 * by hand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-test-figures.h"

#include <string.h>

const KhTestFiguresUnit kh_test_figures_units[] = {
  { "P", "Tỉnh Mới", "province", NULL, "2025-07-01", NULL, NULL },
  { "N1", "Xã Tân Một", "commune", "P", "2025-07-01", NULL, NULL },
  { "N2", "Xã Tân Hai", "commune", "P", "2025-07-01", NULL, NULL },
  { "N3", "Xã Tân Ba", "commune", "P", "2025-07-01", NULL, NULL },
  { "OA", "Tỉnh A cũ", "province", NULL, NULL, "2025-06-30", "P" },
  { "DA1", "Huyện A1", "district", "OA", NULL, "2025-06-30", NULL },
  { "DA2", "Huyện A2", "district", "OA", NULL, "2025-06-30", NULL },
  { "X1", "Xã Một", "commune", "DA1", NULL, "2025-06-30", "N1" },
  { "X2", "Xã Hai", "commune", "DA1", NULL, "2025-06-30", "N1" },
  { "X3", "Xã Ba", "commune", "DA2", NULL, "2025-06-30", "N2" },
  { "X4", "Xã Bốn", "commune", "DA2", NULL, "2025-06-30", "N2" },
  { "OB", "Tỉnh B cũ", "province", NULL, NULL, "2025-06-30", "P" },
  { "DB1", "Huyện B1", "district", "OB", NULL, "2025-06-30", NULL },
  { "X5", "Xã Năm", "commune", "DB1", NULL, "2025-06-30", "N3" },
  { "X6", "Xã Sáu", "commune", "DB1", NULL, "2025-06-30", "N3" },
};
const guint kh_test_figures_n_units = G_N_ELEMENTS (kh_test_figures_units);

char *
kh_test_figures_units_csv (void)
{
  GString *s = g_string_new ("code,name,kind,parent_code,valid_from,valid_to,population,address,"
                             "successor_codes,change,change_date,legal_basis\n");

  for (guint i = 0; i < kh_test_figures_n_units; i++)
    {
      const KhTestFiguresUnit *u = &kh_test_figures_units[i];

      g_string_append_printf (s, "%s,%s,%s,%s,%s,%s,,,%s,%s,%s,%s\n", u->code, u->name, u->kind,
                              u->parent ? u->parent : "", u->valid_from ? u->valid_from : "",
                              u->valid_to ? u->valid_to : "", u->successor ? u->successor : "",
                              u->successor ? "merge" : "", u->successor ? "01/07/2025" : "",
                              u->successor ? "Nghị quyết 1667/NQ-UBTVQH15" : "");
    }
  return g_string_free (s, FALSE);
}

typedef struct
{
  KhTestFiguresMake   make;
  KhTestFiguresUnitId unit_id;
  gpointer            data;
} Builder;

/* A record from key, value pairs: "#123" is a number, "@X1" the id of the unit X1, anything
 * else text. */
static char *
make (Builder    *b,
      const char *entity,
      ...)
{
  json_object *o = json_object_new_object ();
  const char *key;
  va_list ap;

  va_start (ap, entity);
  while ((key = va_arg (ap, const char *)) != NULL)
    {
      const char *value = va_arg (ap, const char *);

      if (value[0] == '#')
        json_object_object_add (o, key, json_object_new_int64 (g_ascii_strtoll (value + 1, NULL, 10)));
      else if (value[0] == '@')
        json_object_object_add (o, key, json_object_new_string (b->unit_id (b->data, value + 1)));
      else
        json_object_object_add (o, key, json_object_new_string (value));
    }
  va_end (ap);
  if (strcmp (entity, "evaluation") == 0)
    json_object_object_add (o, "scores", json_object_new_object ());
  return b->make (b->data, entity, o);
}

static char *
person (Builder    *b,
        const char *name,
        const char *unit)
{
  return make (b, "person", "full_name", name, "org_unit_id", unit, "birth_date", "1980-05-05", NULL);
}

static char *
household (Builder    *b,
           const char *name,
           const char *unit)
{
  return make (b, "household", "head_name", name, "org_unit_id", unit, NULL);
}

/* A registration of @model, with an evaluation per result in @results (in time order; NULL
 * for none) and a recognition at @issuer (NULL for none). */
static char *
reg (Builder     *b,
     const char  *model,
     const char  *subject,
     const char  *name,
     const char  *unit,
     const char  *year,
     const char  *status,
     const char **results,
     const char  *issuer,
     const char  *decision_date)
{
  const char *kind = strcmp (model, "citizen") == 0 ? "person"
                     : strcmp (model, "family") == 0 ? "household" : "org_unit";
  char *id = make (b, "registration", "model", model, "year", year, "org_unit_id", unit,
                   "subject_kind", kind, "subject_id", subject, "subject_name", name,
                   "status", status, NULL);

  for (int i = 0; results != NULL && results[i] != NULL; i++)
    {
      g_autofree char *date = g_strdup_printf ("%s-12-%02d", year + 1, 5 + 10 * i);

      g_free (make (b, "evaluation", "registration_id", id, "org_unit_id", unit, "result", results[i],
                    "evaluated_on", date, NULL));
    }
  if (issuer != NULL)
    {
      g_autofree char *number = g_strdup_printf ("%s/QĐ-UBND", decision_date);

      g_free (make (b, "recognition", "registration_id", id, "org_unit_id", unit,
                    "decision_number", number, "decision_date", decision_date,
                    "issuing_level", issuer, NULL));
    }
  return id;
}

#define R(...) (const char *[]) { __VA_ARGS__, NULL }

void
kh_test_figures_build (KhTestFiguresMake    make_fn,
                       KhTestFiguresUnitId  unit_id,
                       gpointer             data)
{
  Builder bb = { make_fn, unit_id, data }, *b = &bb;
  g_autofree char *x1 = g_strdup (unit_id (data, "X1"));
  g_autofree char *x2 = g_strdup (unit_id (data, "X2"));
  g_autofree char *n3 = g_strdup (unit_id (data, "N3"));
  g_autofree char *p1 = person (b, "Nguyễn Văn An", "@X1");
  g_autofree char *p2 = person (b, "Trần Thị Bình", "@X1");
  g_autofree char *p3 = person (b, "Lê Văn Cường", "@X1");
  g_autofree char *p4 = person (b, "Phạm Thị Dung", "@X5");
  g_autofree char *p5 = person (b, "Võ Văn Em", "@X5");
  g_autofree char *p6 = person (b, "Huỳnh Thị Hoa", "@X2");
  g_autofree char *p7 = person (b, "Đặng Văn Hùng", "@N1");
  g_autofree char *p8 = person (b, "Bùi Thị Lan", "@N1");
  g_autofree char *p9 = person (b, "Đỗ Văn Minh", "@N1");
  g_autofree char *h1 = household (b, "Ngô Văn Nam", "@X3");
  g_autofree char *h2 = household (b, "Dương Thị Oanh", "@X3");
  g_autofree char *h3 = household (b, "Lý Văn Phúc", "@N2");
  g_autofree char *h4 = household (b, "Hồ Thị Quyên", "@X4");
  g_autofree char *fa1 = NULL, *fx3 = NULL, *fn1 = NULL, *fob = NULL;
  g_autofree char *l0 = NULL, *l1 = NULL, *l2 = NULL, *l3 = NULL;

  /* 2023, in the former communes. */
  g_free (reg (b, "citizen", p1, "Nguyễn Văn An", "@X1", "#2023", "evaluated", R ("pass"), "commune", "2024-01-15"));
  g_free (reg (b, "citizen", p2, "Trần Thị Bình", "@X1", "#2023", "evaluated", R ("pass"), "commune", "2024-01-15"));
  g_free (reg (b, "citizen", p3, "Lê Văn Cường", "@X1", "#2023", "evaluated", R ("fail"), NULL, NULL));
  g_free (reg (b, "family", h1, "Ngô Văn Nam", "@X3", "#2023", "evaluated", R ("pass"), "commune", "2024-01-20"));
  g_free (reg (b, "family", h2, "Dương Thị Oanh", "@X3", "#2023", "registered", NULL, NULL, NULL));
  g_free (reg (b, "citizen", p4, "Phạm Thị Dung", "@X5", "#2023", "evaluated", R ("pass"), "commune", "2024-01-25"));
  g_free (reg (b, "citizen", p5, "Võ Văn Em", "@X5", "#2023", "evaluated", R ("pass"), NULL, NULL));

  /* 2024: an evaluation redone after an appeal (the later one counts), a withdrawal, a
   * commune as a learning community, recognitions by the district in early 2025. */
  g_free (reg (b, "citizen", p1, "Nguyễn Văn An", "@X1", "#2024", "evaluated", R ("pass"), "commune", "2025-01-15"));
  g_free (reg (b, "citizen", p6, "Huỳnh Thị Hoa", "@X2", "#2024", "evaluated", R ("fail", "pass"), NULL, NULL));
  g_free (reg (b, "family", h4, "Hồ Thị Quyên", "@X4", "#2024", "evaluated", R ("pass"), "district", "2025-02-01"));
  g_free (reg (b, "citizen", p4, "Phạm Thị Dung", "@X5", "#2024", "evaluated", R ("pass"), NULL, NULL));
  g_free (reg (b, "citizen", p5, "Võ Văn Em", "@X5", "#2024", "withdrawn", NULL, NULL, NULL));
  g_free (reg (b, "community", x2, "Xã Hai", "@X2", "#2024", "evaluated", R ("level1"), "district", "2025-03-01"));

  /* 2025, in the new communes. */
  g_free (reg (b, "citizen", p7, "Đặng Văn Hùng", "@N1", "#2025", "evaluated", R ("pass"), "commune", "2025-12-20"));
  g_free (reg (b, "citizen", p8, "Bùi Thị Lan", "@N1", "#2025", "evaluated", R ("pass"), "commune", "2025-12-20"));
  g_free (reg (b, "citizen", p9, "Đỗ Văn Minh", "@N1", "#2025", "evaluated", R ("fail"), NULL, NULL));
  g_free (reg (b, "family", h3, "Lý Văn Phúc", "@N2", "#2025", "evaluated", R ("pass"), "commune", "2025-12-21"));
  g_free (reg (b, "community", n3, "Xã Tân Ba", "@N3", "#2025", "evaluated", R ("level2"), "province", "2025-12-22"));
  (void) x1;

  /* The eligible population: every commune in 2023 (Năm's figure is below its two
   * registrations); four of six in 2024; in 2025 Tân Một and Tân Hai for citizens, all three
   * for families. */
  {
    static const struct { const char *unit, *year, *model, *eligible; } pop[] = {
      { "@X1", "#2023", "citizen", "#10" }, { "@X2", "#2023", "citizen", "#8" },
      { "@X3", "#2023", "citizen", "#6" }, { "@X4", "#2023", "citizen", "#4" },
      { "@X5", "#2023", "citizen", "#1" }, { "@X6", "#2023", "citizen", "#7" },
      { "@X1", "#2024", "citizen", "#10" }, { "@X2", "#2024", "citizen", "#8" },
      { "@X3", "#2024", "citizen", "#6" }, { "@X4", "#2024", "citizen", "#4" },
      { "@N1", "#2025", "citizen", "#100" }, { "@N2", "#2025", "citizen", "#80" },
      { "@N1", "#2025", "family", "#50" }, { "@N2", "#2025", "family", "#40" },
      { "@N3", "#2025", "family", "#30" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (pop); i++)
      g_free (make (b, "population", "org_unit_id", pop[i].unit, "year", pop[i].year, "model", pop[i].model,
                    "eligible", pop[i].eligible, NULL));
  }

  /* Funds: a former district's, a former commune's, a former province's, a new commune's. */
  fa1 = make (b, "fund", "name", "Quỹ khuyến học huyện A1", "level", "other", "org_unit_id", "@DA1", NULL);
  fx3 = make (b, "fund", "name", "Quỹ khuyến học xã Ba", "level", "commune", "org_unit_id", "@X3", NULL);
  fob = make (b, "fund", "name", "Quỹ khuyến học tỉnh B", "level", "province", "org_unit_id", "@OB", NULL);
  fn1 = make (b, "fund", "name", "Quỹ khuyến học xã Tân Một", "level", "commune", "org_unit_id", "@N1", NULL);
  g_free (make (b, "donation", "fund_id", fa1, "org_unit_id", "@DA1", "donor_name", "Công ty Một",
                "donated_on", "2023-03-01", "form", "cash", "amount", "#5000000", NULL));
  g_free (make (b, "donation", "fund_id", fa1, "org_unit_id", "@DA1", "donor_name", "Công ty Hai",
                "donated_on", "2024-04-01", "form", "cash", "amount", "#3000000", NULL));
  g_free (make (b, "donation", "fund_id", fx3, "org_unit_id", "@X3", "donor_name", "Bà Ba",
                "donated_on", "2024-05-01", "form", "transfer", "amount", "#2000000", NULL));
  g_free (make (b, "donation", "fund_id", fx3, "org_unit_id", "@X3", "donor_name", "Nhà sách Bốn",
                "donated_on", "2025-02-01", "form", "in_kind", "in_kind", "Sách vở",
                "in_kind_value", "#1500000", NULL));
  g_free (make (b, "donation", "fund_id", fob, "org_unit_id", "@OB", "donor_name", "Ngân hàng Năm",
                "donated_on", "2025-03-01", "form", "transfer", "amount", "#10000000", NULL));
  g_free (make (b, "donation", "fund_id", fn1, "org_unit_id", "@N1", "donor_name", "Ông Sáu",
                "donated_on", "2025-09-01", "form", "cash", "amount", "#4000000", NULL));
  g_free (make (b, "disbursement", "fund_id", fa1, "org_unit_id", "@DA1", "amount", "#2500000",
                "paid_on", "2024-06-01", "purpose", "Học bổng Tết", NULL));

  /* Award lists: the year is the decision's, else the receipt's. */
  l0 = make (b, "award_list", "title", "Tết 2023 xã Ba", "occasion", "tet", "school_year", "2022-2023",
             "org_unit_id", "@X3", "status", "paid", NULL);
  g_free (make (b, "award_entry", "list_id", l0, "org_unit_id", "@X3", "recipient_name", "Ngô Thị Ánh",
                "category", "hardship", "amount", "#700000", "status", "paid", "received_on", "2023-01-15", NULL));
  l1 = make (b, "award_list", "title", "Tết 2024 xã Một", "occasion", "tet", "school_year", "2023-2024",
             "org_unit_id", "@X1", "status", "paid", "decision_date", "2024-01-20", NULL);
  g_free (make (b, "award_entry", "list_id", l1, "org_unit_id", "@X1", "recipient_name", "Nguyễn Thị Bảo",
                "category", "hardship", "amount", "#1000000", "status", "paid", "received_on", "2024-02-01", NULL));
  g_free (make (b, "award_entry", "list_id", l1, "org_unit_id", "@X1", "recipient_name", "Trần Văn Chí",
                "category", "merit", "amount", "#2000000", "status", "approved", NULL));
  g_free (make (b, "award_entry", "list_id", l1, "org_unit_id", "@X1", "recipient_name", "Lê Thị Diệu",
                "category", "hardship", "amount", "#500000", "status", "cancelled", NULL));
  l2 = make (b, "award_list", "title", "Năm học mới xã Năm", "occasion", "new_school_year",
             "school_year", "2024-2025", "org_unit_id", "@X5", "status", "approved", "decision_date", "2024-09-05", NULL);
  g_free (make (b, "award_entry", "list_id", l2, "org_unit_id", "@X5", "recipient_name", "Phạm Văn Giang",
                "category", "adult_learner", "amount", "#800000", "status", "approved", NULL));
  g_free (make (b, "award_entry", "list_id", l2, "org_unit_id", "@X5", "recipient_name", "Võ Thị Hằng",
                "category", "merit", "amount", "#1500000", "status", "proposed", NULL));
  l3 = make (b, "award_list", "title", "Tết 2026 xã Tân Một", "occasion", "tet", "school_year", "2025-2026",
             "org_unit_id", "@N1", "status", "approved", "decision_date", "2025-12-20", NULL);
  g_free (make (b, "award_entry", "list_id", l3, "org_unit_id", "@N1", "recipient_name", "Đặng Thị Khánh",
                "category", "hardship", "amount", "#1000000", "status", "approved", NULL));
  g_free (make (b, "award_entry", "list_id", l3, "org_unit_id", "@N1", "recipient_name", "Bùi Văn Lộc",
                "category", "special", "amount", "#2000000", "status", "approved", NULL));
  g_free (make (b, "disbursement", "fund_id", fn1, "org_unit_id", "@N1", "list_id", l3, "amount", "#3000000",
                "paid_on", "2025-12-25", "purpose", "Học bổng Tết 2026", NULL));
}

/* Checking --------------------------------------------------------------------------------- */

enum { CITIZEN, FAMILY, CLAN, COMMUNITY, UNIT };
enum { HARDSHIP, MERIT, SPECIAL, ADULT };

static json_object *
at (json_object *o,
    const char  *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);

  for (guint i = 0; o != NULL && parts[i] != NULL; i++)
    o = json_object_object_get (o, parts[i]);
  return o;
}

static gint64
num (json_object *o,
     const char  *path)
{
  json_object *v = at (o, path);

  if (v == NULL)
    g_error ("%s is missing in %s", path, json_object_to_json_string (o));
  return json_object_get_int64 (v);
}

static json_object *
model (json_object *r,
       int          m)
{
  return json_object_array_get_idx (json_object_object_get (r, "models"), m);
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
  g_error ("no unit %s under %s", code, json_object_to_json_string (at (r, "unit")));
  return NULL;
}

/* A model's counts: registered, evaluated, achieved, recognized. */
static void
check_model (json_object *r,
             int          m,
             gint64       registered,
             gint64       evaluated,
             gint64       achieved,
             gint64       recognized)
{
  json_object *o = model (r, m);

  g_assert_cmpint (num (o, "registered"), ==, registered);
  g_assert_cmpint (num (o, "evaluated"), ==, evaluated);
  g_assert_cmpint (num (o, "achieved"), ==, achieved);
  g_assert_cmpint (num (o, "recognized"), ==, recognized);
}

/* A share given: the eligible population and the achieved share in percent. */
static void
check_share (json_object *r,
             int          m,
             gint64       eligible,
             double       achieved_share)
{
  json_object *o = model (r, m);

  g_assert_cmpint (num (o, "eligible"), ==, eligible);
  g_assert_null (at (o, "eligible_missing"));
  g_assert_nonnull (at (o, "achieved_share"));
  g_assert_cmpfloat_with_epsilon (json_object_get_double (at (o, "achieved_share")), achieved_share, 1e-9);
}

/* No share, because of the units named in @codes (comma-separated, any order), or because no
 * figure was entered at all (@codes NULL). */
static void
check_no_share (json_object *r,
                int          m,
                const char  *codes)
{
  json_object *o = model (r, m);
  json_object *missing = at (o, "eligible_missing");

  g_assert_null (at (o, "eligible"));
  g_assert_null (at (o, "achieved_share"));
  g_assert_null (at (o, "registered_share"));
  if (codes == NULL)
    g_assert_null (missing);
  else
    {
      g_auto(GStrv) want = g_strsplit (codes, ",", -1);

      g_assert_nonnull (missing);
      g_assert_cmpuint (json_object_array_length (missing), ==, g_strv_length (want));
      for (size_t i = 0; i < json_object_array_length (missing); i++)
        g_assert_true (g_strv_contains ((const char * const *) want,
                                        json_object_get_string (at (json_object_array_get_idx (missing, i), "code"))));
    }
}

static void
check_awards (json_object *r,
              gint64       count,
              gint64       amount)
{
  g_assert_cmpint (num (r, "awards_total.count"), ==, count);
  g_assert_cmpint (num (r, "awards_total.amount"), ==, amount);
}

static void
check_funds (json_object *r,
             gint64       donations,
             gint64       mobilized,
             gint64       in_kind,
             gint64       disbursed)
{
  g_assert_cmpint (num (r, "funds_total.donations"), ==, donations);
  g_assert_cmpint (num (r, "funds_total.mobilized"), ==, mobilized);
  g_assert_cmpint (num (r, "funds_total.in_kind"), ==, in_kind);
  g_assert_cmpint (num (r, "funds_total.disbursed"), ==, disbursed);
}

static gint64
award_count (json_object *r,
             int          category)
{
  return num (json_object_array_get_idx (json_object_object_get (r, "awards"), category), "count");
}

void
kh_test_figures_check_province (KhTestFiguresCompute compute,
                                gpointer             data)
{
  json_object *r;

  /* 2023 by today's units: every former commune has its figure, 10+8+6+4+1+7 = 36. */
  r = compute (data, "P", 2023, TRUE);
  check_model (r, CITIZEN, 5, 5, 4, 3);
  g_assert_cmpint (num (model (r, CITIZEN), "recognized_by.commune"), ==, 3);
  check_share (r, CITIZEN, 36, 400.0 / 36.0);
  check_model (r, FAMILY, 2, 1, 1, 1);
  check_no_share (r, FAMILY, NULL);
  check_model (r, COMMUNITY, 0, 0, 0, 0);
  check_awards (r, 1, 700000);
  g_assert_cmpint (award_count (r, HARDSHIP), ==, 1);
  check_funds (r, 1, 5000000, 0, 0);
  /* The former district's fund counts under the former province, which P succeeded. */
  g_assert_cmpint (num (child (r, "OA"), "mobilized"), ==, 5000000);
  g_assert_cmpint (num (model (child (r, "N1"), CITIZEN), "registered"), ==, 3);
  check_share (child (r, "N1"), CITIZEN, 18, 200.0 / 18.0);
  g_assert_cmpint (num (model (child (r, "N3"), CITIZEN), "registered"), ==, 2);
  check_share (child (r, "N3"), CITIZEN, 8, 200.0 / 8.0);
  json_object_put (r);

  /* 2024: Năm and Sáu have no figure, so no share for the province, and they are named. */
  r = compute (data, "P", 2024, TRUE);
  check_model (r, CITIZEN, 3, 3, 3, 1);
  check_no_share (r, CITIZEN, "X5,X6");
  check_model (r, FAMILY, 1, 1, 1, 1);
  g_assert_cmpint (num (model (r, FAMILY), "recognized_by.district"), ==, 1);
  check_model (r, COMMUNITY, 1, 1, 1, 1);
  g_assert_cmpint (num (model (r, COMMUNITY), "results.level1"), ==, 1);
  g_assert_cmpint (num (model (r, COMMUNITY), "recognized_results.level1"), ==, 1);
  check_awards (r, 3, 3800000);
  g_assert_cmpint (award_count (r, HARDSHIP), ==, 1);
  g_assert_cmpint (award_count (r, MERIT), ==, 1);
  g_assert_cmpint (award_count (r, ADULT), ==, 1);
  check_funds (r, 2, 5000000, 0, 2500000);
  g_assert_cmpint (num (child (r, "OA"), "mobilized"), ==, 3000000);
  g_assert_cmpint (num (child (r, "OA"), "disbursed"), ==, 2500000);
  g_assert_cmpint (num (child (r, "N1"), "awards_amount"), ==, 3000000);
  g_assert_cmpint (num (child (r, "N2"), "mobilized"), ==, 2000000);
  g_assert_cmpint (num (child (r, "N3"), "awards_amount"), ==, 800000);
  check_share (child (r, "N1"), CITIZEN, 18, 200.0 / 18.0);
  /* Nothing entered under Tân Ba at all: no share, and no list of what is missing. */
  check_no_share (child (r, "N3"), CITIZEN, NULL);
  json_object_put (r);

  /* 2025: Tân Ba has no citizens' figure; every new commune has its families'. */
  r = compute (data, "P", 2025, TRUE);
  check_model (r, CITIZEN, 3, 3, 2, 2);
  check_no_share (r, CITIZEN, "N3");
  check_model (r, FAMILY, 1, 1, 1, 1);
  check_share (r, FAMILY, 120, 100.0 / 120.0);
  check_model (r, COMMUNITY, 1, 1, 1, 1);
  g_assert_cmpint (num (model (r, COMMUNITY), "recognized_by.province"), ==, 1);
  g_assert_cmpint (num (model (r, COMMUNITY), "recognized_results.level2"), ==, 1);
  check_awards (r, 2, 3000000);
  g_assert_cmpint (award_count (r, SPECIAL), ==, 1);
  check_funds (r, 3, 14000000, 1500000, 3000000);
  /* The former province B's fund, succeeded province to province. */
  g_assert_cmpint (num (child (r, "OB"), "mobilized"), ==, 10000000);
  json_object_put (r);

  /* By each year's tree: former province A in 2024 (10+8+6+4 = 28 eligible citizens). */
  r = compute (data, "OA", 2024, FALSE);
  check_model (r, CITIZEN, 2, 2, 2, 1);
  check_share (r, CITIZEN, 28, 200.0 / 28.0);
  check_model (r, FAMILY, 1, 1, 1, 1);
  check_model (r, COMMUNITY, 1, 1, 1, 1);
  check_awards (r, 2, 3000000);
  check_funds (r, 2, 5000000, 0, 2500000);
  g_assert_cmpint (num (child (r, "DA1"), "mobilized"), ==, 3000000);
  g_assert_cmpint (num (child (r, "DA2"), "mobilized"), ==, 2000000);
  json_object_put (r);

  /* More registered than eligible is no share above 100 %: Năm, 2 of 1 in 2023. */
  r = compute (data, "X5", 2023, FALSE);
  check_model (r, CITIZEN, 2, 2, 2, 1);
  g_assert_cmpint (num (model (r, CITIZEN), "eligible"), ==, 1);
  g_assert_true (json_object_get_boolean (at (model (r, CITIZEN), "over_eligible")));
  g_assert_null (at (model (r, CITIZEN), "achieved_share"));
  g_assert_null (at (model (r, CITIZEN), "registered_share"));
  json_object_put (r);

  kh_test_figures_check_today (compute, data);
  kh_test_figures_check_commune (compute, data);
}

void
kh_test_figures_check_today (KhTestFiguresCompute compute,
                             gpointer             data)
{
  json_object *r = compute (data, "P", 2025, FALSE);

  check_model (r, CITIZEN, 3, 3, 2, 2);
  check_no_share (r, CITIZEN, "N3");
  check_model (r, FAMILY, 1, 1, 1, 1);
  check_share (r, FAMILY, 120, 100.0 / 120.0);
  check_model (r, COMMUNITY, 1, 1, 1, 1);
  check_awards (r, 2, 3000000);
  check_funds (r, 1, 4000000, 0, 3000000);
  json_object_put (r);
}

void
kh_test_figures_check_commune (KhTestFiguresCompute compute,
                               gpointer             data)
{
  json_object *r;

  r = compute (data, "N1", 2023, TRUE);
  check_model (r, CITIZEN, 3, 3, 2, 2);
  check_share (r, CITIZEN, 18, 200.0 / 18.0);
  check_model (r, FAMILY, 0, 0, 0, 0);
  check_awards (r, 0, 0);
  check_funds (r, 0, 0, 0, 0);
  json_object_put (r);

  r = compute (data, "N1", 2024, TRUE);
  check_model (r, CITIZEN, 2, 2, 2, 1);
  check_share (r, CITIZEN, 18, 200.0 / 18.0);
  check_model (r, COMMUNITY, 1, 1, 1, 1);
  check_awards (r, 2, 3000000);
  check_funds (r, 0, 0, 0, 0);
  json_object_put (r);

  r = compute (data, "N1", 2025, TRUE);
  check_model (r, CITIZEN, 3, 3, 2, 2);
  check_share (r, CITIZEN, 100, 2.0);
  check_model (r, FAMILY, 0, 0, 0, 0);
  check_share (r, FAMILY, 50, 0.0);
  check_awards (r, 2, 3000000);
  check_funds (r, 1, 4000000, 0, 3000000);
  json_object_put (r);
}
