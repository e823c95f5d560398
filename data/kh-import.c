/* kh-import.c: lists from CSV and Excel files into the store, all or nothing
 *
 * Schools and communes send their lists as spreadsheets with headers in Vietnamese ("Họ và
 * tên", "Ngày sinh", "Số tiền") or English. The header row is found (title rows above it are
 * passed over), each column is matched to a field of the entity registry by the field's name,
 * its label, its translation and the headers the registry lists for it, and the caller may
 * override the match.
 * Every row is parsed and validated by the same code as a form, and the whole import is one
 * transaction: if any row is bad nothing is written, and the report names each bad row, its
 * column and the reason, in words a clerk can act on. Rows that look like a record already in
 * the list (same name and date of birth, same receipt number) are flagged before anything is
 * written, and the caller chooses to skip or import them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kh-csv.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-json-private.h"
#include "kh-fold.h"
#include "kh-import.h"
#include "kh-unit-time.h"
#include "kh-store-sql.h"
#include "kh-uuid.h"
#include "kh-validate.h"
#include "kh-xlsx-reader.h"

/* Headers ------------------------------------------------------------------------------------ */

/* Columns that are never data: the running number and the signature box. */
static const char * const ignored_headers[] = {
  "STT", "TT", "Số TT", "Số thứ tự", "No", "#", "Ký nhận", "Chữ ký", "Ký tên", "Signature", NULL
};

/* Folds a header or a value for matching: no diacritics, lower case, every run of other
 * characters one space. */
static char *
match_key (const char *text)
{
  g_autofree char *folded = kh_fold (text);
  GString *out = g_string_sized_new (strlen (folded));
  gboolean space = FALSE;

  for (const char *p = folded; *p; p++)
    {
      if (g_ascii_isalnum (*p) || (guchar) *p >= 0x80 || *p == '#')
        {
          if (space && out->len > 0)
            g_string_append_c (out, ' ');
          g_string_append_c (out, *p);
          space = FALSE;
        }
      else
        space = TRUE;
    }
  return g_string_free (out, FALSE);
}

static gboolean
key_equal (const char *key,
           const char *text)
{
  g_autofree char *other = match_key (text);

  return *key != '\0' && strcmp (key, other) == 0;
}

/* The field index for a header, -1 when none, -2 for a column that is never data. */
static int
match_header (const KhEntity *entity,
              const char     *header)
{
  g_autofree char *key = match_key (header);

  if (*key == '\0')
    return -1;
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *f = &entity->fields[i];
      g_autofree char *name = g_strdelimit (g_strdup (f->name), "_", ' ');

      if (strcmp (key, name) == 0 || key_equal (key, f->label) || key_equal (key, _(f->label)))
        return (int) i;
    }
  /* Then the headers people write, from the registry: those naming the title first. */
  for (const char * const *h = kh_title_headers (); *h != NULL; h++)
    if (key_equal (key, *h))
      {
        int index = kh_entity_field_index (entity, entity->title_field);

        if (index >= 0)
          return index;
      }
  for (guint i = 0; i < entity->n_fields; i++)
    if (entity->fields[i].headers != NULL)
      for (const char * const *h = entity->fields[i].headers; *h != NULL; h++)
        if (key_equal (key, *h))
          return (int) i;
  for (guint i = 0; ignored_headers[i] != NULL; i++)
    if (key_equal (key, ignored_headers[i]))
      return -2;
  return -1;
}

int
kh_import_match_header (const char *entity_name,
                        const char *header)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);

  g_return_val_if_fail (entity != NULL, -1);
  return MAX (match_header (entity, header), -1);
}

static const char *
match_enum (const KhField *field,
            const char    *text)
{
  g_autofree char *key = match_key (text);

  for (guint i = 0; field->enum_values[i] != NULL; i++)
    if (strcmp (text, field->enum_values[i]) == 0 || key_equal (key, field->enum_values[i])
        || key_equal (key, field->enum_labels[i]) || key_equal (key, _(field->enum_labels[i])))
      return field->enum_values[i];
  /* Then the ways people write them, from the registry: pairs of a value and a text. */
  if (field->value_texts != NULL)
    for (guint i = 0; field->value_texts[i] != NULL && field->value_texts[i + 1] != NULL; i += 2)
      if (key_equal (key, field->value_texts[i + 1]))
        for (guint k = 0; field->enum_values[k] != NULL; k++)
          if (strcmp (field->enum_values[k], field->value_texts[i]) == 0)
            return field->enum_values[k];
  return NULL;
}

/* The report ---------------------------------------------------------------------------------- */

static void
problem_free (gpointer data)
{
  KhImportProblem *p = data;

  g_free (p->column);
  g_free (p->field);
  g_free (p->reason);
  g_free (p);
}

