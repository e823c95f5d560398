/* kh-print.c: an award list printed for signatures
 *
 * The page an association files: its name and the national motto at the top, the list's title,
 * occasion, school year and approval decision, a table with a row per recipient (name, date of
 * birth, school and class, category, amount) and a box where each recipient or guardian signs,
 * the total in figures and in words, the date line, and signature blocks for the person who
 * prepared the list, the accountant, the treasurer and the chair. A pupil under 16 does not
 * sign alone: when the list has any, a column is kept for a parent's or guardian's signature.
 * A long cell wraps onto more lines and its row grows, rather than being cut. A school's (or a
 * village's, an agency's) list is issued by the association of the commune or province it is
 * in, which heads the page. Rows are sorted by given name, as officers read lists. Text is
 * laid out with Pango on cairo, so Vietnamese diacritics are shaped correctly; nothing here
 * needs GTK.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-json-private.h"
#include "kh-format.h"
#include "kh-print.h"
#include "kh-print-private.h"
#include "kh-privacy.h"

#define MARGIN        42.0
#define ROW_HEIGHT    22.0    /* at least; a row with a wrapped cell is taller */
#define HEAD_HEIGHT   30.0
#define TITLE_HEIGHT  140.0   /* the header block on the first page */
#define CLOSING_HEIGHT 165.0  /* total, words, date line and signatures */
#define FOOTER_HEIGHT 18.0
#define FONT_FAMILY   "Noto Serif, DejaVu Serif, serif"

typedef struct
{
  char   *name;
  char   *birth;
  char   *school;
  char   *category;
  char   *guardian;   /* who received for the pupil, if written down */
  gboolean minor;     /* under 16 on the list's date: a guardian signs too */
  double  height;     /* the row's height for the widths last paginated */
  gint64  amount;
} Entry;

struct _KhAwardListDoc
{
  char      *association;
  char      *unit_name;
  char      *title;
  char      *occasion;
  char      *school_year;
  char      *decision_number;
  char      *decision_date;
  char      *prepared_by;
  char      *accountant;
  char      *treasurer;
  char      *approved_by;
  gboolean   has_minors;
  GPtrArray *entries;
  gint64     total;
  /* Pagination, for the size last given. */
  double     width;
  double     height;
  GArray    *page_start;      /* first entry of each page */
  gboolean   closing_alone;   /* the closing block needs a page of its own */
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  g_free (e->birth);
  g_free (e->school);
  g_free (e->category);
  g_free (e->guardian);
  g_free (e);
}

void
kh_award_list_doc_free (KhAwardListDoc *doc)
{
  if (doc == NULL)
    return;
  g_free (doc->association);
  g_free (doc->unit_name);
  g_free (doc->title);
  g_free (doc->occasion);
  g_free (doc->school_year);
  g_free (doc->decision_number);
  g_free (doc->decision_date);
  g_free (doc->prepared_by);
  g_free (doc->accountant);
  g_free (doc->treasurer);
  g_free (doc->approved_by);
  g_ptr_array_unref (doc->entries);
  if (doc->page_start != NULL)
    g_array_unref (doc->page_start);
  g_free (doc);
}

static char *
dup_field (json_object *record,
           const char  *name)
{
  json_object *v;

  if (!json_object_object_get_ex (record, name, &v) || v == NULL)
    return NULL;
  return g_strdup (json_object_get_string (v));
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const Entry *x = *(Entry * const *) a;
  const Entry *y = *(Entry * const *) b;

  return kh_name_compare (x->name, y->name, KH_NAME_ORDER_GIVEN_FIRST);
}

/* The association that issues what a unit prints: its own, or for a unit that has none (a
 * school, a village, an agency, an enterprise), that of the nearest commune, ward, district or
 * province above it that this store holds. */
