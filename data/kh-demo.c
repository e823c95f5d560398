/* kh-demo.c: realistic demo data
 *
 * A Khánh Hòa–like unit tree before and after the 2025 reform (districts abolished, communes
 * merged, with succession links), schools and villages, people with the real distribution of
 * Vietnamese family names, households and clans, registrations and evaluations for all five
 * learning models, award lists with entries, funds and donations. Everything goes through the
 * store's API, so the demo is also a test of it; writes are batched in transactions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-demo.h"
#include "kh-privacy.h"
#include "kh-error.h"

typedef struct
{
  KhStore    *store;
  GRand      *rand;
  gint64      made;
  gint64      target;
  int         in_batch;
  GPtrArray  *communes_2024;   /* ids */
  GPtrArray  *communes_2025;
  GPtrArray  *villages;        /* parallel: village id, its commune id */
  GPtrArray  *village_commune;
  GPtrArray  *schools;
  GPtrArray  *school_names;
  GPtrArray  *school_commune;
  GPtrArray  *funds;           /* one per 2025 commune, parallel to communes_2025 */
  GHashTable *lists;           /* award list title → id, so an entry finds its list at once */
  char       *province_2025;
  char       *criteria[5];
  KhDemoProgressFunc progress;
  gpointer    progress_data;
} Demo;

#define BATCH 2000

static const struct { const char *name; int weight; } family_names[] = {
  { "Nguyễn", 380 }, { "Trần", 110 }, { "Lê", 95 }, { "Phạm", 70 }, { "Huỳnh", 25 },
  { "Hoàng", 25 }, { "Phan", 45 }, { "Vũ", 20 }, { "Võ", 20 }, { "Đặng", 20 }, { "Bùi", 20 },
  { "Đỗ", 14 }, { "Hồ", 14 }, { "Ngô", 14 }, { "Dương", 10 }, { "Lý", 5 }, { "Đinh", 8 },
  { "Trương", 8 }, { "Cao", 6 }, { "Mấu", 3 }, { "Pi Năng", 2 }, { "Bo Bo", 2 },
};
static const char *middle_male[] = { "Văn", "Văn", "Văn", "Minh", "Đức", "Quốc", "Thanh", "Hữu", "Công" };
static const char *middle_female[] = { "Thị", "Thị", "Thị", "Ngọc", "Thanh", "Minh", "Thu", "Kim" };
static const char *given_male[] = { "Hùng", "Tuấn", "Trung", "Tiến", "Hưng", "Dũng", "Nam", "Minh",
                                    "Bình", "Phúc", "Anh", "Tâm", "Đức", "Khoa", "Long", "Quân" };
static const char *given_female[] = { "Hoa", "Hương", "Lan", "Ngọc", "Yến", "Dung", "Hạnh", "Linh",
                                      "Thanh", "Anh", "Tâm", "Nhung", "Trang", "Mai", "Thảo", "Vy" };

/* Districts of the old Khánh Hòa with a few of their communes each. */
static const struct { const char *code; const char *name; const char *communes[8]; } districts[] = {
  { "568", "Thành phố Nha Trang", { "Phường Lộc Thọ", "Phường Vĩnh Hải", "Phường Phước Hải", "Xã Vĩnh Lương", "Xã Phước Đồng", "Phường Vĩnh Nguyên", NULL } },
  { "569", "Thành phố Cam Ranh", { "Phường Cam Nghĩa", "Phường Ba Ngòi", "Xã Cam Thịnh Đông", "Xã Cam Lập", NULL } },
  { "570", "Huyện Cam Lâm", { "Thị trấn Cam Đức", "Xã Cam Hải Tây", "Xã Suối Tân", "Xã Cam Thành Bắc", NULL } },
  { "571", "Huyện Vạn Ninh", { "Thị trấn Vạn Giã", "Xã Vạn Thắng", "Xã Vạn Hưng", "Xã Đại Lãnh", NULL } },
  { "572", "Thị xã Ninh Hòa", { "Phường Ninh Hiệp", "Xã Ninh Xuân", "Xã Ninh Phụng", "Xã Ninh Sơn", NULL } },
  { "573", "Huyện Khánh Vĩnh", { "Thị trấn Khánh Vĩnh", "Xã Khánh Hiệp", "Xã Sông Cầu", NULL } },
  { "574", "Huyện Diên Khánh", { "Thị trấn Diên Khánh", "Xã Xuân Đồng", "Xã Diên Phú", "Xã Diên Lạc", "Xã Suối Hiệp", "Xã Diên Thọ", NULL } },
  { "575", "Huyện Khánh Sơn", { "Thị trấn Tô Hạp", "Xã Sơn Bình", "Xã Ba Cụm Bắc", NULL } },
};

