/* kh-demo.c: realistic demo data
 *
 * The new Khánh Hòa as the 2025 reform made it: the old Khánh Hòa and the old Ninh Thuận
 * (valid until 30/06/2025), their districts and communes, each former commune linked to the
 * new commune of the same area that succeeded it and both former provinces to the new one
 * (01/07/2025); villages and schools under today's communes. People with the real distribution
 * of family names (Raglai and Cham names where those communities live), households and clans;
 * registrations, evaluations with per-criterion scores that pass and fail, and recognitions
 * for all five learning models, communes as learning communities; award lists with
 * scholarships, awards and grants for adult learners, each pupil's grade fitting the school;
 * consents; funds, donors, donations and disbursements; the eligible population. A record
 * before the reform is in the former unit of its year, one after it in today's unit.
 * Everything goes through the store's API, so the demo is also a test of it; writes are
 * batched in transactions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-demo.h"
#include "kh-privacy.h"
#include "kh-error.h"
#include "kh-json-private.h"
#include "kh-ledger.h"

typedef struct
{
  KhStore    *store;
  GRand      *rand;
  gint64      made;
  gint64      target;
  int         in_batch;
  GPtrArray  *communes_2025;   /* ids, parallel to new_communes */
  GPtrArray  *former;          /* per new commune: GPtrArray of its former communes' ids */
  GPtrArray  *former_district; /* per new commune: GPtrArray of those communes' district ids */
  GPtrArray  *villages;        /* parallel: village id, its commune's index */
  GArray     *village_commune;
  GPtrArray  *schools;         /* parallel: school id, name, level (1 primary … 3 upper), commune index */
  GPtrArray  *school_names;
  GArray     *school_level;
  GArray     *school_commune;
  GPtrArray  *funds;           /* one per 2025 commune, parallel to communes_2025 */
  GHashTable *district_funds;  /* district id → fund id */
  GHashTable *donors;          /* unit id → donor id */
  GHashTable *lists;           /* award list title → List */
  GPtrArray  *list_order;      /* the lists in the order they were made */
  GHashTable *registered;      /* "unit|year|model" → gint64 *, for the eligible population */
  char       *province_2025;
  char       *programme;
  char       *criteria[6];
  KhDemoProgressFunc progress;
  gpointer    progress_data;
} Demo;

/* An award list as it fills: what the fund must pay for it. */
typedef struct
{
  char   *id;
  char   *fund;
  char   *unit;
  char   *paid_on;
  gint64  total;
} List;

#define BATCH 2000

enum { KINH, RAGLAI, CHAM };

static const struct { const char *name; int weight[3]; } family_names[] = {
  /* Kinh weights from the national distribution (DOMAIN.md); the Raglai of Khánh Sơn, Khánh
   * Vĩnh and Bác Ái and the Cham of Ninh Phước and Thuận Nam mostly have their own. */
  { "Nguyễn", { 380, 40, 20 } }, { "Trần", { 110, 10, 10 } }, { "Lê", { 95, 10, 10 } },
  { "Phạm", { 70, 5, 5 } }, { "Huỳnh", { 25, 0, 0 } }, { "Hoàng", { 25, 0, 0 } },
  { "Phan", { 45, 5, 0 } }, { "Vũ", { 20, 0, 0 } }, { "Võ", { 20, 0, 0 } }, { "Đặng", { 20, 0, 0 } },
  { "Bùi", { 20, 0, 0 } }, { "Đỗ", { 14, 0, 0 } }, { "Hồ", { 14, 0, 0 } }, { "Ngô", { 14, 0, 0 } },
  { "Dương", { 10, 0, 0 } }, { "Lý", { 5, 0, 0 } }, { "Đinh", { 8, 0, 0 } }, { "Trương", { 8, 0, 0 } },
  { "Cao", { 2, 150, 0 } }, { "Mấu", { 0, 160, 0 } }, { "Pi Năng", { 0, 120, 0 } },
  { "Bo Bo", { 0, 130, 0 } }, { "Katơr", { 0, 60, 0 } }, { "Chamaléa", { 0, 90, 0 } },
  { "Đàng", { 0, 0, 180 } }, { "Thập", { 0, 0, 120 } }, { "Quảng", { 0, 0, 110 } },
  { "Phú", { 0, 0, 90 } }, { "Lưu", { 0, 0, 70 } }, { "Châu", { 0, 0, 60 } },
};
static const char *middle_male[] = { "Văn", "Văn", "Văn", "Minh", "Đức", "Quốc", "Thanh", "Hữu", "Công" };
static const char *middle_female[] = { "Thị", "Thị", "Thị", "Ngọc", "Thanh", "Minh", "Thu", "Kim" };
/* A second middle name after Thị, as in "Nguyễn Thị Hồng Nhung". */
static const char *middle_female_2[] = { "Hồng", "Ngọc", "Thu", "Kim", "Thanh", "Minh" };
static const char *given_male[] = { "Hùng", "Tuấn", "Trung", "Tiến", "Hưng", "Dũng", "Nam", "Minh",
                                    "Bình", "Phúc", "Anh", "Tâm", "Đức", "Khoa", "Long", "Quân" };
static const char *given_female[] = { "Hoa", "Hương", "Lan", "Ngọc", "Yến", "Dung", "Hạnh", "Linh",
                                      "Thanh", "Anh", "Tâm", "Nhung", "Trang", "Mai", "Thảo", "Vy" };

/* Today's communes, wards and special zone (from 01/07/2025), each with the community most of
 * its people belong to. N001 is Nha Trang's central ward. */
