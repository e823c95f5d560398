/* kh-entity.c: the entities of Khuyến Học
 *
 * The domain is described in ../shared/DOMAIN.md: org units with validity and succession,
 * subjects (people, households, clans), criteria sets as data, the five learning models'
 * registrations, evaluations and recognitions, scholarship programmes, award lists and entries,
 * funds, donors, donations and disbursements, and consent for minors' personal data.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-validate.h"

#define MONEY_MAX G_GINT64_CONSTANT (1000000000000) /* one trillion đồng: beyond any real sum */

/* Each takes, after its own arguments, any further member as a designated initializer:
 * TEXT ("school", SRCH, N_("School"), 200, .headers = school_headers). */
#define TEXT(n, fl, lb, len, ...)  { .name = n, .type = KH_FIELD_TEXT, .flags = fl, .label = lb, .max_len = len, __VA_ARGS__ }
#define INT(n, fl, lb, lo, hi, ...) { .name = n, .type = KH_FIELD_INT, .flags = fl, .label = lb, .min = lo, .max = hi, __VA_ARGS__ }
#define MONEY(n, fl, lb, ...)      { .name = n, .type = KH_FIELD_MONEY, .flags = fl, .label = lb, .min = 0, .max = MONEY_MAX, __VA_ARGS__ }
#define DATE(n, fl, lb, ...)       { .name = n, .type = KH_FIELD_DATE, .flags = fl, .label = lb, __VA_ARGS__ }
#define YEAR(n, fl, lb, ...)       { .name = n, .type = KH_FIELD_YEAR, .flags = fl, .label = lb, .min = 1945, .max = 2100, __VA_ARGS__ }
#define BOOL(n, fl, lb, ...)       { .name = n, .type = KH_FIELD_BOOL, .flags = fl, .label = lb, .min = 0, .max = 1, __VA_ARGS__ }
#define ENUM(n, fl, lb, v, l, ...) { .name = n, .type = KH_FIELD_ENUM, .flags = fl, .label = lb, .enum_values = v, .enum_labels = l, __VA_ARGS__ }
#define REF(n, fl, lb, e, ...)     { .name = n, .type = KH_FIELD_REF, .flags = fl, .label = lb, .ref_entity = e, __VA_ARGS__ }
#define JSONF(n, fl, lb, ...)      { .name = n, .type = KH_FIELD_JSON, .flags = fl, .label = lb, .max_len = 20000, __VA_ARGS__ }

#define REQ  KH_FIELD_FLAG_REQUIRED
#define SRCH KH_FIELD_FLAG_SEARCH
#define SUM  KH_FIELD_FLAG_SUMMARY
#define SENS KH_FIELD_FLAG_SENSITIVE
#define LONG KH_FIELD_FLAG_MULTILINE
#define FOLD KH_FIELD_FLAG_FOLDED_INDEX
#define NAME KH_FIELD_FLAG_PERSON_NAME
#define NONE KH_FIELD_FLAG_NONE
#define OWNER KH_FIELD_FLAG_PARENT

#define ENTITY(n, lb, lbp, f, scope, title, chk, idx) \
  { .name = n, .label = lb, .label_plural = lbp, .fields = f, .n_fields = G_N_ELEMENTS (f), \
    .scope_field = scope, .title_field = title, .check = chk, .indexes = idx, .since = 1 }

/* Shared enumerations ------------------------------------------------------------------------ */

/* The five learning models: the one list reports, the overview and the forms read
 * (kh_models()). Each model's registrations are of one kind of subject (subjects[]). */
static const char * const models[] = { "citizen", "family", "clan", "community", "unit", NULL };
static const char * const model_labels[] = {
  N_("Learning citizen"), N_("Learning family"), N_("Learning clan"),
  N_("Learning community"), N_("Learning unit"), NULL
};
static const char * const model_subjects[] = {
  "person", "household", "clan", "org_unit", "org_unit", NULL
};

G_STATIC_ASSERT (G_N_ELEMENTS (models) == KH_N_MODELS + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (model_labels) == KH_N_MODELS + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (model_subjects) == KH_N_MODELS + 1);

static const char * const genders[] = { "female", "male", "other", NULL };
static const char * const gender_labels[] = { N_("Female"), N_("Male"), N_("Other"), NULL };

/* Spreadsheet headers and values ------------------------------------------------------------- */

/* Headers people write for a field, matched after folding (no diacritics, lower case,
 * punctuation as spaces) by the import. They are matching keys, not text anyone reads, so they
 * are not translated. The first list names any entity's title field: the name of the person,
 * recipient, subject or donor (kh_title_headers()). */
