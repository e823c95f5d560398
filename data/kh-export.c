/* kh-export.c: records out to Excel (.xlsx) and CSV files
 *
 * The Excel file is what an association sends upwards: a title row, a header, one row per
 * record with real numbers (đồng with thousands separators) and real dates (dd/mm/yyyy), sized
 * columns, and a totals row whose sums Excel can recompute. It is written by libxlsxwriter in
 * its constant-memory mode, so a list of a hundred thousand rows streams to disk.
 *
 * The CSV file opens in Excel as it should: UTF-8 with a byte order mark (without it Excel
 * reads Vietnamese as mojibake), a header of field labels, dates as dd/mm/yyyy, amounts as
 * plain digits, and no cell that Excel would run as a formula. It is also what the importer
 * reads back: headers and choice labels map to the same fields.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

#include "kh-csv.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-json-private.h"
#include "kh-export.h"
#include "kh-privacy.h"
#include "kh-store-sql.h"
#include "kh-xlsx-writer.h"

typedef struct
{
  KhStore               *store;
  const KhEntity        *entity;
  const KhExportOptions *options;
  GArray                *columns;     /* field indexes */
  GHashTable            *unit_codes;  /* id → code */
  char                  *title;
} Export;

/* The cell formats of an exported sheet. */
typedef struct
{
  lxw_format *title;
  lxw_format *header;
  lxw_format *text;
  lxw_format *money;
  lxw_format *date;
  lxw_format *total;
  lxw_format *total_money;
} XlsxFormats;

/* The fields worth a column: everything a person reads; references to other records only
 * when they are units (written as the unit's code) or required (written as the id). */
static void
choose_columns (Export *ex)
{
  ex->columns = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < ex->entity->n_fields; i++)
    {
      const KhField *f = &ex->entity->fields[i];

      if (f->type == KH_FIELD_JSON)
        continue;
      if ((f->flags & KH_FIELD_FLAG_SENSITIVE) && !ex->options->include_sensitive)
        continue;
      if (f->type == KH_FIELD_REF)
        {
          gboolean unit = f->ref_entity != NULL && strcmp (f->ref_entity, "org_unit") == 0;

          if (ex->options->list_id != NULL && strcmp (f->name, "list_id") == 0)
            continue;
          if (!unit && !(f->flags & KH_FIELD_FLAG_REQUIRED))
            continue;
        }
      g_array_append_val (ex->columns, i);
    }
}

/* An export that carried sensitive fields leaves a row in the audit: which fields, which file. */
static gboolean
audit_sensitive (Export      *ex,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(GString) names = g_string_new (NULL);

  for (guint c = 0; c < ex->columns->len; c++)
    {
      const KhField *f = &ex->entity->fields[g_array_index (ex->columns, int, c)];

      if (kh_field_is_sensitive (f))
        g_string_append_printf (names, "%s%s", names->len ? "," : "", f->name);
    }
  if (names->len == 0)
    return TRUE;
  return kh_privacy_audit_export (ex->store, ex->entity->name, ex->options->list_id, names->str, path, error);
}

static const char *
unit_code (Export     *ex,
           const char *id)
{
  const char *code = g_hash_table_lookup (ex->unit_codes, id);

  if (code == NULL)
    {
      sqlite3_stmt *stmt = kh_store_prepare (ex->store, "SELECT code FROM org_unit WHERE id = ?", NULL);
      char *found = NULL;

      if (stmt != NULL)
        {
          sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
          if (sqlite3_step (stmt) == SQLITE_ROW)
            found = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          sqlite3_reset (stmt);
        }
      code = found != NULL ? found : g_strdup (id);
      g_hash_table_insert (ex->unit_codes, g_strdup (id), (gpointer) code);
    }
  return code;
}