/* Communes of the merged province from 01/07/2025; each old district's communes flow into
 * these by index. */
static const char *new_communes[] = {
  "Phường Nha Trang", "Phường Bắc Nha Trang", "Phường Nam Nha Trang", "Phường Tây Nha Trang",
  "Phường Cam Ranh", "Phường Ba Ngòi", "Xã Cam Lâm", "Xã Suối Dầu", "Xã Vạn Ninh", "Xã Đại Lãnh",
  "Phường Ninh Hòa", "Xã Ninh Sơn", "Xã Khánh Vĩnh", "Xã Diên Khánh", "Xã Diên Lạc", "Xã Suối Hiệp",
  "Xã Khánh Sơn", "Phường Phan Rang", "Xã Ninh Phước", "Đặc khu Trường Sa",
};

static const char *
pick (Demo *d, const char * const *array, guint n)
{
  return array[g_rand_int_range (d->rand, 0, (gint32) n)];
}

#define PICK(d, a) pick ((d), (a), G_N_ELEMENTS (a))

static char *
random_name (Demo *d, gboolean female)
{
  int total = 0, r, i;
  const char *family = family_names[0].name;

  for (i = 0; i < (int) G_N_ELEMENTS (family_names); i++)
    total += family_names[i].weight;
  r = g_rand_int_range (d->rand, 0, total);
  for (i = 0; i < (int) G_N_ELEMENTS (family_names); i++)
    {
      if (r < family_names[i].weight)
        {
          family = family_names[i].name;
          break;
        }
      r -= family_names[i].weight;
    }
  if (female)
    return g_strdup_printf ("%s %s %s", family, PICK (d, middle_female), PICK (d, given_female));
  return g_strdup_printf ("%s %s %s", family, PICK (d, middle_male), PICK (d, given_male));
}

static char *
random_date (Demo *d, int year_from, int year_to)
{
  int y = g_rand_int_range (d->rand, year_from, year_to + 1);
  int m = g_rand_int_range (d->rand, 1, 13);
  int day = g_rand_int_range (d->rand, 1, 29);

  return g_strdup_printf ("%04d-%02d-%02d", y, m, day);
}

static gboolean
flush (Demo *d, GError **error)
{
  if (d->in_batch == 0)
    return TRUE;
  d->in_batch = 0;
  if (!kh_store_commit (d->store, error))
    return FALSE;
  if (d->progress != NULL)
    d->progress (d->made, d->target, d->progress_data);
  return TRUE;
}

/* Creates one record; takes ownership of @values. Once the target number of records is made
 * it makes nothing and returns NULL without an error, which ends the generation. */
static char *
make (Demo *d, const char *entity, json_object *values, GError **error)
{
  char *id;

  if (d->made >= d->target)
    {
      json_object_put (values);
      return NULL;
    }

  if (d->in_batch == 0 && !kh_store_begin (d->store, error))
    {
      json_object_put (values);
      return NULL;
    }
  id = kh_store_create (d->store, entity, values, error);
  json_object_put (values);
  if (id == NULL)
    {
      kh_store_rollback (d->store);
      d->in_batch = 0;
      return NULL;
    }
  d->made++;
  if (++d->in_batch >= BATCH && !flush (d, error))
    {
      g_free (id);
      return NULL;
    }
  return id;
}