static const struct { const char *name; int people; } new_communes[] = {
  { "Phường Nha Trang", KINH }, { "Phường Bắc Nha Trang", KINH }, { "Phường Nam Nha Trang", KINH },
  { "Phường Tây Nha Trang", KINH }, { "Phường Cam Ranh", KINH }, { "Phường Ba Ngòi", KINH },
  { "Xã Cam Lâm", KINH }, { "Xã Suối Dầu", KINH }, { "Xã Vạn Ninh", KINH }, { "Xã Đại Lãnh", KINH },
  { "Phường Ninh Hòa", KINH }, { "Xã Hòa Trí", KINH }, { "Xã Khánh Vĩnh", RAGLAI },
  { "Xã Diên Khánh", KINH }, { "Xã Diên Lạc", KINH }, { "Xã Suối Hiệp", KINH },
  { "Xã Khánh Sơn", RAGLAI }, { "Đặc khu Trường Sa", KINH }, { "Phường Phan Rang", KINH },
  { "Phường Đông Hải", KINH }, { "Phường Bảo An", KINH }, { "Xã Ninh Phước", CHAM },
  { "Xã Phước Hữu", CHAM }, { "Xã Ninh Hải", KINH }, { "Xã Xuân Hải", KINH }, { "Xã Ninh Sơn", KINH },
  { "Xã Thuận Bắc", KINH }, { "Xã Thuận Nam", CHAM }, { "Xã Bác Ái", RAGLAI },
};

/* The districts of the two former provinces with some of their communes, each commune with
 * the index of today's commune that succeeded it (always in the same area). */
typedef struct { const char *name; int to; } FormerCommune;

static const struct { int province; const char *code; const char *name; FormerCommune communes[8]; } districts[] = {
  { 0, "568", "Thành phố Nha Trang", { { "Phường Lộc Thọ", 0 }, { "Phường Vĩnh Hải", 1 }, { "Xã Vĩnh Lương", 1 },
                                       { "Phường Phước Hải", 2 }, { "Xã Phước Đồng", 2 }, { "Phường Vĩnh Nguyên", 2 },
                                       { "Xã Vĩnh Thạnh", 3 }, { NULL, 0 } } },
  { 0, "569", "Thành phố Cam Ranh", { { "Phường Cam Nghĩa", 4 }, { "Phường Ba Ngòi", 5 }, { "Xã Cam Thịnh Đông", 5 },
                                      { "Xã Cam Lập", 5 }, { NULL, 0 } } },
  { 0, "570", "Huyện Cam Lâm", { { "Thị trấn Cam Đức", 6 }, { "Xã Cam Hải Tây", 6 }, { "Xã Suối Tân", 7 },
                                 { "Xã Cam Thành Bắc", 6 }, { NULL, 0 } } },
  { 0, "571", "Huyện Vạn Ninh", { { "Thị trấn Vạn Giã", 8 }, { "Xã Vạn Thắng", 8 }, { "Xã Vạn Hưng", 8 },
                                  { "Xã Đại Lãnh", 9 }, { NULL, 0 } } },
  { 0, "572", "Thị xã Ninh Hòa", { { "Phường Ninh Hiệp", 10 }, { "Xã Ninh Phụng", 10 }, { "Xã Ninh Xuân", 11 },
                                   { "Xã Ninh Sơn", 11 }, { NULL, 0 } } },
  { 0, "573", "Huyện Khánh Vĩnh", { { "Thị trấn Khánh Vĩnh", 12 }, { "Xã Khánh Hiệp", 12 }, { "Xã Sông Cầu", 12 },
                                    { NULL, 0 } } },
  { 0, "574", "Huyện Diên Khánh", { { "Thị trấn Diên Khánh", 13 }, { "Xã Xuân Đồng", 13 }, { "Xã Diên Phú", 13 },
                                    { "Xã Diên Lạc", 14 }, { "Xã Diên Thọ", 14 }, { "Xã Suối Hiệp", 15 }, { NULL, 0 } } },
  { 0, "575", "Huyện Khánh Sơn", { { "Thị trấn Tô Hạp", 16 }, { "Xã Sơn Bình", 16 }, { "Xã Ba Cụm Bắc", 16 },
                                   { NULL, 0 } } },
  { 0, "576", "Huyện Trường Sa", { { "Thị trấn Trường Sa", 17 }, { "Xã Song Tử Tây", 17 }, { "Xã Sinh Tồn", 17 },
                                   { NULL, 0 } } },
  { 1, "582", "Thành phố Phan Rang - Tháp Chàm", { { "Phường Phủ Hà", 18 }, { "Phường Kinh Dinh", 18 },
                                                   { "Phường Đông Hải", 19 }, { "Phường Mỹ Bình", 19 },
                                                   { "Phường Bảo An", 20 }, { "Xã Thành Hải", 20 }, { NULL, 0 } } },
  { 1, "588", "Huyện Ninh Phước", { { "Thị trấn Phước Dân", 21 }, { "Xã Phước Hậu", 21 }, { "Xã Phước Hữu", 22 },
                                    { "Xã Phước Thái", 22 }, { NULL, 0 } } },
  { 1, "586", "Huyện Ninh Hải", { { "Thị trấn Khánh Hải", 23 }, { "Xã Tân Hải", 23 }, { "Xã Xuân Hải", 24 },
                                  { "Xã Hộ Hải", 24 }, { NULL, 0 } } },
  { 1, "584", "Huyện Ninh Sơn", { { "Thị trấn Tân Sơn", 25 }, { "Xã Quảng Sơn", 25 }, { "Xã Lâm Sơn", 25 },
                                  { NULL, 0 } } },
  { 1, "585", "Huyện Thuận Bắc", { { "Xã Lợi Hải", 26 }, { "Xã Bắc Phong", 26 }, { "Xã Công Hải", 26 }, { NULL, 0 } } },
  { 1, "589", "Huyện Thuận Nam", { { "Xã Phước Nam", 27 }, { "Xã Cà Ná", 27 }, { "Xã Phước Diêm", 27 }, { NULL, 0 } } },
  { 1, "583", "Huyện Bác Ái", { { "Xã Phước Bình", 28 }, { "Xã Phước Đại", 28 }, { "Xã Phước Tân", 28 }, { NULL, 0 } } },
};