char *
_kh_print_association (KhStore    *store,
                       const char *unit_id)
{
  static const char * const issuing[] = { "province", "district", "commune", "ward", "special_zone", NULL };
  g_autofree char *cursor = g_strdup (unit_id);
  g_autofree char *name = NULL;

  for (int guard = 0; cursor != NULL && guard < 16; guard++)
    {
      json_object *KH_AUTO_JSON unit = kh_store_get (store, "org_unit", cursor, NULL);
      const char *kind;

      if (unit == NULL)
        break;
      kind = json_object_get_string (json_object_object_get (unit, "kind"));
      if (name == NULL)
        name = dup_field (unit, "name");
      if (kind != NULL && g_strv_contains (issuing, kind))
        {
          g_free (name);
          name = dup_field (unit, "name");
          break;
        }
      g_free (cursor);
      cursor = dup_field (unit, "parent_id");
    }
  return g_strdup_printf (_("Study Promotion Association of %s"), name != NULL ? name : "");
}

KhAwardListDoc *
kh_award_list_doc_new (KhStore     *store,
                       const char  *list_id,
                       GError     **error)
{
  json_object *KH_AUTO_JSON list = NULL;
  json_object *KH_AUTO_JSON unit = NULL;
  json_object *KH_AUTO_JSON entries = NULL;
  json_object *KH_AUTO_JSON where = NULL;
  const KhEntity *list_entity = kh_entity_lookup ("award_list");
  const KhEntity *entry_entity = kh_entity_lookup ("award_entry");
  KhQuery query = { 0 };
  KhAwardListDoc *doc;
  g_autofree char *today = NULL;
  json_object *v;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (list_id != NULL, NULL);

  list = kh_store_get (store, "award_list", list_id, error);
  if (list == NULL)
    return NULL;
  if (json_object_object_get_ex (list, "deleted", &v) && json_object_get_boolean (v))
    {
      g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED,
                           _("This award list was deleted; restore it before printing it."));
      return NULL;
    }
  where = json_object_new_object ();
  json_object_object_add (where, "list_id", json_object_new_string (list_id));
  query.where = where;
  entries = kh_store_list (store, "award_entry", &query, error);
  if (entries == NULL)
    return NULL;

  doc = g_new0 (KhAwardListDoc, 1);
  doc->entries = g_ptr_array_new_with_free_func (entry_free);
  unit = kh_store_get (store, "org_unit", json_object_get_string (json_object_object_get (list, "org_unit_id")), NULL);
  doc->unit_name = unit ? dup_field (unit, "name") : g_strdup ("");
  doc->association = _kh_print_association (store, json_object_get_string (json_object_object_get (list, "org_unit_id")));
  doc->title = dup_field (list, "title");
  doc->occasion = g_strdup (kh_field_enum_label (kh_entity_get_field (list_entity, "occasion"),
                                                 json_object_get_string (json_object_object_get (list, "occasion"))));
  doc->school_year = dup_field (list, "school_year");
  doc->decision_number = dup_field (list, "decision_number");
  doc->decision_date = dup_field (list, "decision_date");
  doc->prepared_by = dup_field (list, "prepared_by");
  doc->accountant = dup_field (list, "accountant");
  doc->treasurer = dup_field (list, "treasurer");
  doc->approved_by = dup_field (list, "approved_by");

  /* Ages on the day of the decision, or today for a list not yet decided. */
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();

    today = doc->decision_date != NULL ? g_strdup (doc->decision_date) : g_date_time_format (now, "%Y-%m-%d");
  }
  for (size_t i = 0; i < json_object_array_length (entries); i++)
    {
      json_object *r = json_object_array_get_idx (entries, i);
      const char *status = json_object_get_string (json_object_object_get (r, "status"));
      g_autofree char *school = dup_field (r, "school");
      g_autofree char *grade = dup_field (r, "grade");
      g_autofree char *birth = dup_field (r, "birth_date");
      Entry *e;

      if (status != NULL && strcmp (status, "cancelled") == 0)
        continue;
      e = g_new0 (Entry, 1);
      e->name = dup_field (r, "recipient_name");
      e->birth = birth ? kh_format_date (birth) : g_strdup ("");
      if (school != NULL && grade != NULL)
        e->school = g_strdup_printf ("%s – %s", school, grade);
      else
        e->school = g_strdup (school ? school : grade ? grade : "");
      e->category = g_strdup (kh_field_enum_label (kh_entity_get_field (entry_entity, "category"),
                                                   json_object_get_string (json_object_object_get (r, "category"))));
      e->amount = json_object_get_int64 (json_object_object_get (r, "amount"));
      e->guardian = dup_field (r, "received_by");
      if (birth != NULL)
        {
          int age = kh_privacy_age_on (birth, 0, today);

          e->minor = age >= 0 && age < 16;
          doc->has_minors |= e->minor;
        }
      doc->total += e->amount;
      g_ptr_array_add (doc->entries, e);
    }
  g_ptr_array_sort (doc->entries, compare_entries);
  return doc;
}

