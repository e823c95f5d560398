/* kh-ledger-print.c: a fund's yearly statement (PDF, XLSX) and a donation's receipt (PDF)
 *
 * The statement is the lines of a KhFundStatement, the same lines in both formats: opening
 * balance, cash received by kind of donor, payments by category, closing balance, then what
 * is not cash (gifts in kind at their value) and the earmarked money left. The receipt (phiếu
 * thu) is the page a donor takes home: who gave, to which fund, for what, the amount in figures
 * and in words, and the signatures.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <cairo-pdf.h>
#include <errno.h>
#include <string.h>

#include "kh-error.h"
#include "kh-format.h"
#include "kh-json-private.h"
#include "kh-ledger-print.h"
#include "kh-print.h"
#include "kh-print-private.h"
#include "kh-xlsx-writer.h"

#define MARGIN 56.0

typedef enum { LINE_SECTION, LINE_ITEM, LINE_TOTAL } LineKind;

typedef struct
{
  LineKind  kind;
  char     *label;
  gint64    amount;
} Line;

static void
line_free (Line *l)
{
  g_free (l->label);
  g_free (l);
}

static void
add (GPtrArray  *lines,
     LineKind    kind,
     gint64      amount,
     char       *label)
{
  Line *l = g_new0 (Line, 1);

  l->kind = kind;
  l->label = label;
  l->amount = amount;
  g_ptr_array_add (lines, l);
}

/* The statement's lines, in the order both formats show them. */
static GPtrArray *
statement_lines (const KhFundStatement *s)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func ((GDestroyNotify) line_free);

  add (lines, LINE_TOTAL, s->opening, g_strdup_printf (_("Opening balance on 01/01/%d"), s->year));
  add (lines, LINE_SECTION, 0, g_strdup (_("Received in cash and by transfer, by kind of donor")));
  for (guint i = 0; i < KH_LEDGER_N_DONOR_KINDS; i++)
    add (lines, LINE_ITEM, s->cash_by_kind[i], g_strdup (kh_ledger_donor_kind_label (i)));
  if (s->brought_in != 0)
    add (lines, LINE_ITEM, s->brought_in, g_strdup (_("Balance brought in when the fund was first recorded")));
  add (lines, LINE_TOTAL, s->receipts, g_strdup (_("Total received")));
  add (lines, LINE_SECTION, 0, g_strdup (_("Paid out, by category")));
  for (guint i = 0; i < KH_LEDGER_N_CATEGORIES; i++)
    add (lines, LINE_ITEM, s->paid_by_category[i], g_strdup (kh_ledger_category_label (i)));
  add (lines, LINE_TOTAL, s->payments, g_strdup (_("Total paid out")));
  add (lines, LINE_TOTAL, s->closing, g_strdup_printf (_("Closing balance on 31/12/%d"), s->year));
  add (lines, LINE_SECTION, 0, g_strdup (_("Gifts in kind received, at their value (not in the cash balance)")));
  for (guint i = 0; i < KH_LEDGER_N_DONOR_KINDS; i++)
    add (lines, LINE_ITEM, s->in_kind_by_kind[i], g_strdup (kh_ledger_donor_kind_label (i)));
  add (lines, LINE_TOTAL, s->in_kind, g_strdup (_("Total of gifts in kind")));
  if (s->earmarks->len > 0)
    {
      add (lines, LINE_SECTION, 0, g_strdup_printf (_("Of the closing balance, earmarked by donors")));
      for (guint i = 0; i < s->earmarks->len; i++)
        {
          const KhLedgerEarmark *e = s->earmarks->pdata[i];

          add (lines, LINE_ITEM, e->balance, g_strdup (e->earmark));
        }
    }
  return lines;
}

