/* kh-report-xlsx.c: the figures of a unit for a year as a workbook
 *
 * The first sheet has the learning models, the learning units by level, the awards and the
 * funds, each a table of its own; the second, the same figures for each unit directly below.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <xlsxwriter.h>

#include "kh-error.h"
#include "kh-report.h"
#include "kh-report-private.h"
#include "kh-xlsx-writer.h"

void
_kh_report_add_formats (lxw_workbook    *wb,
                        KhReportFormats *fmt)
{
  fmt->bold = workbook_add_format (wb);
  format_set_bold (fmt->bold);
  fmt->title = workbook_add_format (wb);
  format_set_bold (fmt->title);
  format_set_font_size (fmt->title, 14);
  fmt->header = workbook_add_format (wb);
  format_set_bold (fmt->header);
  format_set_bg_color (fmt->header, 0xE7EEF7);
  format_set_text_wrap (fmt->header);
  fmt->money = workbook_add_format (wb);
  format_set_num_format (fmt->money, "#,##0");
  fmt->pct = workbook_add_format (wb);
  format_set_num_format (fmt->pct, "0.0");
}

/* The learning models table from @row; returns the row after it and a blank one. */
static lxw_row_t
write_models_section (lxw_worksheet         *ws,
                      json_object           *report,
                      const KhReportFormats *fmt,
                      lxw_row_t              row)
{
  json_object *list;

  worksheet_write_string (ws, row, 0, _("Learning model"), fmt->header);
  worksheet_write_string (ws, row, 1, _("Registered"), fmt->header);
  worksheet_write_string (ws, row, 2, _("Evaluated"), fmt->header);
  worksheet_write_string (ws, row, 3, _("Achieved"), fmt->header);
  worksheet_write_string (ws, row, 4, _("Eligible"), fmt->header);
  worksheet_write_string (ws, row, 5, _("Registered (%)"), fmt->header);
  worksheet_write_string (ws, row, 6, _("Achieved (%)"), fmt->header);
  worksheet_write_string (ws, row, 7, _("Recognized"), fmt->header);
  worksheet_write_string (ws, row++, 8, _("No share: units without an eligible population"), fmt->header);
  list = json_object_object_get (report, "models");
  for (size_t i = 0; i < json_object_array_length (list); i++, row++)
    {
      json_object *m = json_object_array_get_idx (list, i);
      json_object *v;

      worksheet_write_string (ws, row, 0, gets (m, "label"), NULL);
      worksheet_write_number (ws, row, 1, (double) geti (m, "registered"), fmt->money);
      worksheet_write_number (ws, row, 2, (double) geti (m, "evaluated"), fmt->money);
      worksheet_write_number (ws, row, 3, (double) geti (m, "achieved"), fmt->money);
      if ((v = json_object_object_get (m, "eligible")) != NULL)
        worksheet_write_number (ws, row, 4, (double) json_object_get_int64 (v), fmt->money);
      if ((v = json_object_object_get (m, "registered_share")) != NULL)
        worksheet_write_number (ws, row, 5, json_object_get_double (v), fmt->pct);
      if ((v = json_object_object_get (m, "achieved_share")) != NULL)
        worksheet_write_number (ws, row, 6, json_object_get_double (v), fmt->pct);
      worksheet_write_number (ws, row, 7, (double) geti (m, "recognized"), fmt->money);
      {
        g_autoptr(GString) why = g_string_new (NULL);

        _kh_report_append_share (why, m, KH_FORMAT_AUTO);
        if (json_object_object_get (m, "eligible") == NULL && why->len > 2)
          worksheet_write_string (ws, row, 8, why->str + 2, NULL);
        else if (json_object_get_boolean (json_object_object_get (m, "over_eligible")))
          worksheet_write_string (ws, row, 8, _("more registered than eligible, check the eligible population"), NULL);
      }
    }
  return row + 1;
}

