/* kh-validate.c: values and records checked against the entity registry
 *
 * Every message names the field by its label and says what to do, in words a person can act
 * on; the same words reach the GUI, the CLI and the server's answers. The error keeps the
 * field's name too (kh_data_error_get_field()), for the form and the import to point at it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kh-error.h"
#include "kh-format.h"
#include "kh-uuid.h"
#include "kh-validate.h"

static void
field_error (GError        **error,
             const KhField  *field,
             const char     *reason)
{
  kh_data_error_set_invalid (error, field->name, "%s: %s", _(field->label), reason);
}

/* Accepts "2024-03-05", "05/03/2024", "5/3/2024" and "05-03-2024"; gives the ISO form. */
gboolean
kh_date_parse (const char  *text,
               char       **iso)
{
  unsigned int d, m, y;
  char sep1, sep2;
  int n = 0;

  if (text == NULL)
    return FALSE;
  if (sscanf (text, "%4u-%2u-%2u%n", &y, &m, &d, &n) == 3 && n == 10 && text[n] == '\0')
    ;
  else if (sscanf (text, "%2u%c%2u%c%4u%n", &d, &sep1, &m, &sep2, &y, &n) == 5
           && text[n] == '\0' && sep1 == sep2 && (sep1 == '/' || sep1 == '-' || sep1 == '.')
           && y >= 1000)
    ;
  else
    return FALSE;

  if (y < 1 || y > 9999 || !g_date_valid_dmy (d, m, y))
    return FALSE;
  if (iso != NULL)
    *iso = g_strdup_printf ("%04u-%02u-%02u", y, m, d);
  return TRUE;
}

/* Money is typed as "1.250.000", "1 250 000", "1250000 ₫" or "1.250.000đ": grouping dots,
 * spaces and the currency sign are dropped; a decimal part is refused, đồng have none. */
static gboolean
parse_money (const char *text,
             gint64     *out)
{
  GString *digits = g_string_new (NULL);
  const char *p = text;
  gboolean ok = TRUE;

  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= '0' && c <= '9')
        g_string_append_c (digits, (char) c);
      else if (c == '.' || c == ' ' || c == 0x00A0 || c == 0x202F || c == ',')
        {
          /* A comma would be a decimal mark in Vietnamese, a dot one in English: only allow
           * either as grouping followed by exactly three digits, so "1.5" is refused rather
           * than read as 15 đồng. */
          if (c == ',' || c == '.')
            {
              const char *q = p + 1;
              int k = 0;
              while (q[k] >= '0' && q[k] <= '9')
                k++;
              if (k != 3)
                {
                  ok = FALSE;
                  break;
                }
            }
        }
      else if (c == 0x20AB /* ₫ */ || c == 0x0111 /* đ */ || c == 'd' || c == 'D')
        ;
      else
        {
          ok = FALSE;
          break;
        }
      p = g_utf8_next_char (p);
    }

  if (ok && digits->len > 0 && digits->len <= 18)
    *out = g_ascii_strtoll (digits->str, NULL, 10);
  else
    ok = FALSE;
  g_string_free (digits, TRUE);
  return ok;
}