guint
kh_award_list_doc_get_n_entries (KhAwardListDoc *doc)
{
  return doc->entries->len;
}

gint64
kh_award_list_doc_get_total (KhAwardListDoc *doc)
{
  return doc->total;
}

static PangoLayout *
layout_new (cairo_t    *cr,
            const char *str,
            double      w,
            double      size,
            gboolean    bold,
            gboolean    italic,
            KhAlign     align,
            gboolean    wrap)
{
  PangoContext *context = pango_cairo_create_context (cr);
  PangoLayout *layout;
  PangoFontDescription *font = pango_font_description_from_string (FONT_FAMILY);

  /* One unit of the cairo context is a point (a PDF page, or a GtkPrintContext in points), so
   * fonts are measured at 72 units per inch, not at a screen's 96. */
  pango_cairo_context_set_resolution (context, 72);
  layout = pango_layout_new (context);
  g_object_unref (context);

  pango_font_description_set_size (font, (int) (size * PANGO_SCALE));
  if (bold)
    pango_font_description_set_weight (font, PANGO_WEIGHT_BOLD);
  if (italic)
    pango_font_description_set_style (font, PANGO_STYLE_ITALIC);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, (int) (w * PANGO_SCALE));
  if (wrap)
    pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  else
    pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment (layout, align == KH_ALIGN_CENTER ? PANGO_ALIGN_CENTER
                                      : align == KH_ALIGN_RIGHT ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
  pango_layout_set_text (layout, str ? str : "", -1);
  pango_font_description_free (font);
  return layout;
}

/* Draws text in a box @w wide at (@x, @y); returns the height used. */
double
_kh_print_text (cairo_t    *cr,
                const char *str,
                double      x,
                double      y,
                double      w,
                double      size,
                gboolean    bold,
                gboolean    italic,
                KhAlign     align,
                gboolean    wrap)
{
  PangoLayout *layout = layout_new (cr, str, w, size, bold, italic, align, wrap);
  int pw, ph;

  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
  pango_layout_get_size (layout, &pw, &ph);
  g_object_unref (layout);
  return (double) ph / PANGO_SCALE;
}

/* The height @str takes wrapped in @w, without drawing it. */
double
_kh_print_text_height (cairo_t    *cr,
                       const char *str,
                       double      w,
                       double      size,
                       gboolean    bold)
{
  PangoLayout *layout = layout_new (cr, str, w, size, bold, FALSE, KH_ALIGN_LEFT, TRUE);
  int pw, ph;

  pango_layout_get_size (layout, &pw, &ph);
  g_object_unref (layout);
  return (double) ph / PANGO_SCALE;
}

#define text(cr, str, x, y, w, size, bold, italic, align, wrap) \
  _kh_print_text (cr, str, x, y, w, size, bold, italic, align, wrap)
