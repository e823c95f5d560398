/* kh-print-list.c: an award list printed with GtkPrintOperation
 *
 * The pages are the ones the PDF export draws (data/kh-print.c): the operation's context is set
 * to points, paginated for the paper the person chose, and each page drawn on the context's
 * cairo surface. With @export_pdf the operation writes that file without a dialog, which is
 * also how the tests run it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-list-page.h"
#include "kh-print-list.h"
#include "kh-print.h"
#include "kh-record-item.h"

static void
begin_print_cb (GtkPrintOperation *operation,
                GtkPrintContext   *context,
                KhAwardListDoc    *doc)
{
  int n = kh_award_list_doc_paginate (doc, gtk_print_context_get_width (context),
                                      gtk_print_context_get_height (context));

  gtk_print_operation_set_n_pages (operation, MAX (n, 1));
}

static void
draw_page_cb (GtkPrintOperation *operation,
              GtkPrintContext   *context,
              int                page,
              KhAwardListDoc    *doc)
{
  kh_award_list_doc_draw_page (doc, gtk_print_context_get_cairo_context (context), page);
}

gboolean
kh_print_award_list (GtkWindow   *parent,
                     KhStore     *store,
                     const char  *list_id,
                     const char  *export_pdf,
                     int         *n_pages,
                     GError     **error)
{
  g_autoptr(KhAwardListDoc) doc = NULL;
  g_autoptr(GtkPrintOperation) operation = NULL;
  g_autoptr(GtkPageSetup) setup = gtk_page_setup_new ();
  g_autoptr(GtkPaperSize) a4 = gtk_paper_size_new (GTK_PAPER_NAME_A4);
  GtkPrintOperationResult result;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (list_id != NULL, FALSE);

  doc = kh_award_list_doc_new (store, list_id, error);
  if (doc == NULL)
    return FALSE;

  operation = gtk_print_operation_new ();
  gtk_page_setup_set_paper_size (setup, a4);
  /* The page is drawn edge to edge in points; the document keeps its own margins. */
  gtk_page_setup_set_top_margin (setup, 0, GTK_UNIT_POINTS);
  gtk_page_setup_set_bottom_margin (setup, 0, GTK_UNIT_POINTS);
  gtk_page_setup_set_left_margin (setup, 0, GTK_UNIT_POINTS);
  gtk_page_setup_set_right_margin (setup, 0, GTK_UNIT_POINTS);
  gtk_print_operation_set_default_page_setup (operation, setup);
  gtk_print_operation_set_unit (operation, GTK_UNIT_POINTS);
  gtk_print_operation_set_use_full_page (operation, TRUE);
  gtk_print_operation_set_job_name (operation, _("Award list"));
  g_signal_connect (operation, "begin-print", G_CALLBACK (begin_print_cb), doc);
  g_signal_connect (operation, "draw-page", G_CALLBACK (draw_page_cb), doc);

  if (export_pdf != NULL)
    gtk_print_operation_set_export_filename (operation, export_pdf);
  result = gtk_print_operation_run (operation,
                                    export_pdf != NULL ? GTK_PRINT_OPERATION_ACTION_EXPORT
                                                       : GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG,
                                    parent, error);
  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    return FALSE;
  if (n_pages != NULL)
    g_object_get (operation, "n-pages", n_pages, NULL);
  return TRUE;
}

/* The award list a list page points at: the selected list, or the list of the selected entry. */
char *
kh_print_selected_list_id (GtkWidget *page)
{
  GtkColumnView *view;
  GtkSelectionModel *model;
  g_autoptr(KhRecordItem) item = NULL;
  const KhEntity *entity;

  if (page == NULL || !KH_IS_LIST_PAGE (page))
    return NULL;
  view = GTK_COLUMN_VIEW (kh_list_page_get_column_view (KH_LIST_PAGE (page)));
  model = gtk_column_view_get_model (view);
  if (!GTK_IS_SINGLE_SELECTION (model)
      || gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (model)) == GTK_INVALID_LIST_POSITION)
    return NULL;
  item = g_list_model_get_item (G_LIST_MODEL (model), gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (model)));
  if (item == NULL)
    return NULL;
  entity = kh_record_item_get_entity (item);
  if (g_strcmp0 (entity->name, "award_list") == 0)
    return g_strdup (kh_record_item_get_id (item));
  if (g_strcmp0 (entity->name, "award_entry") == 0)
    return g_strdup (kh_record_item_get_string (item, "list_id"));
  return NULL;
}