static const char * const title_headers[] = {
  "Họ và tên", "Họ tên", "Tên", "Họ và tên học sinh", "Tên học sinh", "Họ tên học sinh",
  "Người nhận", "Họ và tên người nhận", "Name", "Full name", "Student name", "Recipient",
  "Nhà hảo tâm", "Người ủng hộ", "Đơn vị cá nhân ủng hộ", "Tên đối tượng", NULL
};
static const char * const birth_date_headers[] = {
  "Ngày sinh", "Ngày tháng năm sinh", "NS", "Date of birth", "DOB", "Birth date", NULL
};
static const char * const birth_year_headers[] = {
  "Năm sinh", NULL
};
static const char * const gender_headers[] = {
  "Giới tính", "Giới", "Nam Nữ", "Sex", NULL
};
static const char * const school_headers[] = {
  "Trường", "Trường học", "Học trường", NULL
};
static const char * const grade_headers[] = {
  "Lớp", "Khối", "Lớp Khối", "Class", NULL
};
static const char * const category_headers[] = {
  "Loại", "Loại học bổng", "Loại giải thưởng", NULL
};
static const char * const reason_headers[] = {
  "Lý do", "Thành tích", "Hoàn cảnh", "Thành tích hoàn cảnh", NULL
};
static const char * const amount_headers[] = {
  "Số tiền", "Số tiền đồng", "Số tiền đ", "Số tiền VNĐ", "Thành tiền", "Mức hỗ trợ",
  "Mức học bổng", "Giá trị", "Amount", "Amount VND", NULL
};
static const char * const in_kind_headers[] = {
  "Hiện vật", "Quà", NULL
};
static const char * const funding_source_headers[] = {
  "Nguồn kinh phí", "Nhà tài trợ", "Nguồn", "Sponsor", NULL
};
static const char * const voucher_number_headers[] = {
  "Số phiếu chi", "Số chứng từ", "Phiếu chi", "Voucher", NULL
};
static const char * const received_on_headers[] = {
  "Ngày nhận", NULL
};
static const char * const received_by_headers[] = {
  "Người nhận thay", NULL
};
static const char * const status_headers[] = {
  "Trạng thái", "Tình trạng", NULL
};
static const char * const org_unit_id_headers[] = {
  "Mã đơn vị", "Đơn vị", "Mã xã", "Unit code", "Unit", NULL
};
static const char * const phone_headers[] = {
  "Số điện thoại", "Điện thoại", "SĐT", NULL
};
static const char * const national_id_headers[] = {
  "Số CCCD", "CCCD", "Số định danh", "Số định danh cá nhân", "CMND", NULL
};
static const char * const address_headers[] = {
  "Địa chỉ", "Nơi ở", "Thôn xóm", NULL
};
static const char * const guardian_name_headers[] = {
  "Phụ huynh", "Họ tên cha mẹ", "Người giám hộ", "Cha mẹ", "Họ tên phụ huynh", NULL
};
static const char * const ethnicity_headers[] = {
  "Dân tộc", NULL
};
static const char * const occupation_headers[] = {
  "Nghề nghiệp", NULL
};
static const char * const notes_headers[] = {
  "Ghi chú", NULL
};
static const char * const model_headers[] = {
  "Mô hình", "Danh hiệu", "Mô hình học tập", NULL
};
static const char * const year_headers[] = {
  "Năm", NULL
};
static const char * const subject_kind_headers[] = {
  "Loại đối tượng", NULL
};
static const char * const subject_id_headers[] = {
  "Mã đối tượng", NULL
};
static const char * const registered_on_headers[] = {
  "Ngày đăng ký", NULL
};
static const char * const subject_group_headers[] = {
  "Nhóm đối tượng", NULL
};
static const char * const donated_on_headers[] = {
  "Ngày ủng hộ", NULL
};
static const char * const receipt_number_headers[] = {
  "Số phiếu thu", "Số biên lai", NULL
};
static const char * const form_headers[] = {
  "Hình thức", NULL
};
static const char * const purpose_headers[] = {
  "Mục đích", NULL
};

/* Enumeration values as people write them: pairs of a value and its text. */
static const char * const gender_texts[] = {
  "male", "Nam", "female", "Nữ", "other", "Khác", NULL
};
static const char * const category_texts[] = {
  "hardship", "Vượt khó", "hardship", "Học bổng vượt khó", "hardship", "Khuyến học",
  "hardship", "Hoàn cảnh khó khăn", "merit", "Khuyến tài", "merit", "Học sinh giỏi",
  "merit", "Thành tích", "merit", "Khen thưởng", "special", "Đặc biệt",
  "special", "Giải đặc biệt", "adult_learner", "Người lớn học tập",
  "adult_learner", "Hỗ trợ người học", "adult_learner", "Người lớn tuổi", NULL
};
static const char * const model_texts[] = {
  "citizen", "Công dân học tập", "family", "Gia đình học tập", "clan", "Dòng họ học tập",
  "community", "Cộng đồng học tập", "unit", "Đơn vị học tập", NULL
};
static const char * const status_texts[] = {
  "proposed", "Đề xuất", "approved", "Đã duyệt", "paid", "Đã chi", "cancelled", "Hủy",
  "registered", "Đã đăng ký", "registered", "Đăng ký", NULL
};
static const char * const form_texts[] = {
  "cash", "Tiền mặt", "transfer", "Chuyển khoản", "in_kind", "Hiện vật", NULL
};

/* Helpers for checks across fields ------------------------------------------------------------ */

static const char *
get_string (json_object *record,
            const char  *name)
{
  json_object *v;

  if (!json_object_object_get_ex (record, name, &v) || v == NULL)
    return NULL;
  if (!json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

/* @field: the field the message names first, or NULL if it names none. */
static gboolean
check_date_order (json_object *record,
                  const char  *from_name,
                  const char  *to_name,
                  const char  *field,
                  const char  *message,
                  GError     **error)
{
  const char *from = get_string (record, from_name);
  const char *to = get_string (record, to_name);

  /* ISO dates compare as strings. */
  if (from != NULL && to != NULL && strcmp (from, to) > 0)
    {
      kh_data_error_set_invalid (error, field, "%s", message);
      return FALSE;
    }
  return TRUE;
}

/* Org units ----------------------------------------------------------------------------------- */

static const char * const unit_kinds[] = {
  "province", "district", "commune", "ward", "special_zone", "village", "school", "agency",
  "enterprise", "nation", NULL
};
static const char * const unit_kind_labels[] = {
  N_("Province"), N_("District"), N_("Commune"), N_("Ward"), N_("Special zone"),
  N_("Village or residential group"), N_("School"), N_("Agency"), N_("Enterprise"), N_("Nation"), NULL
};

static const KhField org_unit_fields[] = {
  TEXT ("code", REQ | SRCH | SUM, N_("Official code"), 20),
  TEXT ("name", REQ | SRCH | SUM | FOLD, N_("Name"), 200),
  ENUM ("kind", REQ | SUM, N_("Kind"), unit_kinds, unit_kind_labels),
  REF ("parent_id", NONE, N_("Parent unit"), "org_unit"),
  DATE ("valid_from", NONE, N_("Valid from")),
  DATE ("valid_to", NONE, N_("Valid until")),
  INT ("population", NONE, N_("Population"), 0, 200000000),
  TEXT ("address", NONE, N_("Address"), 300, .headers = address_headers),
};

/* The kind against the hierarchy as far as the record itself tells (a district's dates, a
 * village's need of a parent); the store and the server check the parent's kind too. */
static gboolean
check_org_unit (const KhEntity *entity,
                json_object    *record,
                GError        **error)
{
  const char *kind = get_string (record, "kind");

  if (!check_date_order (record, "valid_from", "valid_to", NULL,
                         _("“Valid until” must not be before “Valid from”."), error))
    return FALSE;
  return kind == NULL
         || kh_unit_kind_validate (kind, get_string (record, "valid_to"),
                                   get_string (record, "parent_id") != NULL, NULL, error);
}

static const char * const succession_kinds[] = {
  "merge", "split", "rename", "reclassify", "abolish", NULL
};
static const char * const succession_kind_labels[] = {
  N_("Merge"), N_("Split"), N_("Rename"), N_("Reclassify"), N_("Abolish"), NULL
};

static const KhField unit_succession_fields[] = {
  REF ("predecessor_id", REQ | SUM, N_("Former unit"), "org_unit"),
  REF ("successor_id", SUM, N_("Succeeding unit"), "org_unit"),
  ENUM ("kind", REQ | SUM, N_("Change"), succession_kinds, succession_kind_labels),
  DATE ("effective_date", REQ | SUM, N_("Effective date")),
  TEXT ("legal_basis", SRCH | SUM, N_("Legal basis"), 300),
  INT ("share_percent", NONE, N_("Share taken over (%)"), 0, 100),
};

static gboolean
check_unit_succession (const KhEntity *entity,
                       json_object    *record,
                       GError        **error)
{
  const char *kind = get_string (record, "kind");
  const char *pred = get_string (record, "predecessor_id");
  const char *succ = get_string (record, "successor_id");

  if (kind != NULL && strcmp (kind, "abolish") != 0 && succ == NULL)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("A merge, split, rename or reclassification needs the succeeding unit."));
      return FALSE;
    }
  if (pred != NULL && succ != NULL && strcmp (pred, succ) == 0)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("A unit cannot succeed itself."));
      return FALSE;
    }
  return TRUE;
}

