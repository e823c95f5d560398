/* kh-store-trash.h: the records deleted lately, for the Trash page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-store.h"

G_BEGIN_DECLS

/* How far back the Trash page looks. */
#define KH_STORE_TRASH_DAYS 90

/* The deleted records of every entity, deleted at or after @since (the store's ISO time form),
 * newest first, at most @limit: a JSON array of {"entity", "id", "title" (or null), "deleted_at",
 * "deleted_by"}. Each is put back with kh_store_restore(). */
json_object *kh_store_list_trash (KhStore     *self,
                                  const char  *since,
                                  int          limit,
                                  GError     **error);

G_END_DECLS
