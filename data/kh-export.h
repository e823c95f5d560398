/* kh-export.h: records out to Excel (.xlsx) and CSV files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-format.h"
#include "kh-store.h"

G_BEGIN_DECLS

typedef struct
{
  const char    *list_id;  /* award entries: only this list's */
  const char    *title;    /* the title row; NULL: the list's title or the entity's name */
  KhFormatStyle  style;    /* how CSV writes dates and labels; numbers stay plain */
  gboolean       include_sensitive; /* the registry's sensitive fields too (left out unless a
                                     * person asks; the export is then written to the audit) */
} KhExportOptions;

gboolean kh_export_file (KhStore                *store,
                         const char             *entity,
                         const char             *path,
                         const KhExportOptions  *options,
                         gint64                 *n_rows,
                         GError                **error);

G_END_DECLS