void
kh_import_report_free (KhImportReport *report)
{
  if (report == NULL)
    return;
  g_free (report->entity);
  g_ptr_array_unref (report->headers);
  g_array_unref (report->mapping);
  g_ptr_array_unref (report->errors);
  g_ptr_array_unref (report->duplicates);
  g_free (report);
}

static KhImportReport *
report_new (const char *entity)
{
  KhImportReport *report = g_new0 (KhImportReport, 1);

  report->entity = g_strdup (entity);
  report->headers = g_ptr_array_new_with_free_func (g_free);
  report->mapping = g_array_new (FALSE, FALSE, sizeof (int));
  report->errors = g_ptr_array_new_with_free_func (problem_free);
  report->duplicates = g_ptr_array_new_with_free_func (problem_free);
  return report;
}

gboolean
kh_import_report_save_csv (KhImportReport  *report,
                           const char      *path,
                           GError         **error)
{
  g_autoptr(GString) out = g_string_new ("\xEF\xBB\xBF");
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail (report != NULL, FALSE);

  kh_csv_append_cell (out, _("Row"), ',', TRUE);
  kh_csv_append_cell (out, _("Column"), ',', FALSE);
  kh_csv_append_cell (out, _("Problem"), ',', FALSE);
  kh_csv_append_cell (out, _("Reason"), ',', FALSE);
  g_string_append (out, "\r\n");
  for (guint k = 0; k < 2; k++)
    {
      GPtrArray *list = k == 0 ? report->errors : report->duplicates;

      for (guint i = 0; i < list->len; i++)
        {
          KhImportProblem *p = list->pdata[i];
          char row[16];

          g_snprintf (row, sizeof row, "%u", p->row);
          kh_csv_append_cell (out, row, ',', TRUE);
          kh_csv_append_cell (out, p->column, ',', FALSE);
          kh_csv_append_cell (out, k == 0 ? _("Error") : _("Possible duplicate"), ',', FALSE);
          kh_csv_append_cell (out, p->reason, ',', FALSE);
          g_string_append (out, "\r\n");
        }
    }
  if (!g_file_set_contents (path, out->str, (gssize) out->len, &local))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("Could not save the report: %s"), local->message);
      return FALSE;
    }
  return TRUE;
}

char *
kh_import_report_summary (KhImportReport *report)
{
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (report != NULL, NULL);

  if (report->committed)
    g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "Imported %u row.", "Imported %u rows.",
                                            report->rows_written), report->rows_written);
  else if (report->n_errors > 0)
    g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE,
                                            "Nothing was imported: %u problem must be fixed first.",
                                            "Nothing was imported: %u problems must be fixed first.",
                                            report->n_errors), report->n_errors);
  else if (report->needs_decision)
    g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE,
                                            "Nothing was imported yet: %u row looks like a duplicate; choose to skip or import it.",
                                            "Nothing was imported yet: %u rows look like duplicates; choose to skip or import them.",
                                            report->n_duplicates), report->n_duplicates);
  else
    g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "All %u row can be imported.",
                                            "All %u rows can be imported.", report->rows_valid),
                            report->rows_valid);
  if (report->rows_skipped > 0)
    {
      g_string_append_c (s, ' ');
      g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "%u duplicate was left out.",
                                              "%u duplicates were left out.", report->rows_skipped),
                              report->rows_skipped);
    }
  return g_string_free (s, FALSE);
}

/* The import ---------------------------------------------------------------------------------- */

typedef struct
{
  KhStore               *store;
  const KhEntity        *entity;
  const KhImportOptions *options;
  KhImportReport        *report;
  json_object           *defaults;     /* field → value, including those implied by the list */
  gboolean               date1904;
  gboolean               begun;        /* inside our transaction */
  gboolean               have_header;
  guint                  rows_before_header;
  guint                  max_problems;
  GHashTable            *unit_codes;   /* code → id (or "" when unknown) */
  GHashTable            *seen;         /* duplicate key → first row (0: already stored) */
  GHashTable            *loaded;       /* scopes whose stored keys are in `seen` */
  GHashTable            *enum_cache;   /* "field\x1ftext" → enum value (or "" when none) */
} Import;

static void
add_problem (Import      *im,
             gboolean     duplicate,
             guint        row,
             int          column,
             const char  *field,
             const char  *reason)
{
  KhImportReport *r = im->report;
  GPtrArray *list = duplicate ? r->duplicates : r->errors;
  KhImportProblem *p;

  if (duplicate)
    r->n_duplicates++;
  else
    r->n_errors++;
  if (list->len >= im->max_problems)
    return;
  p = g_new0 (KhImportProblem, 1);
  p->row = row;
  p->column = column >= 0 && (guint) column < r->headers->len
              ? g_strdup (r->headers->pdata[column]) : NULL;
  p->field = g_strdup (field);
  p->reason = g_strdup (reason);
  g_ptr_array_add (list, p);
}