static gboolean
parse_int (const char *text,
           gint64     *out)
{
  char *end = NULL;
  gint64 v;

  errno = 0;
  v = g_ascii_strtoll (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0')
    return FALSE;
  *out = v;
  return TRUE;
}

#define ONES  G_GUINT64_CONSTANT (0x0101010101010101)
#define HIGHS G_GUINT64_CONSTANT (0x8080808080808080)

/* The length of the well-formed character of two to four bytes at @p (before @end), or 0: the
 * table of well-formed byte sequences in the Unicode standard (§3.9), which leaves out
 * overlong forms, surrogates and anything over U+10FFFF. */
static inline int
utf8_sequence (const guchar *p,
               const guchar *end)
{
  guchar lo = 0x80, hi = 0xBF;  /* the range of the second byte */
  int n;

  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    n = 2;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    {
      n = 3;
      if (p[0] == 0xE0)
        lo = 0xA0;
      else if (p[0] == 0xED)
        hi = 0x9F;
    }
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    {
      n = 4;
      if (p[0] == 0xF0)
        lo = 0x90;
      else if (p[0] == 0xF4)
        hi = 0x8F;
    }
  else
    return 0;
  if (end - p < n || p[1] < lo || p[1] > hi)
    return 0;
  for (int i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  return n;
}

/* Whether the @len bytes at @text are UTF-8 with no NUL, as g_utf8_validate_len() says, only
 * faster (every string of every page of a pull comes through here): eight bytes at a time
 * while none has its high bit set or is zero, one character at a time otherwise. */
gboolean
kh_utf8_validate (const char *text,
                  gsize       len)
{
  const guchar *p = (const guchar *) text;
  const guchar *end = p + len;

  while (p < end)
    {
      int n;

      while (end - p >= 8)
        {
          guint64 w;

          memcpy (&w, p, 8);
          if (((w | ((w - ONES) & ~w)) & HIGHS) != 0)
            break;
          p += 8;
        }
      while (p < end && *p < 0x80 && *p != '\0')
        p++;
      if (p == end)
        break;
      if (*p == '\0' || (n = utf8_sequence (p, end)) == 0)
        return FALSE;
      p += n;
    }
  return TRUE;
}

gboolean
kh_field_parse (const KhField  *field,
                const char     *text,
                json_object   **value,
                GError        **error)
{
  g_autofree char *stripped = NULL;
  gint64 n;

  g_return_val_if_fail (field != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  *value = NULL;
  if (text == NULL)
    return TRUE;
  if (!kh_utf8_validate (text, strlen (text)))
    {
      field_error (error, field, _("the text is not valid UTF-8; save the file as UTF-8."));
      return FALSE;
    }
  stripped = g_strstrip (g_strdup (text));
  if (*stripped == '\0')
    return TRUE;

  switch (field->type)
    {
    case KH_FIELD_TEXT:
    case KH_FIELD_REF:
    case KH_FIELD_ENUM:
      *value = json_object_new_string (stripped);
      break;

    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
      if (!parse_int (stripped, &n))
        {
          field_error (error, field, _("enter a whole number."));
          return FALSE;
        }
      *value = json_object_new_int64 (n);
      break;

    case KH_FIELD_MONEY:
      if (!parse_money (stripped, &n))
        {
          field_error (error, field,
                       _("enter a whole number of đồng, for example 1.250.000."));
          return FALSE;
        }
      *value = json_object_new_int64 (n);
      break;

    case KH_FIELD_DATE:
      {
        char *iso = NULL;

        if (!kh_date_parse (stripped, &iso))
          {
            field_error (error, field, _("enter a real date as dd/mm/yyyy, for example 03/06/2022."));
            return FALSE;
          }
        *value = json_object_new_string (iso);
        g_free (iso);
      }
      break;

    case KH_FIELD_BOOL:
      if (g_ascii_strcasecmp (stripped, "true") == 0 || strcmp (stripped, "1") == 0
          || g_ascii_strcasecmp (stripped, "yes") == 0 || g_ascii_strcasecmp (stripped, "x") == 0
          || g_utf8_collate (stripped, "có") == 0 || g_utf8_collate (stripped, "Có") == 0)
        *value = json_object_new_boolean (TRUE);
      else if (g_ascii_strcasecmp (stripped, "false") == 0 || strcmp (stripped, "0") == 0
               || g_ascii_strcasecmp (stripped, "no") == 0
               || g_utf8_collate (stripped, "không") == 0 || g_utf8_collate (stripped, "Không") == 0)
        *value = json_object_new_boolean (FALSE);
      else
        {
          field_error (error, field, _("enter yes or no."));
          return FALSE;
        }
      break;

    case KH_FIELD_JSON:
      {
        json_tokener *tok = json_tokener_new_ex (16);
        json_object *obj = json_tokener_parse_ex (tok, stripped, (int) strlen (stripped));
        gboolean complete = json_tokener_get_error (tok) == json_tokener_success
                            && json_tokener_get_parse_end (tok) == strlen (stripped);

        json_tokener_free (tok);
        if (obj == NULL || !complete)
          {
            json_object_put (obj);
            field_error (error, field, _("this is not valid JSON."));
            return FALSE;
          }
        *value = obj;
      }
      break;

    default:
      g_assert_not_reached ();
    }

  return TRUE;
}

/* A real date written YYYY-MM-DD in ASCII digits exactly, as the column's CHECK wants it (not
 * "2025-+1-01" nor "2025- 1-01", which sscanf() would take). Read digit by digit: every date
 * of every record of a pull comes through here. */
static gboolean
is_iso_date (const char *s)
{
  guint v[3] = { 0, 0, 0 };

  for (int i = 0, part = 0; i < 10; i++)
    if (i == 4 || i == 7)
      {
        if (s[i] != '-')
          return FALSE;
        part++;
      }
    else if (g_ascii_isdigit (s[i]))
      v[part] = v[part] * 10 + (guint) (s[i] - '0');
    else
      return FALSE;
  return s[10] == '\0' && v[0] >= 1 && g_date_valid_dmy ((GDateDay) v[2], (GDateMonth) v[1], (GDateYear) v[0]);
}

static gboolean
is_school_year (const char *s)
{
  unsigned int a, b;
  int n = 0;

  return sscanf (s, "%4u-%4u%n", &a, &b, &n) == 2 && n == 9 && s[n] == '\0' && b == a + 1;
}

/* The checks only a text field makes: length, school year, digits. */
static gboolean
validate_text (const KhField  *field,
               const char     *s,
               gsize           len,
               GError        **error)
{
  int max_len = field->max_len > 0 ? field->max_len : KH_TEXT_DEFAULT_MAX;

  /* No more characters than bytes: counted only when it could matter. */
  if (len > (gsize) max_len && g_utf8_strlen (s, len) > max_len)
    {
      g_autofree char *reason =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                      "at most %d character, please shorten it.",
                                      "at most %d characters, please shorten it.",
                                      max_len), max_len);
      field_error (error, field, reason);
      return FALSE;
    }
  if ((field->flags & KH_FIELD_FLAG_SCHOOL_YEAR) && !is_school_year (s))
    {
      field_error (error, field, _("write the school year as 2024-2025."));
      return FALSE;
    }
  if ((field->flags & KH_FIELD_FLAG_SHA256) && (len != 64 || strspn (s, "0123456789abcdef") != 64))
    {
      field_error (error, field, _("write 64 lower-case hexadecimal digits."));
      return FALSE;
    }
  if (field->flags & KH_FIELD_FLAG_DIGITS)
    for (const char *p = s; *p; p++)
      if (!g_ascii_isdigit (*p) && !(p == s && *p == '+'))
        {
          field_error (error, field, _("use digits only."));
          return FALSE;
        }
  return TRUE;
}

/* An enumeration's value must be one of its codes; the message lists them with their labels. */
static gboolean
validate_enum (const KhField  *field,
               const char     *s,
               GError        **error)
{
  gboolean found = FALSE;

  for (guint i = 0; field->enum_values[i] != NULL; i++)
    if (strcmp (field->enum_values[i], s) == 0)
      found = TRUE;
  if (!found)
    {
      g_autoptr(GString) allowed = g_string_new (NULL);
      g_autofree char *reason = NULL;

      for (guint i = 0; field->enum_values[i] != NULL; i++)
        g_string_append_printf (allowed, "%s%s (%s)", i > 0 ? ", " : "",
                                field->enum_values[i], _(field->enum_labels[i]));
      reason = g_strdup_printf (_("“%s” is not one of: %s."), s, allowed->str);
      field_error (error, field, reason);
      return FALSE;
    }
  return TRUE;
}

/* Text, enumeration, reference and date fields all hold a string: valid UTF-8, not empty, no
 * control characters; then what each type asks of it. */
static gboolean
validate_string (const KhField  *field,
                 const KhValue  *value,
                 GError        **error)
{
  const char *s;
  gsize len;

  if (value->kind != KH_VALUE_TEXT)
    {
      field_error (error, field, _("expected text."));
      return FALSE;
    }
  s = value->text;
  len = value->len;
  if (!value->utf8 && !kh_utf8_validate (s, len))
    {
      field_error (error, field, _("the text is not valid UTF-8."));
      return FALSE;
    }
  if (*s == '\0')
    {
      if (field->flags & KH_FIELD_FLAG_REQUIRED)
        {
          field_error (error, field, _("this is required."));
          return FALSE;
        }
      field_error (error, field, _("leave it out rather than empty."));
      return FALSE;
    }
  for (const char *p = s; *p; p++)
    if ((guchar) *p < 0x20 && *p != '\n' && *p != '\t'
        && !(field->flags & KH_FIELD_FLAG_MULTILINE && *p == '\r'))
      {
        field_error (error, field, _("the text contains control characters."));
        return FALSE;
      }

  if (field->type == KH_FIELD_TEXT)
    return validate_text (field, s, len, error);
  else if (field->type == KH_FIELD_ENUM)
    return validate_enum (field, s, error);
  else if (field->type == KH_FIELD_REF)
    {
      if (!kh_uuid_is_valid (s))
        {
          field_error (error, field, _("this is not a record id."));
          return FALSE;
        }
    }
  else if (field->type == KH_FIELD_DATE)
    {
      if (!is_iso_date (s))
        {
          field_error (error, field, _("enter a real date as dd/mm/yyyy, for example 03/06/2022."));
          return FALSE;
        }
    }
  return TRUE;
}

/* Whole numbers, years and amounts: an integer within the field's bounds. */
static gboolean
validate_number (const KhField  *field,
                 const KhValue  *value,
                 GError        **error)
{
  gint64 v;

  if (value->kind != KH_VALUE_INT)
    {
      field_error (error, field, field->type == KH_FIELD_MONEY
                   ? _("enter a whole number of đồng, for example 1.250.000.")
                   : _("enter a whole number."));
      return FALSE;
    }
  v = value->number;
  if (v < field->min || v > field->max)
    {
      /* Amounts as people write them (1.000.000 ₫); the numbers go into the message as
       * text, since gettext cannot see through G_GINT64_FORMAT. */
      g_autofree char *lo = field->type == KH_FIELD_MONEY
                            ? kh_format_money (field->min)
                            : g_strdup_printf ("%" G_GINT64_FORMAT, field->min);
      g_autofree char *hi = field->type == KH_FIELD_MONEY
                            ? kh_format_money (field->max)
                            : g_strdup_printf ("%" G_GINT64_FORMAT, field->max);
      g_autofree char *reason = g_strdup_printf (_("must be between %s and %s."), lo, hi);
      field_error (error, field, reason);
      return FALSE;
    }
  return TRUE;
}

/* Checks one value of @field, however it was read. */
gboolean
kh_field_validate_value (const KhField  *field,
                         const KhValue  *value,
                         GError        **error)
{
  g_return_val_if_fail (field != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  if (value->kind == KH_VALUE_ABSENT || value->kind == KH_VALUE_NULL)
    {
      if (field->flags & KH_FIELD_FLAG_REQUIRED)
        {
          field_error (error, field, _("this is required."));
          return FALSE;
        }
      return TRUE;
    }

  switch (field->type)
    {
    case KH_FIELD_TEXT:
    case KH_FIELD_ENUM:
    case KH_FIELD_REF:
    case KH_FIELD_DATE:
      if (!validate_string (field, value, error))
        return FALSE;
      break;

    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
      if (!validate_number (field, value, error))
        return FALSE;
      break;

    case KH_FIELD_BOOL:
      if (value->kind != KH_VALUE_BOOL)
        {
          field_error (error, field, _("enter yes or no."));
          return FALSE;
        }
      break;

    case KH_FIELD_JSON:
      if (value->json == NULL || !json_object_is_type (value->json, json_type_object))
        {
          field_error (error, field, _("expected a JSON object."));
          return FALSE;
        }
      if (strlen (json_object_to_json_string_ext (value->json, JSON_C_TO_STRING_PLAIN))
          > (gsize) field->max_len)
        {
          field_error (error, field, _("too much data."));
          return FALSE;
        }
      break;

    default:
      g_assert_not_reached ();
    }

  return TRUE;
}

/* Checks one value of @field as json-c holds it (NULL for null). */
gboolean
kh_field_validate (const KhField  *field,
                   json_object    *value,
                   GError        **error)
{
  KhValue v = { KH_VALUE_NULL, 0, NULL, FALSE, 0, NULL };

  g_return_val_if_fail (field != NULL, FALSE);

  switch (json_object_get_type (value))
    {
    case json_type_null:
      break;
    case json_type_string:
      v.kind = KH_VALUE_TEXT;
      v.text = json_object_get_string (value);
      v.len = json_object_get_string_len (value);
      break;
    case json_type_int:
      v.kind = KH_VALUE_INT;
      v.number = json_object_get_int64 (value);
      break;
    case json_type_boolean:
      v.kind = KH_VALUE_BOOL;
      v.number = json_object_get_boolean (value);
      break;
    case json_type_double:
    case json_type_object:
    case json_type_array:
    default:
      v.kind = KH_VALUE_OTHER;
      v.json = value;
      break;
    }
  return kh_field_validate_value (field, &v, error);
}

gboolean
kh_text_is_plain (const char *text,
                  gboolean    multiline)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p < 0x20 && *p != '\n' && *p != '\t' && !(multiline && *p == '\r'))
        return FALSE;
      if (*p == 0x7f)
        return FALSE;
      /* U+0080 to U+009F are 0xC2 0x80 to 0xC2 0x9F in UTF-8. */
      if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
        return FALSE;
    }
  return TRUE;
}

