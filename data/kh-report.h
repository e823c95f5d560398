/* kh-report.h: the figures of a unit for a year
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-format.h"
#include "kh-store.h"

G_BEGIN_DECLS

json_object *kh_report_compute      (KhStore       *store,
                                     const char    *unit,
                                     int            year,
                                     gboolean       by_successor,
                                     GError       **error);
char        *kh_report_to_text      (json_object   *report,
                                     KhFormatStyle  style);
gboolean     kh_report_export_xlsx  (json_object   *report,
                                     const char    *path,
                                     GError       **error);
json_object *kh_report_compute_years (KhStore      *store,
                                      const char   *unit,
                                      int           first,
                                      int           last,
                                      gboolean      by_successor,
                                      GError      **error);
char        *kh_report_years_to_text (json_object  *years,
                                      KhFormatStyle style);
gboolean     kh_report_years_export_xlsx (json_object *years,
                                          const char  *path,
                                          GError     **error);
char        *kh_report_default_unit (KhStore       *store);
int          kh_report_latest_year  (KhStore       *store);

G_END_DECLS
