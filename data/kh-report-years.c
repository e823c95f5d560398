/* kh-report-years.c: the figures of a unit for several years side by side
 *
 * The period a province reports on (2021–2025) as one table: each year's figures as
 * kh_report_compute() makes them, with a row for each figure and a column for each year, as
 * text and as a workbook.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <string.h>
#include <xlsxwriter.h>

#include "kh-error.h"
#include "kh-report.h"
#include "kh-report-private.h"
#include "kh-xlsx-writer.h"

#define MAX_YEARS 10

/* The figures of @unit for each year from @first to @last (at most ten), each as
 * kh_report_compute() makes it, under "years". */
json_object *
kh_report_compute_years (KhStore     *store,
                         const char  *unit,
                         int          first,
                         int          last,
                         gboolean     by_successor,
                         GError     **error)
{
  json_object *out, *years;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (unit != NULL, NULL);

  if (first > last || last - first >= MAX_YEARS)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("Years: give a first year not after the last, at most %d years."), MAX_YEARS);
      return NULL;
    }
  years = json_object_new_array ();
  for (int y = first; y <= last; y++)
    {
      json_object *r = kh_report_compute (store, unit, y, by_successor, error);

      if (r == NULL)
        {
          json_object_put (years);
          return NULL;
        }
      json_object_array_add (years, r);
    }
  out = json_object_new_object ();
  json_object_object_add (out, "unit", json_object_get (json_object_object_get (json_object_array_get_idx (years, last - first), "unit")));
  json_object_object_add (out, "first", json_object_new_int (first));
  json_object_object_add (out, "last", json_object_new_int (last));
  json_object_object_add (out, "by_successor", json_object_new_boolean (by_successor));
  json_object_object_add (out, "years", years);
  return out;
}

/* One row of the side-by-side table: a label and a figure per year. */
typedef enum
{
  ROW_HEADING,
  ROW_NUMBER,
  ROW_MONEY,
  ROW_SHARE
} RowKind;

typedef struct
{
  RowKind      kind;
  const char  *label;
  int          model;   /* -1: not a model's row */
  const char  *key;     /* in the model, or a path "object.member" in the report */
} YearRow;

static json_object *
year_value (json_object   *report,
            const YearRow *row)
{
  if (row->model >= 0)
    return json_object_object_get (json_object_array_get_idx (json_object_object_get (report, "models"),
                                                              row->model), row->key);
  {
    g_auto(GStrv) parts = g_strsplit (row->key, ".", 2);
    json_object *o = json_object_object_get (report, parts[0]);

    return parts[1] != NULL ? json_object_object_get (o, parts[1]) : o;
  }
}

static GArray *
year_rows (json_object *years)
{
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (YearRow));
  json_object *models = json_object_object_get (json_object_array_get_idx (years, 0), "models");

  for (size_t m = 0; m < json_object_array_length (models); m++)
    {
      YearRow r[] = {
        { ROW_HEADING, gets (json_object_array_get_idx (models, m), "label"), (int) m, NULL },
        { ROW_NUMBER, _("Registered"), (int) m, "registered" },
        { ROW_NUMBER, _("Achieved"), (int) m, "achieved" },
        { ROW_NUMBER, _("Recognized"), (int) m, "recognized" },
        { ROW_NUMBER, _("Eligible"), (int) m, "eligible" },
        { ROW_SHARE, _("Achieved (%)"), (int) m, "achieved_share" },
      };

      g_array_append_vals (rows, r, G_N_ELEMENTS (r));
    }
  {
    YearRow r[] = {
      { ROW_HEADING, _("Scholarships, awards and grants"), -1, NULL },
      { ROW_NUMBER, _("Number"), -1, "awards_total.count" },
      { ROW_MONEY, _("Amount (đồng)"), -1, "awards_total.amount" },
      { ROW_HEADING, _("Funds"), -1, NULL },
      { ROW_MONEY, _("Mobilized (đồng)"), -1, "funds_total.mobilized" },
      { ROW_MONEY, _("Disbursed (đồng)"), -1, "funds_total.disbursed" },
    };

    g_array_append_vals (rows, r, G_N_ELEMENTS (r));
  }
  return rows;
}

