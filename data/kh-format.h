/* kh-format.h: money, dates and numbers as people read them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *kh_format_money       (gint64      dong);
char *kh_format_date        (const char *iso);
char *kh_format_money_words (gint64      dong);

G_END_DECLS