static json_object *
obj (const char *first_key, ...)
{
  json_object *o = json_object_new_object ();
  const char *key = first_key;
  va_list ap;

  va_start (ap, first_key);
  while (key != NULL)
    {
      const char *kind = va_arg (ap, const char *);

      if (kind[0] == 's')
        {
          const char *s = va_arg (ap, const char *);
          if (s != NULL)
            json_object_object_add (o, key, json_object_new_string (s));
        }
      else if (kind[0] == 'i')
        json_object_object_add (o, key, json_object_new_int64 (va_arg (ap, gint64)));
      else if (kind[0] == 'b')
        json_object_object_add (o, key, json_object_new_boolean (va_arg (ap, int)));
      key = va_arg (ap, const char *);
    }
  va_end (ap);
  return o;
}

#define S(v) "s", (const char *) (v)
#define I(v) "i", (gint64) (v)
#define B(v) "b", (int) (v)

/* "Xã Suối Hiệp" → "Quỹ khuyến học xã Suối Hiệp": the kind of unit in lower case inside a name,
 * the rest as written. */
static char *
fund_name_for (const char *unit)
{
  const char *kinds[] = { "Xã ", "Phường ", "Đặc khu " };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    if (g_str_has_prefix (unit, kinds[k]))
      {
        g_autofree char *kind = g_utf8_strdown (kinds[k], -1);

        return g_strconcat ("Quỹ khuyến học ", kind, unit + strlen (kinds[k]), NULL);
      }
  return g_strconcat ("Quỹ khuyến học ", unit, NULL);
}