/* The learning units by level from @row; returns the row after it and a blank one. */
static lxw_row_t
write_learning_section (lxw_worksheet         *ws,
                        json_object           *report,
                        const KhReportFormats *fmt,
                        lxw_row_t              row)
{
  json_object *lu = json_object_object_get (report, "learning_units");
  static const char *keys[] = { "level1", "level2", "level3", "good", "fair", "average" };
  const char *labels[] = { _("Level 1"), _("Level 2"), _("Level 3"), _("Good"), _("Fair"), _("Average") };

  worksheet_write_string (ws, row++, 0, _("Learning units by level"), fmt->header);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++, row++)
    {
      worksheet_write_string (ws, row, 0, labels[i], NULL);
      worksheet_write_number (ws, row, 1, (double) geti (lu, keys[i]), fmt->money);
    }
  return row + 1;
}

/* The awards by kind and their total from @row; returns the row after it and a blank one. */
static lxw_row_t
write_awards_section (lxw_worksheet         *ws,
                      json_object           *report,
                      const KhReportFormats *fmt,
                      lxw_row_t              row)
{
  json_object *list;
  json_object *t;

  worksheet_write_string (ws, row, 0, _("Scholarships, awards and grants"), fmt->header);
  worksheet_write_string (ws, row, 1, _("Number"), fmt->header);
  worksheet_write_string (ws, row++, 2, _("Amount (đồng)"), fmt->header);
  list = json_object_object_get (report, "awards");
  for (size_t i = 0; i < json_object_array_length (list); i++, row++)
    {
      json_object *a = json_object_array_get_idx (list, i);

      worksheet_write_string (ws, row, 0, gets (a, "label"), NULL);
      worksheet_write_number (ws, row, 1, (double) geti (a, "count"), fmt->money);
      worksheet_write_number (ws, row, 2, (double) geti (a, "amount"), fmt->money);
    }
  t = json_object_object_get (report, "awards_total");
  worksheet_write_string (ws, row, 0, _("Total"), fmt->bold);
  worksheet_write_number (ws, row, 1, (double) geti (t, "count"), fmt->money);
  worksheet_write_number (ws, row++, 2, (double) geti (t, "amount"), fmt->money);
  return row + 1;
}

/* The funds table from @row, the last of the first sheet. */
static void
write_funds_section (lxw_worksheet         *ws,
                     json_object           *report,
                     const KhReportFormats *fmt,
                     lxw_row_t              row)
{
  json_object *list;

  worksheet_write_string (ws, row, 0, _("Fund"), fmt->header);
  worksheet_write_string (ws, row, 1, _("Donations"), fmt->header);
  worksheet_write_string (ws, row, 2, _("Mobilized (đồng)"), fmt->header);
  worksheet_write_string (ws, row, 3, _("In kind (đồng)"), fmt->header);
  worksheet_write_string (ws, row++, 4, _("Disbursed (đồng)"), fmt->header);
  list = json_object_object_get (report, "funds");
  for (size_t i = 0; i < json_object_array_length (list); i++, row++)
    {
      json_object *f = json_object_array_get_idx (list, i);
      g_autofree char *name = g_strdup_printf ("%s (%s)", gets (f, "name"), gets (f, "unit_name"));

      worksheet_write_string (ws, row, 0, name, NULL);
      worksheet_write_number (ws, row, 1, (double) geti (f, "donations"), fmt->money);
      worksheet_write_number (ws, row, 2, (double) geti (f, "mobilized"), fmt->money);
      worksheet_write_number (ws, row, 3, (double) geti (f, "in_kind"), fmt->money);
      worksheet_write_number (ws, row, 4, (double) geti (f, "disbursed"), fmt->money);
    }
}