/* Subjects ------------------------------------------------------------------------------------ */

static const KhField person_fields[] = {
  TEXT ("full_name", REQ | SRCH | SUM | FOLD | NAME, N_("Full name"), 150),
  DATE ("birth_date", SUM, N_("Date of birth"), .headers = birth_date_headers),
  YEAR ("birth_year", NONE, N_("Year of birth"), .headers = birth_year_headers),
  ENUM ("gender", SUM, N_("Gender"), genders, gender_labels,
        .headers = gender_headers, .value_texts = gender_texts),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("household_id", NONE, N_("Household"), "household"),
  /* Most people here are pupils: a child's address and phone are kept in like the rest
   * (DOMAIN.md, "People's data"); one flag per field cannot tell a child's from an adult's. */
  TEXT ("address", SENS, N_("Address"), 300, .headers = address_headers),
  { .name = "phone", .type = KH_FIELD_TEXT, .flags = KH_FIELD_FLAG_DIGITS | SENS, .label = N_("Phone"), .max_len = 15,
    .headers = phone_headers },
  { .name = "national_id", .type = KH_FIELD_TEXT, .flags = KH_FIELD_FLAG_DIGITS | SENS | SUM, .label = N_("National ID number (optional)"), .max_len = 12,
    .headers = national_id_headers },
  TEXT ("guardian_name", NONE, N_("Parent or guardian"), 150, .headers = guardian_name_headers),
  TEXT ("ethnicity", SENS, N_("Ethnicity"), 50, .headers = ethnicity_headers),
  { .name = "occupation", .type = KH_FIELD_TEXT, .label = N_("Occupation"), .max_len = 100, .since = 2,
    .headers = occupation_headers },
  TEXT ("notes", SENS | LONG, N_("Notes"), 2000, .headers = notes_headers),
};

static gboolean
check_person (const KhEntity *entity,
              json_object    *record,
              GError        **error)
{
  const char *birth = get_string (record, "birth_date");
  json_object *year;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

  if (birth != NULL && strcmp (birth, today) > 0)
    {
      kh_data_error_set_invalid (error, "birth_date", "%s",
                           _("Date of birth: it is in the future."));
      return FALSE;
    }
  if (birth != NULL && json_object_object_get_ex (record, "birth_year", &year) && year != NULL
      && json_object_get_int64 (year) != g_ascii_strtoll (birth, NULL, 10))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("Year of birth does not match the date of birth."));
      return FALSE;
    }
  return TRUE;
}

static const KhField household_fields[] = {
  TEXT ("head_name", REQ | SRCH | SUM | FOLD | NAME, N_("Head of household"), 150),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("head_id", NONE, N_("Head (person record)"), "person"),
  TEXT ("address", SRCH | SUM, N_("Address"), 300, .headers = address_headers),
  INT ("members", SUM, N_("Members"), 1, 100),
  BOOL ("poor", SENS, N_("Poor or near-poor household")),
};

static const KhField clan_fields[] = {
  TEXT ("name", REQ | SRCH | SUM | FOLD, N_("Clan"), 150),
  TEXT ("branch", SRCH | SUM, N_("Branch"), 150),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  TEXT ("head_name", SRCH, N_("Head of the clan"), 150),
  INT ("households", SUM, N_("Households"), 1, 100000),
  BOOL ("has_board", NONE, N_("Has a study-promotion board")),
};

/* Criteria sets: versioned data, not code ----------------------------------------------------- */

static const char * const methods[] = { "points", "levels", "checklist", NULL };
static const char * const method_labels[] = { N_("Points"), N_("Levels"), N_("Checklist"), NULL };
/* What a levels set's thresholds compare (kh-models.c): a method value of its own would have
 * needed the table made again, since SQLite cannot change a CHECK in place. */
static const char * const level_rules[] = { "total", "bands", "citizen_share", NULL };
static const char * const level_rule_labels[] = {
  N_("Levels 1–3 from the total"), N_("Good, fair, average from the total"),
  N_("Levels 1–3 from the share of members who are learning citizens (%)"), NULL
};

static const KhField criteria_set_fields[] = {
  TEXT ("name", REQ | SRCH | SUM, N_("Name"), 200),
  ENUM ("model", REQ | SUM, N_("Learning model"), models, model_labels,
        .headers = model_headers, .value_texts = model_texts),
  TEXT ("legal_basis", SRCH | SUM, N_("Legal basis"), 300),
  DATE ("valid_from", SUM, N_("Valid from")),
  DATE ("valid_to", SUM, N_("Valid until")),
  ENUM ("method", REQ, N_("Method"), methods, method_labels),
  INT ("max_total", NONE, N_("Maximum total"), 0, 1000),
  INT ("pass_min_total", NONE, N_("Minimum total to pass"), 0, 1000),
  INT ("pass_min_item", NONE, N_("Minimum for every criterion"), 0, 1000),
  INT ("level1_min", NONE, N_("Minimum for level 1"), 0, 1000),
  INT ("level2_min", NONE, N_("Minimum for level 2"), 0, 1000),
  INT ("level3_min", NONE, N_("Minimum for level 3"), 0, 1000),
  REF ("org_unit_id", NONE, N_("Applies in unit (empty: everywhere)"), "org_unit",
        .headers = org_unit_id_headers),
  TEXT ("subject_group", SUM, N_("For subject group or level (empty: all)"), 100, .since = 10),
  ENUM ("level_rule", NONE, N_("Levels from"), level_rules, level_rule_labels, .since = 10),
  REF ("previous_id", NONE, N_("Earlier version"), "criteria_set", .since = 10),
};

