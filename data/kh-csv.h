/* kh-csv.h: reading and writing CSV as Excel and LibreOffice make it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-sheet.h"

G_BEGIN_DECLS

gboolean  kh_csv_read_data   (const char           *data,
                              gsize                 length,
                              const KhSheetLimits  *limits,
                              KhRowFunc             func,
                              gpointer              user_data,
                              GError              **error);
gboolean  kh_csv_read_file   (const char           *path,
                              const KhSheetLimits  *limits,
                              KhRowFunc             func,
                              gpointer              user_data,
                              GError              **error);
void      kh_csv_append_cell (GString              *line,
                              const char           *text,
                              char                  separator,
                              gboolean              first);

G_END_DECLS