static const char *
pick (Demo *d, const char * const *array, guint n)
{
  return array[g_rand_int_range (d->rand, 0, (gint32) n)];
}

#define PICK(d, a) pick ((d), (a), G_N_ELEMENTS (a))

static char *
random_name (Demo *d, gboolean female, int people)
{
  int total = 0, r, i;
  const char *family = family_names[0].name;
  const char *given;

  for (i = 0; i < (int) G_N_ELEMENTS (family_names); i++)
    total += family_names[i].weight[people];
  r = g_rand_int_range (d->rand, 0, total);
  for (i = 0; i < (int) G_N_ELEMENTS (family_names); i++)
    {
      if (r < family_names[i].weight[people])
        {
          family = family_names[i].name;
          break;
        }
      r -= family_names[i].weight[people];
    }
  if (!female)
    return g_strdup_printf ("%s %s %s", family, PICK (d, middle_male), PICK (d, given_male));
  given = PICK (d, given_female);
  if (g_rand_int_range (d->rand, 0, 4) == 0)
    return g_strdup_printf ("%s Thị %s %s", family, PICK (d, middle_female_2), given);
  return g_strdup_printf ("%s %s %s", family, PICK (d, middle_female), given);
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
  static const struct { const char *code, *name; } former[] = {
    { "56", "Tỉnh Khánh Hòa (trước 01/07/2025)" }, { "58", "Tỉnh Ninh Thuận (trước 01/07/2025)" },
  };
  char *provinces[G_N_ELEMENTS (former)] = { NULL };
  char code[32];
  guint n_new = G_N_ELEMENTS (new_communes);
  gboolean ok = FALSE;

  for (guint p = 0; p < G_N_ELEMENTS (former); p++)
    {
      provinces[p] = make (d, "org_unit", obj ("code", S (former[p].code), "name", S (former[p].name),
                                               "kind", S ("province"), "valid_to", S ("2025-06-30"), NULL), error);
      if (provinces[p] == NULL)
        goto out;
    }
  d->province_2025 = make (d, "org_unit", obj ("code", S ("56N"), "name", S ("Tỉnh Khánh Hòa"),
                                               "kind", S ("province"), "valid_from", S ("2025-07-01"),
                                               "population", I (2243000), NULL), error);
  if (d->province_2025 == NULL)
    goto out;

  for (guint i = 0; i < n_new; i++)
    {
      char *fund_name = NULL;
      const char *name = new_communes[i].name;
      char *id;

      g_snprintf (code, sizeof code, "N%03u", i + 1);
      id = make (d, "org_unit", obj ("code", S (code), "name", S (name),
                                     "kind", S (g_str_has_prefix (name, "Phường") ? "ward"
                                                : g_str_has_prefix (name, "Đặc khu") ? "special_zone"
                                                : "commune"),
                                     "parent_id", S (d->province_2025), "valid_from", S ("2025-07-01"),
                                     NULL), error);
      if (id == NULL)
        goto out;
      g_ptr_array_add (d->communes_2025, id);
      g_ptr_array_add (d->former, g_ptr_array_new_with_free_func (g_free));
      g_ptr_array_add (d->former_district, g_ptr_array_new_with_free_func (g_free));
      /* Each commune's fund by its own name, as its association calls it: a picker that
       * showed twenty "Quỹ khuyến học" could not be told apart. */
      fund_name = fund_name_for (name);
      id = make (d, "fund", obj ("name", S (fund_name), "level", S ("commune"),
                                 "org_unit_id", S (id), NULL), error);
      g_clear_pointer (&fund_name, g_free);
      if (id == NULL)
        goto out;
      g_ptr_array_add (d->funds, id);
    }

  for (guint k = 0; k < G_N_ELEMENTS (districts); k++)
    {
      g_autofree char *district = make (d, "org_unit",
                                        obj ("code", S (districts[k].code), "name", S (districts[k].name),
                                             "kind", S ("district"), "parent_id", S (provinces[districts[k].province]),
                                             "valid_to", S ("2025-06-30"), NULL), error);
      g_autofree char *fund_name = NULL;
      char *fund;

      if (district == NULL)
        goto out;
      /* Before the reform the district's association kept the fund. */
      fund_name = g_strdup_printf ("Quỹ khuyến học %s", districts[k].name);
      fund = make (d, "fund", obj ("name", S (fund_name), "level", S ("other"), "org_unit_id", S (district), NULL), error);
      if (fund == NULL)
        goto out;
      g_hash_table_insert (d->district_funds, g_strdup (district), fund);
      for (guint c = 0; c < G_N_ELEMENTS (districts[k].communes) && districts[k].communes[c].name; c++)
        {
          const char *name = districts[k].communes[c].name;
          int to = districts[k].communes[c].to;
          char *commune;
          g_autofree char *link = NULL;

          g_snprintf (code, sizeof code, "%s%02u", districts[k].code, c + 1);
          commune = make (d, "org_unit", obj ("code", S (code), "name", S (name),
                                              "kind", S (g_str_has_prefix (name, "Phường") ? "ward" : "commune"),
                                              "parent_id", S (district), "valid_to", S ("2025-06-30"),
                                              NULL), error);
          if (commune == NULL)
            goto out;
          g_ptr_array_add (d->former->pdata[to], commune);
          g_ptr_array_add (d->former_district->pdata[to], g_strdup (district));
          link = make (d, "unit_succession", obj ("predecessor_id", S (commune), "successor_id", S (d->communes_2025->pdata[to]),
                                                  "kind", S ("merge"), "effective_date", S ("2025-07-01"),
                                                  "legal_basis", S ("Nghị quyết 1667/NQ-UBTVQH15"), NULL), error);
          if (link == NULL)
            goto out;
        }
    }

  /* Both former provinces merged into the new one: their own records (a provincial fund, a
   * district's) count under it by successor. */
  for (guint p = 0; p < G_N_ELEMENTS (former); p++)
    {
      g_autofree char *link = make (d, "unit_succession",
                                    obj ("predecessor_id", S (provinces[p]), "successor_id", S (d->province_2025),
                                         "kind", S ("merge"), "effective_date", S ("2025-07-01"),
                                         "legal_basis", S ("Nghị quyết 202/2025/QH15"), NULL), error);
      if (link == NULL)
        goto out;
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
            goto out;
          g_ptr_array_add (d->villages, id);
          g_array_append_val (d->village_commune, i);
        }
      for (guint s = 0; s < G_N_ELEMENTS (levels); s++)
        {
          g_autofree char *name = NULL;
          g_autofree char *person = random_name (d, FALSE, KINH);
          const char *given = strrchr (person, ' ') + 1;
          int level = (int) s;
          char *id;

          name = g_strdup_printf ("%s %s", levels[s], given);
          g_snprintf (code, sizeof code, "N%03uS%u", i + 1, s + 1);
          id = make (d, "org_unit", obj ("code", S (code), "name", S (name), "kind", S ("school"),
                                         "parent_id", S (commune), NULL), error);
          if (id == NULL)
            goto out;
          g_ptr_array_add (d->schools, id);
          g_ptr_array_add (d->school_names, g_steal_pointer (&name));
          g_array_append_val (d->school_level, level);
          g_array_append_val (d->school_commune, i);
        }
    }
  ok = TRUE;
