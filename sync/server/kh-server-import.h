/* kh-server-import.h: what the server takes in bulk, as the system: the official unit list
 * and the demo data
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-server-core.h"

G_BEGIN_DECLS

typedef struct
{
  guint      records;   /* records sent (for the unit list: the units in the file) */
  guint      rejected;  /* records the server refused */
  GPtrArray *refusals;  /* "ENTITY ID: why", one line per refused record */
} KhServerImportReport;

void     kh_server_import_report_init  (KhServerImportReport  *report);
void     kh_server_import_report_clear (KhServerImportReport  *report);

/* Writes the official unit list (a CSV file with at least the columns code, name and kind)
 * and the successions it names. A unit keeps its id from one import to the next, so importing
 * the list again updates the same records. Refused records are in @report and do not stop the
 * import; a file that cannot be read does, before anything is written. */
gboolean kh_server_import_org          (KhServer              *server,
                                        const char            *path,
                                        KhServerImportReport  *report,
                                        GError               **error);

/* Fills the server with @records realistic demo records, made in a throwaway local store. */
gboolean kh_server_import_demo         (KhServer              *server,
                                        gint64                 records,
                                        KhServerImportReport  *report,
                                        GError               **error);

/* Adds the demo's two accounts, admin (scope 56N) and officer (scope N001), with new random
 * passwords; a password is NULL when its account was kept from an earlier run (and keeps its
 * password). */
gboolean kh_server_import_demo_accounts (KhServer            *server,
                                         char               **admin_password,
                                         char               **officer_password,
                                         GError             **error);

G_END_DECLS