static gboolean
check_criteria_set (const KhEntity *entity,
                    json_object    *record,
                    GError        **error)
{
  return check_date_order (record, "valid_from", "valid_to", NULL,
                           _("“Valid until” must not be before “Valid from”."), error);
}

static const KhField criterion_fields[] = {
  REF ("criteria_set_id", REQ, N_("Criteria set"), "criteria_set"),
  TEXT ("code", REQ | SUM, N_("Code"), 20),
  TEXT ("title", REQ | SRCH | SUM, N_("Criterion"), 500),
  INT ("max_points", SUM, N_("Maximum points"), 0, 1000),
  INT ("min_points", NONE, N_("Minimum points"), 0, 1000),
  INT ("position", NONE, N_("Position"), 0, 1000),
};

/* Learning models ----------------------------------------------------------------------------- */

static const char * const subject_kinds[] = { "person", "household", "clan", "org_unit", NULL };
static const char * const subject_kind_labels[] = {
  N_("Person"), N_("Household"), N_("Clan"), N_("Unit, school or community"), NULL
};
static const char * const registration_statuses[] = {
  "registered", "withdrawn", "evaluated", NULL
};
static const char * const registration_status_labels[] = {
  N_("Registered"), N_("Withdrawn"), N_("Evaluated"), NULL
};

static const char * const results[] = {
  "pass", "fail", "level1", "level2", "level3", "good", "fair", "average", "not_achieved", NULL
};
static const char * const result_labels[] = {
  N_("Achieved"), N_("Not achieved"), N_("Level 1"), N_("Level 2"), N_("Level 3"),
  N_("Good"), N_("Fair"), N_("Average"), N_("Not achieved (below average)"), NULL
};

static const char * const registration_states[] = {
  "registered", "withdrawn", "passed", "not_passed", "recognized", NULL
};
static const char * const registration_state_labels[] = {
  N_("Registered"), N_("Withdrawn"), N_("Passed"), N_("Not passed"),
  N_("Recognized"), NULL
};

static const char * const dossier_statuses[] = { "draft", "submitted", NULL };
static const char * const dossier_status_labels[] = {
  N_("Being prepared"), N_("Submitted to the level above"), NULL
};

static const KhField registration_fields[] = {
  ENUM ("model", REQ | SUM, N_("Learning model"), models, model_labels,
        .headers = model_headers, .value_texts = model_texts),
  YEAR ("year", REQ | SUM, N_("Year"), .headers = year_headers),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  /* The kind of subject follows from the model; the subject is a record of that kind. */
  ENUM ("subject_kind", REQ, N_("Subject kind"), subject_kinds, subject_kind_labels,
        .derived_from = "model", .derive = kh_model_subject_entity,
        .headers = subject_kind_headers),
  REF ("subject_id", REQ, N_("Subject"), NULL, .ref_kind = "subject_kind",
        .headers = subject_id_headers),
  TEXT ("subject_name", REQ | SRCH | SUM | FOLD, N_("Registered subject"), 200),
  ENUM ("status", REQ, N_("Status"), registration_statuses, registration_status_labels,
        .headers = status_headers, .value_texts = status_texts),
  DATE ("registered_on", NONE, N_("Registered on"), .headers = registered_on_headers),
  TEXT ("subject_group", NONE, N_("Subject group"), 100, .headers = subject_group_headers),
  /* Where the registration stands, kept by the store when an evaluation or a recognition is
   * written (kh-models.c), so that a list shows and filters it without a join. */
  ENUM ("state", SUM, N_("State"), registration_states, registration_state_labels, .since = 10),
  ENUM ("result", SUM, N_("Result"), results, result_labels, .since = 10),
  INT ("total", SUM, N_("Score"), 0, 1000, .since = 10),
  /* A unit's dossier sent to the level above for evaluation: then locked (kh-workflow.c). */
  ENUM ("dossier", NONE, N_("Dossier"), dossier_statuses, dossier_status_labels, .since = 13),
  TEXT ("reopen_reason", NONE, N_("Reason for reopening"), 500, .since = 13),
};

static gboolean
check_registration (const KhEntity *entity,
                    json_object    *record,
                    GError        **error)
{
  const char *model = get_string (record, "model");
  const char *kind = get_string (record, "subject_kind");

  if (model == NULL || kind == NULL)
    return TRUE;
  /* The field checks ran first, so the model is one of the five. */
  if (g_strcmp0 (kind, kh_model_subject_entity (model)) != 0)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("Subject kind does not fit the learning model: a learning citizen "
                             "is a person, a family a household, a clan a clan, a community or "
                             "unit an org unit."));
      return FALSE;
    }
  return TRUE;
}

static const char * const evaluation_stages[] = { "self_assessment", "review", NULL };
static const char * const evaluation_stage_labels[] = {
  N_("Self-assessment"), N_("Review by the level above"), NULL
};

static const KhField evaluation_fields[] = {
  REF ("registration_id", REQ | OWNER, N_("Registration"), "registration"),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("criteria_set_id", NONE, N_("Criteria set"), "criteria_set"),
  JSONF ("scores", NONE, N_("Scores per criterion")),
  INT ("total", SUM, N_("Total points"), 0, 1000),
  ENUM ("result", REQ | SUM, N_("Result"), results, result_labels),
  TEXT ("evaluator", SRCH | SUM, N_("Evaluated by"), 150),
  DATE ("evaluated_on", SUM, N_("Evaluated on")),
  TEXT ("notes", LONG, N_("Notes"), 2000, .headers = notes_headers),
  /* A review by the level above is a record of its own beside the self-assessment, never an
   * edit of it; the figures say which stage they count (kh_evaluation_stage_sql()). */
  ENUM ("stage", SUM, N_("Stage"), evaluation_stages, evaluation_stage_labels, .since = 10),
};

static const char * const issuing_levels[] = { "commune", "district", "province", "unit", NULL };
static const char * const issuing_level_labels[] = {
  N_("Commune level"), N_("District level"), N_("Provincial level"), N_("The unit itself"), NULL
};

static const char * const recognition_statuses[] = { "draft", "issued", NULL };
static const char * const recognition_status_labels[] = { N_("Draft"), N_("Issued"), NULL };