out:
  for (guint p = 0; p < G_N_ELEMENTS (former); p++)
    g_free (provinces[p]);
  return ok;
}

/* The programme the new province's lists belong to, and a few donors for each commune. */
static gboolean
make_programme_and_donors (Demo *d, GError **error)
{
  static const char *firms[] = { "Công ty TNHH Hải sản Nha Trang", "Ngân hàng Nông nghiệp chi nhánh",
                                 "Công ty CP Yến sào", "Hợp tác xã Muối Cà Ná", "Doanh nghiệp tư nhân Phước Thịnh" };

  d->programme = make (d, "scholarship_programme",
                       obj ("name", S ("Chương trình Khuyến học – Khuyến tài tỉnh Khánh Hòa"), "stream", S ("mixed"),
                            "sponsor", S ("Hội Khuyến học tỉnh Khánh Hòa"), "org_unit_id", S (d->province_2025),
                            "multi_year", B (TRUE), NULL), error);
  if (d->programme == NULL)
    return FALSE;
  for (guint i = 0; i < d->communes_2025->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s %s", firms[i % G_N_ELEMENTS (firms)],
                                               new_communes[i].name);
      char *donor = make (d, "donor", obj ("name", S (name), "kind", S ("enterprise"),
                                           "org_unit_id", S (d->communes_2025->pdata[i]), NULL), error);

      if (donor == NULL)
        return FALSE;
      g_hash_table_insert (d->donors, g_strdup (d->communes_2025->pdata[i]), donor);
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
    { "community", "Cộng đồng học tập cấp xã", "Thông tư 20/2023/TT-BGDĐT", "levels", 0, 0 },
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

/* Criteria set @set: 0 citizen, 1 family, 2 clan, 3 village community, 4 learning unit,
 * 5 commune community. */
static gboolean
is_levels (int set)
{
  return set == 4 || set == 5;
}

/* An evaluation with a score for each criterion (some pass, some fail), and for a pass the
 * recognition, by @issuer on @decided. Returns FALSE on an error or at the target. */
static gboolean
evaluate (Demo *d, const char *registration, const char *unit, int set, int year,
          const char *issuer, const char *decided, GError **error)
{
  int total = g_rand_int_range (d->rand, 55, 101);
  json_object *scores = json_object_new_object ();
  const char *result;
  g_autofree char *date = g_strdup_printf ("%04d-12-%02d", year, g_rand_int_range (d->rand, 1, 26));
  g_autofree char *id = NULL;
  json_object *o;

  /* No criterion above its maximum (40, 30, 30): the store refuses such an evaluation. */
  total = MIN (total, total * 40 / 100 + total * 30 / 100 + 30);
  json_object_object_add (scores, "1", json_object_new_int (total * 40 / 100));
  json_object_object_add (scores, "2", json_object_new_int (total * 30 / 100));
  json_object_object_add (scores, "3", json_object_new_int (total - (total * 40 / 100) - (total * 30 / 100)));
  if (is_levels (set))
    result = total >= 95 ? "level3" : total >= 85 ? "level2" : total >= 70 ? "level1" : "not_achieved";
  else
    result = total >= 80 ? "pass" : "fail";
  o = obj ("registration_id", S (registration), "org_unit_id", S (unit), "criteria_set_id", S (d->criteria[set]),
           "total", I (total), "result", S (result),
           "evaluator", S (strcmp (issuer, "province") == 0 ? "Hội Khuyến học tỉnh" : "Ban Khuyến học xã"),
           "evaluated_on", S (date), NULL);
  json_object_object_add (o, "scores", scores);
  id = make (d, "evaluation", o, error);
  if (id == NULL)
    return FALSE;
  /* One pass in ten is still waiting for its decision. */
  if (strcmp (result, "fail") != 0 && strcmp (result, "not_achieved") != 0 && g_rand_int_range (d->rand, 0, 10) > 0)
    {
      g_autofree char *number = g_strdup_printf ("%d/QĐ-UBND", g_rand_int_range (d->rand, 10, 400));
      g_autofree char *recognition = make (d, "recognition",
                                           obj ("registration_id", S (registration), "org_unit_id", S (unit),
                                                "decision_number", S (number), "decision_date", S (decided),
                                                "issuing_level", S (issuer), NULL), error);

      return recognition != NULL;
    }
  return TRUE;
}

/* A registration of @model for @year in @unit, evaluated and, when it passed, recognized. */
static gboolean
register_one (Demo *d, const char *model, const char *kind, const char *subject, const char *name,
              const char *unit, int year, int set, const char *issuer, const char *decided, GError **error)
{
  g_autofree char *reg = make (d, "registration", obj ("model", S (model), "year", I (year), "org_unit_id", S (unit),
                                                       "subject_kind", S (kind), "subject_id", S (subject),
                                                       "subject_name", S (name), "status", S ("evaluated"), NULL), error);

  return reg != NULL && evaluate (d, reg, unit, set, year, issuer, decided, error);
}

static void
count_registered (Demo *d, const char *commune, int year, const char *model)
{
  g_autofree char *key = g_strdup_printf ("%s|%d|%s", commune, year, model);
  gint64 *n = g_hash_table_lookup (d->registered, key);

  if (n == NULL)
    {
      n = g_new0 (gint64, 1);
      g_hash_table_insert (d->registered, g_steal_pointer (&key), n);
    }
  (*n)++;
}

static void
list_free (gpointer data)
{
  List *l = data;

  g_free (l->id);
  g_free (l->fund);
  g_free (l->unit);
  g_free (l->paid_on);
  g_free (l);
}

/* The award list of a commune for an occasion, found or made: before the reform a Tết list of
 * the former commune paid from its district's fund, after it the new school year's list of
 * today's commune paid from its own. */
static List *
award_list (Demo *d, guint ci, int former, int year, GError **error)
{
  gboolean before = former >= 0;
  const char *unit = before ? ((GPtrArray *) d->former->pdata[ci])->pdata[former] : d->communes_2025->pdata[ci];
  g_autofree char *title = before ? g_strdup_printf ("Học bổng Tết %d – %s", year, unit)
                                  : g_strdup_printf ("Học bổng năm học mới %d–%d – %s", year, year + 1,
                                                     new_communes[ci].name);
  List *l = g_hash_table_lookup (d->lists, title);

  if (l == NULL)
    {
      const char *district = before ? ((GPtrArray *) d->former_district->pdata[ci])->pdata[former] : NULL;
      const char *fund = before ? g_hash_table_lookup (d->district_funds, district) : d->funds->pdata[ci];
      g_autofree char *sy = before ? g_strdup_printf ("%d-%d", year - 1, year) : g_strdup_printf ("%d-%d", year, year + 1);
      g_autofree char *decided = before ? g_strdup_printf ("%d-01-10", year) : g_strdup ("2025-09-05");
      g_autofree char *number = g_strdup_printf ("%d/QĐ-KH", g_rand_int_range (d->rand, 1, 90));
      g_autofree char *shown = before ? g_strdup_printf ("Học bổng Tết %d", year) : g_strdup (title);
      char *id = make (d, "award_list", obj ("title", S (shown), "occasion", S (before ? "tet" : "new_school_year"),
                                             "programme_id", S (before ? NULL : d->programme),
                                             "school_year", S (sy), "org_unit_id", S (unit), "fund_id", S (fund),
                                             "status", S ("paid"), "prepared_by", S ("Trần Thị Lan"),
                                             "accountant", S ("Lê Thị Hạnh"), "approved_by", S ("Nguyễn Văn Hùng"),
                                             "decision_number", S (number), "decision_date", S (decided), NULL), error);

      if (id == NULL)
        return NULL;
      l = g_new0 (List, 1);
      l->id = id;
      l->fund = g_strdup (fund);
      l->unit = g_strdup (before ? district : unit);
      l->paid_on = before ? g_strdup_printf ("%d-01-20", year) : g_strdup ("2025-09-10");
      g_hash_table_insert (d->lists, g_steal_pointer (&title), l);
      g_ptr_array_add (d->list_order, l);
    }
  return l;
}

static gboolean
make_household_block (Demo *d, GError **error)
{
  guint v = g_rand_int_range (d->rand, 0, (gint32) d->villages->len);
  const char *village = d->villages->pdata[v];
  guint ci = g_array_index (d->village_commune, guint, v);
  const char *commune = d->communes_2025->pdata[ci];
  GPtrArray *formers = d->former->pdata[ci];
  int people = new_communes[ci].people;
  /* A name's middle and given names say whether it is a man's or a woman's, so the gender
   * recorded goes with the name. */
  gboolean head_female = g_rand_int_range (d->rand, 0, 4) == 0;
  gboolean child_female = g_rand_boolean (d->rand);
  g_autofree char *head = random_name (d, head_female, people);
  g_autofree char *spouse = random_name (d, !head_female, people);
  g_autofree char *child = random_name (d, child_female, people);
  g_autofree char *address = g_strdup_printf ("Thôn %u", v % 6 + 1);
  g_autofree char *household = NULL;
  g_autofree char *head_id = NULL;
  g_autofree char *child_id = NULL;
  g_autofree char *birth = random_date (d, 1960, 1995);
  g_autofree char *child_birth = random_date (d, 2006, 2020);
  int year = g_rand_int_range (d->rand, 2023, 2026);
  /* Before the reform a registration is in the former commune of the time; from 01/07/2025
   * in today's village. */
  int former = year < 2025 ? g_rand_int_range (d->rand, 0, (gint32) formers->len) : -1;
  const char *unit = former >= 0 ? formers->pdata[former] : village;
  const char *counted = former >= 0 ? formers->pdata[former] : commune;
  g_autofree char *decided = year < 2025 ? g_strdup_printf ("%d-01-15", year + 1) : g_strdup ("2025-12-29");

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

  if (!register_one (d, "family", "household", household, head, unit, year, 1, "commune", decided, error))
    return FALSE;
  count_registered (d, counted, year, "family");
  if (!register_one (d, "citizen", "person", head_id, head, unit, year, 0, "commune", decided, error))
    return FALSE;
  count_registered (d, counted, year, "citizen");

  /* About one child in three gets a scholarship or an award, in the grade its age gives it and
   * at a school of that level; one adult in twelve a grant for adult learners. */
  {
    static const char *categories[] = { "hardship", "hardship", "merit", "special" };
    static const gint64 amounts[] = { 500000, 1000000, 1500000, 2000000, 3000000 };
    gboolean before = year < 2025 || g_rand_boolean (d->rand);
    int list_year = year;
    int school_start = before ? list_year - 1 : list_year;
    int grade = school_start - (int) g_ascii_strtoll (child_birth, NULL, 10) - 5;
    gboolean award = g_rand_int_range (d->rand, 0, 3) == 0 && grade >= 1 && grade <= 12;
    gboolean grant = g_rand_int_range (d->rand, 0, 12) == 0;
    List *list;

    if (!before)
      former = -1;
    else if (former < 0)
      former = g_rand_int_range (d->rand, 0, (gint32) formers->len);
    if ((award || grant) && (list = award_list (d, ci, former, list_year, error)) == NULL)
      return FALSE;
    if (award)
      {
        const char *category = PICK (d, categories);
        int level = grade <= 5 ? 1 : grade <= 9 ? 2 : 3;
        guint s = ci * 4 + (guint) level;
        gint64 amount = amounts[g_rand_int_range (d->rand, 0, G_N_ELEMENTS (amounts))];
        g_autofree char *grade_text = g_strdup_printf ("%d", grade);
        g_autofree char *consent = NULL;
        g_autofree char *entry = NULL;
        /* A minor's award is approved only with a consent that counts: the child's and the
         * parent's (the child alone from 16), collected when the records moved to the new
         * communes. */
        int age = kh_privacy_age_on (child_birth, 0, "2025-07-15");

        consent = make (d, "consent", obj ("person_id", S (child_id), "org_unit_id", S (village),
                                           "person_name", S (child),
                                           "given_by", S (age < 16 ? "both" : "subject"),
                                           "guardian_id", S (age < 16 ? head_id : NULL),
                                           "guardian_name", S (age < 16 ? head : NULL),
                                           "purpose", S ("Xét và trao học bổng, phần thưởng"),
                                           "given_on", S ("2025-07-15"), NULL), error);
        if (consent == NULL)
          return FALSE;
        entry = make (d, "award_entry", obj ("list_id", S (list->id), "org_unit_id", S (former >= 0 ? formers->pdata[former] : commune),
                                             "person_id", S (child_id), "recipient_name", S (child), "birth_date", S (child_birth),
                                             "gender", S (child_female ? "female" : "male"),
                                             "school", S (d->school_names->pdata[s]), "grade", S (grade_text),
                                             "category", S (category), "reason", S (strcmp (category, "hardship") == 0
                                                                                    ? "Hoàn cảnh khó khăn, vượt khó học tốt"
                                                                                    : "Học sinh giỏi cấp tỉnh"),
                                             "amount", I (amount), "funding_source", S ("Quỹ khuyến học"),
                                             "status", S ("paid"), "received_on", S (list->paid_on),
                                             "received_by", S (age < 16 ? spouse : child), NULL), error);
        if (entry == NULL)
          return FALSE;
        list->total += amount;
      }
    if (grant)
      {
        gint64 amount = g_rand_boolean (d->rand) ? 500000 : 1000000;
        g_autofree char *entry = make (d, "award_entry",
                                       obj ("list_id", S (list->id), "org_unit_id", S (former >= 0 ? formers->pdata[former] : commune),
                                            "person_id", S (head_id), "recipient_name", S (head), "birth_date", S (birth),
                                            "gender", S (head_female ? "female" : "male"),
                                            "category", S ("adult_learner"), "reason", S ("Học viên lớp học tập suốt đời"),
                                            "amount", I (amount), "status", S ("paid"), "received_on", S (list->paid_on),
                                            "received_by", S (head), NULL), error);

        if (entry == NULL)
          return FALSE;
        list->total += amount;
      }
  }

  /* Now and then a donation: before the reform to the district's fund, after it to today's
   * commune's, an enterprise's or a person's. */
  if (g_rand_int_range (d->rand, 0, 8) == 0)
    {
      gboolean before = year < 2025 || g_rand_boolean (d->rand);
      g_autofree char *date = before ? g_strdup_printf ("%04d-%02d-%02d", year, g_rand_int_range (d->rand, 1, 7),
                                                        g_rand_int_range (d->rand, 1, 29))
                                     : g_strdup_printf ("2025-%02d-%02d", g_rand_int_range (d->rand, 7, 13),
                                                        g_rand_int_range (d->rand, 1, 29));
      g_autofree char *receipt = g_strdup_printf ("PT%06" G_GINT64_FORMAT, d->made);
      g_autofree char *firm = g_strdup_printf ("Công ty TNHH Hải sản Nha Trang %s", new_communes[ci].name);
      gboolean enterprise = !before && g_rand_int_range (d->rand, 0, 4) == 0;
      const char *district = NULL;
      g_autofree char *donation = NULL;

      if (before)
        {
          int f = former >= 0 ? former : g_rand_int_range (d->rand, 0, (gint32) formers->len);

          district = ((GPtrArray *) d->former_district->pdata[ci])->pdata[f];
        }
      if (enterprise)
        {
          static const char *firms[] = { "Công ty TNHH Hải sản Nha Trang", "Ngân hàng Nông nghiệp chi nhánh",
                                         "Công ty CP Yến sào", "Hợp tác xã Muối Cà Ná", "Doanh nghiệp tư nhân Phước Thịnh" };

          g_free (firm);
          firm = g_strdup_printf ("%s %s", firms[ci % G_N_ELEMENTS (firms)], new_communes[ci].name);
        }
      donation = make (d, "donation", obj ("fund_id", S (before ? g_hash_table_lookup (d->district_funds, district) : d->funds->pdata[ci]),
                                           "org_unit_id", S (before ? district : commune),
                                           "donor_id", S (enterprise ? g_hash_table_lookup (d->donors, commune) : NULL),
                                           "donor_name", S (enterprise ? firm : head), "donated_on", S (date),
                                           "form", S (enterprise ? "transfer" : "cash"),
                                           "amount", I (g_rand_int_range (d->rand, 1, 50) * (enterprise ? 1000000 : 100000)),
                                           "receipt_number", S (receipt), "received_by", S ("Lê Thị Hạnh"), NULL), error);
      if (donation == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
make_units_and_clans (Demo *d, GError **error)
{
  /* A small demo keeps most of its records for households and people: these stop at a third
   * of it, commune by commune, so every kind is there. */
  gint64 cap = d->target / 3;

  /* Communes as learning communities (Circular 20/2023), recognized by the district before the
   * reform and by the province after it; schools as learning units, villages as learning
   * communities and clans in 2025, the units' first year. */
  for (guint ci = 0; ci < d->communes_2025->len && d->made < cap; ci++)
    {
      GPtrArray *formers = d->former->pdata[ci];

      for (guint f = 0; f < formers->len; f++)
        {
          json_object *KH_AUTO_JSON unit = kh_store_get (d->store, "org_unit", formers->pdata[f], NULL);
          const char *name = json_object_get_string (json_object_object_get (unit, "name"));

          if (!register_one (d, "community", "org_unit", formers->pdata[f], name, formers->pdata[f], 2024, 5,
                             "district", "2025-02-01", error))
            return FALSE;
        }
      if (!register_one (d, "community", "org_unit", d->communes_2025->pdata[ci], new_communes[ci].name,
                         d->communes_2025->pdata[ci], 2025, 5, "province", "2025-12-30", error))
        return FALSE;
      for (guint s = ci * 4; s < ci * 4 + 4; s++)
        if (!register_one (d, "unit", "org_unit", d->schools->pdata[s], d->school_names->pdata[s], d->schools->pdata[s],
                           2025, 4, "commune", "2025-12-29", error))
          return FALSE;
      for (guint v = ci * 6; v < ci * 6 + 6; v++)
        {
          g_autofree char *name = g_strdup_printf ("Thôn %u", v % 6 + 1);
          g_autofree char *clan = NULL;
          g_autofree char *clan_name = NULL;
          g_autofree char *head = random_name (d, FALSE, new_communes[ci].people);

          if (!register_one (d, "community", "org_unit", d->villages->pdata[v], name, d->villages->pdata[v], 2025, 3,
                             "commune", "2025-12-29", error))
            return FALSE;
          /* Clans with a study-promotion board in two villages of each commune. */
          if (v % 6 >= 2)
            continue;
          clan_name = g_strdup_printf ("Họ %.*s", (int) (strrchr (head, ' ') - head), head);
          *strrchr (clan_name, ' ') = '\0';
          clan = make (d, "clan", obj ("name", S (clan_name), "branch", S ("Chi 2"), "org_unit_id", S (d->villages->pdata[v]),
                                       "head_name", S (head), "households", I (g_rand_int_range (d->rand, 10, 120)),
                                       "has_board", B (TRUE), NULL), error);
          if (clan == NULL
              || !register_one (d, "clan", "clan", clan, clan_name, d->villages->pdata[v], 2025, 2,
                                "commune", "2025-12-29", error))
            return FALSE;
        }
    }
  return TRUE;
}

static int
list_by_paid_on (gconstpointer a,
                 gconstpointer b)
{
  const List *la = *(List * const *) a;
  const List *lb = *(List * const *) b;

  return g_strcmp0 (la->paid_on, lb->paid_on);
}

/* A benefactor's gift that makes up what @l's fund lacks on the day the list is paid: the
 * ledger refuses a payment that would overdraw a fund (kh-ledger.c), and an association
 * raises the money for a list before it pays it. The lists are paid in the order of their
 * days, so what the fund holds on that day is what it can spend. */
static gboolean
cover_list (Demo *d, List *l, GError **error)
{
  json_object *KH_AUTO_JSON fund = NULL;
  g_autofree char *receipt = NULL;
  g_autofree char *id = NULL;
  gint64 cash = 0;
  json_object *unit;

  if (!kh_ledger_balance (d->store, l->fund, "", l->paid_on, &cash, NULL, error))
    return FALSE;
  if (cash >= l->total)
    return TRUE;
  fund = kh_store_get (d->store, "fund", l->fund, error);
  if (fund == NULL || !json_object_object_get_ex (fund, "org_unit_id", &unit))
    return fund != NULL;
  receipt = g_strdup_printf ("PT%06" G_GINT64_FORMAT, d->made);
  id = make (d, "donation", obj ("fund_id", S (l->fund), "org_unit_id", S (json_object_get_string (unit)),
                                 "donor_name", S ("Hội Doanh nhân tỉnh (ủng hộ quỹ)"), "donated_on", S (l->paid_on),
                                 "form", S ("cash"), "amount", I ((l->total - cash + 99999) / 100000 * 100000),
                                 "receipt_number", S (receipt), NULL), error);
  return id != NULL || d->made >= d->target;
}

/* Each list paid from its fund, in one voucher. */
static gboolean
make_disbursements (Demo *d, GError **error)
{
  g_ptr_array_sort (d->list_order, list_by_paid_on);
  for (guint i = 0; i < d->list_order->len && d->made < d->target; i++)
    {
      List *l = d->list_order->pdata[i];
      g_autofree char *voucher = g_strdup_printf ("PC%04u", i + 1);
      g_autofree char *id = NULL;

      if (l->total <= 0)
        continue;
      if (!cover_list (d, l, error))
        return FALSE;
      if (d->made >= d->target)
        break;
      id = make (d, "disbursement", obj ("fund_id", S (l->fund), "org_unit_id", S (l->unit), "list_id", S (l->id),
                                         "amount", I (l->total), "paid_on", S (l->paid_on),
                                         "purpose", S ("Chi học bổng, phần thưởng theo danh sách"),
                                         "voucher_number", S (voucher), NULL), error);
      if (id == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
population_one (Demo *d, const char *commune, int year, const char *model, GError **error)
{
  g_autofree char *key = g_strdup_printf ("%s|%d|%s", commune, year, model);
  gint64 *n = g_hash_table_lookup (d->registered, key);
  gint64 registered = n != NULL ? *n : 0;
  /* Most of the eligible register, as in Khánh Hòa's reports (226,259 of 254,657 families). */
  gint64 eligible = registered * g_rand_int_range (d->rand, 105, 130) / 100
                    + g_rand_int_range (d->rand, 0, (gint32) MIN (registered / 10 + 3, 1000));
  g_autofree char *source = g_strdup_printf ("Thống kê dân số %d", year);
  g_autofree char *id = make (d, "population", obj ("org_unit_id", S (commune), "year", I (year), "model", S (model),
                                                    "eligible", I (eligible), "source", S (source), NULL), error);

  return id != NULL;
}

/* The eligible citizens and households of every commune of the year (today's from 2025, the
 * former ones before), entered from the population statistics, the latest year first; in 2023
 * the former communes of Trường Sa sent none, so that year has no share for the province. */
static gboolean
make_population (Demo *d, GError **error)
{
  static const char *models[] = { "citizen", "family" };

  for (guint m = 0; m < G_N_ELEMENTS (models); m++)
    for (guint ci = 0; ci < d->communes_2025->len; ci++)
      if (!population_one (d, d->communes_2025->pdata[ci], 2025, models[m], error))
        return FALSE;
  for (int year = 2024; year >= 2023; year--)
    for (guint m = 0; m < G_N_ELEMENTS (models); m++)
      for (guint ci = 0; ci < d->communes_2025->len; ci++)
        {
          GPtrArray *formers = d->former->pdata[ci];

          if (year == 2023 && g_str_has_prefix (new_communes[ci].name, "Đặc khu"))
            continue;
          for (guint f = 0; f < formers->len; f++)
            if (!population_one (d, formers->pdata[f], year, models[m], error))
              return FALSE;
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
  gint64 target = records;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (records > 0, FALSE);

  d.store = store;
  d.rand = g_rand_new_with_seed (seed);
  d.target = records;
  d.progress = progress;
  d.progress_data = progress_data;
  d.communes_2025 = g_ptr_array_new_with_free_func (g_free);
  d.former = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  d.former_district = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  d.villages = g_ptr_array_new_with_free_func (g_free);
  d.village_commune = g_array_new (FALSE, FALSE, sizeof (guint));
  d.schools = g_ptr_array_new_with_free_func (g_free);
  d.school_names = g_ptr_array_new_with_free_func (g_free);
  d.school_level = g_array_new (FALSE, FALSE, sizeof (int));
  d.school_commune = g_array_new (FALSE, FALSE, sizeof (guint));
  d.funds = g_ptr_array_new_with_free_func (g_free);
  d.district_funds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  d.donors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  d.lists = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, list_free);
  d.list_order = g_ptr_array_new ();
  d.registered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* Each step stops early (returns FALSE) either on an error or when the target is reached;
   * only the error is a failure. The households leave room for the lists' disbursements and
   * the eligible population, made from what was registered, and then fill what is left. */
  if (make_units (&d, &local_error) && make_criteria (&d, &local_error)
      && make_programme_and_donors (&d, &local_error) && make_units_and_clans (&d, &local_error))
    {
      d.target = MAX (d.made, target - MIN (target / 8, 800));
      while (d.made < d.target && make_household_block (&d, &local_error))
        ;
      d.target = target;
      if (local_error == NULL && make_disbursements (&d, &local_error) && make_population (&d, &local_error))
        while (d.made < d.target && make_household_block (&d, &local_error))
          ;
    }
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
  g_ptr_array_unref (d.communes_2025);
  g_ptr_array_unref (d.former);
  g_ptr_array_unref (d.former_district);
  g_ptr_array_unref (d.villages);
  g_array_unref (d.village_commune);
  g_ptr_array_unref (d.schools);
  g_ptr_array_unref (d.school_names);
  g_array_unref (d.school_level);
  g_array_unref (d.school_commune);
  g_ptr_array_unref (d.funds);
  g_hash_table_unref (d.district_funds);
  g_hash_table_unref (d.donors);
  g_ptr_array_unref (d.list_order);
  g_hash_table_unref (d.lists);
  g_hash_table_unref (d.registered);
  g_free (d.province_2025);
  g_free (d.programme);
  for (guint i = 0; i < G_N_ELEMENTS (d.criteria); i++)
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