#define LEFT   KH_ALIGN_LEFT
#define CENTER KH_ALIGN_CENTER
#define RIGHT  KH_ALIGN_RIGHT

/* Column widths as fractions of the table: No., name, birth, school, category, amount, sign,
 * and with pupils under 16, a guardian's signature. */
static const double column_share[] = { 0.06, 0.25, 0.12, 0.19, 0.13, 0.12, 0.13 };
static const double column_share_minors[] = { 0.05, 0.18, 0.12, 0.17, 0.12, 0.11, 0.11, 0.14 };
#define N_COLUMNS_MAX G_N_ELEMENTS (column_share_minors)

static const double *
shares (KhAwardListDoc *doc,
        guint          *n)
{
  *n = doc->has_minors ? G_N_ELEMENTS (column_share_minors) : G_N_ELEMENTS (column_share);
  return doc->has_minors ? column_share_minors : column_share;
}

static void
cell_line (cairo_t *cr,
           double   x,
           double   y,
           double   w,
           double   h)
{
  cairo_rectangle (cr, x, y, w, h);
  cairo_stroke (cr);
}

static void
draw_row (KhAwardListDoc     *doc,
          cairo_t            *cr,
          double              x,
          double              y,
          double              width,
          double              h,
          const char * const *cells,
          gboolean            header)
{
  guint n;
  const double *share = shares (doc, &n);
  double cx = x;

  for (guint c = 0; c < n; c++)
    {
      double w = width * share[c];
      KhAlign align = c == 0 || c == 2 || header ? CENTER : c == 5 ? RIGHT : LEFT;

      cell_line (cr, cx, y, w, h);
      if (cells[c] != NULL)
        text (cr, cells[c], cx + 3, y + (header ? 3 : 5), w - 6, header ? 8 : 9, header, FALSE,
              align, TRUE);
      cx += w;
    }
}

/* A row's cells: its number, name, birth, school, category, amount, nothing to sign in, and
 * for a minor the guardian who received for them (the rest of the cell is for the signature). */
static void
row_cells (Entry       *e,
           guint        number,
           char       **owned,
           const char **cells)
{
  owned[0] = g_strdup_printf ("%u", number);
  owned[1] = kh_format_number_style (e->amount, KH_FORMAT_VIETNAMESE);
  cells[0] = owned[0];
  cells[1] = e->name;
  cells[2] = e->birth;
  cells[3] = e->school;
  cells[4] = e->category;
  cells[5] = owned[1];
  cells[6] = NULL;
  cells[7] = e->minor ? e->guardian : "—";
}

static double
row_height (KhAwardListDoc *doc,
            cairo_t        *cr,
            Entry          *e,
            double          width)
{
  guint n;
  const double *share = shares (doc, &n);
  char *owned[2];
  const char *cells[N_COLUMNS_MAX];
  double h = ROW_HEIGHT;

  row_cells (e, 0, owned, cells);
  for (guint c = 0; c < n; c++)
    if (cells[c] != NULL)
      h = MAX (h, _kh_print_text_height (cr, cells[c], width * share[c] - 6, 9, FALSE) + 10);
  g_free (owned[0]);
  g_free (owned[1]);
  return h;
}