static gboolean
make_units (Demo *d, GError **error)
{
  g_autofree char *old_province = NULL;
  char code[32];
  guint n_new = G_N_ELEMENTS (new_communes);

  old_province = make (d, "org_unit", obj ("code", S ("56"), "name", S ("Tỉnh Khánh Hòa (trước 01/07/2025)"),
                                            "kind", S ("province"), "valid_to", S ("2025-06-30"), NULL), error);
  if (old_province == NULL)
    return FALSE;
  d->province_2025 = make (d, "org_unit", obj ("code", S ("56N"), "name", S ("Tỉnh Khánh Hòa"),
                                               "kind", S ("province"), "valid_from", S ("2025-07-01"),
                                               "population", I (2243000), NULL), error);
  if (d->province_2025 == NULL)
    return FALSE;

  for (guint i = 0; i < n_new; i++)
    {
      char *fund_name = NULL;
      char *id;

      g_snprintf (code, sizeof code, "N%03u", i + 1);
      id = make (d, "org_unit", obj ("code", S (code), "name", S (new_communes[i]),
                                     "kind", S (g_str_has_prefix (new_communes[i], "Phường") ? "ward"
                                                : g_str_has_prefix (new_communes[i], "Đặc khu") ? "special_zone"
                                                : "commune"),
                                     "parent_id", S (d->province_2025), "valid_from", S ("2025-07-01"),
                                     NULL), error);
      if (id == NULL)
        return FALSE;
      g_ptr_array_add (d->communes_2025, id);
      /* Each commune's fund by its own name, as its association calls it: a picker that
       * showed twenty "Quỹ khuyến học" could not be told apart. */
      fund_name = fund_name_for (new_communes[i]);
      id = make (d, "fund", obj ("name", S (fund_name), "level", S ("commune"),
                                 "org_unit_id", S (id), NULL), error);
      g_clear_pointer (&fund_name, g_free);
      if (id == NULL)
        return FALSE;
      g_ptr_array_add (d->funds, id);
    }

  for (guint k = 0; k < G_N_ELEMENTS (districts); k++)
    {
      g_autofree char *district = make (d, "org_unit",
                                        obj ("code", S (districts[k].code), "name", S (districts[k].name),
                                             "kind", S ("district"), "parent_id", S (old_province),
                                             "valid_to", S ("2025-06-30"), NULL), error);
      if (district == NULL)
        return FALSE;
      for (guint c = 0; c < G_N_ELEMENTS (districts[k].communes) && districts[k].communes[c]; c++)
        {
          const char *name = districts[k].communes[c];
          char *commune;
          const char *successor = d->communes_2025->pdata[(k * 2 + c / 3) % (n_new - 3)];
          g_autofree char *link = NULL;

          g_snprintf (code, sizeof code, "%s%02u", districts[k].code, c + 1);
          commune = make (d, "org_unit", obj ("code", S (code), "name", S (name),
                                              "kind", S (g_str_has_prefix (name, "Phường") ? "ward" : "commune"),
                                              "parent_id", S (district), "valid_to", S ("2025-06-30"),
                                              NULL), error);
          if (commune == NULL)
            return FALSE;
          g_ptr_array_add (d->communes_2024, commune);
          link = make (d, "unit_succession", obj ("predecessor_id", S (commune), "successor_id", S (successor),
                                                  "kind", S ("merge"), "effective_date", S ("2025-07-01"),
                                                  "legal_basis", S ("Nghị quyết 1667/NQ-UBTVQH15"), NULL), error);
          if (link == NULL)
            return FALSE;
        }
    }

  /* Villages and schools under today's communes. */
  for (guint i = 0; i < n_new; i++)
    {
      const char *commune = d->communes_2025->pdata[i];
      static const char *levels[] = { "Trường Mầm non", "Trường Tiểu học", "Trường THCS", "Trường THPT" };

      for (int v = 1; v <= 6; v++)
        {
          char name[64];
          char *id;

          g_snprintf (code, sizeof code, "N%03uT%02d", i + 1, v);
          g_snprintf (name, sizeof name, "Thôn %d", v);
          /* Villages and schools were there before the reform (only their commune changed),
           * so their records of 2023 and 2024 are in a unit that existed then. */
          id = make (d, "org_unit", obj ("code", S (code), "name", S (name), "kind", S ("village"),
                                         "parent_id", S (commune),
                                         "population", I (g_rand_int_range (d->rand, 400, 2500)), NULL), error);
          if (id == NULL)
            return FALSE;
          g_ptr_array_add (d->villages, id);
          g_ptr_array_add (d->village_commune, (gpointer) commune);
        }
      for (guint s = 0; s < G_N_ELEMENTS (levels); s++)
        {
          g_autofree char *name = NULL;
          g_autofree char *person = random_name (d, FALSE);
          const char *given = strrchr (person, ' ') + 1;
          char *id;

          name = g_strdup_printf ("%s %s", levels[s], given);
          g_snprintf (code, sizeof code, "N%03uS%u", i + 1, s + 1);
          id = make (d, "org_unit", obj ("code", S (code), "name", S (name), "kind", S ("school"),
                                         "parent_id", S (commune), NULL), error);
          if (id == NULL)
            return FALSE;
          g_ptr_array_add (d->schools, id);
          g_ptr_array_add (d->school_names, g_steal_pointer (&name));
          g_ptr_array_add (d->school_commune, (gpointer) commune);
        }
    }
  return TRUE;
}

