/* kh-json-private.h: a scoped json_object reference for the import, export, report and print code
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>

static inline void
kh_json_clear (json_object **object)
{
  if (*object != NULL)
    json_object_put (*object);
}

/* json_object *KH_AUTO_JSON obj = …; is released when it goes out of scope. */
#define KH_AUTO_JSON __attribute__ ((cleanup (kh_json_clear)))