gboolean
kh_field_validate_plain (const KhField  *field,
                         json_object    *value,
                         GError        **error)
{
  g_return_val_if_fail (field != NULL, FALSE);

  if (field->type != KH_FIELD_TEXT || !json_object_is_type (value, json_type_string))
    return TRUE;
  if (!kh_text_is_plain (json_object_get_string (value), (field->flags & KH_FIELD_FLAG_MULTILINE) != 0))
    {
      field_error (error, field, _("the text contains control characters."));
      return FALSE;
    }
  return TRUE;
}

/* Checks @values against @entity: every key must be a field, every value valid. When @complete
 * the object is a whole record (required fields must be there) and the checks across fields
 * run too. Keys that are not fields are refused, so a typo never silently drops data. */
gboolean
kh_entity_validate (const KhEntity  *entity,
                    json_object     *values,
                    gboolean         complete,
                    GError         **error)
{
  struct lh_entry *next;
  gboolean in_order;

  g_return_val_if_fail (entity != NULL, FALSE);

  if (values == NULL || !json_object_is_type (values, json_type_object))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("The record must be a set of field values."));
      return FALSE;
    }

  /* Every name must be a field. Values usually come in the registry's order (the server and
   * the forms write them so): each name is then the next field on, found without a search. */
  {
    guint cursor = 0;

    in_order = TRUE;
    json_object_object_foreach (values, key, val)
      {
        const KhField *field = NULL;

        for (guint j = cursor; j < entity->n_fields; j++)
          if (key[0] == entity->fields[j].name[0] && strcmp (key, entity->fields[j].name) == 0)
            {
              field = &entity->fields[j];
              cursor = j + 1;
              break;
            }
        if (field == NULL)
          {
            in_order = FALSE;
            if (!g_utf8_validate (key, -1, NULL))
              {
                g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                                     _("A field name is not valid UTF-8."));
                return FALSE;
              }
            if (kh_entity_get_field (entity, key) == NULL)
              {
                g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                             _("“%s” is not a field of %s."), key, _(entity->label));
                return FALSE;
              }
          }
        (void) val;
      }
  }

  next = lh_table_head (json_object_get_object (values));
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *field = &entity->fields[i];
      json_object *v = NULL;
      gboolean present;

      if (in_order)
        {
          present = next != NULL && strcmp (lh_entry_k (next), field->name) == 0;
          if (present)
            {
              v = lh_entry_v (next);
              next = lh_entry_next (next);
            }
        }
      else
        present = json_object_object_get_ex (values, field->name, &v);
      if (!present && !complete)
        continue;
      if (!kh_field_validate (field, v, error))
        return FALSE;
    }

  if (complete && entity->check != NULL && !entity->check (entity, values, error))
    return FALSE;

  return TRUE;
}

