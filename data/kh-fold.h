/* kh-fold.h: Vietnamese folding for search
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *kh_fold               (const char *text);
char *kh_fold_nfd           (const char *text);
char *kh_fold_to_fts_query  (const char *text);

G_END_DECLS