/* The text of one value in a CSV cell. */
static char *
csv_text (Export        *ex,
          const KhField *field,
          json_object   *value)
{
  if (value == NULL)
    return NULL;
  switch (field->type)
    {
    case KH_FIELD_DATE:
      return kh_format_date_style (json_object_get_string (value), ex->options->style);
    case KH_FIELD_ENUM:
      return g_strdup (kh_field_enum_label (field, json_object_get_string (value)));
    case KH_FIELD_BOOL:
      return g_strdup (json_object_get_boolean (value) ? _("yes") : _("no"));
    case KH_FIELD_REF:
      if (field->ref_entity != NULL && strcmp (field->ref_entity, "org_unit") == 0)
        return g_strdup (unit_code (ex, json_object_get_string (value)));
      return g_strdup (json_object_get_string (value));
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int64 (value));
    case KH_FIELD_TEXT:
    case KH_FIELD_JSON:
    default:
      return g_strdup (json_object_get_string (value));
    }
}

static sqlite3_stmt *
select_rows (Export  *ex,
             GError **error)
{
  g_autofree char *columns = kh_store_select_columns (ex->entity);
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt;

  if (ex->options->list_id != NULL)
    sql = g_strdup_printf ("SELECT %s FROM %s WHERE deleted = 0 AND list_id = ? ORDER BY rid",
                           columns, ex->entity->name);
  else
    sql = g_strdup_printf ("SELECT %s FROM %s WHERE deleted = 0 ORDER BY rid", columns, ex->entity->name);
  stmt = kh_store_prepare (ex->store, sql, error);
  if (stmt != NULL && ex->options->list_id != NULL)
    sqlite3_bind_text (stmt, 1, ex->options->list_id, -1, SQLITE_TRANSIENT);
  return stmt;
}

static gboolean
write_csv (Export      *ex,
           const char  *path,
           gint64      *n_rows,
           GError     **error)
{
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  g_autoptr(GString) line = g_string_new ("\xEF\xBB\xBF");
  sqlite3_stmt *stmt;
  FILE *f;
  gint64 n = 0;
  int rc;
  gboolean ok = TRUE;

  f = g_fopen (tmp, "wb");
  if (f == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"),
                   path, g_strerror (errno));
      return FALSE;
    }
  for (guint c = 0; c < ex->columns->len; c++)
    kh_csv_append_cell (line, _(ex->entity->fields[g_array_index (ex->columns, int, c)].label), ',', c == 0);
  g_string_append (line, "\r\n");

  stmt = select_rows (ex, error);
  if (stmt == NULL)
    ok = FALSE;
  while (ok && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *record = kh_store_row_to_json (ex->entity, stmt, 0);

      for (guint c = 0; c < ex->columns->len; c++)
        {
          const KhField *field = &ex->entity->fields[g_array_index (ex->columns, int, c)];
          g_autofree char *text = csv_text (ex, field, json_object_object_get (record, field->name));

          kh_csv_append_cell (line, text, ',', c == 0);
        }
      g_string_append (line, "\r\n");
      json_object_put (record);
      n++;
      if (line->len > 1 << 16)
        {
          ok = fwrite (line->str, 1, line->len, f) == line->len;
          g_string_truncate (line, 0);
        }
    }
  if (ok && stmt != NULL && rc != SQLITE_DONE)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE, _("The local database failed: %s"),
                   sqlite3_errmsg (kh_store_get_db (ex->store)));
      ok = FALSE;
    }
  if (stmt != NULL)
    sqlite3_reset (stmt);
  if (ok && (fwrite (line->str, 1, line->len, f) != line->len || fflush (f) != 0))
    ok = FALSE;
  if (fclose (f) != 0)
    ok = FALSE;
  if (ok && g_rename (tmp, path) != 0)
    ok = FALSE;
  if (!ok)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"),
                     path, g_strerror (errno));
      g_unlink (tmp);
      return FALSE;
    }
  if (n_rows != NULL)
    *n_rows = n;
  return TRUE;
}