static char *
column_name (guint index)
{
  char buf[8];
  int n = 0;
  char out[8];
  int k = 0;

  index++;
  while (index > 0 && n < 7)
    {
      buf[n++] = (char) ('A' + (index - 1) % 26);
      index = (index - 1) / 26;
    }
  while (n > 0)
    out[k++] = buf[--n];
  out[k] = '\0';
  return g_strdup (out);
}

/* Which column an override names: its header, its number from 1, or its letter. */
static int
find_column (KhImportReport *report,
             const char     *name)
{
  g_autofree char *key = match_key (name);
  char *end = NULL;
  guint64 n;

  for (guint i = 0; i < report->headers->len; i++)
    if (key_equal (key, report->headers->pdata[i]) || strcmp (name, report->headers->pdata[i]) == 0)
      return (int) i;
  n = g_ascii_strtoull (name, &end, 10);
  if (end != name && *end == '\0' && n >= 1 && n <= report->headers->len)
    return (int) n - 1;
  for (guint i = 0; i < report->headers->len; i++)
    {
      g_autofree char *letter = column_name (i);

      if (g_ascii_strcasecmp (letter, name) == 0)
        return (int) i;
    }
  return -1;
}

static gboolean
field_supplied (Import *im,
                int     field)
{
  const char *name = im->entity->fields[field].name;

  if (json_object_object_get_ex (im->defaults, name, NULL))
    return TRUE;
  /* A field that follows from another is there when that one is (see implied_values()). */
  if (im->entity->fields[field].derived_from != NULL)
    return field_supplied (im, kh_entity_field_index (im->entity, im->entity->fields[field].derived_from));
  for (guint i = 0; i < im->report->mapping->len; i++)
    if (g_array_index (im->report->mapping, int, i) == field)
      return TRUE;
  return FALSE;
}

static guint
count_matches (Import        *im,
               const KhCell  *cells,
               guint          n_cells,
               guint         *non_empty)
{
  guint matched = 0;

  *non_empty = 0;
  for (guint i = 0; i < n_cells; i++)
    if (cells[i].type != KH_CELL_EMPTY)
      {
        (*non_empty)++;
        if (match_header (im->entity, cells[i].text) >= 0)
          matched++;
      }
  return matched;
}

static gboolean
set_header (Import        *im,
            guint          row,
            const KhCell  *cells,
            guint          n_cells,
            GError       **error)
{
  KhImportReport *r = im->report;
  g_autoptr(GString) missing = g_string_new (NULL);

  r->header_row = row;
  for (guint i = 0; i < n_cells; i++)
    {
      int field = cells[i].type == KH_CELL_EMPTY ? -1 : match_header (im->entity, cells[i].text);

      g_ptr_array_add (r->headers, g_strdup (cells[i].type == KH_CELL_EMPTY ? "" : cells[i].text));
      field = MAX (field, -1);
      g_array_append_val (r->mapping, field);
    }

  for (guint i = 0; im->options->map != NULL && im->options->map[i] != NULL; i++)
    {
      const char *spec = im->options->map[i];
      const char *eq = strrchr (spec, '=');
      g_autofree char *column = NULL;
      int index, field = -1;

      if (eq == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("“%s” is not COLUMN=field."), spec);
          return FALSE;
        }
      column = g_strndup (spec, eq - spec);
      index = find_column (r, column);
      if (index < 0)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("The file has no column “%s”."), column);
          return FALSE;
        }
      if (eq[1] != '\0' && eq[1] != '-')
        {
          field = kh_entity_field_index (im->entity, eq + 1);
          if (field < 0)
            {
              g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                           _("“%s” is not a field of %s."), eq + 1, _(im->entity->label));
              return FALSE;
            }
        }
      g_array_index (r->mapping, int, index) = field;
    }

  /* Two columns for one field would make one of them silently lost. */
  for (guint i = 0; i < r->mapping->len; i++)
    for (guint k = i + 1; k < r->mapping->len; k++)
      {
        int f = g_array_index (r->mapping, int, i);

        if (f >= 0 && f == g_array_index (r->mapping, int, k))
          {
            g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                         _("The columns “%s” and “%s” both match the field “%s”; say which one "
                           "to use (for example --map \"%s=\")."),
                         (char *) r->headers->pdata[i], (char *) r->headers->pdata[k],
                         _(im->entity->fields[f].label), (char *) r->headers->pdata[k]);
            return FALSE;
          }
      }

  for (guint f = 0; f < im->entity->n_fields; f++)
    if ((im->entity->fields[f].flags & KH_FIELD_FLAG_REQUIRED) && !field_supplied (im, (int) f))
      g_string_append_printf (missing, "%s“%s”", missing->len ? ", " : "",
                              _(im->entity->fields[f].label));
  if (missing->len > 0)
    {
      g_autoptr(GString) seen = g_string_new (NULL);

      for (guint i = 0; i < r->headers->len; i++)
        if (*(char *) r->headers->pdata[i] != '\0')
          g_string_append_printf (seen, "%s“%s”", seen->len ? ", " : "", (char *) r->headers->pdata[i]);
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("The file has no column for %s (row %u has the columns %s). Rename a column "
                     "or map it, for example --map \"Họ và tên=%s\"."),
                   missing->str, row, seen->str, im->entity->title_field);
      return FALSE;
    }

  if (!kh_store_begin (im->store, error))
    return FALSE;
  im->begun = TRUE;
  im->have_header = TRUE;
  return TRUE;
}

