/* kh-registration.h: one registration of a subject for a model and a year
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"
#include "kh-store.h"

G_BEGIN_DECLS

/* Refuses, in @store, a registration @id with the values @record (after the write of
 * @changes; NULL: new) whose subject is already registered, not withdrawn, for the same model
 * and year by another registration. The error names `subject_id` and the other registration's
 * author and day. Other entities pass. */
gboolean  kh_registration_check_once (KhStore         *store,
                                      const KhEntity  *entity,
                                      const char      *id,
                                      json_object     *record,
                                      json_object     *changes,
                                      GError         **error);

G_END_DECLS