static double
column_width (const KhField *field)
{
  switch (field->type)
    {
    case KH_FIELD_DATE: return 12;
    case KH_FIELD_MONEY: return 15;
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_BOOL: return 9;
    case KH_FIELD_ENUM: return 22;
    case KH_FIELD_REF: return field->ref_entity && strcmp (field->ref_entity, "org_unit") == 0 ? 12 : 38;
    case KH_FIELD_TEXT:
    case KH_FIELD_JSON:
    default:
      if (field->flags & KH_FIELD_FLAG_SEARCH)
        return 28;
      return CLAMP (field->max_len > 0 ? field->max_len / 6.0 : 20, 10, 40);
    }
}

static gboolean
xlsx_failed (lxw_error    err,
             const char  *path,
             GError     **error)
{
  if (err == LXW_NO_ERROR)
    return FALSE;
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"),
               path, lxw_strerror (err));
  return TRUE;
}

/* A sheet name Excel accepts: at most 31 characters, none of []:*?/\ */
static char *
sheet_name (const char *title)
{
  g_autofree char *clean = g_strdup (title);
  const char *end = clean;
  int n = 0;

  g_strdelimit (clean, "[]:*?/\\", '-');
  while (*end && n < 31)
    {
      end = g_utf8_next_char (end);
      n++;
    }
  return g_strndup (clean, end - clean);
}

static void
add_xlsx_formats (lxw_workbook *wb,
                  XlsxFormats  *fmt)
{
  fmt->title = workbook_add_format (wb);
  format_set_bold (fmt->title);
  format_set_font_size (fmt->title, 14);
  fmt->header = workbook_add_format (wb);
  format_set_bold (fmt->header);
  format_set_text_wrap (fmt->header);
  format_set_align (fmt->header, LXW_ALIGN_CENTER);
  format_set_align (fmt->header, LXW_ALIGN_VERTICAL_CENTER);
  format_set_bg_color (fmt->header, 0xE7EEF7);
  format_set_border (fmt->header, LXW_BORDER_THIN);
  fmt->text = workbook_add_format (wb);
  format_set_border (fmt->text, LXW_BORDER_THIN);
  fmt->money = workbook_add_format (wb);
  format_set_num_format (fmt->money, "#,##0");
  format_set_border (fmt->money, LXW_BORDER_THIN);
  fmt->date = workbook_add_format (wb);
  format_set_num_format (fmt->date, "dd/mm/yyyy");
  format_set_border (fmt->date, LXW_BORDER_THIN);
  fmt->total = workbook_add_format (wb);
  format_set_bold (fmt->total);
  format_set_border (fmt->total, LXW_BORDER_THIN);
  fmt->total_money = workbook_add_format (wb);
  format_set_bold (fmt->total_money);
  format_set_num_format (fmt->total_money, "#,##0");
  format_set_border (fmt->total_money, LXW_BORDER_THIN);
}

/* Sets the column widths and frozen panes, and writes the title and the header row. */
static void
write_xlsx_head (Export            *ex,
                 lxw_worksheet     *ws,
                 const XlsxFormats *fmt,
                 lxw_row_t          first_data)
{
  lxw_row_t row;

  for (guint c = 0; c < ex->columns->len; c++)
    worksheet_set_column (ws, (lxw_col_t) c, (lxw_col_t) c,
                          column_width (&ex->entity->fields[g_array_index (ex->columns, int, c)]), NULL);
  worksheet_freeze_panes (ws, first_data, 0);

  /* Rows go out in order: constant-memory mode forgets a row once the next one starts. */
  worksheet_write_string (ws, 0, 0, ex->title, fmt->title);
  row = 2;
  worksheet_set_row (ws, row, 30, NULL);
  for (guint c = 0; c < ex->columns->len; c++)
    worksheet_write_string (ws, row, (lxw_col_t) c,
                            _(ex->entity->fields[g_array_index (ex->columns, int, c)].label), fmt->header);
}

/* Writes a row per record from @stmt, starting at *row, and adds money columns to @totals.
 * On return *row is the row after the last one written and *n the number of records. Returns
 * FALSE with @error set if the sheet is full or the database fails. */