/* The kinds of unit each kind may sit under, NULL-terminated; "*" is any kind. The nation (the
 * national association's unit) is the top of the tree and provinces sit under it or alone,
 * districts existed only between a province and its communes before the 2025 reform, a
 * village or residential group belongs to a commune, ward or special zone, and schools,
 * agencies and enterprises may sit anywhere. */
static const struct
{
  const char         *kind;
  gboolean            root;      /* may have no parent at all */
  const char * const  parents[4];
} unit_parents[] = {
  { "nation",       TRUE,  { NULL } },
  { "province",     TRUE,  { "nation", NULL } },
  { "district",     FALSE, { "province", NULL } },
  { "commune",      TRUE,  { "province", "district", NULL } },
  { "ward",         TRUE,  { "province", "district", NULL } },
  { "special_zone", TRUE,  { "province", "district", NULL } },
  { "village",      FALSE, { "commune", "ward", "special_zone", NULL } },
  { "school",       TRUE,  { "*", NULL } },
  { "agency",       TRUE,  { "*", NULL } },
  { "enterprise",   TRUE,  { "*", NULL } },
};

/* Whether a unit of @kind may sit directly under one of @parent_kind. */
gboolean
kh_unit_kind_fits (const char *kind,
                   const char *parent_kind)
{
  for (guint k = 0; k < G_N_ELEMENTS (unit_parents); k++)
    if (strcmp (unit_parents[k].kind, kind) == 0)
      {
        for (guint p = 0; unit_parents[k].parents[p] != NULL; p++)
          if (strcmp (unit_parents[k].parents[p], "*") == 0
              || strcmp (unit_parents[k].parents[p], parent_kind) == 0)
            return TRUE;
        return FALSE;
      }
  return TRUE;
}

