/* kh-validate.h: values and records checked against the entity registry
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

#include "kh-entity.h"

G_BEGIN_DECLS

gboolean kh_field_parse       (const KhField   *field,
                               const char      *text,
                               json_object    **value,
                               GError         **error);
gboolean kh_field_validate    (const KhField   *field,
                               json_object     *value,
                               GError         **error);
gboolean kh_entity_validate   (const KhEntity  *entity,
                               json_object     *values,
                               gboolean         complete,
                               GError         **error);
gboolean kh_date_parse        (const char      *text,
                               char           **iso);
gboolean kh_utf8_validate     (const char      *text,
                               gsize            len);

G_END_DECLS
