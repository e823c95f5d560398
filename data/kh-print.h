/* kh-print.h: an award list printed for signatures
 *
 * The same drawing serves a PDF file and GtkPrintOperation: paginate for the page size in
 * points, then draw page N on the cairo context the print operation or the PDF surface gives.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <cairo.h>

#include "kh-store.h"

G_BEGIN_DECLS

typedef struct _KhAwardListDoc KhAwardListDoc;

#define KH_PAGE_A4_WIDTH  595.276
#define KH_PAGE_A4_HEIGHT 841.890

KhAwardListDoc *kh_award_list_doc_new        (KhStore         *store,
                                              const char      *list_id,
                                              GError         **error);
void            kh_award_list_doc_free       (KhAwardListDoc  *doc);
guint           kh_award_list_doc_get_n_entries (KhAwardListDoc *doc);
gint64          kh_award_list_doc_get_total  (KhAwardListDoc  *doc);
int             kh_award_list_doc_paginate   (KhAwardListDoc  *doc,
                                              double           width,
                                              double           height);
void            kh_award_list_doc_draw_page  (KhAwardListDoc  *doc,
                                              cairo_t         *cr,
                                              int              page);
gboolean        kh_award_list_doc_write_pdf  (KhAwardListDoc  *doc,
                                              const char      *path,
                                              GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KhAwardListDoc, kh_award_list_doc_free)

G_END_DECLS
