/* kh-validate.h: values and records checked against the entity registry
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"

G_BEGIN_DECLS

/* A field's value as a reader found it, without json-c (kh_field_validate_value()). */
typedef enum
{
  KH_VALUE_ABSENT,  /* not there (zero, so a zeroed array is a record without fields) */
  KH_VALUE_NULL,
  KH_VALUE_TEXT,
  KH_VALUE_INT,
  KH_VALUE_BOOL,
  KH_VALUE_OTHER,   /* anything else: a fraction, an object, a list */
} KhValueKind;

typedef struct
{
  KhValueKind  kind;
  int          len;     /* TEXT: its length in bytes */
  const char  *text;    /* TEXT: NUL-terminated after len bytes */
  gboolean     utf8;    /* TEXT: known to be UTF-8 with no NUL (taken from text checked so) */
  gint64       number;  /* INT; BOOL: 0 or 1 */
  json_object *json;    /* OTHER: the value, when it is a json-c one (else NULL) */
} KhValue;

gboolean kh_field_parse       (const KhField   *field,
                               const char      *text,
                               json_object    **value,
                               GError         **error);
gboolean kh_field_validate    (const KhField   *field,
                               json_object     *value,
                               GError         **error);
gboolean kh_field_validate_value (const KhField *field,
                                  const KhValue *value,
                                  GError       **error);
/* No control character in @text (valid UTF-8) but line breaks and tabs (and carriage returns
 * when @multiline): no other C0 character, no DEL, no C1 character (CSI among them). Line
 * breaks stay: a unit's name written over two lines in a spreadsheet cell is kept as it was
 * written, and the CLI shows them as "\n" inside a line. */
gboolean kh_text_is_plain     (const char      *text,
                               gboolean         multiline);
/* What a new value of a text field must be beyond kh_field_validate(), checked where it is
 * written, not where it is read (older records may hold what it refuses): kh_text_is_plain().
 * A name then holds no escape sequence for a terminal to act on. */
gboolean kh_field_validate_plain (const KhField *field,
                                  json_object   *value,
                                  GError       **error);
gboolean kh_entity_validate   (const KhEntity  *entity,
                               json_object     *values,
                               gboolean         complete,
                               GError         **error);
gboolean kh_date_parse        (const char      *text,
                               char           **iso);
gboolean kh_utf8_validate     (const char      *text,
                               gsize            len);

/* The day the 2025 reform took effect: districts end before it (DOMAIN.md). */
#define KH_REFORM_DATE "2025-07-01"

gboolean kh_unit_kind_fits     (const char     *kind,
                                const char     *parent_kind);
gboolean kh_unit_kind_validate (const char     *kind,
                                const char     *valid_to,
                                gboolean        has_parent,
                                const char     *parent_kind,
                                GError        **error);

G_END_DECLS
