/* kh-format.h: money, dates and numbers as people read them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "kh-entity.h"

G_BEGIN_DECLS

/* How numbers and dates are written: Vietnamese ("1.250.000 ₫", "99,1 %"), English
 * ("1,250,000 ₫", "99.1%"), or whichever the current locale's language asks for. */
typedef enum
{
  KH_FORMAT_AUTO,
  KH_FORMAT_VIETNAMESE,
  KH_FORMAT_ENGLISH,
} KhFormatStyle;

/* How names are ordered in lists. */
typedef enum
{
  KH_NAME_ORDER_GIVEN_FIRST,  /* by given name, then family name, then middle names */
  KH_NAME_ORDER_AS_WRITTEN,   /* family name, middle names, given name, as written */
} KhNameOrder;

char          *kh_format_money        (gint64         dong);
char          *kh_format_date         (const char    *iso);
char          *kh_format_money_words  (gint64         dong);

KhFormatStyle  kh_format_style_for_locale (void);
char          *kh_format_money_style  (gint64         dong,
                                       KhFormatStyle  style);
char          *kh_format_number_style (gint64         n,
                                       KhFormatStyle  style);
char          *kh_format_percent_style (double        percent,
                                       KhFormatStyle  style);
char          *kh_format_size_style   (gint64         bytes,
                                       KhFormatStyle  style);
char          *kh_format_size         (gint64         bytes);
char          *kh_format_date_style   (const char    *iso,
                                       KhFormatStyle  style);
char          *kh_format_date_long    (const char    *iso);

char          *kh_value_format        (const KhField *field,
                                       json_object   *value);

char          *kh_name_sort_key       (const char    *full_name,
                                       KhNameOrder    order);
int            kh_name_compare        (const char    *a,
                                       const char    *b,
                                       KhNameOrder    order);

G_END_DECLS