static const char *
resolve_unit (Import     *im,
              const char *text)
{
  const char *id;

  if (kh_uuid_is_valid (text))
    return text;
  id = g_hash_table_lookup (im->unit_codes, text);
  if (id == NULL)
    {
      sqlite3_stmt *stmt = kh_store_prepare (im->store,
                                             "SELECT id FROM org_unit WHERE code = ? AND deleted = 0 "
                                             "ORDER BY valid_to IS NOT NULL, valid_to DESC LIMIT 1", NULL);
      char *found = NULL;

      if (stmt != NULL)
        {
          sqlite3_bind_text (stmt, 1, text, -1, SQLITE_TRANSIENT);
          if (sqlite3_step (stmt) == SQLITE_ROW)
            found = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          sqlite3_reset (stmt);
        }
      id = found != NULL ? found : g_strdup ("");
      g_hash_table_insert (im->unit_codes, g_strdup (text), (gpointer) id);
    }
  return *id != '\0' ? id : text;
}

/* A cell's text as the field's parser expects it; NULL with @reason set when it cannot be. */
static char *
cell_text (Import         *im,
           const KhField  *field,
           const KhCell   *cell,
           char          **reason)
{
  g_autofree char *number = NULL;
  const char *text = cell->text;

  if (cell->type == KH_CELL_ERROR)
    {
      *reason = g_strdup (_("the cell holds an error or a formula without a value; type the value itself."));
      return NULL;
    }
  if (cell->type == KH_CELL_NUMBER)
    {
      char *end = NULL;
      double v = g_ascii_strtod (cell->text, &end);

      if (end != cell->text && *end == '\0' && isfinite (v))
        {
          if (field->type == KH_FIELD_DATE)
            {
              char *iso = NULL;

              if (!kh_xlsx_serial_to_date (v, im->date1904, &iso))
                {
                  *reason = g_strdup (_("this number is not a date; format the cell as a date (dd/mm/yyyy)."));
                  return NULL;
                }
              return iso;
            }
          if (fabs (v) < 1e15 && v == floor (v))
            text = number = g_strdup_printf ("%.0f", v);
          else if (field->type == KH_FIELD_MONEY || field->type == KH_FIELD_INT
                   || field->type == KH_FIELD_YEAR)
            {
              *reason = g_strdup (field->type == KH_FIELD_MONEY
                                  ? _("enter a whole number of đồng, for example 1.250.000.")
                                  : _("enter a whole number."));
              return NULL;
            }
        }
    }
  /* The apostrophe the export puts before a text Excel would run as a formula goes again. */
  if (cell->type == KH_CELL_TEXT && text[0] == '\'' && text[1] != '\0' && strchr ("=+-@", text[1]) != NULL)
    text++;
  if (cell->type == KH_CELL_BOOL && field->type != KH_FIELD_BOOL)
    return g_strdup (strcmp (cell->text, "1") == 0 ? "TRUE" : "FALSE");
  if (field->type == KH_FIELD_ENUM)
    {
      /* A column holds a handful of distinct texts; each is matched (and folded) once. */
      g_autofree char *key = g_strconcat (field->name, "\x1f", text, NULL);
      const char *value = g_hash_table_lookup (im->enum_cache, key);

      if (value == NULL)
        {
          value = match_enum (field, text);
          value = value != NULL ? value : "";
          g_hash_table_insert (im->enum_cache, g_steal_pointer (&key), (gpointer) value);
        }
      return g_strdup (*value != '\0' ? value : text);
    }
  if (field->type == KH_FIELD_REF && field->ref_entity != NULL
      && strcmp (field->ref_entity, "org_unit") == 0)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (text));

      return g_strdup (resolve_unit (im, stripped));
    }
  return g_strdup (text);
}