/* Checks that a unit of @kind fits the hierarchy: @has_parent says whether it has a parent
 * unit and @parent_kind that parent's kind (NULL when the parent is not known here, as in a
 * replica that holds only the area below it: the server, which knows it, checks it then).
 * @valid_to is the unit's last day ("YYYY-MM-DD") or NULL. A commune, ward or special zone
 * may stand alone so a commune can keep its own records without a province; a district or a
 * village cannot. The error names the field to change. */
gboolean
kh_unit_kind_validate (const char  *kind,
                       const char  *valid_to,
                       gboolean     has_parent,
                       const char  *parent_kind,
                       GError     **error)
{
  const KhField *kind_field = kh_entity_get_field (kh_entity_lookup ("org_unit"), "kind");
  guint k;

  g_return_val_if_fail (kind != NULL, FALSE);

  for (k = 0; k < G_N_ELEMENTS (unit_parents); k++)
    if (strcmp (unit_parents[k].kind, kind) == 0)
      break;
  if (k == G_N_ELEMENTS (unit_parents))
    return TRUE;  /* the enumeration check names an unknown kind */

  if (strcmp (kind, "district") == 0 && (valid_to == NULL || strcmp (valid_to, KH_REFORM_DATE) >= 0))
    {
      kh_data_error_set_invalid (error, "valid_to", "%s",
                                 _("Valid until: districts were abolished on 01/07/2025; a district "
                                   "must end on 30/06/2025 or earlier."));
      return FALSE;
    }
  if (!has_parent)
    {
      if (unit_parents[k].root)
        return TRUE;
      kh_data_error_set_invalid (error, "parent_id", _("Parent unit: a unit of the kind “%s” needs a parent unit."),
                                 kh_field_enum_label (kind_field, kind));
      return FALSE;
    }
  if (parent_kind == NULL || kh_unit_kind_fits (kind, parent_kind))
    return TRUE;
  kh_data_error_set_invalid (error, "parent_id", _("Parent unit: a unit of the kind “%s” cannot be placed under a unit of the kind “%s”."),
                             kh_field_enum_label (kind_field, kind), kh_field_enum_label (kind_field, parent_kind));
  return FALSE;
}