static gboolean
write_xlsx_rows (Export            *ex,
                 lxw_worksheet     *ws,
                 sqlite3_stmt      *stmt,
                 const XlsxFormats *fmt,
                 GArray            *totals,
                 lxw_row_t         *row_inout,
                 gint64            *n_out,
                 GError           **error)
{
  lxw_row_t row = *row_inout;
  gint64 n = 0;
  int rc = SQLITE_DONE;
  gboolean ok = TRUE;

  while (ok && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *record = kh_store_row_to_json (ex->entity, stmt, 0);

      if (row >= LXW_ROW_MAX - 2)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                       _("There are more rows than one Excel sheet holds; export to CSV instead."));
          json_object_put (record);
          ok = FALSE;
          break;
        }
      for (guint c = 0; c < ex->columns->len; c++)
        {
          const KhField *field = &ex->entity->fields[g_array_index (ex->columns, int, c)];
          json_object *v = json_object_object_get (record, field->name);

          if (v == NULL)
            {
              worksheet_write_blank (ws, row, (lxw_col_t) c, fmt->text);
              continue;
            }
          switch (field->type)
            {
            case KH_FIELD_MONEY:
              worksheet_write_number (ws, row, (lxw_col_t) c, (double) json_object_get_int64 (v), fmt->money);
              g_array_index (totals, gint64, c) += json_object_get_int64 (v);
              break;
            case KH_FIELD_INT:
            case KH_FIELD_YEAR:
              worksheet_write_number (ws, row, (lxw_col_t) c, (double) json_object_get_int64 (v), fmt->text);
              break;
            case KH_FIELD_DATE:
              {
                unsigned y = 0, m = 0, d = 0;
                lxw_datetime dt = { 0 };

                if (sscanf (json_object_get_string (v), "%4u-%2u-%2u", &y, &m, &d) == 3)
                  {
                    dt.year = (int) y;
                    dt.month = (int) m;
                    dt.day = (int) d;
                    worksheet_write_datetime (ws, row, (lxw_col_t) c, &dt, fmt->date);
                  }
              }
              break;
            case KH_FIELD_ENUM:
            case KH_FIELD_BOOL:
            case KH_FIELD_REF:
            case KH_FIELD_TEXT:
            case KH_FIELD_JSON:
            default:
              {
                g_autofree char *text = csv_text (ex, field, v);

                worksheet_write_string (ws, row, (lxw_col_t) c, text, fmt->text);
              }
              break;
            }
        }
      json_object_put (record);
      row++;
      n++;
    }
  if (ok && rc != SQLITE_DONE)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE, _("The local database failed: %s"),
                   sqlite3_errmsg (kh_store_get_db (ex->store)));
      ok = FALSE;
    }
  *row_inout = row;
  *n_out = n;
  return ok;
}

/* Writes the totals row at @row: the row count, and a SUM formula (with its value cached)
 * under each money column. */
static void
write_xlsx_totals (Export            *ex,
                   lxw_worksheet     *ws,
                   const XlsxFormats *fmt,
                   GArray            *totals,
                   lxw_row_t          first_data,
                   lxw_row_t          row,
                   gint64             n)
{
  g_autofree char *count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Total: %lu row",
                                                         "Total: %lu rows", (gulong) n), (gulong) n);

  worksheet_write_string (ws, row, 0, count, fmt->total);
  for (guint c = 0; c < ex->columns->len; c++)
    if (ex->entity->fields[g_array_index (ex->columns, int, c)].type == KH_FIELD_MONEY)
      {
        char from[16], to[16];
        g_autofree char *formula = NULL;

        lxw_rowcol_to_cell (from, first_data, (lxw_col_t) c);
        lxw_rowcol_to_cell (to, row > first_data ? row - 1 : first_data, (lxw_col_t) c);
        formula = g_strdup_printf ("=SUM(%s:%s)", from, to);
        worksheet_write_formula_num (ws, row, (lxw_col_t) c, formula, fmt->total_money,
                                     (double) g_array_index (totals, gint64, c));
      }
    else if (c > 0)
      worksheet_write_blank (ws, row, (lxw_col_t) c, fmt->total);
}

