/* kh-xlsx-reader.h: the first sheet of an Excel workbook, row by row
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-sheet.h"

G_BEGIN_DECLS

gboolean kh_xlsx_read_data      (const char           *data,
                                 gsize                 length,
                                 const KhSheetLimits  *limits,
                                 KhRowFunc             func,
                                 gpointer              user_data,
                                 gboolean             *date1904,
                                 GError              **error);
gboolean kh_xlsx_read_file      (const char           *path,
                                 const KhSheetLimits  *limits,
                                 KhRowFunc             func,
                                 gpointer              user_data,
                                 gboolean             *date1904,
                                 GError              **error);
gboolean kh_xlsx_serial_to_date (double                serial,
                                 gboolean              date1904,
                                 char                **iso);

G_END_DECLS