static gboolean
finish_pdf (cairo_surface_t  *surface,
            const char       *path,
            GError          **error)
{
  cairo_status_t status;

  cairo_surface_finish (surface);
  status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

/* The association's name and the national motto, side by side; returns the y below them. */
static double
draw_heading (cairo_t    *cr,
              const char *association,
              double      x,
              double      y,
              double      width)
{
  double half = width / 2;
  g_autofree char *assoc = g_utf8_strup (association, -1);

  _kh_print_text (cr, assoc, x, y, half - 10, 9.5, TRUE, FALSE, KH_ALIGN_CENTER, TRUE);
  _kh_print_text (cr, _("SOCIALIST REPUBLIC OF VIET NAM"), x + half, y, half, 9.5, TRUE, FALSE, KH_ALIGN_CENTER, TRUE);
  _kh_print_text (cr, _("Independence – Freedom – Happiness"), x + half, y + 15, half, 10, TRUE, FALSE,
                  KH_ALIGN_CENTER, TRUE);
  cairo_move_to (cr, x + half + half * 0.3, y + 31);
  cairo_line_to (cr, x + half + half * 0.7, y + 31);
  cairo_stroke (cr);
  return y + 56;
}

static void
draw_signatures (cairo_t            *cr,
                 const char * const *roles,
                 const char * const *names,
                 guint               n,
                 double              x,
                 double              y,
                 double              width)
{
  double w = width / n;

  for (guint i = 0; i < n; i++)
    {
      _kh_print_text (cr, roles[i], x + i * w, y, w, 10.5, TRUE, FALSE, KH_ALIGN_CENTER, TRUE);
      _kh_print_text (cr, _("(signature, full name)"), x + i * w, y + 15, w, 9, FALSE, TRUE, KH_ALIGN_CENTER, TRUE);
      if (names != NULL && names[i] != NULL)
        _kh_print_text (cr, names[i], x + i * w, y + 80, w, 10.5, TRUE, FALSE, KH_ALIGN_CENTER, TRUE);
    }
}

gboolean
kh_fund_statement_write_pdf (const KhFundStatement  *s,
                             KhStore                *store,
                             const char             *unit_id,
                             const char             *path,
                             GError                **error)
{
  g_autoptr(GPtrArray) lines = statement_lines (s);
  g_autofree char *association = _kh_print_association (store, unit_id);
  g_autofree char *title = g_strdup_printf (_("FUND STATEMENT FOR %d"), s->year);
  double width = KH_PAGE_A4_WIDTH - 2 * MARGIN;
  double x = MARGIN, y = MARGIN;
  cairo_surface_t *surface;
  cairo_t *cr;

  g_return_val_if_fail (s != NULL && path != NULL, FALSE);

  surface = cairo_pdf_surface_create (path, KH_PAGE_A4_WIDTH, KH_PAGE_A4_HEIGHT);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Khuyến Học");
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 0.6);

  y = draw_heading (cr, association, x, y, width);
  y += _kh_print_text (cr, title, x, y, width, 14, TRUE, FALSE, KH_ALIGN_CENTER, TRUE) + 2;
  y += _kh_print_text (cr, s->title, x, y, width, 11, FALSE, TRUE, KH_ALIGN_CENTER, TRUE) + 4;
  y += _kh_print_text (cr, _("Amounts in đồng"), x, y, width, 9, FALSE, TRUE, KH_ALIGN_RIGHT, TRUE) + 4;

  for (guint i = 0; i < lines->len; i++)
    {
      const Line *l = lines->pdata[i];
      double indent = l->kind == LINE_ITEM ? 18 : 0;
      double h;

      if (y > KH_PAGE_A4_HEIGHT - MARGIN - 40)
        {
          cairo_show_page (cr);
          y = MARGIN;
        }
      h = _kh_print_text (cr, l->label, x + 4 + indent, y + 2, width * 0.7 - indent - 8, 9.5,
                          l->kind != LINE_ITEM, l->kind == LINE_SECTION, KH_ALIGN_LEFT, TRUE) + 4;
      if (l->kind != LINE_SECTION)
        {
          g_autofree char *amount = kh_format_number_style (l->amount, KH_FORMAT_VIETNAMESE);

          _kh_print_text (cr, amount, x + width * 0.7, y + 2, width * 0.3 - 6, 9.5, l->kind == LINE_TOTAL,
                          FALSE, KH_ALIGN_RIGHT, FALSE);
        }
      cairo_rectangle (cr, x, y, width * 0.7, h);
      cairo_rectangle (cr, x + width * 0.7, y, width * 0.3, h);
      cairo_stroke (cr);
      y += h;
    }

  if (y > KH_PAGE_A4_HEIGHT - MARGIN - 120)
    {
      cairo_show_page (cr);
      y = MARGIN;
    }
  y += 14;
  _kh_print_text (cr, _("…………, day …… month …… year ……"), x + width / 2, y, width / 2, 10, FALSE, TRUE,
                  KH_ALIGN_CENTER, TRUE);
  {
    const char *roles[] = { _("Prepared by"), _("Treasurer"), _("Chair") };

    draw_signatures (cr, roles, NULL, G_N_ELEMENTS (roles), x, y + 20, width);
  }
  cairo_show_page (cr);
  cairo_destroy (cr);
  return finish_pdf (surface, path, error);
}

