/* kh-conflicts.h: true conflicts kept for a person to resolve
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-replica.h"
#include "kh-store.h"

G_BEGIN_DECLS

json_object *kh_conflicts_list      (KhStore      *store,
                                     GError      **error);
gint64       kh_conflicts_count     (KhStore      *store);
gint64       kh_conflicts_add       (KhStore      *store,
                                     json_object  *conflict,
                                     GError      **error);
gboolean     kh_conflicts_resolve   (KhStore         *store,
                                     gint64           seq,
                                     KhResolveChoice  choice,
                                     const char      *value,
                                     GError         **error);

G_END_DECLS