static const KhField recognition_fields[] = {
  REF ("registration_id", REQ | OWNER, N_("Registration"), "registration"),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  TEXT ("decision_number", REQ | SRCH | SUM, N_("Decision number"), 50),
  DATE ("decision_date", REQ | SUM, N_("Decision date")),
  ENUM ("issuing_level", REQ | SUM, N_("Recognized at"), issuing_levels, issuing_level_labels),
  /* A recognition's title is the honour it confers ("Gia đình học tập"), not a heading. */
  TEXT ("title", SRCH | SUM, N_("Honorary title"), 300),
  /* Set only when the recognition has no passed evaluation behind it (kh-models.c). */
  TEXT ("reason", LONG, N_("Reason for recognizing without a passed evaluation"), 500, .since = 10),
  /* Issued by the decision: then locked (kh-workflow.c); empty in records made before. */
  ENUM ("status", SUM, N_("Status"), recognition_statuses, recognition_status_labels, .since = 13),
  TEXT ("reopen_reason", NONE, N_("Reason for reopening"), 500, .since = 13),
};

static const KhField population_fields[] = {
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  YEAR ("year", REQ | SUM, N_("Year"), .headers = year_headers),
  ENUM ("model", REQ | SUM, N_("Learning model"), models, model_labels,
        .headers = model_headers, .value_texts = model_texts),
  INT ("eligible", REQ | SUM, N_("Eligible (citizens, households, clans, communities or units)"), 0, 200000000),
  TEXT ("source", NONE, N_("Source of the figure"), 300),
};

/* Scholarships ------------------------------------------------------------------------------- */

static const char * const streams[] = { "need", "merit", "mixed", "adult", NULL };
static const char * const stream_labels[] = {
  N_("Need-based (khuyến học)"), N_("Merit (khuyến tài)"), N_("Need and merit"),
  N_("Adult learners"), NULL
};

static const KhField scholarship_programme_fields[] = {
  TEXT ("name", REQ | SRCH | SUM, N_("Programme"), 200),
  ENUM ("stream", SUM, N_("Stream"), streams, stream_labels),
  TEXT ("sponsor", SRCH | SUM, N_("Sponsor"), 200),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  BOOL ("multi_year", NONE, N_("Multi-year (re-checked every year)")),
  TEXT ("description", LONG, N_("Description"), 2000),
};

static const char * const occasions[] = { "tet", "new_school_year", "holiday", "year_end", "other", NULL };
static const char * const occasion_labels[] = {
  N_("Lunar New Year (Tết)"), N_("New school year"), N_("National holiday"),
  N_("End of school year"), N_("Other"), NULL
};
static const char * const list_statuses[] = { "draft", "submitted", "approved", "paid", "closed", NULL };
static const char * const list_status_labels[] = {
  N_("Draft"), N_("Submitted"), N_("Approved"), N_("Paid"), N_("Closed"), NULL
};

/* A list belongs to its programme (a province's programme holds its communes' lists); the fund
 * that pays it may be a larger unit's, so the fund is a reference, not an owner. */
static const KhField award_list_fields[] = {
  TEXT ("title", REQ | SRCH | SUM, N_("Title"), 300),
  REF ("programme_id", OWNER, N_("Programme"), "scholarship_programme"),
  ENUM ("occasion", REQ | SUM, N_("Occasion"), occasions, occasion_labels),
  { .name = "school_year", .type = KH_FIELD_TEXT, .flags = REQ | SUM | KH_FIELD_FLAG_SCHOOL_YEAR, .label = N_("School year"), .max_len = 9 },
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("fund_id", NONE, N_("Fund"), "fund"),
  ENUM ("status", REQ | SUM, N_("Status"), list_statuses, list_status_labels,
        .headers = status_headers, .value_texts = status_texts),
  TEXT ("prepared_by", NONE, N_("Prepared by"), 150),
  TEXT ("accountant", NONE, N_("Accountant"), 150),
  /* Who pays the list out, and signs for it on the printed sheet (kh-print.c). */
  TEXT ("treasurer", NONE, N_("Treasurer"), 150, .since = 12),
  TEXT ("approved_by", NONE, N_("Approved by"), 150),
  TEXT ("decision_number", SRCH, N_("Decision number"), 50),
  DATE ("decision_date", NONE, N_("Decision date")),
  TEXT ("reopen_reason", NONE, N_("Reason for reopening"), 500, .since = 13),
};

static const char * const award_categories[] = { "hardship", "merit", "special", "adult_learner", NULL };
static const char * const award_category_labels[] = {
  N_("Hardship scholarship"), N_("Merit award"), N_("Special award"),
  N_("Grant for an adult learner"), NULL
};
static const char * const entry_statuses[] = { "proposed", "approved", "paid", "cancelled", NULL };
static const char * const entry_status_labels[] = {
  N_("Proposed"), N_("Approved"), N_("Paid"), N_("Cancelled"), NULL
};