static const char *
get_str (json_object *values,
         const char  *name)
{
  json_object *v;

  if (!json_object_object_get_ex (values, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

/* Loads the keys of records already stored in one scope into `seen`, once. */
static void
load_scope (Import     *im,
            const char *scope,
            const char *sql,
            const char *param,
            const char *prefix)
{
  sqlite3_stmt *stmt;

  if (g_hash_table_contains (im->loaded, scope))
    return;
  g_hash_table_add (im->loaded, g_strdup (scope));
  stmt = kh_store_prepare (im->store, sql, NULL);
  if (stmt == NULL)
    return;
  if (param != NULL)
    sqlite3_bind_text (stmt, 1, param, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autofree char *name = kh_fold ((const char *) sqlite3_column_text (stmt, 0));
      const char *second = (const char *) sqlite3_column_text (stmt, 1);
      char *key = g_strdup_printf ("%s|%s|%s|%s", prefix, param ? param : "", name, second ? second : "");

      if (!g_hash_table_contains (im->seen, key))
        g_hash_table_insert (im->seen, key, GUINT_TO_POINTER (0));
      else
        g_free (key);
    }
  sqlite3_reset (stmt);
}

/* Looks up (and remembers) one duplicate key; returns TRUE with *first set when seen before. */
static gboolean
check_key (Import     *im,
           char       *key,   /* taken */
           guint       row,
           guint      *first)
{
  gpointer value;

  if (g_hash_table_lookup_extended (im->seen, key, NULL, &value))
    {
      *first = GPOINTER_TO_UINT (value);
      g_free (key);
      return TRUE;
    }
  g_hash_table_insert (im->seen, key, GUINT_TO_POINTER (row));
  return FALSE;
}

static void
add_duplicate (Import *im,
               guint   row,
               char   *reason)  /* taken */
{
  add_problem (im, TRUE, row, -1, NULL, reason);
  g_free (reason);
}

/* Whether a row looks like one already there: the same person (name and date of birth) in
 * the same list or unit, or the same receipt or voucher number. */
static gboolean
is_duplicate (Import      *im,
              guint        row,
              json_object *values)
{
  const char *entity = im->entity->name;
  gboolean dup = FALSE;
  guint first = 0;

  if (strcmp (entity, "award_entry") == 0 || strcmp (entity, "person") == 0)
    {
      gboolean entry = strcmp (entity, "award_entry") == 0;
      const char *scope = get_str (values, entry ? "list_id" : "org_unit_id");
      const char *name = get_str (values, entry ? "recipient_name" : "full_name");
      const char *birth = get_str (values, "birth_date");
      const char *voucher = entry ? get_str (values, "voucher_number") : NULL;
      g_autofree char *folded = kh_fold (name);
      g_autofree char *scope_key = g_strconcat (entity, ":", scope, NULL);

      load_scope (im, scope_key,
                  entry ? "SELECT recipient_name, birth_date FROM award_entry WHERE list_id = ? AND deleted = 0"
                        : "SELECT full_name, birth_date FROM person WHERE org_unit_id = ? AND deleted = 0",
                  scope, entity);
      if (check_key (im, g_strdup_printf ("%s|%s|%s|%s", entity, scope, folded, birth ? birth : ""),
                     row, &first))
        {
          dup = TRUE;
          if (first > 0)
            add_duplicate (im, row, entry
                           ? g_strdup_printf (_("Same name and date of birth as row %u."), first)
                           : g_strdup_printf (_("Same name and date of birth as row %u, in the same unit."), first));
          else
            add_duplicate (im, row, g_strdup (entry
                           ? _("Same name and date of birth as an entry already in this list.")
                           : _("Same name and date of birth as a person already recorded in this unit.")));
        }
      if (voucher != NULL)
        {
          load_scope (im, "voucher",
                      "SELECT voucher_number, '' FROM award_entry WHERE voucher_number IS NOT NULL AND deleted = 0",
                      NULL, "voucher");
          if (check_key (im, g_strdup_printf ("voucher||%s|", voucher), row, &first))
            {
              dup = TRUE;
              add_duplicate (im, row, first > 0
                             ? g_strdup_printf (_("Same voucher number as row %u."), first)
                             : g_strdup (_("Same voucher number as an entry already recorded.")));
            }
        }
    }
  else if (strcmp (entity, "donation") == 0)
    {
      const char *receipt = get_str (values, "receipt_number");

      if (receipt != NULL)
        {
          g_autofree char *folded = kh_fold (receipt);

          load_scope (im, "receipt",
                      "SELECT receipt_number, '' FROM donation WHERE receipt_number IS NOT NULL AND deleted = 0",
                      NULL, "receipt");
          if (check_key (im, g_strdup_printf ("receipt||%s|", folded), row, &first))
            {
              dup = TRUE;
              add_duplicate (im, row, first > 0
                             ? g_strdup_printf (_("Same receipt number as row %u."), first)
                             : g_strdup (_("Same receipt number as a donation already recorded.")));
            }
        }
    }
  else if (strcmp (entity, "registration") == 0)
    {
      const char *subject = get_str (values, "subject_id");
      const char *model = get_str (values, "model");
      json_object *year = json_object_object_get (values, "year");
      g_autofree char *year_text = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int64 (year));
      g_autofree char *scope_key = g_strconcat ("registration:", subject, NULL);

      load_scope (im, scope_key,
                  "SELECT model, year FROM registration WHERE subject_id = ? AND deleted = 0",
                  subject, "registration");
      if (check_key (im, g_strdup_printf ("registration|%s|%s|%s", subject, model, year_text), row, &first))
        {
          dup = TRUE;
          add_duplicate (im, row, first > 0
                         ? g_strdup_printf (_("The same subject is registered for the same model and year in row %u."), first)
                         : g_strdup (_("The same subject is already registered for this model and year.")));
        }
    }
  return dup;
}

/* The column of the field @error is about, or -1. */
static int
column_of_error (Import       *im,
                 const GError *error)
{
  KhImportReport *r = im->report;
  const char *name = kh_data_error_get_field (error);
  int field = name != NULL ? kh_entity_field_index (im->entity, name) : -1;

  for (guint i = 0; field >= 0 && i < r->mapping->len; i++)
    if (g_array_index (r->mapping, int, i) == field)
      return (int) i;
  return -1;
}

/* Fills in what follows from other values (a registration's subject kind from its model), as
 * the registry declares it. */
static void
implied_values (Import      *im,
                json_object *values)
{
  for (guint i = 0; i < im->entity->n_fields; i++)
    {
      const KhField *field = &im->entity->fields[i];
      const char *value;

      if (field->derived_from == NULL || json_object_object_get_ex (values, field->name, NULL))
        continue;
      value = field->derive (get_str (values, field->derived_from));
      if (value != NULL)
        json_object_object_add (values, field->name, json_object_new_string (value));
    }
}

/* A totals row under the list ("Tổng cộng", "Total: 18 rows", as the export writes): it has
 * no name in the name column and says it is a total. */
static gboolean
is_totals_row (Import        *im,
               const KhCell  *cells,
               guint          n_cells)
{
  KhImportReport *r = im->report;
  int title = kh_entity_field_index (im->entity, im->entity->title_field);
  gboolean total = FALSE;

  for (guint i = 0; i < n_cells && i < r->mapping->len; i++)
    {
      g_autofree char *key = NULL;

      if (cells[i].type != KH_CELL_TEXT)
        continue;
      if (g_array_index (r->mapping, int, i) == title)
        return FALSE;
      key = match_key (cells[i].text);
      if (g_str_has_prefix (key, "total") || g_str_has_prefix (key, "tong cong")
          || g_str_has_prefix (key, "tong so") || strcmp (key, "tong") == 0 || strcmp (key, "cong") == 0)
        total = TRUE;
    }
  return total;
}

static gboolean
data_row (Import        *im,
          guint          row,
          const KhCell  *cells,
          guint          n_cells,
          GError       **error)
{
  KhImportReport *r = im->report;
  json_object *values;
  gboolean row_ok = TRUE;
  g_autoptr(GError) local = NULL;

  if (is_totals_row (im, cells, n_cells))
    return TRUE;
  values = json_object_new_object ();
  r->rows_read++;
  json_object_object_foreach (im->defaults, dkey, dval)
    json_object_object_add (values, dkey, json_object_get (dval));

  for (guint i = 0; i < n_cells && i < r->mapping->len; i++)
    {
      int f = g_array_index (r->mapping, int, i);
      const KhField *field;
      g_autofree char *text = NULL;
      g_autofree char *reason = NULL;
      json_object *value = NULL;

      if (f < 0 || cells[i].type == KH_CELL_EMPTY)
        continue;
      field = &im->entity->fields[f];
      text = cell_text (im, field, &cells[i], &reason);
      if (text == NULL)
        {
          g_autofree char *message = g_strdup_printf ("%s: %s", _(field->label), reason);

          add_problem (im, FALSE, row, (int) i, field->name, message);
          row_ok = FALSE;
          continue;
        }
      if (!kh_field_parse (field, text, &value, &local)
          || (value != NULL && !kh_field_validate (field, value, &local)))
        {
          json_object_put (value);
          add_problem (im, FALSE, row, (int) i, field->name, local->message);
          g_clear_error (&local);
          row_ok = FALSE;
          continue;
        }
      if (value != NULL)
        json_object_object_add (values, field->name, value);
    }
  implied_values (im, values);
  /* A list of a past year names units as they are now: the unit of that time, when it is one. */
  if (row_ok)
    kh_unit_time_unit_then (im->store, im->entity, values);

  if (row_ok && !kh_entity_validate (im->entity, values, TRUE, &local))
    {
      int column = column_of_error (im, local);

      add_problem (im, FALSE, row, column,
                   column >= 0 ? im->entity->fields[g_array_index (r->mapping, int, column)].name : NULL,
                   local->message);
      g_clear_error (&local);
      row_ok = FALSE;
    }

  if (row_ok)
    {
      gboolean dup = is_duplicate (im, row, values);

      if (dup && im->options->duplicates == KH_IMPORT_DUPLICATES_SKIP)
        r->rows_skipped++;
      else
        {
          r->rows_valid++;
          /* Rows are written as they come, inside the one transaction, so references and the
           * database's own checks are tried too; once the import is sure to be rolled back,
           * the remaining rows are only checked. */
          if (r->n_errors == 0
              && !(r->n_duplicates > 0 && im->options->duplicates == KH_IMPORT_DUPLICATES_ASK))
            {
              g_autofree char *id = kh_store_create (im->store, im->entity->name, values, &local);

              if (id == NULL)
                {
                  int column = column_of_error (im, local);

                  r->rows_valid--;
                  add_problem (im, FALSE, row, column, NULL, local->message);
                  g_clear_error (&local);
                }
              else
                r->rows_written++;
            }
        }
    }
  json_object_put (values);

  if (im->options->progress != NULL && r->rows_read % 1000 == 0)
    im->options->progress (r->rows_read, im->options->progress_data);
  if (r->rows_read % 1000 == 0 && g_cancellable_set_error_if_cancelled (im->options->cancellable, error))
    return FALSE;
  return TRUE;
}

static gboolean
row_cb (guint          row,
        const KhCell  *cells,
        guint          n_cells,
        gpointer       user_data,
        GError       **error)
{
  Import *im = user_data;

  if (!im->have_header)
    {
      guint non_empty = 0;
      guint matched = count_matches (im, cells, n_cells, &non_empty);
      gboolean overridden = im->options->map != NULL && im->options->map[0] != NULL;

      /* Title rows above the header ("DANH SÁCH HỌC SINH NHẬN HỌC BỔNG") are passed over. */
      if ((matched >= 1 && matched * 2 >= non_empty) || (overridden && matched >= 1)
          || (overridden && non_empty >= 2 && im->rows_before_header == 0))
        return set_header (im, row, cells, n_cells, error);
      if (++im->rows_before_header >= 10)
        {
          g_autoptr(GString) seen = g_string_new (NULL);

          for (guint i = 0; i < n_cells; i++)
            if (cells[i].type != KH_CELL_EMPTY)
              g_string_append_printf (seen, "%s“%s”", seen->len ? ", " : "", cells[i].text);
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("Could not find the header row: none of the first ten rows names the "
                         "fields of %s (the last one has %s). Put the column names in the first "
                         "row, or map the columns."),
                       _(im->entity->label_plural), seen->len ? seen->str : "—");
          return FALSE;
        }
      return TRUE;
    }
  return data_row (im, row, cells, n_cells, error);
}

static gboolean
prepare (Import                 *im,
         KhStore                *store,
         const KhImportOptions  *options,
         GError                **error)
{
  memset (im, 0, sizeof *im);
  im->store = store;
  im->options = options;
  im->entity = options->entity != NULL ? kh_entity_lookup (options->entity) : NULL;
  if (im->entity == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("There is no kind of record called “%s”."), options->entity ? options->entity : "");
      return FALSE;
    }
  im->max_problems = options->max_problems > 0 ? options->max_problems : 1000;
  im->unit_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  im->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im->loaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im->enum_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im->defaults = json_object_new_object ();
  im->report = report_new (im->entity->name);

  if (options->defaults != NULL)
    {
      json_object_object_foreach (options->defaults, key, val)
      {
        if (kh_entity_get_field (im->entity, key) == NULL)
          {
            g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                         _("“%s” is not a field of %s."), key, _(im->entity->label));
            return FALSE;
          }
        json_object_object_add (im->defaults, key, json_object_get (val));
      }
    }

  if (strcmp (im->entity->name, "award_entry") == 0
      && !json_object_object_get_ex (im->defaults, "status", NULL))
    json_object_object_add (im->defaults, "status", json_object_new_string ("proposed"));
  if (strcmp (im->entity->name, "registration") == 0
      && !json_object_object_get_ex (im->defaults, "status", NULL))
    json_object_object_add (im->defaults, "status", json_object_new_string ("registered"));

  if (options->org_unit_id != NULL && kh_entity_get_field (im->entity, "org_unit_id") != NULL)
    {
      const char *id = resolve_unit (im, options->org_unit_id);
      json_object *KH_AUTO_JSON unit = kh_uuid_is_valid (id) ? kh_store_get (store, "org_unit", id, NULL) : NULL;

      if (unit == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                       _("There is no unit with the code or id “%s”."), options->org_unit_id);
          return FALSE;
        }
      json_object_object_add (im->defaults, "org_unit_id", json_object_new_string (id));
    }

  if (options->list_id != NULL)
    {
      json_object *KH_AUTO_JSON list = NULL;
      json_object *v;

      if (kh_entity_get_field (im->entity, "list_id") == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("Only award entries belong to a list."));
          return FALSE;
        }
      list = kh_store_get (store, "award_list", options->list_id, error);
      if (list == NULL)
        return FALSE;
      if (json_object_object_get_ex (list, "deleted", &v) && json_object_get_boolean (v))
        {
          g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED,
                               _("This award list was deleted; restore it before importing into it."));
          return FALSE;
        }
      json_object_object_add (im->defaults, "list_id", json_object_new_string (options->list_id));
      if (!json_object_object_get_ex (im->defaults, "org_unit_id", NULL)
          && json_object_object_get_ex (list, "org_unit_id", &v))
        json_object_object_add (im->defaults, "org_unit_id", json_object_get (v));
    }
  return TRUE;
}

