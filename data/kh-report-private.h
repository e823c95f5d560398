/* kh-report-private.h: what the figures of one year (kh-report.c, kh-report-xlsx.c) and of
 * several years side by side (kh-report-years.c) share to read a report and write it out
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>
#include <xlsxwriter.h>

#include "kh-format.h"

G_BEGIN_DECLS

/* The cell formats of a report's workbook. */
typedef struct
{
  lxw_format *bold;
  lxw_format *title;
  lxw_format *header;
  lxw_format *money;
  lxw_format *pct;
} KhReportFormats;

static inline gint64
geti (json_object *o,
      const char  *key)
{
  return json_object_get_int64 (json_object_object_get (o, key));
}

static inline const char *
gets (json_object *o,
      const char  *key)
{
  const char *s = json_object_get_string (json_object_object_get (o, key));

  return s ? s : "";
}

void _kh_report_append_padded (GString         *s,
                               const char      *text,
                               int              width);
void _kh_report_append_share  (GString         *s,
                               json_object     *m,
                               KhFormatStyle    style);
void _kh_report_add_formats   (lxw_workbook    *wb,
                               KhReportFormats *fmt);

G_END_DECLS