/* The second sheet: the breakdown by the units directly below. */
static void
write_children_sheet (lxw_worksheet         *wc,
                      json_object           *report,
                      const char            *heading,
                      const KhReportFormats *fmt)
{
  json_object *m0 = json_object_object_get (report, "models");
  json_object *list;
  lxw_row_t row = 0;

  worksheet_set_column (wc, 0, 0, 34, NULL);
  worksheet_set_column (wc, 1, 16, 14, NULL);
  worksheet_write_string (wc, row++, 0, heading, fmt->title);
  row++;
  worksheet_write_string (wc, row, 0, _("Unit"), fmt->header);
  worksheet_write_string (wc, row, 1, _("Code"), fmt->header);
  for (size_t i = 0; i < json_object_array_length (m0); i++)
    {
      g_autofree char *reg = g_strdup_printf (_("%s: registered"), gets (json_object_array_get_idx (m0, i), "label"));
      g_autofree char *ach = g_strdup_printf (_("%s: achieved"), gets (json_object_array_get_idx (m0, i), "label"));

      worksheet_write_string (wc, row, (lxw_col_t) (2 + i * 2), reg, fmt->header);
      worksheet_write_string (wc, row, (lxw_col_t) (3 + i * 2), ach, fmt->header);
    }
  worksheet_write_string (wc, row, 12, _("Awards"), fmt->header);
  worksheet_write_string (wc, row, 13, _("Awards (đồng)"), fmt->header);
  worksheet_write_string (wc, row, 14, _("Mobilized (đồng)"), fmt->header);
  worksheet_write_string (wc, row++, 15, _("Disbursed (đồng)"), fmt->header);
  list = json_object_object_get (report, "children");
  for (size_t i = 0; i < json_object_array_length (list); i++, row++)
    {
      json_object *c = json_object_array_get_idx (list, i);
      json_object *ms = json_object_object_get (c, "models");

      worksheet_write_string (wc, row, 0, gets (c, "name"), NULL);
      worksheet_write_string (wc, row, 1, gets (c, "code"), NULL);
      for (size_t k = 0; k < json_object_array_length (ms); k++)
        {
          json_object *m = json_object_array_get_idx (ms, k);

          worksheet_write_number (wc, row, (lxw_col_t) (2 + k * 2), (double) geti (m, "registered"), fmt->money);
          worksheet_write_number (wc, row, (lxw_col_t) (3 + k * 2), (double) geti (m, "achieved"), fmt->money);
        }
      worksheet_write_number (wc, row, 12, (double) geti (c, "awards_count"), fmt->money);
      worksheet_write_number (wc, row, 13, (double) geti (c, "awards_amount"), fmt->money);
      worksheet_write_number (wc, row, 14, (double) geti (c, "mobilized"), fmt->money);
      worksheet_write_number (wc, row, 15, (double) geti (c, "disbursed"), fmt->money);
    }
}

gboolean
kh_report_export_xlsx (json_object  *report,
                       const char   *path,
                       GError      **error)
{
  KhXlsxWriter *writer;
  lxw_workbook *wb;
  lxw_worksheet *ws, *wc;
  KhReportFormats fmt;
  json_object *unit = json_object_object_get (report, "unit");
  g_autofree char *heading = NULL;
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
  wc = workbook_add_worksheet (wb, NULL);
  _kh_report_add_formats (wb, &fmt);

  worksheet_set_column (ws, 0, 0, 34, NULL);
  worksheet_set_column (ws, 1, 7, 16, NULL);
  worksheet_set_column (ws, 8, 8, 50, NULL);
  heading = g_strdup_printf (_("Figures for %s (%s), %d"), gets (unit, "name"), gets (unit, "code"),
                             (int) geti (report, "year"));
  worksheet_write_string (ws, row++, 0, heading, fmt.title);
  row++;
  row = write_models_section (ws, report, &fmt, row);
  row = write_learning_section (ws, report, &fmt, row);
  row = write_awards_section (ws, report, &fmt, row);
  write_funds_section (ws, report, &fmt, row);

  write_children_sheet (wc, report, heading, &fmt);

  err = kh_xlsx_writer_close (writer);
  if (err != LXW_NO_ERROR)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"), path,
                   lxw_strerror (err));
      return FALSE;
    }
  return TRUE;
}