char *
kh_report_years_to_text (json_object   *report,
                         KhFormatStyle  style)
{
  GString *s = g_string_new (NULL);
  json_object *unit = json_object_object_get (report, "unit");
  json_object *years = json_object_object_get (report, "years");
  size_t n = json_object_array_length (years);
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GString) notes = g_string_new (NULL);

  g_return_val_if_fail (report != NULL, NULL);

  g_string_append_printf (s, _("Figures for %s (%s), %d–%d"), gets (unit, "name"), gets (unit, "code"),
                          (int) geti (report, "first"), (int) geti (report, "last"));
  if (json_object_get_boolean (json_object_object_get (report, "by_successor")))
    g_string_append_printf (s, " — %s", _("including the records of former units it succeeded"));
  g_string_append (s, "\n\n");
  if (n == 0)
    return g_string_free (s, FALSE);

  _kh_report_append_padded (s, "", 31);
  for (size_t y = 0; y < n; y++)
    {
      g_autofree char *year = g_strdup_printf ("%d", (int) geti (json_object_array_get_idx (years, y), "year"));
      glong w = g_utf8_strlen (year, -1);

      for (glong i = w; i < 16; i++)
        g_string_append_c (s, ' ');
      g_string_append (s, year);
    }
  g_string_append_c (s, '\n');

  rows = year_rows (years);
  for (guint i = 0; i < rows->len; i++)
    {
      const YearRow *row = &g_array_index (rows, YearRow, i);

      if (row->kind == ROW_HEADING)
        {
          g_string_append_printf (s, "%s\n", row->label);
          continue;
        }
      g_string_append (s, "  ");
      _kh_report_append_padded (s, row->label, 29);
      for (size_t y = 0; y < n; y++)
        {
          json_object *r = json_object_array_get_idx (years, y);
          json_object *v = year_value (r, row);
          g_autofree char *text = NULL;
          glong w;

          if (v == NULL)
            text = g_strdup ("—");
          else if (row->kind == ROW_SHARE)
            text = kh_format_percent_style (json_object_get_double (v), style);
          else if (row->kind == ROW_MONEY)
            text = kh_format_money_style (json_object_get_int64 (v), style);
          else
            text = kh_format_number_style (json_object_get_int64 (v), style);
          w = g_utf8_strlen (text, -1);
          for (glong k = w; k < 16; k++)
            g_string_append_c (s, ' ');
          g_string_append (s, text);
          /* Say once why a share is missing. */
          if (row->kind == ROW_SHARE && v == NULL)
            {
              json_object *m = json_object_array_get_idx (json_object_object_get (r, "models"), row->model);
              g_autoptr(GString) why = g_string_new (NULL);

              _kh_report_append_share (why, m, style);
              if (why->len > 0)
                g_string_append_printf (notes, "  %d, %s%s\n", (int) geti (r, "year"), gets (m, "label"), why->str);
            }
        }
      g_string_append_c (s, '\n');
    }
  if (notes->len > 0)
    g_string_append_printf (s, "\n%s\n%s", _("Shares not given"), notes->str);
  return g_string_free (s, FALSE);
}

gboolean
kh_report_years_export_xlsx (json_object  *report,
                             const char   *path,
                             GError      **error)
{
  KhXlsxWriter *writer;
  lxw_workbook *wb;
  lxw_worksheet *ws;
  KhReportFormats fmt;
  json_object *unit = json_object_object_get (report, "unit");
  json_object *years = json_object_object_get (report, "years");
  size_t n = json_object_array_length (years);
  g_autofree char *heading = NULL;
  g_autoptr(GArray) rows = NULL;
  lxw_row_t row = 0;
  lxw_error err;

  g_return_val_if_fail (report != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  writer = kh_xlsx_writer_new (path, NULL);
  if (writer == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"), path,
                   g_strerror (errno));
      return FALSE;
    }
  wb = kh_xlsx_writer_get (writer);
  ws = workbook_add_worksheet (wb, NULL);
  _kh_report_add_formats (wb, &fmt);
  worksheet_set_column (ws, 0, 0, 34, NULL);
  worksheet_set_column (ws, 1, (lxw_col_t) n, 16, NULL);
  heading = g_strdup_printf (_("Figures for %s (%s), %d–%d"), gets (unit, "name"), gets (unit, "code"),
                             (int) geti (report, "first"), (int) geti (report, "last"));
  worksheet_write_string (ws, row++, 0, heading, fmt.title);
  row++;
  worksheet_write_string (ws, row, 0, "", fmt.header);
  for (size_t y = 0; y < n; y++)
    worksheet_write_number (ws, row, (lxw_col_t) (1 + y),
                            (double) geti (json_object_array_get_idx (years, y), "year"), fmt.header);
  row++;
  rows = n > 0 ? year_rows (years) : g_array_new (FALSE, FALSE, sizeof (YearRow));
  for (guint i = 0; i < rows->len; i++, row++)
    {
      const YearRow *yr = &g_array_index (rows, YearRow, i);

      worksheet_write_string (ws, row, 0, yr->label, yr->kind == ROW_HEADING ? fmt.bold : NULL);
      if (yr->kind == ROW_HEADING)
        continue;
      for (size_t y = 0; y < n; y++)
        {
          json_object *v = year_value (json_object_array_get_idx (years, y), yr);

          if (v == NULL)
            worksheet_write_string (ws, row, (lxw_col_t) (1 + y), "—", NULL);
          else if (yr->kind == ROW_SHARE)
            worksheet_write_number (ws, row, (lxw_col_t) (1 + y), json_object_get_double (v), fmt.pct);
          else
            worksheet_write_number (ws, row, (lxw_col_t) (1 + y), (double) json_object_get_int64 (v), fmt.money);
        }
    }
  err = kh_xlsx_writer_close (writer);
  if (err != LXW_NO_ERROR)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"), path,
                   lxw_strerror (err));
      return FALSE;
    }
  return TRUE;
}