/* Splits the rows into pages for a page of @width × @height points; returns the page count. */
int
kh_award_list_doc_paginate (KhAwardListDoc *doc,
                            double          width,
                            double          height)
{
  guint n = doc->entries->len;
  double room_first = height - 2 * MARGIN - HEAD_HEIGHT - FOOTER_HEIGHT - TITLE_HEIGHT;
  double room_other = height - 2 * MARGIN - HEAD_HEIGHT - FOOTER_HEIGHT;
  double used = 0;
  guint last_start = 0;
  cairo_surface_t *scratch;
  cairo_t *cr;

  g_return_val_if_fail (doc != NULL, 0);

  doc->width = width;
  doc->height = height;
  if (doc->page_start != NULL)
    g_array_unref (doc->page_start);
  doc->page_start = g_array_new (FALSE, FALSE, sizeof (guint));
  g_array_append_val (doc->page_start, last_start);

  /* Rows are measured on a scratch surface: their height depends on how their cells wrap. */
  scratch = cairo_image_surface_create (CAIRO_FORMAT_A8, 1, 1);
  cr = cairo_create (scratch);
  for (guint i = 0; i < n; i++)
    {
      Entry *e = doc->entries->pdata[i];
      double room = doc->page_start->len == 1 ? room_first : room_other;

      e->height = row_height (doc, cr, e, width - 2 * MARGIN);
      if (used > 0 && used + e->height > room)
        {
          g_array_append_val (doc->page_start, i);
          last_start = i;
          used = 0;
        }
      used += e->height;
    }
  cairo_destroy (cr);
  cairo_surface_destroy (scratch);

  /* The closing block goes under the last rows when it fits there. */
  doc->closing_alone = (doc->page_start->len == 1 ? room_first : room_other) - used < CLOSING_HEIGHT;
  if (doc->closing_alone && n - last_start >= 3)
    {
      /* The signatures never stand alone on a page: the last two rows go over with them. */
      guint moved = n - 2;

      g_array_append_val (doc->page_start, moved);
      doc->closing_alone = FALSE;
    }
  return (int) doc->page_start->len + (doc->closing_alone ? 1 : 0);
}

static void
draw_title_block (KhAwardListDoc *doc,
                  cairo_t        *cr,
                  double          x,
                  double          y,
                  double          width)
{
  double half = width / 2;
  g_autofree char *assoc = g_utf8_strup (doc->association, -1);
  g_autofree char *title = g_utf8_strup (doc->title ? doc->title : "", -1);
  g_autofree char *line = NULL;

  text (cr, assoc, x, y, half - 10, 9.5, TRUE, FALSE, CENTER, TRUE);
  text (cr, _("SOCIALIST REPUBLIC OF VIET NAM"), x + half, y, half, 9.5, TRUE, FALSE, CENTER, TRUE);
  text (cr, _("Independence – Freedom – Happiness"), x + half, y + 15, half, 10, TRUE, FALSE, CENTER, TRUE);
  cairo_move_to (cr, x + half + half * 0.3, y + 31);
  cairo_line_to (cr, x + half + half * 0.7, y + 31);
  cairo_stroke (cr);

  y += 56;
  y += text (cr, title, x, y, width, 13, TRUE, FALSE, CENTER, TRUE) + 4;
  line = g_strdup_printf (_("Occasion: %s — school year %s"), doc->occasion ? doc->occasion : "",
                          doc->school_year ? doc->school_year : "");
  y += text (cr, line, x, y, width, 10, FALSE, TRUE, CENTER, TRUE) + 2;
  if (doc->decision_number != NULL)
    {
      g_autofree char *date = doc->decision_date ? kh_format_date (doc->decision_date) : NULL;
      g_autofree char *decision = date
        ? g_strdup_printf (_("Approved by decision No. %s of %s"), doc->decision_number, date)
        : g_strdup_printf (_("Approved by decision No. %s"), doc->decision_number);

      text (cr, decision, x, y, width, 10, FALSE, TRUE, CENTER, TRUE);
    }
}