static gboolean
make_criteria (Demo *d, GError **error)
{
  static const struct { const char *model, *name, *basis, *method; int pass_total, pass_item; } sets[] = {
    { "citizen", "Công dân học tập 2021–2030", "Quyết định 324/QĐ-KHVN", "points", 80, 5 },
    { "family", "Gia đình học tập", "Quyết định 448/QĐ-KHVN", "points", 80, 0 },
    { "clan", "Dòng họ học tập", "Quyết định 448/QĐ-KHVN", "points", 80, 0 },
    { "community", "Cộng đồng học tập cấp thôn", "Quyết định 448/QĐ-KHVN", "points", 80, 0 },
    { "unit", "Đơn vị học tập", "Thông tư 24/2023/TT-BGDĐT", "levels", 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    {
      json_object *o = obj ("name", S (sets[i].name), "model", S (sets[i].model), "legal_basis", S (sets[i].basis),
                            "method", S (sets[i].method), "max_total", I (100), "valid_from", S ("2021-01-01"), NULL);
      g_autofree char *c1 = NULL;
      g_autofree char *c2 = NULL;
      g_autofree char *c3 = NULL;

      if (sets[i].pass_total > 0)
        json_object_object_add (o, "pass_min_total", json_object_new_int (sets[i].pass_total));
      if (sets[i].pass_item > 0)
        json_object_object_add (o, "pass_min_item", json_object_new_int (sets[i].pass_item));
      if (strcmp (sets[i].method, "levels") == 0)
        {
          json_object_object_add (o, "level1_min", json_object_new_int (70));
          json_object_object_add (o, "level2_min", json_object_new_int (85));
          json_object_object_add (o, "level3_min", json_object_new_int (95));
        }
      d->criteria[i] = make (d, "criteria_set", o, error);
      if (d->criteria[i] == NULL)
        return FALSE;
      c1 = make (d, "criterion", obj ("criteria_set_id", S (d->criteria[i]), "code", S ("1"),
                                      "title", S ("Học tập thường xuyên, suốt đời"), "max_points", I (40), "position", I (1), NULL), error);
      c2 = c1 ? make (d, "criterion", obj ("criteria_set_id", S (d->criteria[i]), "code", S ("2"),
                                           "title", S ("Điều kiện và phương tiện học tập"), "max_points", I (30), "position", I (2), NULL), error) : NULL;
      c3 = c2 ? make (d, "criterion", obj ("criteria_set_id", S (d->criteria[i]), "code", S ("3"),
                                           "title", S ("Hiệu quả học tập"), "max_points", I (30), "position", I (3), NULL), error) : NULL;
      if (c3 == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
evaluate (Demo *d, const char *registration, const char *unit, int model, int year, GError **error)
{
  int total = g_rand_int_range (d->rand, 55, 101);
  json_object *scores = json_object_new_object ();
  const char *result;
  g_autofree char *date = g_strdup_printf ("%04d-12-%02d", year, g_rand_int_range (d->rand, 1, 29));
  g_autofree char *id = NULL;
  json_object *o;

  /* No criterion above its maximum (40, 30, 30): the store refuses such an evaluation. */
  total = MIN (total, total * 40 / 100 + total * 30 / 100 + 30);
  json_object_object_add (scores, "1", json_object_new_int (total * 40 / 100));
  json_object_object_add (scores, "2", json_object_new_int (total * 30 / 100));
  json_object_object_add (scores, "3", json_object_new_int (total - (total * 40 / 100) - (total * 30 / 100)));
  if (model == 4)
    result = total >= 95 ? "level3" : total >= 85 ? "level2" : total >= 70 ? "level1" : "not_achieved";
  else
    result = total >= 80 ? "pass" : "fail";
  o = obj ("registration_id", S (registration), "org_unit_id", S (unit), "criteria_set_id", S (d->criteria[model]),
           "total", I (total), "result", S (result), "evaluator", S ("Ban Khuyến học xã"),
           "evaluated_on", S (date), NULL);
  json_object_object_add (o, "scores", scores);
  id = make (d, "evaluation", o, error);
  return id != NULL;
}

static gboolean
make_household_block (Demo *d, int block, GError **error)
{
  guint v = g_rand_int_range (d->rand, 0, (gint32) d->villages->len);
  const char *village = d->villages->pdata[v];
  const char *commune = d->village_commune->pdata[v];
  /* A name's middle and given names say whether it is a man's or a woman's, so the gender
   * recorded goes with the name. */
  gboolean head_female = g_rand_int_range (d->rand, 0, 4) == 0;
  gboolean child_female = g_rand_boolean (d->rand);
  g_autofree char *head = random_name (d, head_female);
  g_autofree char *spouse = random_name (d, !head_female);
  g_autofree char *child = random_name (d, child_female);
  g_autofree char *address = g_strdup_printf ("Thôn %u", v % 6 + 1);
  g_autofree char *household = NULL;
  g_autofree char *head_id = NULL;
  g_autofree char *child_id = NULL;
  g_autofree char *reg = NULL;
  g_autofree char *birth = random_date (d, 1960, 1995);
  g_autofree char *child_birth = random_date (d, 2008, 2018);
  int year = g_rand_int_range (d->rand, 2023, 2026);
  (void) block;

  household = make (d, "household", obj ("head_name", S (head), "org_unit_id", S (village), "address", S (address),
                                         "members", I (g_rand_int_range (d->rand, 2, 7)), NULL), error);
  if (household == NULL)
    return FALSE;
  head_id = make (d, "person", obj ("full_name", S (head), "birth_date", S (birth), "gender", S (head_female ? "female" : "male"),
                                    "org_unit_id", S (village), "household_id", S (household), NULL), error);
  if (head_id == NULL)
    return FALSE;
  child_id = make (d, "person", obj ("full_name", S (child), "birth_date", S (child_birth),
                                     "gender", S (child_female ? "female" : "male"),
                                     "org_unit_id", S (village), "household_id", S (household),
                                     "guardian_name", S (spouse), NULL), error);
  if (child_id == NULL)
    return FALSE;

  reg = make (d, "registration", obj ("model", S ("family"), "year", I (year), "org_unit_id", S (village),
                                      "subject_kind", S ("household"), "subject_id", S (household),
                                      "subject_name", S (head), "status", S ("evaluated"), NULL), error);
  if (reg == NULL || !evaluate (d, reg, village, 1, year, error))
    return FALSE;
  g_clear_pointer (&reg, g_free);
  reg = make (d, "registration", obj ("model", S ("citizen"), "year", I (year), "org_unit_id", S (village),
                                      "subject_kind", S ("person"), "subject_id", S (head_id),
                                      "subject_name", S (head), "status", S ("evaluated"), NULL), error);
  if (reg == NULL || !evaluate (d, reg, village, 0, year, error))
    return FALSE;

  /* About one child in three gets a scholarship or an award. */
  if (g_rand_int_range (d->rand, 0, 3) == 0)
    {
      static const char *categories[] = { "hardship", "hardship", "merit", "special" };
      static const gint64 amounts[] = { 500000, 1000000, 1500000, 2000000, 3000000 };
      const char *category = PICK (d, categories);
      guint s = g_rand_int_range (d->rand, 0, (gint32) d->schools->len);
      g_autofree char *grade = g_strdup_printf ("%d", g_rand_int_range (d->rand, 1, 13));
      g_autofree char *list = NULL;
      g_autofree char *entry = NULL;
      g_autofree char *title = NULL;
      guint c;

      for (c = 0; c < d->communes_2025->len; c++)
        if (d->communes_2025->pdata[c] == commune)
          break;
      /* One Tết list per commune and school year, found or made. */
      title = g_strdup_printf ("Học bổng Tết %d – %s", year + 1, new_communes[c % G_N_ELEMENTS (new_communes)]);
      list = g_strdup (g_hash_table_lookup (d->lists, title));
      if (list == NULL)
        {
          g_autofree char *sy = g_strdup_printf ("%d-%d", year, year + 1);

          list = make (d, "award_list", obj ("title", S (title), "occasion", S ("tet"), "school_year", S (sy),
                                             "org_unit_id", S (commune), "fund_id", S (d->funds->pdata[c]),
                                             "status", S (year < 2025 ? "paid" : "approved"),
                                             "prepared_by", S ("Trần Thị Lan"), "approved_by", S ("Nguyễn Văn Hùng"),
                                             "decision_number", S ("12/QĐ-KH"), NULL), error);
          if (list == NULL)
            return FALSE;
          g_hash_table_insert (d->lists, g_strdup (title), g_strdup (list));
        }
      /* A minor's award is approved only with a consent that counts: the child's and the
       * parent's, given when the list was made (the child alone from 16). */
      {
        g_autofree char *given_on = g_strdup_printf ("%d-09-05", year);
        g_autofree char *consent = NULL;
        int age = kh_privacy_age_on (child_birth, 0, given_on);

        consent = make (d, "consent", obj ("person_id", S (child_id), "org_unit_id", S (village),
                                           "person_name", S (child),
                                           "given_by", S (age < 16 ? "both" : "subject"),
                                           "guardian_id", S (age < 16 ? head_id : NULL),
                                           "guardian_name", S (age < 16 ? head : NULL),
                                           "purpose", S ("Xét và trao học bổng, phần thưởng"),
                                           "given_on", S (given_on), NULL), error);
        if (consent == NULL)
          return FALSE;
      }
      entry = make (d, "award_entry", obj ("list_id", S (list), "org_unit_id", S (commune), "person_id", S (child_id),
                                           "recipient_name", S (child), "birth_date", S (child_birth),
                                           "school", S (d->school_names->pdata[s]), "grade", S (grade),
                                           "category", S (category), "reason", S (strcmp (category, "hardship") == 0
                                                                                  ? "Hoàn cảnh khó khăn, vượt khó học tốt"
                                                                                  : "Học sinh giỏi cấp tỉnh"),
                                           "amount", I (amounts[g_rand_int_range (d->rand, 0, G_N_ELEMENTS (amounts))]),
                                           "status", S ("approved"), "received_by", S (spouse), NULL), error);
      if (entry == NULL)
        return FALSE;
    }

  /* Now and then a donation to the commune's fund. */
  if (g_rand_int_range (d->rand, 0, 8) == 0)
    {
      guint c;
      /* To the new commune's fund, so on a day it existed: the day drawn as before (the same
       * draws, so the rest of the demo stays the same), moved into its second half of 2025. */
      g_autofree char *drawn = random_date (d, year, year);
      g_autofree char *date = g_strdup_printf ("2025-%02d-%.2s",
                                               7 + (int) (g_ascii_strtoll (drawn + 5, NULL, 10) - 1) % 6, drawn + 8);
      g_autofree char *receipt = g_strdup_printf ("PT%06" G_GINT64_FORMAT, d->made);
      g_autofree char *donation = NULL;

      for (c = 0; c < d->communes_2025->len; c++)
        if (d->communes_2025->pdata[c] == commune)
          break;
      donation = make (d, "donation", obj ("fund_id", S (d->funds->pdata[c]), "org_unit_id", S (commune),
                                           "donor_name", S (head), "donated_on", S (date), "form", S ("cash"),
                                           "amount", I (g_rand_int_range (d->rand, 1, 50) * 100000),
                                           "receipt_number", S (receipt), NULL), error);
      if (donation == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
make_units_and_clans (Demo *d, GError **error)
{
  /* Schools register as learning units, villages as learning communities, clans as clans,
   * in the year before the reform and the year of it, so both years have figures. */
  for (int year = 2024; year <= 2025; year++)
    for (guint s = 0; s < d->schools->len && d->made < d->target; s++)
      {
        g_autofree char *reg = make (d, "registration",
                                     obj ("model", S ("unit"), "year", I (year), "org_unit_id", S (d->schools->pdata[s]),
                                          "subject_kind", S ("org_unit"), "subject_id", S (d->schools->pdata[s]),
                                          "subject_name", S (d->school_names->pdata[s]), "status", S ("evaluated"), NULL), error);
        if (reg == NULL || !evaluate (d, reg, d->schools->pdata[s], 4, year, error))
          return FALSE;
      }
  for (guint v = 0; v < d->villages->len && d->made < d->target; v++)
    {
      g_autofree char *name = g_strdup_printf ("Thôn %u", v % 6 + 1);
      g_autofree char *clan = NULL;
      g_autofree char *clan_name = NULL;
      g_autofree char *head = random_name (d, FALSE);

      clan_name = g_strdup_printf ("Họ %.*s", (int) (strchr (head, ' ') - head), head);
      clan = make (d, "clan", obj ("name", S (clan_name), "branch", S ("Chi 2"), "org_unit_id", S (d->villages->pdata[v]),
                                   "head_name", S (head), "households", I (g_rand_int_range (d->rand, 10, 120)), NULL), error);
      if (clan == NULL)
        return FALSE;
      for (int year = 2024; year <= 2025; year++)
        {
          g_autofree char *reg = make (d, "registration",
                                       obj ("model", S ("community"), "year", I (year), "org_unit_id", S (d->villages->pdata[v]),
                                            "subject_kind", S ("org_unit"), "subject_id", S (d->villages->pdata[v]),
                                            "subject_name", S (name), "status", S ("evaluated"), NULL), error);
          g_autofree char *clan_reg = NULL;

          if (reg == NULL || !evaluate (d, reg, d->villages->pdata[v], 3, year, error))
            return FALSE;
          clan_reg = make (d, "registration",
                           obj ("model", S ("clan"), "year", I (year), "org_unit_id", S (d->villages->pdata[v]),
                                "subject_kind", S ("clan"), "subject_id", S (clan), "subject_name", S (clan_name),
                                "status", S ("evaluated"), NULL), error);
          if (clan_reg == NULL || !evaluate (d, clan_reg, d->villages->pdata[v], 2, year, error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
kh_demo_generate_full (KhStore             *store,
                       gint64               records,
                       guint32              seed,
                       KhDemoProgressFunc   progress,
                       gpointer             progress_data,
                       KhDemoStats         *stats,
                       GError             **error)
{
  Demo d = { 0 };
  g_autoptr(GError) local_error = NULL;
  gboolean ok;
  gint64 start = g_get_monotonic_time ();

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (records > 0, FALSE);

  d.store = store;
  d.rand = g_rand_new_with_seed (seed);
  d.target = records;
  d.progress = progress;
  d.progress_data = progress_data;
  d.communes_2024 = g_ptr_array_new_with_free_func (g_free);
  d.communes_2025 = g_ptr_array_new_with_free_func (g_free);
  d.villages = g_ptr_array_new_with_free_func (g_free);
  d.village_commune = g_ptr_array_new ();
  d.schools = g_ptr_array_new_with_free_func (g_free);
  d.school_names = g_ptr_array_new_with_free_func (g_free);
  d.school_commune = g_ptr_array_new ();
  d.funds = g_ptr_array_new_with_free_func (g_free);
  d.lists = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* Each step stops early (returns FALSE) either on an error or when the target is reached;
   * only the error is a failure. */
  if (make_units (&d, &local_error) && make_criteria (&d, &local_error)
      && make_units_and_clans (&d, &local_error))
    for (int block = 0; d.made < d.target; block++)
      if (!make_household_block (&d, block, &local_error))
        break;
  ok = local_error == NULL;
  if (ok)
    ok = flush (&d, &local_error);
  else if (d.in_batch > 0)
    kh_store_rollback (store);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));

  if (stats != NULL)
    {
      stats->records = d.made;
      stats->seconds = (g_get_monotonic_time () - start) / 1e6;
    }

  g_rand_free (d.rand);
  g_ptr_array_unref (d.communes_2024);
  g_ptr_array_unref (d.communes_2025);
  g_ptr_array_unref (d.villages);
  g_ptr_array_unref (d.village_commune);
  g_ptr_array_unref (d.schools);
  g_ptr_array_unref (d.school_names);
  g_ptr_array_unref (d.school_commune);
  g_ptr_array_unref (d.funds);
  g_hash_table_unref (d.lists);
  g_free (d.province_2025);
  for (int i = 0; i < 5; i++)
    g_free (d.criteria[i]);
  return ok;
}

gboolean
kh_demo_generate (KhStore      *store,
                  gint64        records,
                  guint32       seed,
                  KhDemoStats  *stats,
                  GError      **error)
{
  return kh_demo_generate_full (store, records, seed, NULL, NULL, stats, error);
}