static void
finish (Import *im)
{
  g_hash_table_unref (im->unit_codes);
  g_hash_table_unref (im->seen);
  g_hash_table_unref (im->loaded);
  g_hash_table_unref (im->enum_cache);
  json_object_put (im->defaults);
}

static KhImportFormat
guess_format (const char     *path,
              const char     *data,
              gsize           length,
              KhImportFormat  format)
{
  if (format != KH_IMPORT_FORMAT_AUTO)
    return format;
  if (path != NULL)
    {
      g_autofree char *lower = g_ascii_strdown (path, -1);

      if (g_str_has_suffix (lower, ".xlsx") || g_str_has_suffix (lower, ".xlsm"))
        return KH_IMPORT_FORMAT_XLSX;
      if (g_str_has_suffix (lower, ".csv") || g_str_has_suffix (lower, ".txt")
          || g_str_has_suffix (lower, ".tsv"))
        return KH_IMPORT_FORMAT_CSV;
    }
  if (data != NULL && length >= 4 && memcmp (data, "PK\003\004", 4) == 0)
    return KH_IMPORT_FORMAT_XLSX;
  return KH_IMPORT_FORMAT_CSV;
}

static KhImportReport *
run (KhStore                *store,
     const char             *path,
     const char             *data,
     gsize                   length,
     const KhImportOptions  *options,
     GError                **error)
{
  Import im;
  KhSheetLimits limits;
  KhImportFormat format;
  gboolean ok;
  KhImportReport *report = NULL;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (options != NULL, NULL);

  kh_sheet_limits_init (&limits);
  if (options->limits.max_bytes > 0)
    limits.max_bytes = options->limits.max_bytes;
  if (options->limits.max_rows > 0)
    limits.max_rows = options->limits.max_rows;
  if (options->limits.max_columns > 0)
    limits.max_columns = options->limits.max_columns;
  if (options->limits.max_cell > 0)
    limits.max_cell = options->limits.max_cell;

  if (!prepare (&im, store, options, error))
    {
      kh_import_report_free (im.report);
      if (im.entity != NULL)
        finish (&im);
      return NULL;
    }

  if (path != NULL)
    {
      char head[4] = { 0 };
      FILE *f = fopen (path, "rb");

      if (f != NULL)
        {
          length = fread (head, 1, sizeof head, f);
          fclose (f);
        }
      format = guess_format (path, head, length, options->format);
      ok = format == KH_IMPORT_FORMAT_XLSX
           ? kh_xlsx_read_file (path, &limits, row_cb, &im, &im.date1904, error)
           : kh_csv_read_file (path, &limits, row_cb, &im, error);
    }
  else
    {
      format = guess_format (NULL, data, length, options->format);
      ok = format == KH_IMPORT_FORMAT_XLSX
           ? kh_xlsx_read_data (data, length, &limits, row_cb, &im, &im.date1904, error)
           : kh_csv_read_data (data, length, &limits, row_cb, &im, error);
    }

  if (ok && !im.have_header)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("The file has no rows to import."));
      ok = FALSE;
    }

  if (!ok)
    {
      if (im.begun)
        kh_store_rollback (store);
      kh_import_report_free (im.report);
      finish (&im);
      return NULL;
    }

  report = im.report;
  report->needs_decision = report->n_duplicates > 0
                           && options->duplicates == KH_IMPORT_DUPLICATES_ASK;
  if (report->n_errors > 0 || report->needs_decision || options->dry_run)
    {
      kh_store_rollback (store);
      report->rows_written = 0;
    }
  else if (!kh_store_commit (store, error))
    {
      kh_import_report_free (report);
      finish (&im);
      return NULL;
    }
  else
    report->committed = TRUE;
  finish (&im);
  return report;
}

KhImportReport *
kh_import_file (KhStore                *store,
                const char             *path,
                const KhImportOptions  *options,
                GError                **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  return run (store, path, NULL, 0, options, error);
}

KhImportReport *
kh_import_data (KhStore                *store,
                const char             *data,
                gsize                   length,
                const KhImportOptions  *options,
                GError                **error)
{
  g_return_val_if_fail (data != NULL || length == 0, NULL);
  return run (store, NULL, data ? data : "", length, options, error);
}