static void
draw_closing (KhAwardListDoc *doc,
              cairo_t        *cr,
              double          x,
              double          y,
              double          width)
{
  g_autofree char *money = kh_format_money (doc->total);
  g_autofree char *words = kh_format_money_words (doc->total);
  g_autofree char *total = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                         "Total: %u recipient, %s",
                                                         "Total: %u recipients, %s",
                                                         doc->entries->len),
                                            doc->entries->len, money);
  g_autofree char *in_words = g_strdup_printf (_("In words: %s."), words);
  const char *roles[] = { _("Prepared by"), _("Accountant"), _("Treasurer"), _("Chair") };
  const char *names[] = { doc->prepared_by, doc->accountant, doc->treasurer, doc->approved_by };
  double quarter = width / G_N_ELEMENTS (roles);

  y += 8;
  y += text (cr, total, x, y, width, 10.5, TRUE, FALSE, LEFT, TRUE) + 2;
  y += text (cr, in_words, x, y, width, 10.5, FALSE, TRUE, LEFT, TRUE) + 10;
  text (cr, _("…………, day …… month …… year ……"), x + width / 2, y, width / 2, 10, FALSE, TRUE,
        CENTER, TRUE);
  y += 20;
  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      text (cr, roles[i], x + i * quarter, y, quarter, 10.5, TRUE, FALSE, CENTER, TRUE);
      text (cr, _("(signature, full name)"), x + i * quarter, y + 15, quarter, 9, FALSE, TRUE, CENTER, TRUE);
      if (names[i] != NULL)
        text (cr, names[i], x + i * quarter, y + 85, quarter, 10.5, TRUE, FALSE, CENTER, TRUE);
    }
}

/* Draws page @page (from 0) on @cr, in points, for the size given to paginate(). */
void
kh_award_list_doc_draw_page (KhAwardListDoc *doc,
                             cairo_t        *cr,
                             int             page)
{
  double x = MARGIN, y = MARGIN;
  double width;
  guint n_pages;
  g_autofree char *footer = NULL;

  g_return_if_fail (doc != NULL && doc->page_start != NULL);

  n_pages = doc->page_start->len + (doc->closing_alone ? 1 : 0);
  g_return_if_fail (page >= 0 && (guint) page < n_pages);
  width = doc->width - 2 * MARGIN;

  cairo_save (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 0.6);

  if (page == 0)
    {
      draw_title_block (doc, cr, x, y, width);
      y += TITLE_HEIGHT;
    }

  if ((guint) page < doc->page_start->len)
    {
      guint first = g_array_index (doc->page_start, guint, page);
      guint end = (guint) page + 1 < doc->page_start->len
                  ? g_array_index (doc->page_start, guint, page + 1) : doc->entries->len;
      const char *head[] = { _("No."), _("Full name"), _("Date of birth"), _("School – class"),
                             _("Category"), _("Amount (đồng)"), _("Signature"),
                             _("Guardian signs (under 16)") };

      draw_row (doc, cr, x, y, width, HEAD_HEIGHT, head, TRUE);
      y += HEAD_HEIGHT;
      for (guint i = first; i < end; i++)
        {
          Entry *e = doc->entries->pdata[i];
          char *owned[2];
          const char *cells[N_COLUMNS_MAX];

          row_cells (e, i + 1, owned, cells);
          draw_row (doc, cr, x, y, width, e->height, cells, FALSE);
          y += e->height;
          g_free (owned[0]);
          g_free (owned[1]);
        }
    }
  if ((guint) page == n_pages - 1)
    draw_closing (doc, cr, x, y, width);

  footer = g_strdup_printf (_("Page %d of %u"), page + 1, n_pages);
  text (cr, footer, x, doc->height - MARGIN, width, 8, FALSE, FALSE, RIGHT, FALSE);
  cairo_restore (cr);
}

gboolean
kh_award_list_doc_write_pdf (KhAwardListDoc  *doc,
                             const char      *path,
                             GError         **error)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;
  int n_pages;

  g_return_val_if_fail (doc != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  n_pages = kh_award_list_doc_paginate (doc, KH_PAGE_A4_WIDTH, KH_PAGE_A4_HEIGHT);
  surface = cairo_pdf_surface_create (path, KH_PAGE_A4_WIDTH, KH_PAGE_A4_HEIGHT);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, doc->title ? doc->title : "");
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Khuyến Học");
  cr = cairo_create (surface);
  for (int p = 0; p < n_pages; p++)
    {
      kh_award_list_doc_draw_page (doc, cr, p);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
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
