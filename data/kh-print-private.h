/* kh-print-private.h: what the printed documents share (kh-print.c, kh-ledger-print.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <cairo.h>

#include "kh-store.h"

G_BEGIN_DECLS

typedef enum { KH_ALIGN_LEFT, KH_ALIGN_CENTER, KH_ALIGN_RIGHT } KhAlign;

double _kh_print_text         (cairo_t    *cr,
                               const char *str,
                               double      x,
                               double      y,
                               double      w,
                               double      size,
                               gboolean    bold,
                               gboolean    italic,
                               KhAlign     align,
                               gboolean    wrap);
double _kh_print_text_height  (cairo_t    *cr,
                               const char *str,
                               double      w,
                               double      size,
                               gboolean    bold);
char  *_kh_print_association  (KhStore    *store,
                               const char *unit_id);

G_END_DECLS