static gboolean
write_xlsx (Export      *ex,
            const char  *path,
            gint64      *n_rows,
            GError     **error)
{
  g_autofree char *tmp = g_strconcat (path, ".part.xlsx", NULL);
  g_autofree char *name = sheet_name (_(ex->entity->label_plural));
  lxw_workbook_options wb_options = { .constant_memory = LXW_TRUE, .use_zip64 = LXW_TRUE };
  KhXlsxWriter *writer;
  lxw_workbook *wb;
  lxw_worksheet *ws;
  XlsxFormats fmt;
  GArray *totals;
  sqlite3_stmt *stmt;
  const lxw_row_t first_data = 3;
  lxw_row_t row = first_data;
  gint64 n = 0;
  lxw_error err;
  gboolean ok = TRUE;

  writer = kh_xlsx_writer_new (tmp, &wb_options);
  if (writer == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"),
                   path, g_strerror (errno));
      return FALSE;
    }
  wb = kh_xlsx_writer_get (writer);
  ws = workbook_add_worksheet (wb, name);
  add_xlsx_formats (wb, &fmt);
  write_xlsx_head (ex, ws, &fmt, first_data);

  totals = g_array_new (FALSE, TRUE, sizeof (gint64));
  g_array_set_size (totals, ex->columns->len);

  stmt = select_rows (ex, error);
  if (stmt == NULL)
    ok = FALSE;
  else
    {
      ok = write_xlsx_rows (ex, ws, stmt, &fmt, totals, &row, &n, error);
      sqlite3_reset (stmt);
    }

  if (ok)
    write_xlsx_totals (ex, ws, &fmt, totals, first_data, row, n);
  g_array_unref (totals);

  err = kh_xlsx_writer_close (writer);
  if (ok && xlsx_failed (err, path, error))
    ok = FALSE;
  if (ok && g_rename (tmp, path) != 0)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"),
                   path, g_strerror (errno));
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp);
      return FALSE;
    }
  if (n_rows != NULL)
    *n_rows = n;
  return TRUE;
}

gboolean
kh_export_file (KhStore                *store,
                const char             *entity_name,
                const char             *path,
                const KhExportOptions  *options,
                gint64                 *n_rows,
                GError                **error)
{
  static const KhExportOptions no_options = { 0 };
  Export ex = { 0 };
  g_autofree char *lower = NULL;
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  ex.store = store;
  ex.options = options != NULL ? options : &no_options;
  ex.entity = entity_name != NULL ? kh_entity_lookup (entity_name) : NULL;
  if (ex.entity == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("There is no kind of record called “%s”."), entity_name ? entity_name : "");
      return FALSE;
    }
  if (ex.options->list_id != NULL && kh_entity_get_field (ex.entity, "list_id") == NULL)
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                           _("Only award entries belong to a list."));
      return FALSE;
    }

  if (ex.options->title != NULL)
    ex.title = g_strdup (ex.options->title);
  else if (ex.options->list_id != NULL)
    {
      json_object *KH_AUTO_JSON list = kh_store_get (store, "award_list", ex.options->list_id, error);

      if (list == NULL)
        return FALSE;
      ex.title = g_strdup (json_object_get_string (json_object_object_get (list, "title")));
    }
  else
    ex.title = g_strdup (_(ex.entity->label_plural));

  choose_columns (&ex);
  ex.unit_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  lower = g_ascii_strdown (path, -1);
  if (g_str_has_suffix (lower, ".xlsx"))
    ok = write_xlsx (&ex, path, n_rows, error);
  else if (g_str_has_suffix (lower, ".csv"))
    ok = write_csv (&ex, path, n_rows, error);
  else
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("Export to a file ending in .xlsx or .csv (not “%s”)."), path);
      ok = FALSE;
    }
  if (ok)
    ok = audit_sensitive (&ex, path, error);

  g_array_unref (ex.columns);
  g_hash_table_unref (ex.unit_codes);
  g_free (ex.title);
  return ok;
}