static const KhField award_entry_fields[] = {
  REF ("list_id", REQ | OWNER, N_("Award list"), "award_list"),
  REF ("org_unit_id", REQ, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("person_id", NONE, N_("Person record"), "person"),
  TEXT ("recipient_name", REQ | SRCH | SUM | FOLD | NAME, N_("Recipient"), 150),
  DATE ("birth_date", SUM, N_("Date of birth"), .headers = birth_date_headers),
  ENUM ("gender", NONE, N_("Gender"), genders, gender_labels,
        .headers = gender_headers, .value_texts = gender_texts),
  TEXT ("school", SRCH | SUM, N_("School"), 200, .headers = school_headers),
  TEXT ("grade", SUM, N_("Class or grade"), 20, .headers = grade_headers),
  ENUM ("category", REQ | SUM, N_("Category"), award_categories, award_category_labels,
        .headers = category_headers, .value_texts = category_texts),
  /* The reason of a hardship award is a family's circumstances. */
  TEXT ("reason", SENS, N_("Reason"), 500, .headers = reason_headers),
  MONEY ("amount", REQ | SUM, N_("Amount (đồng)"), .headers = amount_headers),
  TEXT ("in_kind", NONE, N_("In-kind gift"), 200, .headers = in_kind_headers),
  TEXT ("funding_source", NONE, N_("Funding source or sponsor"), 200,
        .headers = funding_source_headers),
  ENUM ("status", REQ | SUM, N_("Status"), entry_statuses, entry_status_labels,
        .headers = status_headers, .value_texts = status_texts),
  DATE ("received_on", NONE, N_("Received on"), .headers = received_on_headers),
  TEXT ("received_by", NONE, N_("Received by (guardian signs for a minor)"), 150,
        .headers = received_by_headers),
  TEXT ("voucher_number", NONE, N_("Voucher number"), 50, .headers = voucher_number_headers),
};

static gboolean
check_award_entry (const KhEntity *entity,
                   json_object    *record,
                   GError        **error)
{
  const char *status = get_string (record, "status");
  const char *received = get_string (record, "received_on");

  if (status != NULL && strcmp (status, "paid") == 0 && received == NULL)
    {
      kh_data_error_set_invalid (error, "received_on", "%s",
                           _("Received on: a paid entry needs the date it was received."));
      return FALSE;
    }
  return TRUE;
}

/* Funds --------------------------------------------------------------------------------------- */

static const char * const fund_levels[] = { "province", "commune", "village", "clan", "school", "other", NULL };
static const char * const fund_level_labels[] = {
  N_("Provincial fund"), N_("Commune fund"), N_("Village branch fund"), N_("Clan fund"),
  N_("School fund"), N_("Other fund"), NULL
};

static const KhField fund_fields[] = {
  TEXT ("name", REQ | SRCH | SUM, N_("Fund"), 200),
  ENUM ("level", REQ | SUM, N_("Level"), fund_levels, fund_level_labels),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("clan_id", NONE, N_("Clan"), "clan"),
  TEXT ("account", NONE, N_("Bank account"), 50),
  /* What the fund held when it was first recorded here, and on which day (kh-ledger.c). */
  MONEY ("opening_balance", NONE, N_("Opening balance (đồng)"), .since = 12),
  DATE ("opening_date", NONE, N_("Opening balance on"), .since = 12),
};

static const char * const donor_kinds[] = { "person", "enterprise", "organisation", "clan", "anonymous", NULL };
static const char * const donor_kind_labels[] = {
  N_("Person"), N_("Enterprise"), N_("Organisation"), N_("Clan"), N_("Anonymous"), NULL
};

static const KhField donor_fields[] = {
  TEXT ("name", REQ | SRCH | SUM | FOLD, N_("Donor"), 200),
  ENUM ("kind", REQ | SUM, N_("Kind"), donor_kinds, donor_kind_labels),
  REF ("org_unit_id", REQ | SUM, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  TEXT ("address", NONE, N_("Address"), 300, .headers = address_headers),
  { .name = "phone", .type = KH_FIELD_TEXT, .flags = KH_FIELD_FLAG_DIGITS, .label = N_("Phone"), .max_len = 15,
    .headers = phone_headers },
};

static const char * const donation_forms[] = { "cash", "transfer", "in_kind", NULL };
static const char * const donation_form_labels[] = {
  N_("Cash"), N_("Bank transfer"), N_("In kind"), NULL
};

static const KhField donation_fields[] = {
  REF ("fund_id", REQ | OWNER, N_("Fund"), "fund"),
  REF ("org_unit_id", REQ, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("donor_id", NONE, N_("Donor record"), "donor"),
  TEXT ("donor_name", REQ | SRCH | SUM | FOLD, N_("Donor"), 200),
  DATE ("donated_on", REQ | SUM, N_("Date"), .headers = donated_on_headers),
  ENUM ("form", REQ | SUM, N_("Form"), donation_forms, donation_form_labels,
        .headers = form_headers, .value_texts = form_texts),
  MONEY ("amount", SUM, N_("Amount (đồng)"), .headers = amount_headers),
  TEXT ("in_kind", NONE, N_("In-kind gift"), 200, .headers = in_kind_headers),
  MONEY ("in_kind_value", NONE, N_("Value of the gift (đồng)")),
  TEXT ("purpose", NONE, N_("Purpose set by the donor"), 300, .headers = purpose_headers),
  TEXT ("receipt_number", SRCH | SUM, N_("Receipt number"), 50, .headers = receipt_number_headers),
  TEXT ("received_by", NONE, N_("Received by"), 150, .headers = received_by_headers),
  /* Money the donor gave for one purpose only (a school's scholarships, adult learners, a
   * named fund): the ledger keeps it apart, and only a disbursement naming the same earmark
   * draws on it (kh-ledger.c). */
  TEXT ("earmark", NONE, N_("Earmarked for"), 200, .since = 12),
};

static gboolean
check_donation (const KhEntity *entity,
                json_object    *record,
                GError        **error)
{
  json_object *amount = NULL;
  json_object *value = NULL;
  const char *form = get_string (record, "form");

  json_object_object_get_ex (record, "amount", &amount);
  json_object_object_get_ex (record, "in_kind_value", &value);
  if (form != NULL && strcmp (form, "in_kind") == 0)
    {
      if (get_string (record, "in_kind") == NULL)
        {
          kh_data_error_set_invalid (error, "in_kind", "%s", _("In-kind gift: say what was given."));
          return FALSE;
        }
    }
  else if (amount == NULL || json_object_get_int64 (amount) <= 0)
    {
      kh_data_error_set_invalid (error, "amount", "%s",
                                 _("Amount (đồng): a donation in cash or by transfer needs an amount above zero."));
      return FALSE;
    }
  return TRUE;
}

static const char * const disbursement_categories[] = {
  "scholarships", "adult_learners", "in_kind", "operations", "other", NULL
};
static const char * const disbursement_category_labels[] = {
  N_("Scholarships and awards"), N_("Grants for adult learners"), N_("Gifts bought"),
  N_("Running costs"), N_("Other payments"), NULL
};

/* The fund pays out in its own area; the list it paid may be a smaller unit's, paid from a
 * larger fund, so the list is a reference the writer must be able to read, not an owner. */
static const KhField disbursement_fields[] = {
  REF ("fund_id", REQ | OWNER, N_("Fund"), "fund"),
  REF ("org_unit_id", REQ, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  REF ("list_id", NONE, N_("Award list paid"), "award_list"),
  MONEY ("amount", REQ | SUM, N_("Amount (đồng)"), .headers = amount_headers),
  DATE ("paid_on", REQ | SUM, N_("Date")),
  TEXT ("purpose", SRCH | SUM, N_("Purpose"), 300, .headers = purpose_headers),
  TEXT ("voucher_number", SRCH | SUM, N_("Voucher number"), 50, .headers = voucher_number_headers),
  /* The earmarked money it draws on (a donation's earmark); none: the fund's unrestricted money. */
  TEXT ("earmark", NONE, N_("Drawn from the earmark"), 200, .since = 12),
  ENUM ("category", NONE, N_("Category of payment"), disbursement_categories,
        disbursement_category_labels, .since = 12),
};

/* Consent for personal data ------------------------------------------------------------------ */

static const char * const consent_by[] = { "subject", "guardian", "both", NULL };
static const char * const consent_by_labels[] = {
  N_("The person"), N_("Parent or guardian"), N_("The child and a guardian"), NULL
};

static const KhField consent_fields[] = {
  REF ("person_id", REQ | OWNER, N_("Person"), "person"),
  REF ("org_unit_id", REQ, N_("Unit"), "org_unit", .headers = org_unit_id_headers),
  TEXT ("person_name", REQ | SRCH | SUM | FOLD | NAME, N_("Person"), 150),
  ENUM ("given_by", REQ | SUM, N_("Consent given by"), consent_by, consent_by_labels),
  TEXT ("guardian_name", SUM, N_("Parent or guardian"), 150, .headers = guardian_name_headers),
  TEXT ("purpose", REQ | SUM, N_("Purpose"), 300, .headers = purpose_headers),
  /* The guardian who consented, by reference: a name typed in proves nothing about who it is
   * (guardian_name stays as the name shown). */
  REF ("guardian_id", NONE, N_("Parent or guardian (person record)"), "person", .since = 7),
  DATE ("given_on", REQ | SUM, N_("Given on")),
  DATE ("withdrawn_on", SUM, N_("Withdrawn on")),
};

static gboolean
check_consent (const KhEntity *entity,
               json_object    *record,
               GError        **error)
{
  const char *by = get_string (record, "given_by");

  if (by != NULL && strcmp (by, "subject") != 0 && get_string (record, "guardian_id") == NULL)
    {
      kh_data_error_set_invalid (error, "guardian_id", "%s",
                           _("Parent or guardian: choose the person record of the guardian who consented."));
      return FALSE;
    }
  if (get_string (record, "guardian_id") != NULL
      && g_strcmp0 (get_string (record, "guardian_id"), get_string (record, "person_id")) == 0)
    {
      kh_data_error_set_invalid (error, "guardian_id", "%s",
                           _("Parent or guardian: a person cannot be their own guardian."));
      return FALSE;
    }
  return check_date_order (record, "given_on", "withdrawn_on", "withdrawn_on",
                           _("Withdrawn on: it is before the consent was given."), error);
}

/* Attachments: evidence files ------------------------------------------------------------------ */

/* The records a file may be attached to (kh_attach_owner_entities()). */
static const char * const attachment_owners[] = {
  "award_list", "disbursement", "donation", "evaluation", "recognition", "registration", "person",
  NULL
};
static const char * const attachment_owner_labels[] = {
  N_("Award list"), N_("Disbursement"), N_("Donation"), N_("Evaluation"), N_("Recognition"),
  N_("Registration"), N_("Person"), NULL
};
/* The types found from a file's content (data/kh-attach.c); no other is taken. */
static const char * const attachment_types[] = {
  "image/jpeg", "image/png", "application/pdf", "image/heic", NULL
};
static const char * const attachment_type_labels[] = {
  N_("JPEG image"), N_("PNG image"), N_("PDF document"), N_("HEIC image"), NULL
};

/* The record holds what names the file; the bytes travel apart, by their SHA-256, after the
 * records (sync/PROTOCOL.md, "Attachments"). The owner is a parent: the file's unit must be in
 * the area of the record it documents, and whoever may read the record may read the file. */
static const KhField attachment_fields[] = {
  ENUM ("owner_entity", REQ, N_("Attached to"), attachment_owners, attachment_owner_labels),
  REF ("owner_id", REQ | OWNER, N_("Record"), NULL, .ref_kind = "owner_entity"),
  REF ("org_unit_id", REQ, N_("Unit"), "org_unit"),
  TEXT ("name", REQ | SRCH | SUM, N_("File name"), 255),
  ENUM ("media_type", REQ | SUM, N_("Type"), attachment_types, attachment_type_labels),
  INT ("size", REQ | SUM, N_("Size (bytes)"), 1, G_GINT64_CONSTANT (4294967296)),
  TEXT ("sha256", REQ | KH_FIELD_FLAG_SHA256, N_("SHA-256"), 64),
};

/* The registry -------------------------------------------------------------------------------- */

/* Indexes beyond the id: the scope field for the change feed and the columns reports and
 * lists filter on. Each string is a column list. */
static const char * const org_unit_indexes[] = { "parent_id", "code", NULL };
static const char * const unit_succession_indexes[] = { "predecessor_id", "successor_id", NULL };
static const char * const person_indexes[] = { "org_unit_id", "household_id", NULL };
static const char * const household_indexes[] = { "org_unit_id", NULL };
static const char * const clan_indexes[] = { "org_unit_id", NULL };
static const char * const criteria_set_indexes[] = { "model", NULL };
static const char * const criterion_indexes[] = { "criteria_set_id", NULL };
/* Registrations by unit and year, evaluations by registration and award entries by unit are
 * found through the figures' covering indexes (data/kh-schema.c, version 5). */
static const char * const registration_indexes[] = { "subject_id", NULL };
static const char * const evaluation_indexes[] = { "org_unit_id", NULL };
/* A recognition by its registration through the figures' covering index (version 11). */
static const char * const recognition_indexes[] = { "org_unit_id", NULL };
static const char * const population_indexes[] = { "org_unit_id, year", NULL };
static const char * const scholarship_programme_indexes[] = { "org_unit_id", NULL };
static const char * const award_list_indexes[] = { "org_unit_id, school_year", NULL };
static const char * const award_entry_indexes[] = { "list_id", NULL };
static const char * const fund_indexes[] = { "org_unit_id", NULL };
static const char * const donor_indexes[] = { "org_unit_id", NULL };
static const char * const donation_indexes[] = { "fund_id", "org_unit_id, donated_on", NULL };
static const char * const disbursement_indexes[] = { "fund_id", "org_unit_id, paid_on", NULL };
static const char * const consent_indexes[] = { "person_id", NULL };
static const char * const attachment_indexes[] = { "owner_id", "sha256", NULL };


static const KhEntity entities[] = {
  ENTITY ("org_unit", N_("Unit"), N_("Units"), org_unit_fields, "id", "name", check_org_unit, org_unit_indexes),
  ENTITY ("unit_succession", N_("Unit change"), N_("Unit changes"), unit_succession_fields, "successor_id", "legal_basis", check_unit_succession, unit_succession_indexes),
  ENTITY ("person", N_("Person"), N_("People"), person_fields, "org_unit_id", "full_name", check_person, person_indexes),
  ENTITY ("household", N_("Household"), N_("Households"), household_fields, "org_unit_id", "head_name", NULL, household_indexes),
  ENTITY ("clan", N_("Clan"), N_("Clans"), clan_fields, "org_unit_id", "name", NULL, clan_indexes),
  ENTITY ("criteria_set", N_("Criteria set"), N_("Criteria sets"), criteria_set_fields, NULL, "name", check_criteria_set, criteria_set_indexes),
  ENTITY ("criterion", N_("Criterion"), N_("Criteria"), criterion_fields, NULL, "title", NULL, criterion_indexes),
  ENTITY ("registration", N_("Registration"), N_("Registrations"), registration_fields, "org_unit_id", "subject_name", check_registration, registration_indexes),
  ENTITY ("evaluation", N_("Evaluation"), N_("Evaluations"), evaluation_fields, "org_unit_id", "result", NULL, evaluation_indexes),
  ENTITY ("recognition", N_("Recognition"), N_("Recognitions"), recognition_fields, "org_unit_id", "decision_number", NULL, recognition_indexes),
  ENTITY ("population", N_("Eligible population"), N_("Eligible populations"), population_fields, "org_unit_id", "model", NULL, population_indexes),
  ENTITY ("scholarship_programme", N_("Scholarship programme"), N_("Scholarship programmes"), scholarship_programme_fields, "org_unit_id", "name", NULL, scholarship_programme_indexes),
  ENTITY ("award_list", N_("Award list"), N_("Award lists"), award_list_fields, "org_unit_id", "title", NULL, award_list_indexes),
  ENTITY ("award_entry", N_("Award entry"), N_("Award entries"), award_entry_fields, "org_unit_id", "recipient_name", check_award_entry, award_entry_indexes),
  ENTITY ("fund", N_("Fund"), N_("Funds"), fund_fields, "org_unit_id", "name", NULL, fund_indexes),
  ENTITY ("donor", N_("Donor"), N_("Donors"), donor_fields, "org_unit_id", "name", NULL, donor_indexes),
  ENTITY ("donation", N_("Donation"), N_("Donations"), donation_fields, "org_unit_id", "donor_name", check_donation, donation_indexes),
  ENTITY ("disbursement", N_("Disbursement"), N_("Disbursements"), disbursement_fields, "org_unit_id", "purpose", NULL, disbursement_indexes),
  ENTITY ("consent", N_("Consent record"), N_("Consent records"), consent_fields, "org_unit_id", "person_name", check_consent, consent_indexes),
  { .name = "attachment", .label = N_("Attachment"), .label_plural = N_("Attachments"),
    .fields = attachment_fields, .n_fields = G_N_ELEMENTS (attachment_fields),
    .scope_field = "org_unit_id", .title_field = "name", .check = NULL,
    .indexes = attachment_indexes, .since = 14 },
};

static const KhEntity *entity_table[G_N_ELEMENTS (entities)];

const KhEntity * const *
kh_entities (guint *n_entities)
{
  /* The table of pointers is filled once; the entities themselves are constant. */
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
        entity_table[i] = &entities[i];
      g_once_init_leave (&initialized, 1);
    }
  if (n_entities != NULL)
    *n_entities = G_N_ELEMENTS (entities);
  return entity_table;
}

const KhEntity *
kh_entity_lookup (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
    if (strcmp (entities[i].name, name) == 0)
      return &entities[i];
  return NULL;
}

int
kh_entity_field_index (const KhEntity *entity,
                       const char     *name)
{
  g_return_val_if_fail (entity != NULL, -1);
  g_return_val_if_fail (name != NULL, -1);

  for (guint i = 0; i < entity->n_fields; i++)
    if (strcmp (entity->fields[i].name, name) == 0)
      return (int) i;
  return -1;
}

const KhField *
kh_entity_get_field (const KhEntity *entity,
                     const char     *name)
{
  int i = kh_entity_field_index (entity, name);

  return i < 0 ? NULL : &entity->fields[i];
}

gboolean
kh_entity_has_search (const KhEntity *entity)
{
  for (guint i = 0; i < entity->n_fields; i++)
    if (entity->fields[i].flags & KH_FIELD_FLAG_SEARCH)
      return TRUE;
  return FALSE;
}

const char *
kh_field_enum_label (const KhField *field,
                     const char    *value)
{
  g_return_val_if_fail (field != NULL, NULL);

  if (field->enum_values == NULL || value == NULL)
    return value;
  for (guint i = 0; field->enum_values[i] != NULL; i++)
    if (strcmp (field->enum_values[i], value) == 0)
      return _(field->enum_labels[i]);
  return value;
}

/* The entity @field, a reference, points at in @record: its own target, or for a reference to
 * one of several kinds, the one its kind field names there (NULL if that is not set). */
const char *
kh_field_ref_target (const KhField *field,
                     json_object   *record)
{
  json_object *kind;

  g_return_val_if_fail (field != NULL, NULL);

  if (field->ref_entity != NULL || field->ref_kind == NULL)
    return field->ref_entity;
  if (record != NULL && json_object_object_get_ex (record, field->ref_kind, &kind) && kind != NULL)
    return json_object_get_string (kind);
  return NULL;
}

/* Headers that name an entity's title field in a spreadsheet, whichever entity it is ("Họ và
 * tên", "Người nhận"), NULL-terminated. They are matched before any field's own headers. */
const char * const *
kh_title_headers (void)
{
  return title_headers;
}

/* The five learning models' names, NULL-terminated, KH_N_MODELS of them. */
const char * const *
kh_models (void)
{
  return models;
}

/* The translated name of @model ("Learning family"), or @model itself if it is none of them. */
const char *
kh_model_label (const char *model)
{
  g_return_val_if_fail (model != NULL, NULL);

  for (guint i = 0; models[i] != NULL; i++)
    if (strcmp (models[i], model) == 0)
      return _(model_labels[i]);
  return model;
}

/* The entity a registration for @model names as its subject: a learning citizen is a person, a
 * family a household, a clan a clan, a community or a unit an org unit. NULL for no model. */
const char *
kh_model_subject_entity (const char *model)
{
  if (model == NULL)
    return NULL;
  for (guint i = 0; models[i] != NULL; i++)
    if (strcmp (models[i], model) == 0)
      return model_subjects[i];
  return NULL;
}
