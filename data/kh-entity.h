/* kh-entity.h: the entity registry
 *
 * Every synced entity is described once, here. The SQLite DDL and its checks, validation, the
 * JSON form of a record, CSV/XLSX column mapping and the editor forms are all driven from these
 * tables, so adding a field is one edit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-types.h"

G_BEGIN_DECLS

typedef enum
{
  KH_FIELD_TEXT,   /* UTF-8 text, max_len characters */
  KH_FIELD_INT,    /* integer within [min, max] */
  KH_FIELD_MONEY,  /* an integer number of đồng within [min, max] */
  KH_FIELD_DATE,   /* ISO 8601 calendar date "YYYY-MM-DD" in storage */
  KH_FIELD_YEAR,   /* a calendar year */
  KH_FIELD_BOOL,   /* true or false */
  KH_FIELD_ENUM,   /* one of enum_values */
  KH_FIELD_REF,    /* the id (UUID) of a record of ref_entity */
  KH_FIELD_JSON,   /* a JSON object, e.g. per-criterion scores */
} KhFieldType;

typedef enum
{
  KH_FIELD_FLAG_NONE      = 0,
  KH_FIELD_FLAG_REQUIRED  = 1 << 0, /* must have a value */
  KH_FIELD_FLAG_SEARCH    = 1 << 1, /* folded into the full-text index */
  KH_FIELD_FLAG_SENSITIVE = 1 << 2, /* personal data that needs care (health, ethnicity, ...) */
  KH_FIELD_FLAG_SUMMARY   = 1 << 3, /* shown as a column in lists */
  KH_FIELD_FLAG_MULTILINE = 1 << 4, /* a longer text, edited in a text view */
  KH_FIELD_FLAG_SCHOOL_YEAR = 1 << 5, /* text of the form "2024-2025" */
  KH_FIELD_FLAG_DIGITS    = 1 << 6, /* text made of digits only (national id, phone) */
  KH_FIELD_FLAG_FOLDED_INDEX = 1 << 7, /* a TEXT title lists sort by through an index on its
                                        * folded value (made by schema version 4) */
  KH_FIELD_FLAG_PARENT    = 1 << 8, /* a REF to the record this one belongs to (an entry's
                                     * list, a donation's fund): this record's unit must be in
                                     * that record's area (the server checks it on a push) */
  KH_FIELD_FLAG_PERSON_NAME = 1 << 9, /* a person's full name: lists sort it in Vietnamese
                                       * order, given name first, through an index on
                                       * kh_name_key() (made by schema version 8) */
  KH_FIELD_FLAG_SHA256    = 1 << 10, /* a SHA-256 in 64 lower-case hexadecimal digits */
} KhFieldFlags;

struct _KhField
{
  const char          *name;         /* column and JSON key */
  KhFieldType          type;
  KhFieldFlags         flags;
  const char          *label;        /* N_() marked; translate with _() when shown */
  gint64               min;          /* bounds for INT, MONEY, YEAR */
  gint64               max;
  int                  max_len;      /* characters, for TEXT; 0 means the default 500 */
  const char * const  *enum_values;  /* NULL-terminated, for ENUM */
  const char * const  *enum_labels;  /* N_() marked, parallel to enum_values */
  const char          *ref_entity;   /* for REF: the entity referred to; NULL when ref_kind says */
  const char          *ref_kind;     /* for a REF to one of several entities: the ENUM field
                                      * whose value is the entity's name (kh_field_ref_target()) */
  const char          *derived_from; /* the field whose value decides this one's, by derive(),
                                      * when a form or an import leaves this one out */
  const char        *(*derive)       (const char *value);
  const char * const  *headers;      /* NULL-terminated spreadsheet headers people write for it,
                                      * matched folded; not translated, they are matching keys */
  const char * const  *value_texts;  /* for ENUM: NULL-terminated pairs of a value and a way
                                      * people write it in a spreadsheet ("male", "Nam") */
  int                  since;        /* schema version that added the field (1 = first) */
};

typedef gboolean (*KhEntityCheckFunc) (const KhEntity *entity,
                                       json_object    *record,
                                       GError        **error);

struct _KhEntity
{
  const char        *name;        /* "award_entry": the table name and the wire name */
  const char        *label;       /* N_() singular, e.g. "Award entry" */
  const char        *label_plural;/* N_() plural, e.g. "Award entries" */
  const KhField     *fields;
  guint              n_fields;
  const char        *scope_field; /* org-unit REF deciding whose records these are; "id" for
                                   * org units themselves; NULL for shared reference data */
  const char        *title_field; /* the field that names a record in lists and history */
  KhEntityCheckFunc  check;       /* checks across fields, after the per-field ones */
  const char * const *indexes;    /* NULL-terminated column lists to index */
  int                since;       /* schema version that added the entity */
};

const KhEntity * const *kh_entities            (guint          *n_entities);
const KhEntity         *kh_entity_lookup       (const char     *name);
const KhField          *kh_entity_get_field    (const KhEntity *entity,
                                                const char     *name);
int                     kh_entity_field_index  (const KhEntity *entity,
                                                const char     *name);
gboolean                kh_entity_has_search   (const KhEntity *entity);
const char             *kh_field_enum_label    (const KhField  *field,
                                                const char     *value);
const char             *kh_field_ref_target    (const KhField  *field,
                                                json_object    *record);
const char * const     *kh_title_headers       (void);

/* The five learning models, in the order of DOMAIN.md (and of every report): citizen, family,
 * clan, community, unit. */
#define KH_N_MODELS 5

const char * const     *kh_models              (void);
const char             *kh_model_label         (const char     *model);
const char             *kh_model_subject_entity (const char    *model);

/* Common columns every entity table has, besides its fields. */
#define KH_COLUMN_ID         "id"
#define KH_COLUMN_VERSION    "version"
#define KH_COLUMN_DELETED    "deleted"

/* Default maximum length of a text field, in characters. */
#define KH_TEXT_DEFAULT_MAX 500

G_END_DECLS
