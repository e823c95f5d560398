/* kh-xlsx-writer.h: one way to open and close a libxlsxwriter workbook
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <xlsxwriter.h>

G_BEGIN_DECLS

typedef struct _KhXlsxWriter KhXlsxWriter;

KhXlsxWriter *kh_xlsx_writer_new   (const char                 *path,
                                    const lxw_workbook_options *options);
lxw_workbook *kh_xlsx_writer_get   (KhXlsxWriter               *writer);
lxw_error     kh_xlsx_writer_close (KhXlsxWriter               *writer);

G_END_DECLS