gboolean
kh_fund_statement_write_xlsx (const KhFundStatement  *s,
                              const char             *path,
                              GError                **error)
{
  g_autoptr(GPtrArray) lines = statement_lines (s);
  g_autofree char *title = g_strdup_printf (_("Fund statement for %d"), s->year);
  KhXlsxWriter *writer;
  lxw_workbook *wb;
  lxw_worksheet *ws;
  lxw_format *bold, *section, *money, *money_bold, *head;
  lxw_row_t row = 0;
  lxw_error err;

  g_return_val_if_fail (s != NULL && path != NULL, FALSE);

  writer = kh_xlsx_writer_new (path, NULL);
  if (writer == NULL)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"), path,
                   g_strerror (errno));
      return FALSE;
    }
  wb = kh_xlsx_writer_get (writer);
  ws = workbook_add_worksheet (wb, NULL);
  bold = workbook_add_format (wb);
  format_set_bold (bold);
  head = workbook_add_format (wb);
  format_set_bold (head);
  format_set_font_size (head, 14);
  section = workbook_add_format (wb);
  format_set_bold (section);
  format_set_italic (section);
  format_set_bg_color (section, 0xE7EEF7);
  money = workbook_add_format (wb);
  format_set_num_format (money, "#,##0");
  money_bold = workbook_add_format (wb);
  format_set_num_format (money_bold, "#,##0");
  format_set_bold (money_bold);

  worksheet_set_column (ws, 0, 0, 60, NULL);
  worksheet_set_column (ws, 1, 1, 20, NULL);
  worksheet_write_string (ws, row++, 0, title, head);
  worksheet_write_string (ws, row++, 0, s->title, bold);
  worksheet_write_string (ws, row, 0, _("Line"), bold);
  worksheet_write_string (ws, row++, 1, _("Amount (đồng)"), bold);
  for (guint i = 0; i < lines->len; i++)
    {
      const Line *l = lines->pdata[i];

      if (l->kind == LINE_SECTION)
        {
          worksheet_write_string (ws, row, 0, l->label, section);
          worksheet_write_blank (ws, row++, 1, section);
          continue;
        }
      if (l->kind == LINE_ITEM)
        {
          g_autofree char *indented = g_strconcat ("    ", l->label, NULL);

          worksheet_write_string (ws, row, 0, indented, NULL);
        }
      else
        worksheet_write_string (ws, row, 0, l->label, bold);
      worksheet_write_number (ws, row++, 1, (double) l->amount, l->kind == LINE_TOTAL ? money_bold : money);
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

static const char *
str_of (json_object *o,
        const char  *name)
{
  json_object *v;

  if (o == NULL || !json_object_object_get_ex (o, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

/* A receipt's line: a label, then its value (nothing written: dots to fill in by hand). */
static double
receipt_line (cairo_t    *cr,
              const char *label,
              const char *value,
              double      x,
              double      y,
              double      width)
{
  g_autofree char *line = g_strdup_printf ("%s %s", label,
                                           value != NULL && value[0] != '\0' ? value
                                           : "……………………………………………………");

  return _kh_print_text (cr, line, x, y, width, 11, FALSE, FALSE, KH_ALIGN_LEFT, TRUE) + 7;
}

gboolean
kh_donation_receipt_write_pdf (KhStore     *store,
                               const char  *donation_id,
                               const char  *path,
                               GError     **error)
{
  json_object *KH_AUTO_JSON d = NULL;
  json_object *KH_AUTO_JSON fund = NULL;
  json_object *KH_AUTO_JSON donor = NULL;
  g_autofree char *association = NULL;
  g_autofree char *number = NULL;
  g_autofree char *date = NULL;
  g_autofree char *purpose = NULL;
  g_autofree char *amount_line = NULL;
  g_autofree char *words = NULL;
  gboolean in_kind;
  gint64 value;
  double width = KH_PAGE_A4_WIDTH - 2 * MARGIN;
  double x = MARGIN, y = MARGIN;
  cairo_surface_t *surface;
  cairo_t *cr;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (donation_id != NULL && path != NULL, FALSE);

  d = kh_store_get (store, "donation", donation_id, error);
  if (d == NULL)
    return FALSE;
  fund = kh_store_get (store, "fund", str_of (d, "fund_id"), error);
  if (fund == NULL)
    return FALSE;
  if (str_of (d, "donor_id") != NULL)
    donor = kh_store_get (store, "donor", str_of (d, "donor_id"), NULL);
  association = _kh_print_association (store, str_of (fund, "org_unit_id"));
  in_kind = g_strcmp0 (str_of (d, "form"), "in_kind") == 0;
  value = json_object_get_int64 (json_object_object_get (d, in_kind ? "in_kind_value" : "amount"));
  date = kh_format_date_long (str_of (d, "donated_on"));
  if (str_of (d, "earmark") != NULL && str_of (d, "purpose") != NULL)
    purpose = g_strdup_printf ("%s (%s)", str_of (d, "purpose"), str_of (d, "earmark"));
  else
    purpose = g_strdup (str_of (d, "earmark") != NULL ? str_of (d, "earmark") : str_of (d, "purpose"));
  {
    g_autofree char *money = kh_format_money (value);

    if (in_kind)
      amount_line = g_strdup_printf (_("%s, valued at %s"), str_of (d, "in_kind") ? str_of (d, "in_kind") : "",
                                     money);
    else
      amount_line = g_steal_pointer (&money);
  }
  words = kh_format_money_words (value);
  number = g_strdup_printf (_("No.: %s"), str_of (d, "receipt_number") ? str_of (d, "receipt_number") : "……");

  surface = cairo_pdf_surface_create (path, KH_PAGE_A4_WIDTH, KH_PAGE_A4_HEIGHT);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, _("Donation receipt"));
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Khuyến Học");
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 0.6);

  y = draw_heading (cr, association, x, y, width);
  y += _kh_print_text (cr, _("DONATION RECEIPT"), x, y, width, 16, TRUE, FALSE, KH_ALIGN_CENTER, TRUE) + 2;
  y += _kh_print_text (cr, date, x, y, width, 11, FALSE, TRUE, KH_ALIGN_CENTER, TRUE);
  y += _kh_print_text (cr, number, x, y, width, 10, FALSE, FALSE, KH_ALIGN_CENTER, TRUE) + 18;

  y += receipt_line (cr, _("Received from:"), str_of (d, "donor_name"), x, y, width);
  y += receipt_line (cr, _("Address:"), str_of (donor, "address"), x, y, width);
  y += receipt_line (cr, _("To the fund:"), str_of (fund, "name"), x, y, width);
  y += receipt_line (cr, _("For the purpose of:"), purpose, x, y, width);
  y += receipt_line (cr, in_kind ? _("Gift in kind:") : _("Amount:"), amount_line, x, y, width);
  y += receipt_line (cr, _("In words:"), words, x, y, width);
  y += 18;
  _kh_print_text (cr, _("…………, day …… month …… year ……"), x + width / 2, y, width / 2, 10, FALSE, TRUE,
                  KH_ALIGN_CENTER, TRUE);
  {
    const char *roles[] = { _("Donor"), _("Received by"), _("Treasurer") };
    const char *names[] = { str_of (d, "donor_name"), str_of (d, "received_by"), NULL };

    draw_signatures (cr, roles, names, G_N_ELEMENTS (roles), x, y + 20, width);
  }
  cairo_show_page (cr);
  cairo_destroy (cr);
  return finish_pdf (surface, path, error);
}
